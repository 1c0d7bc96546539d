"""rngpool.secrets beside the standard secrets: same names, signatures, types, lengths, exceptions."""

from __future__ import annotations

import hmac
import inspect
import random
import secrets as std

import pytest

import rngpool
from rngpool import secrets as ours

FUNCTIONS = ["token_bytes", "token_hex", "token_urlsafe", "randbelow", "randbits", "choice"]


def outcome(call):
    """What a call gives: its result's type (and length), or its exception's type."""
    try:
        result = call()
    except Exception as error:  # noqa: BLE001 (the exception is what is compared)
        return ("raises", type(error))
    length = len(result) if isinstance(result, (bytes, str)) else None
    return ("returns", type(result), length)


def same(name, *args, **kwargs):
    theirs = outcome(lambda: getattr(std, name)(*args, **kwargs))
    mine = outcome(lambda: getattr(ours, name)(*args, **kwargs))
    assert mine == theirs, f"{name}{args}{kwargs}: rngpool {mine}, standard {theirs}"
    return mine


def test_the_same_names():
    assert ours.__all__ == std.__all__
    for name in std.__all__ + ["DEFAULT_ENTROPY"]:
        assert hasattr(ours, name), name
    assert ours.DEFAULT_ENTROPY == std.DEFAULT_ENTROPY == 32
    assert ours.compare_digest is hmac.compare_digest is std.compare_digest
    assert ours.SystemRandom is rngpool.SystemRandom
    assert issubclass(ours.SystemRandom, random.Random)


def test_the_package_under_test_is_the_installed_one():
    expected = __import__("os").environ.get("RNGPOOL_EXPECT_PACKAGE_DIR")
    if expected:
        assert rngpool.__file__.startswith(expected), rngpool.__file__
    assert rngpool.library_path()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_same_signatures(name):
    theirs = inspect.signature(getattr(std, name))
    mine = inspect.signature(getattr(ours, name))
    assert [(p.name, p.default, p.kind) for p in mine.parameters.values()] == \
        [(p.name, p.default, p.kind) for p in theirs.parameters.values()]


@pytest.mark.parametrize("name", ["token_bytes", "token_hex", "token_urlsafe"])
def test_tokens_have_the_standard_lengths(name):
    for n in range(0, 65):
        assert same(name, n)[0] == "returns"
    assert same(name)[2] == same(name, None)[2]
    for n in (True, 1000, 4096):
        same(name, n)


@pytest.mark.parametrize("name", ["token_bytes", "token_hex", "token_urlsafe"])
@pytest.mark.parametrize("bad", [-1, -100, 1.5, "8", b"8", [], 2.0, 2**63 - 1, 2**63, 2**64 + 1, 2**70])
def test_tokens_reject_what_the_standard_rejects(name, bad):
    assert same(name, bad)[0] == "raises"


def test_each_token_is_a_fresh_object_that_stays_as_returned():
    # The bytes are written into the object returned (no scratch copy): so no two calls may
    # share one, a later call never changes an earlier result, and the interpreter's cached
    # one-byte objects are never written.
    held = [ours.token_bytes(n) for n in (1, 1, 2, 7, 32, 32, 64, 65, 1000) for _ in range(50)]
    copies = [bytes(bytearray(token)) for token in held]
    assert len({id(token) for token in held}) == len(held)
    for n in (1, 2, 7, 32, 64, 65, 1000):
        for _ in range(50):
            ours.token_bytes(n)
            rngpool.SystemRandom().random()
    assert held == copies
    assert all(bytes([i])[0] == i and b"%c" % i == bytes([i]) for i in range(256))


def test_token_alphabets():
    assert set(ours.token_hex(64)) <= set("0123456789abcdef")
    assert set(ours.token_urlsafe(64)) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert ours.token_bytes(0) == b"" and ours.token_hex(0) == "" and ours.token_urlsafe(0) == ""


@pytest.mark.parametrize("n", [1, 2, 3, 10, 255, 256, 2**32, 2**63, 2**64 - 1, 2**64, 2**64 + 1, 10**40, True])
def test_randbelow_in_range(n):
    assert same("randbelow", n)[:2] == ("returns", int)
    for _ in range(20):
        assert 0 <= ours.randbelow(n) < n
    assert ours.randbelow(1) == 0


@pytest.mark.parametrize("bad", [0, -1, -(2**70), 1.5, 5.0, "5", None, [3]])
def test_randbelow_rejects_what_the_standard_rejects(bad):
    assert same("randbelow", bad)[0] == "raises"


@pytest.mark.parametrize("k", [0, 1, 7, 8, 63, 64, 65, 1000, True])
def test_randbits_in_range(k):
    assert same("randbits", k)[:2] == ("returns", int)
    assert 0 <= ours.randbits(k) < 2 ** k
    assert ours.randbits(0) == 0


@pytest.mark.parametrize("bad", [-1, -64, 1.5, "8", None])
def test_randbits_rejects_what_the_standard_rejects(bad):
    assert same("randbits", bad)[0] == "raises"


@pytest.mark.parametrize("seq", [[1], [1, 2, 3], "abc", b"xyz", (None,), range(10)])
def test_choice_picks_a_member(seq):
    assert same("choice", seq)[0] == "returns"
    assert ours.choice(seq) in seq


@pytest.mark.parametrize("bad", [[], "", (), range(0), range(2**70), {1, 2}, None, 5])
def test_choice_rejects_what_the_standard_rejects(bad):
    assert same("choice", bad)[0] == "raises"


def test_empty_choice_is_an_index_error():
    with pytest.raises(IndexError):
        ours.choice([])


def test_compare_digest():
    assert ours.compare_digest(b"abc", b"abc") and not ours.compare_digest(b"abc", b"abd")
    with pytest.raises(TypeError):
        ours.compare_digest("abc", b"abc")


def test_the_values_differ_from_call_to_call():
    assert len({ours.token_bytes(16) for _ in range(200)}) == 200
    assert len({ours.randbits(64) for _ in range(200)}) == 200

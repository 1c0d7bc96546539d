"""rngpool.SystemRandom beside random.SystemRandom: every method, seed/getstate/setstate."""

from __future__ import annotations

import pickle
import random

import pytest

import rngpool

ours = rngpool.SystemRandom()
std = random.SystemRandom()


def outcome(call):
    try:
        result = call()
    except Exception as error:  # noqa: BLE001
        return ("raises", type(error))
    length = len(result) if isinstance(result, (bytes, str, list)) else None
    return ("returns", type(result), length)


CALLS = [
    ("random", ()), ("getrandbits", (0,)), ("getrandbits", (65,)), ("getrandbits", (-1,)),
    ("randbytes", (0,)), ("randbytes", (33,)), ("randbytes", (-1,)), ("randbytes", (1.0,)),
    ("randrange", (10,)), ("randrange", (3, 1000, 7)), ("randrange", (0,)), ("randrange", ("a",)),
    ("randint", (1, 6)), ("randint", (6, 1)), ("choice", ([1, 2, 3],)), ("choice", ([],)),
    ("choices", ([1, 2, 3],)), ("choices", ("abc", None, None, 10)),
    ("sample", (range(100), 10)), ("sample", ([1, 2], 3)), ("sample", ({1, 2}, 1)),
    ("uniform", (1.0, 2.0)), ("triangular", ()), ("betavariate", (2.0, 3.0)),
    ("expovariate", (1.5,)), ("gammavariate", (2.0, 1.0)), ("gauss", ()), ("normalvariate", ()),
    ("lognormvariate", (0.0, 1.0)), ("vonmisesvariate", (1.0, 2.0)), ("paretovariate", (2.0,)),
    ("weibullvariate", (1.0, 2.0)),
    ("seed", (42,)), ("seed", ()), ("getstate", ()), ("setstate", (None,)),
]


@pytest.mark.parametrize("name,args", CALLS, ids=[f"{n}{a!r}"[:40] for n, a in CALLS])
def test_every_method_as_the_standard_one(name, args):
    if not hasattr(std, name):
        pytest.skip(f"random.SystemRandom of this Python has no {name}")
    theirs = outcome(lambda: getattr(std, name)(*args))
    mine = outcome(lambda: getattr(ours, name)(*args))
    assert mine == theirs


def test_shuffle_keeps_the_elements():
    deck = list(range(52))
    ours.shuffle(deck)
    assert sorted(deck) == list(range(52))


def test_seed_does_nothing_and_state_is_refused():
    assert ours.seed(1) is None
    a = [ours.random() for _ in range(3)]
    ours.seed(1)
    assert [ours.random() for _ in range(3)] != a
    for call in (ours.getstate, lambda: ours.setstate(None), lambda: pickle.dumps(ours)):
        with pytest.raises(NotImplementedError):
            call()


def test_ranges():
    for _ in range(200):
        assert 0.0 <= ours.random() < 1.0
        assert 0 <= ours.getrandbits(1000) < 2 ** 1000
    assert rngpool.SystemRandom(123).randbytes(5).__class__ is bytes


def test_a_client_bound_instance(daemon):
    with rngpool.Client(daemon.socket) as client:
        generator = client.SystemRandom()
        assert isinstance(generator, random.Random)
        assert 1 <= generator.randint(1, 6) <= 6

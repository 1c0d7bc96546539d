"""Failures become the right rngpool.Error, with advice, and never a silent fallback to os.urandom."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

import rngpool
from rngpool import secrets
from conftest import other_user


def test_no_daemon_is_daemon_unavailable(tmp_path):
    client = rngpool.Client(tmp_path / "nobody-listens.sock")
    for call in (lambda: client.token_bytes(16), lambda: client.randbelow(10), lambda: client.randbits(8),
                 lambda: client.choice("ab"), client.status, client.health,
                 lambda: client.SystemRandom().random()):
        with pytest.raises(rngpool.DaemonUnavailable) as caught:
            call()
        assert caught.value.code == -100
        assert "rngpoold" in str(caught.value) and "RNGPOOL_SOCKET" in str(caught.value)


def test_the_secrets_functions_do_not_fall_back_when_the_daemon_is_gone(tmp_path, monkeypatch):
    # A fresh interpreter whose default client points at an empty socket path;
    # os.urandom is booby-trapped so a fallback would show.
    code = (
        "import os, rngpool\n"
        "def trap(n): raise SystemExit('fell back to os.urandom')\n"
        "os.urandom = trap\n"
        "from rngpool import secrets\n"
        "for f in (secrets.token_bytes, secrets.token_hex, secrets.token_urlsafe):\n"
        "    try: f(8)\n"
        "    except rngpool.DaemonUnavailable: pass\n"
        "    else: raise SystemExit('no exception')\n"
        "for f, a in ((secrets.randbelow, 10), (secrets.randbits, 8), (secrets.choice, 'ab')):\n"
        "    try: f(a)\n"
        "    except rngpool.DaemonUnavailable: pass\n"
        "    else: raise SystemExit('no exception')\n"
        "print('ok')\n"
    )
    env = dict(os.environ, RNGPOOL_SOCKET=str(tmp_path / "absent.sock"))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr


def test_a_user_left_out_is_permission_denied(make_daemon):
    user = other_user()
    if user is None:
        pytest.fail("the user database holds no user but the test's own", pytrace=False)
    refusing = make_daemon("--allow-user", user)
    with rngpool.Client(refusing.socket) as client:
        for call in (lambda: client.token_bytes(), client.status):
            with pytest.raises(rngpool.PermissionDenied) as caught:
                call()
            assert "--allow-user" in str(caught.value)


def test_require_hwrng_without_a_hwrng_is_hwrng_unavailable(daemon):
    with rngpool.Client(daemon.socket, require_hwrng=True) as client:
        with pytest.raises(rngpool.HwrngUnavailable) as caught:
            client.token_bytes(32)
        assert caught.value.code == -6 and "require_hwrng" in str(caught.value)
    with rngpool.Client(daemon.socket) as client:  # the same daemon serves a client not asking
        assert len(client.token_bytes(32)) == 32


def test_a_daemon_requiring_the_hwrng_refuses_everyone(make_daemon):
    strict = make_daemon("--require-hwrng")
    with rngpool.Client(strict.socket) as client:
        with pytest.raises(rngpool.HwrngUnavailable):
            client.randbelow(6)


def test_prediction_resistance_is_served(daemon):
    with rngpool.Client(daemon.socket, prediction_resistance=True) as client:
        assert len(client.token_bytes(64)) == 64


def test_every_error_is_an_rngpool_error_with_a_hint():
    names = ["BadFrame", "UnsupportedVersion", "UnknownOpcode", "TooLarge", "NotReady", "HwrngUnavailable",
             "Busy", "PermissionDenied", "InternalError", "DaemonUnavailable", "ConnectionBroken", "Timeout",
             "ProtocolError"]
    codes = set()
    for name in names:
        cls = getattr(rngpool, name)
        assert issubclass(cls, rngpool.Error) and cls.hint, name
        codes.add(cls.code)
    assert len(codes) == len(names)


def test_a_closed_client_says_so(daemon):
    client = rngpool.Client(daemon.socket)
    client.close()
    with pytest.raises(ValueError, match="closed"):
        client.token_bytes(4)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), 2.0**40])
def test_a_bad_timeout_is_a_value_error(bad):
    with pytest.raises(ValueError, match="timeout"):
        rngpool.Client(timeout=bad)


@pytest.mark.parametrize("bad", ["1", True, [1]])
def test_a_timeout_that_is_not_a_number_is_a_type_error(bad):
    with pytest.raises(TypeError, match="timeout"):
        rngpool.Client(timeout=bad)


def test_timeout_bounds_the_wait_for_a_silent_daemon(tmp_path):
    # A server that accepts and reads but never answers: the default limit is
    # 30 s of silence; timeout=0.2 must end the call long before that, with
    # the Timeout error, not a fallback.
    path = str(tmp_path / "silent.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen()
    held = []
    stop = threading.Event()

    def accept_and_hold():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except socket.timeout:
                continue
            held.append(connection)

    thread = threading.Thread(target=accept_and_hold, daemon=True)
    thread.start()
    try:
        client = rngpool.Client(path, timeout=0.2)
        start = time.monotonic()
        with pytest.raises(rngpool.Timeout):
            client.token_bytes(32)
        assert time.monotonic() - start < 10
        client.close()
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        server.close()


def test_a_timeout_still_serves_a_live_daemon(daemon):
    assert len(rngpool.Client(daemon.socket, timeout=5).token_bytes(32)) == 32


def test_a_missing_library_is_an_import_error_saying_what_to_install(tmp_path):
    env = dict(os.environ, RNGPOOL_LIBRARY=str(tmp_path / "librngpool.so.0"))
    done = subprocess.run([sys.executable, "-c", "import rngpool"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    for needed in ("ImportError", "librngpool0", "cmake --install", "RNGPOOL_LIBRARY"):
        assert needed in done.stderr


def test_status_and_health(daemon):
    with rngpool.Client(daemon.socket) as client:
        report = client.status()
        assert isinstance(report, dict) and report
        assert all(isinstance(k, str) and isinstance(v, (int, str)) for k, v in report.items())
        assert any(isinstance(v, int) for v in report.values())
        health = client.health()
        assert health.state in ("ok", "degraded") and isinstance(health.reason, str)
        assert health.state == report["health"].split(" ")[0].lower()
    assert secrets.token_hex(4)


def test_the_classes_follow_the_c_api_codes():
    # Daemon statuses -1..-9: rngpool_strerror names the wire status, and the class bears that name.
    from rngpool._lib import lib
    from rngpool.errors import from_code

    for code in range(-1, -10, -1):
        status = lib.rngpool_strerror(code).decode().split(":")[0]
        expected = "".join(part.capitalize() for part in status.split("_"))
        error = from_code(code, "detail")
        assert type(error).__name__ in (expected, expected + "Error"), (code, status)
        assert error.code == code and str(error).startswith("detail (")
    for code, cls in ((-100, rngpool.DaemonUnavailable), (-101, rngpool.ConnectionBroken),
                      (-102, rngpool.Timeout), (-103, rngpool.ProtocolError)):
        assert type(from_code(code, "x")) is cls
        assert "unknown" not in lib.rngpool_strerror(code).decode()
    assert type(from_code(-200, "x")) is ValueError and type(from_code(-202, "x")) is MemoryError
    assert type(from_code(-999, "x")) is rngpool.Error


def test_require_hwrng_is_served_when_the_hwrng_is_healthy(make_daemon, tmp_path):
    # A FIFO hwrng fed with good bytes (the test's input, from the kernel): the
    # request that demands the hwrng is served, so the refusal above is the hwrng's absence.
    fifo = tmp_path / "hwrng"
    os.mkfifo(fifo)
    stop = threading.Event()

    def feed():
        with open(fifo, "wb", buffering=0) as sink:
            while not stop.is_set():
                try:
                    sink.write(os.urandom(4096))
                except BrokenPipeError:
                    return

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        fed = make_daemon(hwrng=str(fifo))
        with rngpool.Client(fed.socket, require_hwrng=True) as client:
            assert len(client.token_bytes(32)) == 32
            assert client.health() == rngpool.Health("ok", "")
    finally:
        stop.set()

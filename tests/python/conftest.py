"""Fixtures: the real rngpoold on a temporary socket, as tests/support's TestDaemon starts it.

The daemon is build/daemon/server/rngpoold (or $RNGPOOL_DAEMON), run with
`--socket PATH --hwrng none` and an empty --config file, so nothing on the
host (/dev/hwrng, /etc/rngpool) matters.  The package under test is the one
on sys.path; tests/python/run installs it first and points
RNGPOOL_LIBRARY at the build's librngpool.so.0.
"""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]


def daemon_binary() -> Path:
    explicit = os.environ.get("RNGPOOL_DAEMON")
    path = Path(explicit) if explicit else ROOT / "build" / "daemon" / "server" / "rngpoold"
    if not path.is_file():
        pytest.fail(f"no rngpoold at {path}: build it (scripts/deps.sh's rngpool_build) or set RNGPOOL_DAEMON",
                    pytrace=False)
    return path


class Daemon:
    """One rngpoold process on a socket in its own temporary directory."""

    def __init__(self, *args: str) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="rngpool-py-")
        self.socket = os.path.join(self.dir.name, "rngpool.sock")
        config = os.path.join(self.dir.name, "rngpoold.conf")
        Path(config).write_text("")
        self.log = open(os.path.join(self.dir.name, "rngpoold.log"), "w+")
        argv = [str(daemon_binary()), "--config", config, "--socket", self.socket, "--hwrng", "none", *args]
        self.process = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"rngpoold exited with {self.process.returncode}: {self.log_text()}")
            try:
                with socket.socket(socket.AF_UNIX) as probe:
                    probe.connect(self.socket)
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"rngpoold did not listen within {timeout} s: {self.log_text()}")

    def log_text(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.log.close()
        self.dir.cleanup()


def other_user() -> Optional[str]:
    """A user that is not us (for --allow-user), as tests/support's other_user()."""
    me = os.geteuid()
    for entry in pwd.getpwall():
        if entry.pw_uid != me:
            return entry.pw_name
    return None


@pytest.fixture(scope="session", autouse=True)
def daemon() -> Iterator[Daemon]:
    """The shared daemon; rngpool.secrets and default clients use it through RNGPOOL_SOCKET."""
    started = Daemon()
    os.environ["RNGPOOL_SOCKET"] = started.socket
    yield started
    started.stop()


@pytest.fixture()
def make_daemon() -> Iterator[Callable[..., Daemon]]:
    made: List[Daemon] = []

    def make(*args: str) -> Daemon:
        made.append(Daemon(*args))
        return made[-1]

    yield make
    for d in made:
        d.stop()


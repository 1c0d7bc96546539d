"""The real rngpoold on a temporary socket, as tests/support's TestDaemon starts it.

Shared by the pytest fixtures (conftest.py) and bench/python.  The daemon is
BUILD/daemon/rngpoold ($RNGPOOL_DAEMON, else build/ at the top of the
tree), run with `--socket PATH --hwrng none` (or a FIFO the test feeds) and an empty --config file, so
nothing on the host (/dev/hwrng, /etc/rngpool) matters.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def daemon_binary() -> Path:
    explicit = os.environ.get("RNGPOOL_DAEMON")
    path = Path(explicit) if explicit else ROOT / "build" / "daemon" / "rngpoold"
    if not path.is_file():
        raise RuntimeError(f"no rngpoold at {path}: build it (scripts/deps.sh's rngpool_build) or set RNGPOOL_DAEMON")
    return path


class Daemon:
    """One rngpoold process on a socket in its own temporary directory."""

    def __init__(self, *args: str, hwrng: str = "none") -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="rngpool-py-")
        self.socket = os.path.join(self.dir.name, "rngpool.sock")
        config = os.path.join(self.dir.name, "rngpoold.conf")
        Path(config).write_text("")
        self.log = open(os.path.join(self.dir.name, "rngpoold.log"), "w+")
        argv = [str(daemon_binary()), "--config", config, "--socket", self.socket, "--hwrng", hwrng, *args]
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

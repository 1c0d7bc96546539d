"""Fixtures: the real rngpoold on a temporary socket (daemon_harness.Daemon).

The package under test is the one on sys.path; tests/python/run installs it
first and points RNGPOOL_LIBRARY at the build's librngpool.so.0.
"""

from __future__ import annotations

import os
import pwd
from typing import Callable, Iterator, List, Optional

import pytest

from daemon_harness import Daemon


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

    def make(*args: str, hwrng: str = "none") -> Daemon:
        made.append(Daemon(*args, hwrng=hwrng))
        return made[-1]

    yield make
    for d in made:
        d.stop()


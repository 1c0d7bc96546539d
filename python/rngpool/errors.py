"""rngpool.Error and its subclasses: one per outcome of the C API.

The C API returns 0 or a negative RNGPOOL_E_* code; daemon statuses keep
their wire value, negated (rngpool.h).  Each code becomes one exception
class named after the protocol status, and each message adds what to do to
the library's own text (rngpool_last_error(), written for a person).  There
is never a fallback to os.urandom: a failure to get bytes from rngpoold is
always an exception.
"""

from __future__ import annotations

from typing import Dict, Optional, Type


class Error(Exception):
    """Any failure to get an answer from rngpoold.  `code` is the C API's code."""

    code: int = 0
    hint: str = ""

    def __init__(self, message: str, code: Optional[int] = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class BadFrame(Error):
    code = -1
    hint = "the client and daemon disagree on the protocol: upgrade them together"


class UnsupportedVersion(Error):
    code = -2
    hint = "the client and daemon speak different protocol versions: upgrade them together"


class UnknownOpcode(Error):
    code = -3
    hint = "this rngpoold is older than the client library: upgrade rngpoold"


class TooLarge(Error):
    code = -4
    hint = "ask for fewer bytes per call, or raise the daemon's request limit"


class NotReady(Error):
    code = -5
    hint = "rngpoold has not been seeded yet: retry shortly, or open the Client without nonblock"


class HwrngUnavailable(Error):
    code = -6
    hint = ("the hardware RNG is absent or failed its health tests (see `rngpool status`): "
            "fix the device, or drop require_hwrng=True")


class Busy(Error):
    code = -7
    hint = "rngpoold is at its connection limit: retry later, or raise its connection limit"


class PermissionDenied(Error):
    code = -8
    hint = "rngpoold's --allow-user/--allow-group do not list this user: ask its administrator"


class InternalError(Error):
    code = -9
    hint = "rngpoold reported an internal error: see its log (journalctl -u rngpoold)"


class DaemonUnavailable(Error):
    code = -100
    hint = "start rngpoold, or point RNGPOOL_SOCKET (or socket_path=) at its socket"


class ConnectionBroken(Error):
    code = -101
    hint = "the connection to rngpoold broke: check that it is still running"


class Timeout(Error):
    code = -102
    hint = "rngpoold did not answer in time: check its load and health"


class ProtocolError(Error):
    code = -103
    hint = "the socket's peer is not a compatible rngpoold: check the socket path and versions"


_BY_CODE: Dict[int, Type[Error]] = {
    cls.code: cls
    for cls in (BadFrame, UnsupportedVersion, UnknownOpcode, TooLarge, NotReady, HwrngUnavailable,
                Busy, PermissionDenied, InternalError, DaemonUnavailable, ConnectionBroken, Timeout,
                ProtocolError)
}

# The call itself was wrong: these are Python's own exceptions.
_E_INVALID = -200
_E_NOMEM = -202


def from_code(code: int, detail: str) -> Exception:
    """The exception for C API code `code`, with the library's message `detail`."""
    if code == _E_INVALID:
        return ValueError(detail)
    if code == _E_NOMEM:
        return MemoryError(detail)
    cls = _BY_CODE.get(code, Error)
    message = f"{detail} ({cls.hint})" if cls.hint else detail
    return cls(message, code)

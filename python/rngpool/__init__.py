"""rngpool: randomness from rngpoold for Python.

`from rngpool import secrets` is a drop-in for the standard secrets module;
rngpool.SystemRandom is random.SystemRandom over rngpoold; rngpool.Client
adds the daemon's options (require_hwrng, prediction_resistance), status()
and health().  Everything goes through librngpool's C API (librngpool.so.0).
"""

from __future__ import annotations

from ._client import DEFAULT_ENTROPY, Client, Health, SystemRandom
from ._lib import library_path
from .errors import (BadFrame, Busy, ConnectionBroken, DaemonUnavailable, Error, HwrngUnavailable,
                     InternalError, NotReady, PermissionDenied, ProtocolError, Timeout, TooLarge,
                     UnknownOpcode, UnsupportedVersion)

__version__ = "0.1.0"

__all__ = [
    "Client", "SystemRandom", "Health", "DEFAULT_ENTROPY", "library_path",
    "Error", "BadFrame", "UnsupportedVersion", "UnknownOpcode", "TooLarge", "NotReady",
    "HwrngUnavailable", "Busy", "PermissionDenied", "InternalError", "DaemonUnavailable",
    "ConnectionBroken", "Timeout", "ProtocolError",
]

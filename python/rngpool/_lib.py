"""Loading librngpool.so.0 and declaring the C API (client-lib/include/rngpool/rngpool.h).

There is one client implementation, in C++: Python reaches it through the C
API with ctypes, so it gets the same protocol code, fork handling and errors
as C and C++ programs.  Every prototype is declared here, once, so a wrong
argument type fails in ctypes instead of corrupting memory; the two calls
made per random value also have unprototyped twins, for speed (see "the hot
path" below), whose one caller passes exact ctypes types.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from typing import List, Optional

SONAME = "librngpool.so.0"
LIBRARY_ENV = "RNGPOOL_LIBRARY"

# Request flags of rngpool_open_with().
PREDICTION_RESISTANCE = 0x1
REQUIRE_HWRNG = 0x2
NONBLOCK = 0x4


# ---- where the library comes from ----
# $RNGPOOL_LIBRARY names a library for tests and development builds.  Like
# the dynamic loader's LD_LIBRARY_PATH, it is ignored when the process runs
# with other privileges than its user's (setuid/setgid) or under python -E:
# such a process must not load code named by its caller's environment.

def _environment_trusted() -> bool:
    if sys.flags.ignore_environment:
        return False
    return os.getuid() == os.geteuid() and os.getgid() == os.getegid()


def _candidates() -> List[str]:
    names: List[str] = []
    explicit = os.environ.get(LIBRARY_ENV) if _environment_trusted() else None
    if explicit:
        return [explicit]  # named on purpose: never fall back to another copy
    names.append(SONAME)
    found = ctypes.util.find_library("rngpool")
    if found and found not in names:
        names.append(found)
    return names


def _load() -> ctypes.CDLL:
    failures: List[str] = []
    for name in _candidates():
        try:
            return ctypes.CDLL(name)
        except OSError as error:
            failures.append(f"{name}: {error}")
    raise ImportError(
        "rngpool: cannot load librngpool (" + "; ".join(failures) + "). "
        "Install the rngpool client library: on Debian the package librngpool0 "
        "(`apt install librngpool0`, which python3-rngpool depends on); from a source tree "
        "`cmake --install BUILD --component client`, then `ldconfig`; "
        "or set RNGPOOL_LIBRARY to the path of librngpool.so.0.",
        name="rngpool",
    )


# ---- the prototypes ----

class _Handle(ctypes.Structure):
    pass


HandlePointer = ctypes.POINTER(_Handle)


def _declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    c_int, c_char_p, c_size_t = ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t
    signatures = {
        "rngpool_open_with": (HandlePointer, [c_char_p, ctypes.c_uint]),
        "rngpool_open_timed": (HandlePointer, [c_char_p, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint]),
        "rngpool_close": (None, [HandlePointer]),
        "rngpool_bytes": (c_int, [HandlePointer, ctypes.c_void_p, c_size_t]),
        "rngpool_randbelow": (c_int, [HandlePointer, ctypes.c_uint64, ctypes.POINTER(ctypes.c_uint64)]),
        "rngpool_status": (c_int, [HandlePointer, ctypes.c_char_p, c_size_t, ctypes.POINTER(c_size_t)]),
        "rngpool_strerror": (c_char_p, [c_int]),
        "rngpool_last_error": (c_char_p, []),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    return lib


lib: ctypes.CDLL = _declare(_load())


# ---- the hot path: unprototyped twins ----
# ctypes converts every argument through its argtype's from_param(), and on
# this project's bench that costs more than the call itself (about 0.45 of
# the 0.7 µs of a prototyped rngpool_bytes(); 0.28 µs without argtypes).  The
# calls made once per random value therefore go through twins without
# argtypes.  Their only caller is _client.py, which passes ctypes instances of
# exactly the declared C types (c_void_p handle, c_size_t, c_uint64, byref())
# and a bytes object made by bytes_uninitialized() as the output buffer.
# CDLL functions release the GIL around the call, as the prototyped ones do.

unprototyped_bytes = lib["rngpool_bytes"]  # int (rngpool_client*, void*, size_t)
unprototyped_randbelow = lib["rngpool_randbelow"]  # int (rngpool_client*, uint64_t, uint64_t*)

# PyBytes_FromStringAndSize(NULL, n): a new bytes object whose n bytes the C
# API lets its creator fill before anyone else sees it (the documented
# exception to "bytes are immutable", and what os.urandom does).  So a random
# value is written once, into the object the caller receives: no scratch
# buffer holds a copy.  ctypes.pythonapi keeps the GIL and raises the
# MemoryError / OverflowError the function sets.  Callers pass c_ssize_t.
bytes_uninitialized = ctypes.pythonapi["PyBytes_FromStringAndSize"]
bytes_uninitialized.restype = ctypes.py_object


def library_path() -> Optional[str]:
    """The file the C API was loaded from (for diagnostics)."""
    return getattr(lib, "_name", None)

"""rngpool.Client and rngpool.SystemRandom: the C API's handle behind Python's manners.

Every random value starts as bytes from rngpool_bytes() (or, for bounds of at
most 64 bits, rngpool_randbelow(), which draws without bias in the library).
Everything above those two calls is the standard library's own arithmetic
(random.SystemRandom, secrets), repeated line for line so that the same
inputs give the same types, lengths and exceptions.

Threads: rngpool.h says a handle may be shared between threads, and ctypes
releases the GIL around each call, so one Client serves many threads with no
Python lock (a Python lock held across fork() would deadlock the child).
Fork: the library opens a fresh connection in the child by itself, so a
child of os.fork() or multiprocessing never reads the parent's stream.
"""

from __future__ import annotations

import base64
import ctypes
import hmac
import math
import operator
import os
import random as _random
import re
import threading
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, TypeVar, Union

from . import errors
from ._lib import (NONBLOCK, PREDICTION_RESISTANCE, REQUIRE_HWRNG, bytes_uninitialized, lib,
                   unprototyped_bytes, unprototyped_randbelow)

T = TypeVar("T")
StrPath = Union[str, "os.PathLike[str]"]

DEFAULT_ENTROPY = 32  # as the standard secrets module
_RECIP_BPF = 2.0 ** -53  # random.RECIP_BPF
_E_BUFFER = -201
_INTEGER = re.compile(r"-?[0-9]+")
_CLOSED = "rngpool.Client: the client is closed"
_MAX_SSIZE = 2**63 - 1  # PY_SSIZE_T_MAX on the 64-bit targets librngpool builds for

# Bound once: a module global is found faster than an attribute.
_index = operator.index
_c_size_t, _c_ssize_t, _c_uint64, _byref = ctypes.c_size_t, ctypes.c_ssize_t, ctypes.c_uint64, ctypes.byref

# The ctypes integers of the common counts (tokens, random()'s 7 bytes), made
# once: making two per call costs a quarter of token_bytes(32).  Sharing them
# between threads is safe: a call copies their values and never writes them.
_SMALL = 64
_COUNTS = [(_c_ssize_t(n), _c_size_t(n)) for n in range(_SMALL + 1)]


def _raise(code: int) -> None:
    detail = lib.rngpool_last_error() or lib.rngpool_strerror(code) or b""
    raise errors.from_code(code, detail.decode("utf-8", "replace"))


def _check(code: int) -> None:
    if code != 0:
        _raise(code)


@dataclass(frozen=True)
class Health:
    """The daemon's verdict: state is "ok", "degraded" or "failed"; reason is empty when ok."""

    state: str
    reason: str

    @property
    def ok(self) -> bool:
        return self.state == "ok"


# ---- the handle ----

_MAX_TIMEOUT_MS = 2**32 - 1  # the C API's unsigned milliseconds


def _timeout_ms(timeout: Optional[float]) -> int:
    """Client(timeout=...) in the C API's milliseconds; 0 keeps its defaults."""
    if timeout is None:
        return 0
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"rngpool.Client: timeout must be a number of seconds or None, "
                        f"not {type(timeout).__name__}")
    if not math.isfinite(timeout) or timeout <= 0:
        raise ValueError(f"rngpool.Client: timeout must be a positive number of seconds, not {timeout!r}")
    milliseconds = math.ceil(timeout * 1000)
    if milliseconds > _MAX_TIMEOUT_MS:
        raise ValueError(f"rngpool.Client: timeout must be at most {_MAX_TIMEOUT_MS / 1000:.0f} s")
    return milliseconds

class Client:
    """A connection to rngpoold with the secrets module's methods.

    socket_path None means $RNGPOOL_SOCKET, else /run/rngpool/rngpool.sock.
    require_hwrng: every request fails with HwrngUnavailable unless the
    hardware RNG is healthy and in the key.  prediction_resistance: the
    daemon reseeds before serving each request.  nonblock: NotReady instead
    of waiting for the daemon's first seed.  timeout: seconds (a positive
    number) that a connect may take and that the daemon may stay silent while
    a reply is awaited, as socket.settimeout(); exceeding it raises Timeout.
    None keeps the library's limits: 5 s to connect, 30 s per reply.

    It connects on first use.  Do not close() it while other threads use it.
    """

    def __init__(self, socket_path: Optional[StrPath] = None, *, require_hwrng: bool = False,
                 prediction_resistance: bool = False, nonblock: bool = False,
                 timeout: Optional[float] = None) -> None:
        timeout_ms = _timeout_ms(timeout)
        self.socket_path = None if socket_path is None else os.fspath(socket_path)
        self.require_hwrng = bool(require_hwrng)
        self.prediction_resistance = bool(prediction_resistance)
        flags = ((REQUIRE_HWRNG if require_hwrng else 0)
                 | (PREDICTION_RESISTANCE if prediction_resistance else 0)
                 | (NONBLOCK if nonblock else 0))
        path = None if socket_path is None else os.fsencode(socket_path)
        handle = lib.rngpool_open_timed(path, flags, timeout_ms, timeout_ms)
        if not handle:
            raise MemoryError("rngpool_open_timed: out of memory")
        self._handle: Optional[Any] = handle
        # The same pointer as the unprototyped hot path takes it (None once closed).
        self._arg: Optional[ctypes.c_void_p] = ctypes.cast(handle, ctypes.c_void_p)
        self._close_when_collected = True
        self._random = SystemRandom(client=self)

    def close(self) -> None:
        self._arg = None
        handle, self._handle = self._handle, None
        if handle:
            lib.rngpool_close(handle)

    def __del__(self) -> None:
        if getattr(self, "_handle", None) and self._close_when_collected:
            self.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"rngpool.Client({self.socket_path!r}, require_hwrng={self.require_hwrng}, "
                f"prediction_resistance={self.prediction_resistance})")

    def _live(self) -> Any:
        if not self._handle:
            raise ValueError(_CLOSED)
        return self._handle

    # ---- the two primitives ----
    # Issue 12 §3 wants these within 2x of os.urandom, whose own cost is a
    # syscall: so one C call each, through _lib's unprototyped twins, with the
    # checks ctypes would have made done here, and no Python call on the way
    # that the common case can skip.

    def _bytes(self, n: Any) -> bytes:
        count = _index(n)
        handle = self._arg
        if 0 < count <= _SMALL and handle is not None:
            length, size = _COUNTS[count]
        elif _SMALL < count <= _MAX_SSIZE and handle is not None:
            length, size = _c_ssize_t(count), _c_size_t(count)
        else:
            return self._bytes_edge(count)
        out = bytes_uninitialized(None, length)
        code = unprototyped_bytes(handle, out, size)
        if code:
            _raise(code)
        return out

    def _bytes_edge(self, count: int) -> bytes:
        """_bytes' uncommon cases: os.urandom's exceptions, a closed client's before a size's."""
        if count < 0:
            raise ValueError("negative argument not allowed")
        if count == 0:
            return b""
        if self._arg is None:
            raise ValueError(_CLOSED)
        raise OverflowError("Python int too large to convert to C ssize_t")

    def _randbelow64(self, n: int) -> int:
        """A uniform int in [0, n) for 0 < n < 2**64 (checked by the caller), drawn by the library."""
        handle = self._arg
        if handle is None:
            raise ValueError(_CLOSED)
        out = _c_uint64()
        code = unprototyped_randbelow(handle, _c_uint64(n), _byref(out))
        if code:
            _raise(code)
        return out.value

    # ---- Python's secrets, line for line ----

    def token_bytes(self, nbytes: Optional[int] = None) -> bytes:
        if nbytes is None:
            nbytes = DEFAULT_ENTROPY
        return self._bytes(nbytes)

    def token_hex(self, nbytes: Optional[int] = None) -> str:
        # binascii.hexlify(...).decode("ascii") in secrets; bytes.hex() is the same text.
        return self.token_bytes(nbytes).hex()

    def token_urlsafe(self, nbytes: Optional[int] = None) -> str:
        tok = self.token_bytes(nbytes)
        return base64.urlsafe_b64encode(tok).rstrip(b"=").decode("ascii")

    def randbelow(self, exclusive_upper_bound: int) -> int:
        if exclusive_upper_bound <= 0:
            raise ValueError("Upper bound must be positive.")
        return self._random._randbelow(exclusive_upper_bound)

    def randbits(self, k: int) -> int:
        return self._random.getrandbits(k)

    def choice(self, seq: Sequence[T]) -> T:
        return self._random.choice(seq)

    compare_digest = staticmethod(hmac.compare_digest)

    def SystemRandom(self) -> "SystemRandom":  # noqa: N802 (the secrets name)
        """A random.Random whose bytes come from this client."""
        return SystemRandom(client=self)

    # ---- the daemon ----

    def status(self) -> Dict[str, Union[int, str]]:
        """The daemon's STATUS report: key -> value, integers as int."""
        size = ctypes.c_size_t(0)
        capacity = 8192
        while True:
            buffer = ctypes.create_string_buffer(capacity)
            code = lib.rngpool_status(self._live(), buffer, capacity, ctypes.byref(size))
            if code == _E_BUFFER and size.value > capacity:
                capacity = size.value
                continue
            _check(code)
            return _parse_status(buffer.value.decode("utf-8", "replace"))

    def health(self) -> Health:
        """The daemon's own verdict (the `health` key of STATUS)."""
        line = self.status().get("health")
        if not isinstance(line, str):
            raise errors.ProtocolError("rngpool: STATUS has no health key (rngpoold older than "
                                       "this client?)", errors.ProtocolError.code)
        verdict, _, reason = line.partition(" ")
        if verdict not in ("OK", "DEGRADED", "FAILED"):
            raise errors.ProtocolError(f"rngpool: unexpected health verdict {line!r}",
                                       errors.ProtocolError.code)
        return Health(verdict.lower(), reason)


def _parse_status(text: str) -> Dict[str, Union[int, str]]:
    report: Dict[str, Union[int, str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(": ")
        if not sep:
            continue
        report[key] = int(value) if _INTEGER.fullmatch(value) else value
    return report


# ---- the default client (rngpool.secrets, SystemRandom() without a client) ----
# Made on first use, so RNGPOOL_SOCKET may be set after import.  The lock only
# guards its creation; a child of fork() gets a fresh lock.  It is never
# closed: at interpreter exit a daemon thread may still be inside a call, and
# the process's end releases the handle anyway.

_default: Optional[Client] = None
_default_lock = threading.Lock()


def default_client() -> Client:
    global _default
    client = _default
    if client is None:
        with _default_lock:
            if _default is None:
                made = Client()
                made._close_when_collected = False
                _default = made
            client = _default
    return client


def _fresh_lock_in_child() -> None:
    global _default_lock
    _default_lock = threading.Lock()


os.register_at_fork(after_in_child=_fresh_lock_in_child)


# ---- random.Random over rngpoold ----

class SystemRandom(_random.Random):
    """random.SystemRandom with its bytes from rngpoold (from `client`, else the default client).

    As random.SystemRandom: seed() does nothing, getstate()/setstate() raise
    NotImplementedError, and every other method of random.Random works.
    """

    def __init__(self, x: object = None, *, client: Optional[Client] = None) -> None:
        self._client = client
        super().__init__(x)

    def _source(self) -> Client:
        return self._client if self._client is not None else default_client()

    def random(self) -> float:
        """Get the next random number in the range 0.0 <= X < 1.0."""
        client = self._client or _default or default_client()  # no call once made
        return (int.from_bytes(client._bytes(7), "big") >> 3) * _RECIP_BPF

    def getrandbits(self, k: int) -> int:
        """getrandbits(k) -> x.  Generates an int with k random bits."""
        if k < 0:
            raise ValueError("number of bits must be non-negative")
        numbytes = (k + 7) // 8  # bits / 8 and rounded up
        x = int.from_bytes(self.randbytes(numbytes), "big")
        return x >> (numbytes * 8 - k)  # trim excess bits

    def randbytes(self, n: int) -> bytes:
        """Generate n random bytes."""
        return self._source()._bytes(n)

    def _randbelow(self, n: int) -> int:
        # Bounds of up to 64 bits: one call, drawn without bias by the library.
        # Larger ones: the standard rejection over getrandbits.
        k = n.bit_length()
        if n <= 0:
            raise ValueError("rngpool: _randbelow needs a positive bound")
        if k <= 64:
            return (self._client or _default or default_client())._randbelow64(n)
        r = self.getrandbits(k)
        while r >= n:
            r = self.getrandbits(k)
        return r

    def seed(self, *args: Any, **kwds: Any) -> None:
        "Stub method.  Not used for a system random number generator."
        return None

    def _notimplemented(self, *args: Any, **kwds: Any) -> Any:
        "Method should not be called for a system random number generator."
        raise NotImplementedError("System entropy source does not have state.")

    getstate = setstate = _notimplemented

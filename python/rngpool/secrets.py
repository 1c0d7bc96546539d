"""rngpool.secrets: the standard secrets module, its bytes served by rngpoold.

The same names, signatures, defaults, return types and exceptions as
Python's secrets (PEP 506): `from rngpool import secrets` is the whole
change.  The functions use one default rngpool.Client (socket
$RNGPOOL_SOCKET, else /run/rngpool/rngpool.sock); when the daemon cannot
serve, they raise rngpool.Error, never falling back to os.urandom.
"""

from __future__ import annotations

from hmac import compare_digest  # noqa: F401 (the standard one, re-exported as secrets does)
from typing import Optional, Sequence, TypeVar

from . import _client
from ._client import SystemRandom, default_client

__all__ = ['choice', 'randbelow', 'randbits', 'SystemRandom',
           'token_bytes', 'token_hex', 'token_urlsafe',
           'compare_digest',
           ]

T = TypeVar("T")

DEFAULT_ENTROPY = _client.DEFAULT_ENTROPY  # number of bytes to return by default


def randbits(k: int) -> int:
    """getrandbits(k) -> x.  Generates an int with k random bits."""
    return default_client().randbits(k)


def choice(seq: Sequence[T]) -> T:
    """Choose a random element from a non-empty sequence."""
    return default_client().choice(seq)


def randbelow(exclusive_upper_bound: int) -> int:
    """Return a random int in the range [0, n)."""
    return default_client().randbelow(exclusive_upper_bound)


def token_bytes(nbytes: Optional[int] = None) -> bytes:
    """Return a random byte string containing *nbytes* bytes (None: DEFAULT_ENTROPY)."""
    # Client.token_bytes inlined: this is the call issue 12 §3 times.
    if nbytes is None:
        nbytes = DEFAULT_ENTROPY
    return default_client()._bytes(nbytes)


def token_hex(nbytes: Optional[int] = None) -> str:
    """Return a random text string, in hexadecimal, of *nbytes* random bytes."""
    return token_bytes(nbytes).hex()


def token_urlsafe(nbytes: Optional[int] = None) -> str:
    """Return a random URL-safe text string, in Base64 encoding, of *nbytes* random bytes."""
    return default_client().token_urlsafe(nbytes)



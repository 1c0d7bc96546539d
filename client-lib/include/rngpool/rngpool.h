/* librngpool C API: randomness from rngpoold for C and any FFI.
 *
 * Every function returns 0 or a negative RNGPOOL_E_* code; no exception ever
 * crosses this boundary.  A handle may be shared between threads.  Bytes come
 * from the calling thread's local generator, keyed and rekeyed by the daemon
 * (every 1 MiB, every 60 s, after fork), unless the handle was opened with
 * RNGPOOL_PREDICTION_RESISTANCE or RNGPOOL_NO_LOCAL_GENERATOR.  After
 * fork() the child's calls open a fresh connection by themselves; fork()
 * first waits for calls other threads have in flight (one to an unresponsive
 * daemon for up to its timeouts), so a child never finds a handle locked
 * mid-call.
 * rngpool_strerror() names a code; rngpool_last_error() gives the calling
 * thread's most recent message, written for a person ("cannot connect to
 * ...: No such file or directory — is rngpoold running?").
 */
#ifndef RNGPOOL_RNGPOOL_H
#define RNGPOOL_RNGPOOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RNGPOOL_C_API __attribute__((visibility("default")))

enum rngpool_error {
  RNGPOOL_OK = 0,
  /* The daemon answered with this status (values are the wire status, negated). */
  RNGPOOL_E_BAD_FRAME = -1,
  RNGPOOL_E_UNSUPPORTED_VERSION = -2,
  RNGPOOL_E_UNKNOWN_OPCODE = -3,
  RNGPOOL_E_TOO_LARGE = -4,
  RNGPOOL_E_NOT_READY = -5,
  RNGPOOL_E_HWRNG_UNAVAILABLE = -6,
  RNGPOOL_E_BUSY = -7,
  RNGPOOL_E_PERMISSION_DENIED = -8,
  RNGPOOL_E_INTERNAL = -9,
  /* Talking to the daemon failed. */
  RNGPOOL_E_CONNECT = -100,  /* no connection to the socket (no daemon?) */
  RNGPOOL_E_IO = -101,       /* the connection broke */
  RNGPOOL_E_TIMEOUT = -102,  /* no reply within the I/O timeout */
  RNGPOOL_E_PROTOCOL = -103, /* malformed reply */
  /* The call itself was wrong. */
  RNGPOOL_E_INVALID = -200,  /* bad argument (NULL client or buffer, randbelow's n = 0, ...) */
  RNGPOOL_E_BUFFER = -201,   /* the caller's buffer is too small */
  RNGPOOL_E_NOMEM = -202
};

/* Request flags for rngpool_open_with(). */
#define RNGPOOL_PREDICTION_RESISTANCE 0x1u
#define RNGPOOL_REQUIRE_HWRNG 0x2u
#define RNGPOOL_NONBLOCK 0x4u
/* Every request to the daemon: no per-thread local generator (see
 * rngpool::ClientOptions::local_generator and README "Local generator"; on by
 * default, also switched off by RNGPOOL_LOCAL_GENERATOR=0 in the environment). */
#define RNGPOOL_NO_LOCAL_GENERATOR 0x8u
/* The local generator runs AES-256-CTR instead of ChaCha20 (see
 * rngpool::ClientOptions::local_cipher): about twice as fast where the CPU
 * has AES instructions; the OpenSSL provider's default. */
#define RNGPOOL_LOCAL_AES256_CTR 0x10u

typedef struct rngpool_client rngpool_client;

/* socket_path NULL: $RNGPOOL_SOCKET, else /run/rngpool/rngpool.sock.  The
 * variable is read with secure_getenv(3): a setuid, setgid or
 * capability-raising program ignores it, so the user who runs it cannot point
 * it at a daemon of their own.  Does not connect yet.  Returns NULL only when
 * out of memory. */
RNGPOOL_C_API rngpool_client* rngpool_open(const char* socket_path);
RNGPOOL_C_API rngpool_client* rngpool_open_with(const char* socket_path, unsigned flags);
/* As rngpool_open_with, with the client's two time limits in milliseconds:
 * how long a connect may take, and the longest silence while awaiting a reply
 * (RNGPOOL_E_TIMEOUT when exceeded).  0 keeps a limit's default: 5000 ms to
 * connect, 30000 ms per reply. */
RNGPOOL_C_API rngpool_client* rngpool_open_timed(const char* socket_path, unsigned flags,
                                                 unsigned connect_timeout_ms, unsigned io_timeout_ms);
RNGPOOL_C_API void rngpool_close(rngpool_client* client);

/* n random bytes into out.  n = 0 is a no-op that returns RNGPOOL_OK without
 * a request (as read(2) of 0 bytes; out may then be NULL).  A NULL client, or
 * a NULL out with n > 0, is RNGPOOL_E_INVALID. */
RNGPOOL_C_API int rngpool_bytes(rngpool_client* client, void* out, size_t n);
/* Uniform on [0, n); n = 0 is RNGPOOL_E_INVALID. */
RNGPOOL_C_API int rngpool_randbelow(rngpool_client* client, uint64_t n, uint64_t* out);
/* nbytes random bytes as 2*nbytes hex digits plus NUL: out_size >= 2*nbytes+1.
 * The tokens exist only in out: the library wipes its own copies. */
RNGPOOL_C_API int rngpool_token_hex(rngpool_client* client, size_t nbytes, char* out, size_t out_size);
/* base64url without padding plus NUL: out_size >= (4*nbytes+2)/3 + 1. */
RNGPOOL_C_API int rngpool_token_urlsafe(rngpool_client* client, size_t nbytes, char* out, size_t out_size);
/* The daemon's status report, "key: value" lines, NUL-terminated.  When it
 * does not fit, returns RNGPOOL_E_BUFFER and stores the size needed in *needed
 * (if not NULL). */
RNGPOOL_C_API int rngpool_status(rngpool_client* client, char* out, size_t out_size, size_t* needed);

RNGPOOL_C_API const char* rngpool_strerror(int code);
RNGPOOL_C_API const char* rngpool_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* RNGPOOL_RNGPOOL_H */

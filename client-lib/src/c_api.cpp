// The C API: the C++ client behind an opaque handle, exceptions turned into codes.
//
// Every entry point runs its body through guarded(), the one place where an
// exception becomes a negative code and a message for rngpool_last_error().
// Nothing thrown may unwind into a C caller: that is undefined behaviour.
#include "rngpool/rngpool.h"

#include "rngpool/client.hpp"
#include "rngpool/protocol/frame.hpp"

#include <cstring>
#include <new>
#include <string>

#include <openssl/crypto.h>

struct rngpool_client {
  rngpool::Client client;
};

namespace {

thread_local std::string last_error;

int code_of(const rngpool::Error& error) {
  switch (error.kind()) {
    case rngpool::ErrorKind::connect: return RNGPOOL_E_CONNECT;
    case rngpool::ErrorKind::io: return RNGPOOL_E_IO;
    case rngpool::ErrorKind::timeout: return RNGPOOL_E_TIMEOUT;
    case rngpool::ErrorKind::protocol: return RNGPOOL_E_PROTOCOL;
    case rngpool::ErrorKind::daemon: break;
  }
  // Daemon statuses keep their wire value, negated (see rngpool.h).
  if (const auto status = rngpool::protocol::status_from_name(error.status_name())) {
    return -static_cast<int>(*status);
  }
  return RNGPOOL_E_INTERNAL;
}

int fail(int code, const char* message) {
  last_error = message;
  return code;
}

template <typename Body>
int guarded(Body body) noexcept {
  try {
    body();
    return RNGPOOL_OK;
  } catch (const rngpool::Error& error) {
    return fail(code_of(error), error.what());
  } catch (const std::invalid_argument& error) {
    return fail(RNGPOOL_E_INVALID, error.what());
  } catch (const std::bad_alloc&) {
    return fail(RNGPOOL_E_NOMEM, "out of memory");
  } catch (const std::exception& error) {
    return fail(RNGPOOL_E_INTERNAL, error.what());
  } catch (...) {
    return fail(RNGPOOL_E_INTERNAL, "unknown error");
  }
}

// Copies `text` and its NUL into the caller's buffer, or says how much is needed.
int deliver(const std::string& text, char* out, std::size_t out_size, std::size_t* needed) {
  if (needed) *needed = text.size() + 1;
  if (!out || out_size < text.size() + 1) {
    return fail(RNGPOOL_E_BUFFER, "rngpool: the output buffer is too small");
  }
  std::memcpy(out, text.c_str(), text.size() + 1);
  return RNGPOOL_OK;
}

// A token is a secret: our copy is wiped before its memory is freed, so only
// the caller's buffer holds it (std::string knows its length; no strlen).
int deliver_secret(std::string text, char* out, std::size_t out_size) {
  const int code = deliver(text, out, out_size, nullptr);
  OPENSSL_cleanse(text.data(), text.size());
  return code;
}

rngpool_client* open_client(const char* socket_path, unsigned flags, unsigned connect_timeout_ms = 0,
                            unsigned io_timeout_ms = 0) noexcept {
  try {
    rngpool::ClientOptions options;
    options.socket_path = socket_path ? socket_path : "";
    if (connect_timeout_ms != 0) options.connect_timeout = std::chrono::milliseconds(connect_timeout_ms);
    if (io_timeout_ms != 0) options.io_timeout = std::chrono::milliseconds(io_timeout_ms);
    options.flags = {(flags & RNGPOOL_PREDICTION_RESISTANCE) != 0,
                     (flags & RNGPOOL_REQUIRE_HWRNG) != 0, (flags & RNGPOOL_NONBLOCK) != 0};
    options.local_generator = (flags & RNGPOOL_NO_LOCAL_GENERATOR) == 0;
    if (flags & RNGPOOL_LOCAL_AES256_CTR) options.local_cipher = rngpool::LocalCipher::aes256_ctr;
    return new rngpool_client{rngpool::Client(std::move(options))};
  } catch (...) {
    last_error = "out of memory";
    return nullptr;
  }
}

}  // namespace

extern "C" {

rngpool_client* rngpool_open(const char* socket_path) { return open_client(socket_path, 0); }
rngpool_client* rngpool_open_with(const char* socket_path, unsigned flags) {
  return open_client(socket_path, flags);
}
rngpool_client* rngpool_open_timed(const char* socket_path, unsigned flags, unsigned connect_timeout_ms,
                                   unsigned io_timeout_ms) {
  return open_client(socket_path, flags, connect_timeout_ms, io_timeout_ms);
}
void rngpool_close(rngpool_client* client) { delete client; }

int rngpool_bytes(rngpool_client* client, void* out, size_t n) {
  if (!client) return fail(RNGPOOL_E_INVALID, "rngpool_bytes: NULL client");
  if (!out && n > 0) return fail(RNGPOOL_E_INVALID, "rngpool_bytes: NULL buffer");
  return guarded([&] { client->client.fill(std::span(static_cast<std::uint8_t*>(out), n)); });
}

int rngpool_randbelow(rngpool_client* client, uint64_t n, uint64_t* out) {
  if (!client || !out) return fail(RNGPOOL_E_INVALID, "rngpool_randbelow: NULL argument");
  return guarded([&] { *out = client->client.randbelow(n); });
}

int rngpool_token_hex(rngpool_client* client, size_t nbytes, char* out, size_t out_size) {
  if (!client) return fail(RNGPOOL_E_INVALID, "rngpool_token_hex: NULL client");
  if (nbytes > (SIZE_MAX - 1) / 2 || out_size < 2 * nbytes + 1) {
    return fail(RNGPOOL_E_BUFFER, "rngpool_token_hex: out_size must be at least 2*nbytes+1");
  }
  int code = RNGPOOL_OK;
  const int thrown = guarded([&] { code = deliver_secret(client->client.token_hex(nbytes), out, out_size); });
  return thrown != RNGPOOL_OK ? thrown : code;
}

int rngpool_token_urlsafe(rngpool_client* client, size_t nbytes, char* out, size_t out_size) {
  if (!client) return fail(RNGPOOL_E_INVALID, "rngpool_token_urlsafe: NULL client");
  if (nbytes > SIZE_MAX / 4 - 1 || out_size < (4 * nbytes + 2) / 3 + 1) {
    return fail(RNGPOOL_E_BUFFER, "rngpool_token_urlsafe: out_size must be at least (4*nbytes+2)/3+1");
  }
  int code = RNGPOOL_OK;
  const int thrown =
      guarded([&] { code = deliver_secret(client->client.token_urlsafe(nbytes), out, out_size); });
  return thrown != RNGPOOL_OK ? thrown : code;
}

int rngpool_status(rngpool_client* client, char* out, size_t out_size, size_t* needed) {
  if (!client) return fail(RNGPOOL_E_INVALID, "rngpool_status: NULL client");
  int code = RNGPOOL_OK;
  const int thrown = guarded([&] {
    std::string text;
    for (const auto& [key, value] : client->client.status()) text += key + ": " + value + "\n";
    code = deliver(text, out, out_size, needed);
  });
  return thrown != RNGPOOL_OK ? thrown : code;
}

const char* rngpool_strerror(int code) {
  switch (code) {
    case RNGPOOL_OK: return "success";
    case RNGPOOL_E_BAD_FRAME: return "BAD_FRAME: the daemon could not parse the request";
    case RNGPOOL_E_UNSUPPORTED_VERSION: return "UNSUPPORTED_VERSION: client and daemon disagree on the protocol version";
    case RNGPOOL_E_UNKNOWN_OPCODE: return "UNKNOWN_OPCODE: the daemon does not know this request";
    case RNGPOOL_E_TOO_LARGE: return "TOO_LARGE: the request exceeds the daemon's limit";
    case RNGPOOL_E_NOT_READY: return "NOT_READY: the daemon has not been seeded yet";
    case RNGPOOL_E_HWRNG_UNAVAILABLE: return "HWRNG_UNAVAILABLE: the hardware RNG is absent or unhealthy";
    case RNGPOOL_E_BUSY: return "BUSY: the daemon is at its connection limit";
    case RNGPOOL_E_PERMISSION_DENIED: return "PERMISSION_DENIED: the daemon refused this client";
    case RNGPOOL_E_INTERNAL: return "INTERNAL: internal error";
    case RNGPOOL_E_CONNECT: return "cannot connect to rngpoold";
    case RNGPOOL_E_IO: return "the connection to rngpoold broke";
    case RNGPOOL_E_TIMEOUT: return "rngpoold did not answer in time";
    case RNGPOOL_E_PROTOCOL: return "malformed reply from rngpoold";
    case RNGPOOL_E_INVALID: return "invalid argument";
    case RNGPOOL_E_BUFFER: return "output buffer too small";
    case RNGPOOL_E_NOMEM: return "out of memory";
    default: return "unknown rngpool error code";
  }
}

const char* rngpool_last_error(void) { return last_error.c_str(); }

}  // extern "C"

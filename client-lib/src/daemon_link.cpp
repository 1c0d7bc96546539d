// DaemonLink: requests and replies over one rngpoold connection.
#include "daemon_link.hpp"

#include "error_text.hpp"

#include "rngpool/protocol/status_report.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <unistd.h>

namespace rngpool::detail {

namespace proto = rngpool::protocol;

// The daemon's default --max-request: a larger read is split into pieces of
// at most this, each read straight into the caller's buffer.
static constexpr std::size_t kMaxPiece = std::size_t{1} << 20;
// A daemon configured with a smaller limit answers TOO_LARGE; we halve the
// piece down to this before believing it.
static constexpr std::size_t kMinPiece = 4096;
// Error messages and status reports are text for a person; a reply claiming
// more is not from rngpoold.
static constexpr std::uint32_t kMaxTextPayload = std::uint32_t{1} << 20;

std::string resolve_socket_path(std::string path) {
  if (!path.empty()) return path;
  // secure_getenv(3): in a setuid/setgid or capability-raising program
  // (AT_SECURE) the environment belongs to the unprivileged caller, who must
  // not choose the daemon such a program trusts for its keys.
  if (const char* env = ::secure_getenv("RNGPOOL_SOCKET"); env && *env) return env;
  return kDefaultSocket;
}

// Bad limits are refused when the client is made: a zero byte limit would
// never serve a byte, a zero interval would reseed on every call.
static ClientOptions resolved(ClientOptions options) {
  options.socket_path = resolve_socket_path(std::move(options.socket_path));
  if (options.reseed_bytes == 0) throw std::invalid_argument("rngpool: ClientOptions::reseed_bytes must be positive");
  if (options.reseed_interval <= std::chrono::milliseconds::zero()) {
    throw std::invalid_argument("rngpool: ClientOptions::reseed_interval must be positive");
  }
  return options;
}

// $RNGPOOL_LOCAL_GENERATOR: "0", "no", "off" or "false" switches the local
// generator off; unset, empty, "1", "yes", "on" or "true" leave it as the
// options say.  Any other value switches it off too: a request we cannot
// read is taken as the conservative one (every byte from the daemon).  Read
// with secure_getenv(3), like $RNGPOOL_SOCKET.
static bool environment_allows_local() {
  const char* env = ::secure_getenv("RNGPOOL_LOCAL_GENERATOR");
  if (!env || !*env) return true;
  const std::string_view value(env);
  return value == "1" || value == "yes" || value == "on" || value == "true";
}

static std::uint64_t next_serial() {
  static constinit std::atomic<std::uint64_t> serials{0};
  return serials.fetch_add(1, std::memory_order_relaxed) + 1;
}

DaemonLink::DaemonLink(ClientOptions options)
    : options_(resolved(std::move(options))),
      local_(options_.local_generator && environment_allows_local()),
      cipher_(options_.local_cipher == LocalCipher::aes256_ctr ? core::Cipher::aes256_ctr : core::Cipher::chacha20),
      policy_{options_.reseed_bytes,
              std::chrono::duration_cast<std::chrono::nanoseconds>(options_.reseed_interval).count(),
              &options_.clock},
      serial_(next_serial()),
      max_piece_(kMaxPiece) {
  enlist();  // last: a fork may lock mutex_ from here on
}

DaemonLink::~DaemonLink() { delist(); }  // first: a fork may be holding mutex_

static std::uint16_t wire_flags(RequestFlags flags) {
  std::uint16_t wire = 0;
  if (flags.prediction_resistance) wire |= proto::flags::prediction_resistance;
  if (flags.require_hwrng) wire |= proto::flags::require_hwrng;
  if (flags.nonblock) wire |= proto::flags::nonblock;
  return wire;
}

// ---------------------------------------------------------------------------
// The connection's lifecycle
//
// Lazy: nothing happens until the first request.  Fork-safe: a connection
// opened by another process (our parent, before fork()) is closed without a
// byte written to it, because the parent goes on using it and the two would
// read each other's replies, i.e. share random bytes.  fork() clears owner_
// in the child (daemon_link_fork.cpp); comparing with getpid() also catches
// children made without the fork handlers (_Fork, a raw clone).
// ---------------------------------------------------------------------------

void DaemonLink::ensure_connected() {
  if (socket_.is_open() && owner_ != ::getpid()) {
    socket_.close();
  }
  if (!socket_.is_open()) {
    socket_ = Socket::connect(options_.socket_path, options_.connect_timeout);
    owner_ = ::getpid();
    used_ = false;
    ahead_count_ = 0;
  }
}

// ---------------------------------------------------------------------------
// One exchange, with one reconnect
//
// A connection that has served before and now breaks (EPIPE, ECONNRESET or
// end of stream) before its reply header means the daemon restarted between
// our requests: reconnect and send the request once more.  Nothing of the
// reply was used, so nothing is served twice.  A fresh connection that
// breaks is a real failure and is reported, not retried in a loop.
//
// Every reply must answer the request just sent: its opcode and request id
// (PROTOCOL.md §7).  Anything else (say a PING reply to a GET_RANDOM, which
// would pass for zero random bytes) means the stream is out of step: a
// protocol error, and the connection is closed.  The one exception is an
// error reply with opcode 0 and request id 0: the daemon's answer to a
// connection it refuses as a whole (PROTOCOL.md §7), reported with its
// message like any refusal, and the connection closed.
// ---------------------------------------------------------------------------

static bool refuses_connection(const proto::Header& header) {
  return header.status != proto::Status::ok && header.opcode == proto::kReplyBit && header.request_id == 0;
}

static bool daemon_went_away(const Error& error) {
  return error.kind() == ErrorKind::io &&
         (error.os_error() == 0 || error.os_error() == EPIPE || error.os_error() == ECONNRESET);
}

static void check_answers(const proto::Header& header, proto::Opcode opcode, std::uint32_t id,
                          const std::string& socket_path) {
  if (refuses_connection(header)) return;
  const auto expected = static_cast<std::uint8_t>(static_cast<std::uint8_t>(opcode) | proto::kReplyBit);
  if (header.opcode != expected) {
    throw protocol_error(socket_path, "reply opcode " + std::to_string(header.opcode & ~proto::kReplyBit) +
                                          " to a " + std::string(proto::opcode_name(opcode)) + " request");
  }
  if (header.request_id != id) {
    throw protocol_error(socket_path, "reply to request " + std::to_string(header.request_id) + ", expected " +
                                          std::to_string(id));
  }
}

proto::Header DaemonLink::read_reply_header(proto::Opcode opcode, std::uint32_t id) {
  std::array<std::uint8_t, proto::kHeaderSize> bytes{};
  socket_.recv_exact(bytes, options_.io_timeout);
  const auto decoded = proto::decode_reply_header(bytes);
  if (const auto* bad = std::get_if<proto::DecodeError>(&decoded)) {
    throw protocol_error(options_.socket_path, bad->reason);
  }
  const auto header = std::get<proto::Header>(decoded);
  check_answers(header, opcode, id, options_.socket_path);
  return header;
}

proto::Header DaemonLink::send_and_read_header(std::span<const std::uint8_t> frame, proto::Opcode opcode,
                                               std::uint32_t id) {
  discard_keys_ahead();  // their replies come first on the stream
  for (int attempt = 0;; ++attempt) {
    ensure_connected();
    const bool reused = used_;
    try {
      socket_.send_all(frame, options_.io_timeout);
      const auto header = read_reply_header(opcode, id);
      used_ = true;
      return header;
    } catch (const Error& error) {
      socket_.close();
      if (!reused || attempt > 0 || !daemon_went_away(error)) throw;
    }
  }
}

void DaemonLink::read_payload(std::span<std::uint8_t> out) {
  try {
    socket_.recv_exact(out, options_.io_timeout);
  } catch (...) {
    socket_.close();  // the stream is out of step now
    throw;
  }
}

std::string DaemonLink::read_text(std::uint32_t length) {
  if (length > kMaxTextPayload) {
    socket_.close();
    throw protocol_error(options_.socket_path,
                         "text payload of " + std::to_string(length) + " bytes");
  }
  std::string text(length, '\0');
  read_payload(std::span(reinterpret_cast<std::uint8_t*>(text.data()), text.size()));
  return text;
}

void DaemonLink::refuse(const proto::Header& header) {
  const std::string message = read_text(header.length);
  if (proto::is_fatal(header.status) || refuses_connection(header)) socket_.close();
  throw daemon_error(std::string(proto::status_name(header.status)), message);
}

// ---------------------------------------------------------------------------
// GET_RANDOM, streamed
//
// Each piece is one exchange under the mutex, so a 64 MiB read neither holds
// 64 MiB twice nor stalls the client's other threads for longer than a piece.
// ---------------------------------------------------------------------------

std::size_t DaemonLink::fill_piece(std::span<std::uint8_t> out, std::uint16_t flags) {
  const auto lock = lock_for_exchange();
  for (;;) {
    const std::size_t piece = std::min(out.size(), max_piece_);
    const std::uint32_t id = next_id_++;
    const auto frame = proto::encode_get_random(id, static_cast<std::uint32_t>(piece), flags);
    const auto header = send_and_read_header(frame, proto::Opcode::get_random, id);
    if (header.status == proto::Status::too_large && piece > kMinPiece) {
      read_text(header.length);
      max_piece_ = piece / 2;
      continue;
    }
    if (header.status != proto::Status::ok) refuse(header);
    if (header.length != piece) {
      socket_.close();
      throw protocol_error(options_.socket_path, "asked for " + std::to_string(piece) +
                                                     " bytes, reply carries " +
                                                     std::to_string(header.length));
    }
    read_payload(out.first(piece));
    return piece;
  }
}

void DaemonLink::fill_from_daemon(std::span<std::uint8_t> out, std::uint16_t wire) {
  while (!out.empty()) {
    out = out.subspan(fill_piece(out, wire));
  }
}

// ---------------------------------------------------------------------------
// The local generator (local_generator.hpp)
//
// Prediction resistance means "reseed before these bytes", so such requests
// always go to the daemon.  Everything else, with the generator on, comes
// from the calling thread's generator for (socket, require_hwrng), whose key
// is fetched here: GET_RANDOM of 32 bytes carrying this request's
// require_hwrng and nonblock, so a daemon that cannot honour them refuses the
// reseed and the caller gets that error.
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// Keys asked for ahead
//
// A key asked for ahead (LocalGenerator's "Asking ahead") is a GET_RANDOM of
// 32 bytes whose reply stays in the socket until a reseed reads it: until
// then it is in the kernel's socket buffer, not in this process.  Up to
// kMaxKeysAhead are on their way per link, oldest first.  Replies come in
// request order, so a reseed takes the oldest; one asked for with other
// flags or too long ago is read and wiped on the way to a usable one, and
// any other exchange on the link first reads and wipes them all.  A
// reconnect or a fork forgets them: the child's connection is the parent's,
// and nothing of it is read.  Nothing about a key asked ahead is the
// caller's error: a refusal, a broken stream or an odd reply closes the
// connection and the reseed's own fetch reports what is true then.
// ---------------------------------------------------------------------------

// A closed connection took its unread replies with it, and one opened by
// our parent (we are a fork child) carries the parent's.
void DaemonLink::forget_keys_ahead_not_ours() noexcept {
  if (!socket_.is_open() || owner_ != ::getpid()) ahead_count_ = 0;
}

void DaemonLink::request_keys_ahead(std::size_t keys, std::uint16_t wire, std::int64_t now) {
  const auto lock = lock_for_exchange();
  forget_keys_ahead_not_ours();
  const auto end = ahead_.begin() + static_cast<std::ptrdiff_t>(ahead_count_);
  std::size_t on_the_way = static_cast<std::size_t>(
      std::count_if(ahead_.begin(), end, [&](const KeyAhead& k) { return k.wire_flags == wire; }));
  try {
    for (; on_the_way < keys && ahead_count_ < ahead_.size(); ++on_the_way) {
      ensure_connected();
      const std::uint32_t id = next_id_++;
      socket_.send_all(proto::encode_get_random(id, core::kKeySize, wire), options_.io_timeout);
      ahead_[ahead_count_++] = {id, wire, now};
    }
  } catch (const Error&) {
    socket_.close();
    ahead_count_ = 0;
  }
}

bool DaemonLink::read_key_reply(std::uint32_t id, std::span<std::uint8_t, core::kKeySize> key) {
  try {
    const auto header = read_reply_header(proto::Opcode::get_random, id);
    if (header.status == proto::Status::ok && header.length == core::kKeySize) {
      socket_.recv_exact(key, options_.io_timeout);
      used_ = true;
      return true;
    }
  } catch (...) {  // noexcept for discard_keys_ahead(): any failure is "no key"
  }
  socket_.close();
  ahead_count_ = 0;
  return false;
}

void DaemonLink::drop_oldest_key_ahead() noexcept {
  std::copy(ahead_.begin() + 1, ahead_.begin() + static_cast<std::ptrdiff_t>(ahead_count_), ahead_.begin());
  --ahead_count_;
}

void DaemonLink::discard_keys_ahead() noexcept {
  forget_keys_ahead_not_ours();
  std::array<std::uint8_t, core::kKeySize> unused{};
  while (ahead_count_ > 0) {
    const std::uint32_t id = ahead_[0].request;
    drop_oldest_key_ahead();
    read_key_reply(id, unused);
  }
  core::wipe(unused);
}

// A daemon that went away after sending the key has not reseeded us at the
// reseed: like any reseed while it is gone, the call must fail (the fetch
// that follows reports it), so a key whose connection has closed behind it
// is wiped and refused.
bool DaemonLink::take_key_ahead(std::uint16_t wire, std::int64_t now, std::span<std::uint8_t, core::kKeySize> key) {
  const auto lock = lock_for_exchange();
  forget_keys_ahead_not_ours();
  while (ahead_count_ > 0) {
    const KeyAhead oldest = ahead_[0];
    drop_oldest_key_ahead();
    if (!read_key_reply(oldest.request, key)) return false;
    if (oldest.wire_flags == wire && now - oldest.asked_at <= kAheadLifetime.count()) {
      if (!socket_.peer_closed()) return true;
      socket_.close();
      ahead_count_ = 0;
    }
    core::wipe(key);
  }
  return false;
}

namespace {

class LinkKeySource final : public KeySource {
 public:
  LinkKeySource(DaemonLink& link, std::uint16_t wire) : link_(link), wire_(wire) {}
  void fetch(std::span<std::uint8_t, core::kKeySize> key) override { link_.fill_from_daemon(key, wire_); }
  void request_ahead(std::size_t keys, std::int64_t now) override { link_.request_keys_ahead(keys, wire_, now); }
  bool collect(std::int64_t now, std::span<std::uint8_t, core::kKeySize> key) override {
    return link_.take_key_ahead(wire_, now, key);
  }

 private:
  DaemonLink& link_;
  std::uint16_t wire_;
};

}  // namespace

void DaemonLink::fill(std::span<std::uint8_t> out, RequestFlags flags) {
  const RequestFlags all = flags | options_.flags;
  const std::uint16_t wire = wire_flags(all);
  if (local_ && !all.prediction_resistance && !out.empty()) {
    if (LocalGenerator* generator = thread_generator(serial_, options_.socket_path, all.require_hwrng, cipher_)) {
      LinkKeySource source(*this, wire);
      generator->generate(out, policy_, source);
      return;
    }
  }
  fill_from_daemon(out, wire);
}

// ---------------------------------------------------------------------------
// STATUS and PING
// ---------------------------------------------------------------------------

StatusReport DaemonLink::status() {
  const auto lock = lock_for_exchange();
  const std::uint32_t id = next_id_++;
  const auto header = send_and_read_header(proto::encode_request(proto::Opcode::status, id), proto::Opcode::status, id);
  if (header.status != proto::Status::ok) refuse(header);
  const std::string text = read_text(header.length);
  auto report = proto::parse_status_report(text);
  if (!report) throw protocol_error(options_.socket_path, "unreadable status report");
  return std::move(*report);
}

std::chrono::nanoseconds DaemonLink::ping() {
  const auto lock = lock_for_exchange();
  const auto start = std::chrono::steady_clock::now();
  const std::uint32_t id = next_id_++;
  const auto header = send_and_read_header(proto::encode_request(proto::Opcode::ping, id), proto::Opcode::ping, id);
  if (header.status != proto::Status::ok) refuse(header);
  if (header.length != 0) {
    socket_.close();
    throw protocol_error(options_.socket_path, "PING reply with a payload");
  }
  return std::chrono::steady_clock::now() - start;
}

}  // namespace rngpool::detail

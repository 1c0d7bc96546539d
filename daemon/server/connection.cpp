#include "server/connection.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "core/secure_memory.hpp"
#include "rngpool/protocol/encoding.hpp"
#include "rngpool/protocol/text.hpp"
#include "server/binary_mode.hpp"
#include "server/connection_set.hpp"
#include "server/log.hpp"
#include "server/text_mode.hpp"

namespace rngpool::server {

using protocol::Status;

Connection::Connection(UnixSocket socket, ServerContext& context, ConnectionSet& set, std::uint64_t id)
    : socket_(std::move(socket)),
      context_(context),
      set_(set),
      id_(id),
      out_(context.chunks),
      deadline_timer_(socket_.get_executor()),
      wait_timer_(socket_.get_executor()),
      deadline_(SteadyClock::now() + context.limits.idle_timeout) {}

// ---------------------------------------------------------------------------
// Life cycle
//
// Two coroutines per connection share it through shared_ptr: run() serves
// the client, watch_deadline() closes the socket when the client has been
// idle too long.  Whichever ends first closes the socket, which ends the
// other.
// ---------------------------------------------------------------------------

void Connection::start(const std::shared_ptr<Connection>& connection) {
  error_code ignored;
  connection->socket_.non_blocking(true, ignored);  // for flush()'s first, synchronous try
  connection->set_.add(*connection);
  connection->log_peer();
  auto executor = connection->socket_.get_executor();
  asio::co_spawn(executor, run(connection), asio::detached);
  asio::co_spawn(executor, watch_deadline(connection), asio::detached);
}

asio::awaitable<void> Connection::run(std::shared_ptr<Connection> self) {
  try {
    co_await self->serve();
  } catch (const boost::system::system_error& e) {
    log(LogLevel::debug, "client ", self->id_, ": ", e.code().message());
  } catch (const std::exception& e) {
    log(LogLevel::error, "client ", self->id_, ": internal error: ", e.what());
  }
  self->close();
  self->out_.release();
  self->set_.remove(*self);
  log(LogLevel::debug, "client ", self->id_, ": closed");
}

asio::awaitable<void> Connection::serve() {
  std::optional<Input> first = Input{};
  while (first && first->empty()) {
    error_code ec;
    co_await readable(ec);
    first = take_input(ec);
  }
  if (!first)
    co_return;
  if (protocol::starts_text_mode(first->front()))
    co_await serve_text(*this, *first);
  else
    co_await serve_binary(*this, *first);
}

void Connection::drain() {
  draining_ = true;
  if (reading_)
    close();
  wait_timer_.cancel();
}

void Connection::close() {
  error_code ignored;
  socket_.close(ignored);
  deadline_timer_.cancel();
  wait_timer_.cancel();
}

// SO_PEERCRED is read for every client (issue 3 §2), for the log and as the
// hook a PERMISSION_DENIED policy would use.
void Connection::log_peer() const {
  ucred peer{};
  socklen_t size = sizeof peer;
  if (getsockopt(const_cast<UnixSocket&>(socket_).native_handle(), SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0)
    log(LogLevel::debug, "client ", id_, ": connected, SO_PEERCRED failed: ", errno_text(errno));
  else
    log(LogLevel::debug, "client ", id_, ": connected, pid ", peer.pid, " uid ", peer.uid, " gid ", peer.gid);
}

// ---------------------------------------------------------------------------
// The idle deadline
//
// --idle-timeout bounds the time a client may take to send a complete
// request, which also ends clients that trickle a frame byte by byte, and
// the time a reply may stall because the client does not read it.  The
// deadline moves on each complete request and each completed write; the
// timer is only re-armed when it fires, so a busy connection costs no timer
// operations.  While a request waits for the first seed the wait has its
// own bound and then a reply to send, so the deadline does not apply.
// ---------------------------------------------------------------------------

asio::awaitable<void> Connection::watch_deadline(std::shared_ptr<Connection> self) {
  while (self->socket_.is_open()) {
    self->deadline_timer_.expires_at(self->deadline_);
    error_code ec;
    co_await self->deadline_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    auto now = SteadyClock::now();
    if (!self->socket_.is_open() || now < self->deadline_)
      continue;
    if (self->waiting_) {
      self->deadline_ = now + self->context_.limits.idle_timeout;
      continue;
    }
    log(LogLevel::debug, "client ", self->id_, ": idle timeout, closing");
    self->close();
  }
}

void Connection::request_received() { deadline_ = SteadyClock::now() + context_.limits.idle_timeout; }

// ---------------------------------------------------------------------------
// Reading and writing
//
// Reads wait for the socket to become readable and then read without
// blocking.  Asio's async_read_some would try recv(2) first, and right after
// a reply that recv fails with EAGAIN on nearly every request: the client
// has not had the reply yet, let alone sent the next request.
// ---------------------------------------------------------------------------

asio::awaitable<void> Connection::readable(error_code& ec) {
  out_.release();  // an idle client holds no chunk
  if (draining_) {
    ec = asio::error::operation_aborted;
    return asio::post(socket_.get_executor(), asio::use_awaitable);
  }
  reading_ = true;
  return socket_.async_wait(UnixSocket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
}

std::optional<Connection::Input> Connection::take_input(error_code ec) {
  reading_ = false;
  if (ec)
    return std::nullopt;
  std::size_t n = socket_.read_some(asio::buffer(input_), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again)
    return Input{};
  if (ec)
    return std::nullopt;
  return Input(input_.data(), n);
}

// A reply almost always fits into the socket buffer, so it is written at once
// with a non-blocking send; only what does not fit waits for the socket to
// drain.  That saves a trip through the io_context's queue per request,
// which is what small-request throughput is made of.
bool Connection::write_at_once() {
  if (out_.empty())
    return true;
  auto bytes = out_.bytes();
  error_code ec;
  sent_ = socket_.write_some(asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again)
    throw boost::system::system_error(ec);
  if (sent_ < bytes.size())
    return false;
  written();
  return true;
}

asio::awaitable<void> Connection::flush() {
  if (!write_at_once())
    co_await write_rest();
}

asio::awaitable<void> Connection::write_rest() {
  auto rest = out_.bytes().subspan(sent_);
  co_await asio::async_write(socket_, asio::buffer(rest.data(), rest.size()), asio::use_awaitable);
  written();
}

void Connection::written() {
  out_.clear();
  deadline_ = SteadyClock::now() + context_.limits.idle_timeout;
}

// Lets every other ready connection run before this one continues: the
// synchronous write in flush() would otherwise let a bulk reply run through
// all its chunks in one go.
asio::awaitable<void> Connection::yield() { co_await asio::post(socket_.get_executor(), asio::use_awaitable); }

// A full chunk has been written: other connections get their turn, as
// between the chunks of one reply, so that a client pipelining 64 KiB
// requests cannot hold the io thread for more than one chunk either.
asio::awaitable<void> Connection::make_room(std::size_t n) {
  if (out_.room() < n) {
    co_await flush();
    co_await yield();
  }
}

// ---------------------------------------------------------------------------
// Random payloads
//
// Generated straight into the output chunk, at most one chunk between two
// writes, and other connections get their turn after each chunk: that is
// what keeps a 1 MiB request from holding up anyone else's 32-byte one for
// longer than one 64 KiB chunk takes (issue 5: p99 <= 2 ms), and what a
// client that stops reading can pin.  Text encodings expand the
// bytes, so fewer raw bytes fit; base64 pieces stay multiples of 3 so the
// pieces concatenate into one valid encoding.
// ---------------------------------------------------------------------------

namespace {

std::size_t base64_size(std::size_t raw) { return (raw + 2) / 3 * 4; }

// Raw bytes whose encoding fits into `room`; raw pieces are at most one
// Pool::generate, so a 64 KiB piece is one generate and one write.
std::size_t raw_that_fits(Encoding encoding, std::size_t room, std::size_t count) {
  switch (encoding) {
    case Encoding::raw:
      return std::min({count, room, core::kMaxGenerate});
    case Encoding::hex:
      return std::min(count, room / 2);
    case Encoding::base64:
      return base64_size(count) <= room ? count : room / 4 * 3;
  }
  return 0;
}

void encode_in_place(OutputBuffer& out, std::span<std::uint8_t> raw, Encoding encoding) {
  std::string text = encoding == Encoding::hex ? protocol::to_hex(raw) : protocol::to_base64(raw);
  out.retract(raw.size());
  out.append(text);
  core::wipe(std::span(reinterpret_cast<std::uint8_t*>(text.data()), text.size()));
}

}  // namespace

asio::awaitable<void> Connection::send_random(std::size_t count, Encoding encoding) {
  while (count > 0) {
    std::size_t n = raw_that_fits(encoding, out_.room(), count);
    if (n == 0) {
      co_await flush();
      co_await yield();
      continue;
    }
    append_random(n, encoding);
    count -= n;
  }
}

std::size_t Connection::encoded_size(std::size_t count, Encoding encoding) {
  switch (encoding) {
    case Encoding::raw:
      return count;
    case Encoding::hex:
      return 2 * count;
    case Encoding::base64:
      return base64_size(count);
  }
  return count;
}

void Connection::append_random(std::size_t count, Encoding encoding) {
  auto raw = out_.extend(count);
  context_.entropy.generate(raw);
  if (encoding != Encoding::raw)
    encode_in_place(out_, raw, encoding);
  context_.stats.bytes_served += count;
}

std::string Connection::too_large_message(std::uint64_t count) const {
  return "count " + std::to_string(count) + " exceeds --max-request " + std::to_string(context_.limits.max_request);
}

void Connection::count_reply(Status status, bool random_request) {
  if (status != Status::ok)
    ++context_.stats.requests_refused;
  else if (random_request)
    ++context_.stats.requests_served;
}

// ---------------------------------------------------------------------------
// Admission
//
// Nothing is served before the first seed (issue 3 §2).  A request that
// arrives earlier waits -- bounded by the idle timeout -- unless it said
// NONBLOCK; with --require-hwrng or REQUIRE_HWRNG it likewise waits for the
// hwrng's start-up test and its first mix into the key.  The entropy service
// cancels wait_timer_ on every change, so waiting costs nothing.
// ---------------------------------------------------------------------------

bool Connection::admit_at_once(std::uint16_t flags) {
  if (context_.entropy.admission(flags & protocol::flags::require_hwrng) != Admission::serve)
    return false;
  if (flags & protocol::flags::prediction_resistance)
    context_.entropy.reseed_now();
  return true;
}

asio::awaitable<Status> Connection::admit(std::uint16_t flags) {
  Status status = co_await wait_for_admission(flags);
  if (status == Status::ok && (flags & protocol::flags::prediction_resistance))
    context_.entropy.reseed_now();
  co_return status;
}

std::string Connection::refusal(Status status) const {
  if (status == Status::not_ready)
    return "not seeded yet: waited for the kernel RNG until the idle timeout, or NONBLOCK";
  return "hwrng " + std::string(core::to_string(context_.entropy.hwrng_state())) +
         (context_.entropy.pool().hwrng_in_key() ? "" : ", not in the key yet") +
         ", and the hwrng is required";
}

asio::awaitable<Status> Connection::wait_for_admission(std::uint16_t flags) {
  const bool require_hwrng = flags & protocol::flags::require_hwrng;
  const bool nonblock = flags & protocol::flags::nonblock;
  const auto until = deadline_;
  struct WaitingFlag {
    bool& flag;
    explicit WaitingFlag(bool& f) : flag(f) { flag = true; }
    ~WaitingFlag() { flag = false; }
  } waiting(waiting_);

  for (;;) {
    Admission admission = context_.entropy.admission(require_hwrng);
    if (admission == Admission::serve)
      co_return Status::ok;
    if (admission == Admission::hwrng_unavailable)
      co_return Status::hwrng_unavailable;
    if (nonblock || draining_ || SteadyClock::now() >= until)
      co_return admission == Admission::wait_for_seed ? Status::not_ready : Status::hwrng_unavailable;
    co_await flush();  // earlier replies must not wait with this one
    wait_timer_.expires_at(until);
    auto subscription = context_.entropy.subscribe(wait_timer_);
    error_code ec;
    co_await wait_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace rngpool::server

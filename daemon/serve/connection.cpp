#include "serve/connection.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "generator/secure_memory.hpp"
#include "rngpool/protocol/encoding.hpp"
#include "rngpool/protocol/text.hpp"
#include "serve/binary_mode.hpp"
#include "serve/connection_set.hpp"
#include "serve/egd_mode.hpp"
#include "runtime/log.hpp"
#include "serve/text_mode.hpp"

namespace rngpool::server {

using protocol::Status;

Connection::Connection(int fd, ServerContext& context, ConnectionSet& set, std::uint64_t id,
                       std::optional<ucred> peer, Frontend frontend)
    : fd_(fd),
      context_(context),
      set_(set),
      id_(id),
      out_(context.chunks),
      wake_(context.poller.executor()),
      deadline_(context.poller.now() + context.limits.idle_timeout),
      frontend_(frontend) {
  identify_peer(peer);
}

// Only reached with the socket still open when the io_context is destroyed
// with the connection's coroutine pending; the poller may be gone by then.
Connection::~Connection() {
  if (fd_ >= 0)
    ::close(fd_);
}

// ---------------------------------------------------------------------------
// Life cycle
//
// The coroutine owns the connection (shared_ptr) and ends it: whatever ends
// a connection -- end of stream, an error, the idle deadline, shutdown --
// wakes the coroutine, which returns, and run() closes the socket.
// ---------------------------------------------------------------------------

void Connection::start(const std::shared_ptr<Connection>& connection) {
  ::fcntl(connection->fd_, F_SETFL, ::fcntl(connection->fd_, F_GETFL) | O_NONBLOCK);
  connection->set_.add(*connection, connection->peer_uid_);
  asio::co_spawn(connection->wake_.get_executor(), run(connection), asio::detached);
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
  self->set_.remove(*self, self->peer_uid_);
  log(LogLevel::debug, "client ", self->id_, ": closed");
}

void Connection::drain() {
  draining_ = true;
  wake();
}

void Connection::close() {
  if (fd_ < 0)
    return;
  watch(Interest::none);
  ::close(fd_);
  fd_ = -1;
  wake();
}

// ---------------------------------------------------------------------------
// Who the client is
//
// SO_PEERCRED is read for every client (issue 3 §2), by the listener (for
// --max-connections-per-uid), for the log and for --allow-user/--allow-group
// (PROTOCOL.md §6.1).  Whether the client may ask is decided here, once, so
// the protocol modes only read allowed_.  Credentials that cannot be read
// refuse the client when a list is set: an access list must fail closed.
//
// A refused client keeps its connection for kRefusedGrace at most, PING or
// not (issue 9 §5): long enough to be told PERMISSION_DENIED, too short to
// sit on a connection slot an allowed client needs.
// ---------------------------------------------------------------------------

namespace {
constexpr std::chrono::seconds kRefusedGrace{5};
}  // namespace

void Connection::identify_peer(const std::optional<ucred>& peer) {
  const AccessPolicy& policy = context_.access;
  if (!peer) {
    allowed_ = !policy.restricts();
    log(LogLevel::debug, "client ", id_, ": connected, SO_PEERCRED could not be read",
        allowed_ ? "" : "; refused: --allow-user/--allow-group is set");
  } else {
    peer_uid_ = peer->uid;
    const AccessDecision decision = decide_access(policy, *peer, [this] { return peer_groups(fd_); });
    allowed_ = decision.allowed();
    log(LogLevel::debug, "client ", id_, ": connected, pid ", peer->pid, " uid ", peer->uid, " gid ", peer->gid,
        ", ", decision);
  }
  if (!allowed_) {
    latest_ = context_.poller.now() + kRefusedGrace;
    deadline_ = std::min(deadline_, latest_);
  }
}

// A reload's new lists apply to open connections too (issue 9 §8): a
// librngpool client keeps its connection for the life of the process, so a
// user taken off --allow-user would otherwise keep drawing until it
// reconnects.  A client refused now gets the refused client's grace; one
// refused before keeps the grace it had.
void Connection::recheck_access() {
  if (fd_ < 0)
    return;
  const bool was_allowed = allowed_;
  const auto grace_end = latest_;
  identify_peer(peer_credentials(fd_));
  if (allowed_)
    latest_ = SteadyClock::time_point::max();
  else if (!was_allowed)
    deadline_ = std::min(deadline_, latest_ = grace_end);
  if (allowed_ != was_allowed)
    log(LogLevel::info, "client ", id_, ": ", allowed_ ? "allowed" : "refused", " by the reloaded access lists");
}

std::string Connection::permission_denied() const { return permission_denied_message(peer_uid_); }

// ---------------------------------------------------------------------------
// The fast path
//
// Runs while the coroutine is parked and the socket is in the poller's set
// for reading.  It answers what the mode can answer at once and writes the
// replies without blocking; anything else is handed over: the socket leaves
// the set (nothing more is read until the coroutine has finished) and the
// coroutine wakes to finish the requests, or to end the connection.
// ---------------------------------------------------------------------------

void Connection::ready() {
  if (interest_ == Interest::write)
    return wake();
  if (interest_ != Interest::read || handover_ != Handover::none)
    return;  // left the set earlier in this batch
  try {
    if (auto input = read_input(); !input)
      hand_over(Handover::end);
    else if (!input->empty())
      answer_input(*input);
  } catch (const std::exception& e) {  // what run() would catch on the slow path
    log(LogLevel::error, "client ", id_, ": internal error: ", e.what());
    hand_over(Handover::end);
  }
}

void Connection::answer_input(Input input) {
  if (!session_ && frontend_ == Frontend::egd)
    session_ = egd_session(*this);
  if (!session_) {
    const bool text = protocol::starts_text_mode(input.front());
    session_ = text ? text_session(*this) : binary_session(*this);
    frontend_ = text ? Frontend::text : Frontend::binary;
  }
  pending_ = input;
  outcome_ = session_->answer_at_once(pending_);
  if (outcome_ != Answered::yes)
    return hand_over(Handover::requests);
  switch (write_at_once()) {
    case Write::done:
      out_.idle();  // an idle client soon holds no chunk
      return;
    case Write::blocked:
      return hand_over(Handover::requests);
    case Write::failed:
      return hand_over(Handover::end);
  }
}

// nullopt: the connection ends (end of stream or an error); empty: there was
// nothing to read after all.
std::optional<Input> Connection::read_input() {
  ssize_t n = ::read(fd_, input_.data(), input_.size());
  if (n > 0)
    return Input(input_.data(), static_cast<std::size_t>(n));
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return Input{};
  if (n < 0)
    log(LogLevel::debug, "client ", id_, ": read: ", errno_text(errno));
  return std::nullopt;
}

void Connection::hand_over(Handover handover) {
  handover_ = handover;
  watch(Interest::none);
  wake();
}

// Only adding to the poller's set can fail, and only on the coroutine's side
// (which catches what this throws); leaving it cannot.
void Connection::watch(Interest interest) {
  if (fd_ < 0 || interest == interest_)
    return;
  if (error_code ec = context_.poller.change(fd_, *this, interest_, interest))
    throw boost::system::system_error(ec, "epoll_ctl");
  interest_ = interest;
}

// ---------------------------------------------------------------------------
// The slow path
//
// The coroutine parks until the fast path hands over, finishes the requests
// the fast path stopped at with co_await, writes, and parks again.  Parking
// is a wait on wake_ until the idle deadline, which --idle-timeout bounds:
// the time a client may take to send a complete request (this also ends
// clients that trickle a frame byte by byte) and the time a reply may stall
// because the client does not read it.  The deadline moves on each complete
// request and each completed write without touching the timer, which is
// only re-armed when it fires: a busy connection costs no timer operations.
// ---------------------------------------------------------------------------

// (No co_await inside a condition: g++ 12 miscompiles that.)
asio::awaitable<void> Connection::serve() {
  for (;;) {
    const bool requests = co_await handed_over();
    if (!requests)
      co_return;
    Answered answered = outcome_;
    while (answered == Answered::not_at_once) {
      answered = co_await session_->answer_next();
      if (answered == Answered::yes)
        answered = session_->answer_at_once(pending_);
    }
    co_await flush();
    if (answered == Answered::close)
      co_return;
  }
}

// true: there are requests to finish; false: the connection ends.
asio::awaitable<bool> Connection::handed_over() {
  out_.idle();  // an idle client soon holds no chunk
  handover_ = Handover::none;
  if (draining_ || fd_ < 0)
    co_return false;
  watch(Interest::read);
  while (handover_ == Handover::none) {
    if (draining_ || fd_ < 0)
      co_return false;
    const bool woken = co_await woken_before_deadline();
    if (!woken) {
      log(LogLevel::debug, "client ", id_, ": idle timeout, closing");
      co_return false;
    }
  }
  co_return handover_ == Handover::requests;
}

// Whether something woke the coroutine before the idle deadline.  Wakes
// that find the coroutine running are not lost (woken_).
asio::awaitable<bool> Connection::woken_before_deadline() {
  while (!woken_) {
    if (context_.poller.now() >= deadline_)
      co_return false;
    co_await sleep_until(deadline_);
  }
  woken_ = false;
  co_return true;
}

// Every wait of the coroutine is this one: until `time`, or until someone
// cancels wake_ (wake(), or the entropy service on a state change).
asio::awaitable<void> Connection::sleep_until(SteadyClock::time_point time) {
  wake_.expires_at(time);
  error_code ec;
  co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

void Connection::wake() {
  woken_ = true;
  wake_.cancel();
}

void Connection::request_received() {
  extend_deadline();
  request_time_ = context_.poller.now();
  random_bytes_at_request_ = random_bytes_;
}

void Connection::extend_deadline() {
  deadline_ = std::min(context_.poller.now() + context_.limits.idle_timeout, latest_);
}

// ---------------------------------------------------------------------------
// Writing
//
// A reply almost always fits into the socket buffer, so it is written at once
// with a non-blocking send; only what does not fit waits for the socket to
// drain, through the poller.
// ---------------------------------------------------------------------------

Connection::Write Connection::write_at_once() {
  auto bytes = out_.bytes();
  while (sent_ < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent_, bytes.size() - sent_, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0)
      sent_ += static_cast<std::size_t>(n);
    else if (errno == EAGAIN)
      return Write::blocked;
    else if (errno != EINTR) {
      write_error_ = errno;
      return Write::failed;
    }
  }
  if (!bytes.empty())
    written();
  return Write::done;
}

asio::awaitable<void> Connection::flush() {
  for (;;) {
    switch (write_at_once()) {
      case Write::done:
        co_return;
      case Write::blocked:
        co_await wait_writable();
        break;
      case Write::failed:
        throw boost::system::system_error(write_error_, boost::system::system_category(), "send");
    }
  }
}

asio::awaitable<void> Connection::wait_writable() {
  if (fd_ < 0)
    throw boost::system::system_error(asio::error::operation_aborted, "closed while writing");
  watch(Interest::write);
  bool woken = co_await woken_before_deadline();
  watch(Interest::none);
  if (!woken)
    throw boost::system::system_error(asio::error::timed_out, "reply stalled past the idle timeout");
}

void Connection::written() {
  out_.clear();
  sent_ = 0;
  extend_deadline();
}

// Lets every other ready connection run before this one continues: the
// non-blocking write would otherwise let a bulk reply run through all its
// chunks in one go.
asio::awaitable<void> Connection::yield() { co_await asio::post(wake_.get_executor(), asio::use_awaitable); }

// A full chunk has been written: other connections get their turn, as
// between the chunks of one reply, so that a client pipelining 64 KiB
// requests cannot hold the io thread for more than one chunk either.
asio::awaitable<void> Connection::make_room(std::size_t n) {
  if (out_.room() < n) {
    co_await flush();
    co_await yield();
  }
  co_await hold_chunk();
}

// --max-output-memory (output_buffer.hpp): a reply that finds no chunk under
// the limit waits for one, as long as it may wait for the client to read.
asio::awaitable<void> Connection::hold_chunk() {
  const std::uint64_t limit = context_.limits.max_output_memory;
  if (!out_.holds_chunk() && !context_.chunks.has_room(limit))
    context_.chunks.reclaim();
  while (!out_.holds_chunk() && !context_.chunks.has_room(limit)) {
    if (draining_ || fd_ < 0)
      throw boost::system::system_error(asio::error::operation_aborted, "closed while waiting for output memory");
    if (context_.poller.now() >= deadline_)
      throw boost::system::system_error(asio::error::timed_out, "no output memory before the idle timeout");
    auto subscription = context_.chunks.subscribe(wake_, limit);
    co_await sleep_until(deadline_);
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
    co_await hold_chunk();
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

// ---------------------------------------------------------------------------
// Starting the write before a long generate
//
// A closed-loop client sleeps until its reply starts to arrive, and on a VM
// waking it is slow: an idle vCPU halts (the 2-CPU VMs of README ›
// Performance idle in haltpoll without guest polling), and the wake-up IPI
// has to bring it back through the hypervisor.  Written in one send after
// the whole 64 KiB was generated, a reply started that wake-up only once it
// was complete, so every request paid generate + wake-up in series: 0.71-0.79x
// the bare server (issue 9), which sends the header first and so overlaps the
// two.  A test client that spends 20 us on each wake-up reproduces the
// shortfall (0.80x) and gets 0.98x with this order.  Extra system calls were
// not it: the poller's epoll_wait and Asio's re-arm (EPOLL_CTL_MOD) cost
// about 0.5 us each, under 1 % of a 64 KiB round trip.
//
// So whatever waits unsent in out() -- the reply's header, earlier replies
// of the batch -- goes out before a generate of kStartWriting bytes or
// more: the client wakes while its payload is generated.  Without blocking:
// what does not fit goes with the rest of the reply, and an error shows
// again at that write.  Smaller replies stay one send: a generate of less
// than 16 KiB (about 3 us) hides too little to pay for a second send and
// wake-up.  Where waking is cheap (busy CPUs) the second wake-up costs a
// little: 0.99x the bare server there instead of 1.05x.
// ---------------------------------------------------------------------------

namespace {
constexpr std::size_t kStartWriting = 16 * 1024;
}  // namespace

void Connection::append_random(std::size_t count, Encoding encoding) {
  if (count >= kStartWriting && sent_ < out_.size())
    (void)write_at_once();
  auto raw = out_.extend(count);
  context_.entropy.generate(raw);
  if (encoding != Encoding::raw)
    encode_in_place(out_, raw, encoding);
  context_.stats.bytes_served += count;
  random_bytes_ += count;
}

std::string Connection::too_large_message(std::uint64_t count) const {
  return "count " + std::to_string(count) + " exceeds --max-request " + std::to_string(context_.limits.max_request);
}

void Connection::count_reply(Status status, bool random_request) {
  if (status != Status::ok) {
    ++context_.stats.requests_refused;
    context_.stats.requests.count_reply(frontend_, status);
  } else if (random_request) {
    ++context_.stats.requests_served;
    context_.stats.requests.count_reply(frontend_, status);
    context_.stats.requests.count_served(random_bytes_ - random_bytes_at_request_, SteadyClock::now() - request_time_);
  }
}

// ---------------------------------------------------------------------------
// Admission
//
// Nothing is served before the first seed (issue 3 §2).  A request that
// arrives earlier waits unless it said NONBLOCK; with --require-hwrng or
// REQUIRE_HWRNG it likewise waits for the hwrng's start-up test and its
// first mix into the key.  The entropy service cancels the timer the wait is
// on at every change, so waiting costs nothing.
//
// A wait lasts at most kMaxAdmissionWait, or the idle timeout when that is
// shorter (PROTOCOL.md §5.1).  A healthy hwrng passes its start-up test in
// milliseconds, so one still in it after seconds will not be ready soon; and
// a client's reply timeout (librngpool: 30 s of silence) must not run out
// first, or the client reports a dead daemon instead of the refusal.
// ---------------------------------------------------------------------------

namespace {
constexpr std::chrono::seconds kMaxAdmissionWait{10};
}  // namespace

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
    return "not seeded yet: the kernel RNG is not ready (waited " + std::to_string(kMaxAdmissionWait.count()) +
           " s or the idle timeout, or NONBLOCK)";
  return "hwrng " + std::string(core::to_string(context_.entropy.hwrng_state())) +
         (context_.entropy.pool().hwrng_in_key() ? "" : ", not in the key yet") +
         ", and the hwrng is required";
}

asio::awaitable<Status> Connection::wait_for_admission(std::uint16_t flags) {
  const bool require_hwrng = flags & protocol::flags::require_hwrng;
  const bool nonblock = flags & protocol::flags::nonblock;
  const auto until = std::min(deadline_, context_.poller.now() + kMaxAdmissionWait);
  for (;;) {
    Admission admission = context_.entropy.admission(require_hwrng);
    if (admission == Admission::serve)
      co_return Status::ok;
    if (admission == Admission::hwrng_unavailable)
      co_return Status::hwrng_unavailable;
    if (nonblock || draining_ || SteadyClock::now() >= until)
      co_return admission == Admission::wait_for_seed ? Status::not_ready : Status::hwrng_unavailable;
    co_await flush();  // earlier replies must not wait with this one
    auto subscription = context_.entropy.subscribe(wake_);
    co_await sleep_until(until);
  }
}

}  // namespace rngpool::server

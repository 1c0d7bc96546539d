#include "metrics/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <list>
#include <string_view>

#include "metrics/exposition.hpp"
#include "metrics/negotiation.hpp"
#include "runtime/log.hpp"
#include "serve/socket_file.hpp"

namespace rngpool::server::metrics {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

constexpr auto kSnapshotWait = 1000ms;
constexpr auto kSnapshotReuse = 10ms;
// A connection younger than this is never displaced: a scraper's request,
// already sent, is read within it even when a flood is being accepted.
constexpr auto kDisplaceAfter = 100ms;
constexpr int kNice = 10;  // the HTTP thread's, relative to the io thread's 0

using Request = http::request<http::empty_body>;
using Response = http::response<http::string_body>;

// ---------------------------------------------------------------------------
// Answers
//
// Decided from the request line alone, but for the exposition's format,
// which Accept selects (negotiation.hpp); the body is the exposition, a
// page with a link, or one line saying what was wrong.
// ---------------------------------------------------------------------------

constexpr std::string_view kIndexPage =
    "<!DOCTYPE html>\n<html><head><title>rngpoold</title></head>\n"
    "<body><h1>rngpoold</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

Response plain(http::status status, std::string body, unsigned version, bool keep_alive) {
  Response response(status, version);
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.body() = std::move(body);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  return response;
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

// Every Accept field's value as one list (RFC 9110 §5.3: repeated fields
// combine, in order, with commas); bounded by the header limit.
std::string accept_of(const Request& request) {
  std::string accept;
  for (auto [field, end] = request.equal_range(http::field::accept); field != end; ++field) {
    if (!accept.empty())
      accept += ", ";
    accept.append(field->value().data(), field->value().size());
  }
  return accept;
}

}  // namespace

// ---------------------------------------------------------------------------
// The server's state, all of it on the HTTP thread but the counters
// ---------------------------------------------------------------------------

struct HttpServer::Impl {
  SnapshotSource source;
  HttpLimits limits;
  // Open connections, oldest first; `waiting` while a request is still
  // being read (or, on keep-alive, not yet begun).
  struct Session {
    beast::tcp_stream stream;
    bool waiting = true;
    SteadyClock::time_point since = SteadyClock::now();  // waiting since
  };
  std::list<Session*> sessions;
  std::optional<Snapshot> last;  // reused for kSnapshotReuse
  SteadyClock::time_point last_time{};
  std::atomic<std::uint64_t> requests{0}, accepted{0}, refused{0}, rejected{0};
  // Last, so destroyed first: the coroutine frames io_context's destructor
  // destroys still take themselves off `sessions`.
  asio::io_context io{1};
  tcp::acceptor acceptor{io};

  HttpStats stats() const {
    return {requests.load(std::memory_order_relaxed), accepted.load(std::memory_order_relaxed),
            refused.load(std::memory_order_relaxed), rejected.load(std::memory_order_relaxed)};
  }

  std::optional<Snapshot> snapshot() {
    const auto now = SteadyClock::now();
    if (!last || now - last_time >= kSnapshotReuse) {
      last = source();
      last_time = now;
    }
    return last;
  }

  Response metrics(const Request& request) {
    auto snapshot = this->snapshot();
    if (!snapshot)
      return plain(http::status::service_unavailable, "rngpoold's io thread did not answer in time\n",
                   request.version(), false);
    snapshot->http = stats();
    const Format format = negotiate(accept_of(request));
    Response response = plain(http::status::ok, render(*snapshot, format), request.version(), request.keep_alive());
    response.set(http::field::content_type, std::string(content_type(format)));
    // RFC 9110 §12.5.5: the body depends on Accept, so a cache must key on it.
    response.set(http::field::vary, "Accept");
    response.prepare_payload();
    return response;
  }

  Response answer(const Request& request) {
    if (request.method() != http::verb::get) {
      Response response = plain(http::status::method_not_allowed, "only GET\n", request.version(), request.keep_alive());
      response.set(http::field::allow, "GET");
      return response;
    }
    const auto target = request.target();
    const std::string_view path = path_of(std::string_view(target.data(), target.size()));
    if (path == "/metrics")
      return metrics(request);
    if (path == "/") {
      Response response = plain(http::status::ok, std::string(kIndexPage), request.version(), request.keep_alive());
      response.set(http::field::content_type, "text/html; charset=utf-8");
      return response;
    }
    return plain(http::status::not_found, "not found; try /metrics\n", request.version(), request.keep_alive());
  }

  // The limits Beast does not enforce itself: the field count.
  bool too_many_fields(const Request& request) const {
    return static_cast<std::size_t>(std::distance(request.begin(), request.end())) > limits.max_header_fields;
  }

  asio::awaitable<void> reject(beast::tcp_stream& stream, http::status status, std::string why) {
    ++rejected;
    Response response = plain(status, std::move(why), 11, false);
    stream.expires_after(limits.request_timeout);
    error_code ec;
    co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
  }

  // One connection: requests in turn (keep-alive), each read whole within
  // the timeout, until the client closes or a request is refused.
  asio::awaitable<void> session(tcp::socket socket) {
    Session self{beast::tcp_stream(std::move(socket))};
    const auto entry = sessions.insert(sessions.end(), &self);
    struct Leave {
      std::list<Session*>& sessions;
      std::list<Session*>::iterator entry;
      ~Leave() { sessions.erase(entry); }
    } leave{sessions, entry};
    co_await serve(self);
    error_code ignored;
    self.stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  asio::awaitable<void> serve(Session& self) {
    beast::tcp_stream& stream = self.stream;
    beast::flat_buffer buffer(limits.max_header_bytes);
    for (;;) {
      http::request_parser<http::empty_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
      parser.body_limit(0);
      stream.expires_after(limits.request_timeout);
      self.waiting = true;
      self.since = SteadyClock::now();
      error_code ec;
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      self.waiting = false;
      if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted)
        co_return;  // closed by the client, or to make room (below)
      if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
        co_await reject(stream, http::status::request_header_fields_too_large, "request header too large\n");
        co_return;
      }
      if (ec) {  // timed out (slowloris), reset, or malformed
        ++rejected;
        if (ec != beast::error::timeout && ec != asio::error::connection_reset)
          co_await reject(stream, http::status::bad_request, "bad request\n");
        co_return;
      }
      const Request& request = parser.get();
      if (too_many_fields(request)) {
        co_await reject(stream, http::status::request_header_fields_too_large, "too many header fields\n");
        co_return;
      }
      Response response = answer(request);
      ++requests;
      co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !response.keep_alive())
        co_return;
    }
  }

  // At the limit, the oldest connection that has waited kDisplaceAfter or
  // more without a whole request makes room: a scraper sends its request
  // at once and is served, however many connections a slowloris holds
  // open.  When there is none (every one answering, or all just accepted in
  // a flood), the newcomer is the one closed.
  bool make_room() {
    if (sessions.size() < limits.max_connections)
      return true;
    ++refused;
    const auto now = SteadyClock::now();
    for (Session* oldest : sessions) {
      if (oldest->waiting && now - oldest->since >= kDisplaceAfter) {
        oldest->waiting = false;
        oldest->stream.socket().close();
        return true;
      }
    }
    return false;
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted)
        co_return;
      if (ec) {  // EMFILE and the like: wait a little rather than spin
        asio::steady_timer pause(io, 100ms);
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      if (!make_room())
        continue;  // the socket closes as it goes out of scope
      ++accepted;
      asio::co_spawn(io, session(std::move(socket)), asio::detached);
    }
  }
};

// ---------------------------------------------------------------------------
// Starting and stopping
// ---------------------------------------------------------------------------

namespace {

tcp::endpoint endpoint_of(const HttpEndpoint& endpoint) {
  error_code ec;
  auto address = asio::ip::make_address(endpoint.address, ec);
  if (ec)
    throw StartupError("--metrics-listen: not an IP address: " + endpoint.address, 2);
  return {address, endpoint.port};
}

// systemd checked it is a listening TCP socket; its family decides the protocol.
tcp family_of(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0 && address.ss_family == AF_INET6)
    return tcp::v6();
  return tcp::v4();
}

std::string describe(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  return (address.is_v6() ? "[" + address.to_string() + "]" : address.to_string()) + ":" +
         std::to_string(endpoint.port());
}

}  // namespace

HttpServer::HttpServer(const HttpEndpoint& endpoint, SnapshotSource source, HttpLimits limits)
    : impl_(std::make_unique<Impl>()) {
  impl_->source = std::move(source);
  impl_->limits = limits;
  error_code ec;
  if (endpoint.fd >= 0) {
    impl_->acceptor.assign(family_of(endpoint.fd), endpoint.fd, ec);
    if (ec)
      throw StartupError("cannot take the metrics socket systemd passed: " + ec.message());
  } else {
    const tcp::endpoint where = endpoint_of(endpoint);
    impl_->acceptor.open(where.protocol(), ec);
    if (!ec)
      impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec)
      impl_->acceptor.bind(where, ec);
    if (!ec)
      impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      throw StartupError("--metrics-listen " + describe(where) + ": " + ec.message());
  }
  description_ = describe(impl_->acceptor.local_endpoint(ec));
}

HttpServer::~HttpServer() {
  impl_->io.stop();
  if (thread_.joinable())
    thread_.join();
}

void HttpServer::start() {
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  thread_ = std::thread([this] {
    // Where the two compete for a CPU, the io thread wins: a scraper flood
    // costs scrapes, not random-byte latency.  Lowering one's own priority
    // needs no privilege.
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kNice);
    impl_->io.run();
  });
}

HttpStats HttpServer::stats() const { return impl_->stats(); }

HttpServer::SnapshotSource snapshot_from(asio::io_context& io, const ServerContext& context) {
  return [&io, &context]() -> std::optional<Snapshot> {
    auto promise = std::make_shared<std::promise<Snapshot>>();
    auto future = promise->get_future();
    asio::post(io, [promise, &context] { promise->set_value(take_snapshot(context)); });
    if (future.wait_for(kSnapshotWait) != std::future_status::ready)
      return std::nullopt;
    return future.get();
  };
}

}  // namespace rngpool::server::metrics

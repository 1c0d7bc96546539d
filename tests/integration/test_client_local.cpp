// librngpool's local generator against the real daemon (issue 11).
//
// Every reseed is one GET_RANDOM of 32 bytes, so the daemon's counters show
// when the generator went back to it: requests_served (minus the STATUS
// requests the test itself makes, measured) and bytes_served (32 per
// reseed).  Fork children (fork, _Fork, a raw clone) must never produce the
// parent's next bytes; threads must never share bytes; prediction
// resistance and every require_hwrng reseed must reach the daemon, and a
// refused or impossible reseed must fail the call.
#include "local_generator.hpp"
#include "robustness_support.hpp"

#include "rngpool/rngpool.h"
#include "rngpool/rngpool.hpp"

#include <catch2/catch.hpp>

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <random>
#include <regex>
#include <set>
#include <thread>
#include <unordered_set>
#include <vector>

using namespace rngpool;
using namespace rngpool::test;
using namespace rngpool::test::robustness;
using namespace std::chrono_literals;

namespace {

// GET_RANDOM requests the daemon served, not counting the STATUS request
// that asks (if the daemon counts those, the difference of two back-to-back
// reports says by how much).
class RequestCounter {
 public:
  explicit RequestCounter(std::string socket) : socket_(std::move(socket)) {
    const auto a = read();
    status_cost_ = read() - a;
    last_ = read();
  }
  // Requests since the previous call (or construction).
  std::uint64_t since() {
    const auto now = read();
    const auto made = now - last_ - status_cost_;
    last_ = now;
    return made;
  }

 private:
  std::uint64_t read() const { return status_number(status_report(socket_), "requests_served"); }
  std::string socket_;
  std::uint64_t status_cost_ = 0;
  std::uint64_t last_ = 0;
};

ClientOptions local_options(const std::string& socket) {
  ClientOptions options;
  options.socket_path = socket;
  return options;
}

std::vector<std::uint8_t> draw(const Client& client, std::size_t n) {
  std::vector<std::uint8_t> out(n);
  client.fill(out);
  return out;
}

using Block = std::pair<std::uint64_t, std::uint64_t>;
struct BlockHash {
  std::size_t operator()(const Block& b) const { return std::hash<std::uint64_t>()(b.first ^ (b.second * 31)); }
};

// The 16-byte blocks of `bytes`, at 16-byte offsets.
std::vector<Block> blocks_of(const std::vector<std::uint8_t>& bytes) {
  std::vector<Block> blocks;
  blocks.reserve(bytes.size() / 16);
  for (std::size_t at = 0; at + 16 <= bytes.size(); at += 16) {
    Block block;
    std::memcpy(&block.first, bytes.data() + at, 8);
    std::memcpy(&block.second, bytes.data() + at + 8, 8);
    blocks.push_back(block);
  }
  return blocks;
}

bool share_a_block(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  const auto ba = blocks_of(a);
  std::unordered_set<Block, BlockHash> seen(ba.begin(), ba.end());
  for (const auto& block : blocks_of(b)) {
    if (seen.contains(block)) return true;
  }
  return false;
}

// How the child is made.
enum class Spawn { fork, raw_fork, clone };

struct CloneJob {
  const Client* client;
  int fd;
};

int child_body(const Client& client, int fd) {
  try {
    const auto bytes = draw(client, 4096);
    return ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) ? 0 : 1;
  } catch (...) {
    return 2;
  }
}

int clone_entry(void* arg) {
  const auto* job = static_cast<CloneJob*>(arg);
  return child_body(*job->client, job->fd);
}

// The child's first 4096 bytes, drawn from `client` in a child made by `how`.
std::vector<std::uint8_t> child_draw(const Client& client, Spawn how) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t child = -1;
  std::vector<char> stack;
  if (how == Spawn::clone) {
    // A raw clone(): a new process sharing nothing, no atfork handler run.
    stack.resize(256 * 1024);
    CloneJob job{&client, fds[1]};
    child = ::clone(clone_entry, stack.data() + stack.size(), SIGCHLD, &job);
  } else {
    child = how == Spawn::fork ? ::fork() : ::_Fork();
    if (child == 0) {
      ::close(fds[0]);
      ::_exit(child_body(client, fds[1]));
    }
  }
  REQUIRE(child > 0);
  ::close(fds[1]);
  std::vector<std::uint8_t> bytes(4096);
  std::size_t got = 0;
  for (ssize_t n; got < bytes.size() && (n = ::read(fds[0], bytes.data() + got, bytes.size() - got)) > 0;) {
    got += static_cast<std::size_t>(n);
  }
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  REQUIRE(got == bytes.size());
  return bytes;
}

}  // namespace

TEST_CASE("local generator: one daemon request serves many tokens", "[client][local]") {
  TestDaemon daemon;
  RequestCounter requests(daemon.socket_path());
  const Client client(local_options(daemon.socket_path()));
  std::set<std::vector<std::uint8_t>> tokens;
  for (int i = 0; i < 1000; ++i) tokens.insert(client.token_bytes(32));
  CHECK(tokens.size() == 1000);
  CHECK(requests.since() == 1);  // the first reseed only
  // Off, every call is a request: the path before issue 11.
  ClientOptions off = local_options(daemon.socket_path());
  off.local_generator = false;
  const Client direct(off);
  for (int i = 0; i < 10; ++i) direct.token_bytes(32);
  CHECK(requests.since() == 10);
}

TEST_CASE("local generator: children of fork, _Fork and clone never repeat the parent's next bytes",
          "[client][local][fork]") {
  TestDaemon daemon;
  const Client client(local_options(daemon.socket_path()));
  draw(client, 100);  // the parent is seeded, with keystream buffered
  RequestCounter requests(daemon.socket_path());
  for (const Spawn how : {Spawn::fork, Spawn::raw_fork, Spawn::clone}) {
    INFO("spawn " << static_cast<int>(how));
    const auto theirs = child_draw(client, how);
    CHECK(requests.since() == 1);  // the child reseeded before its first byte
    const auto ours = draw(client, 4096);
    CHECK(requests.since() == 0);  // the parent kept its key
    CHECK_FALSE(share_a_block(ours, theirs));
  }
}

TEST_CASE("local generator: 16 threads x 1 MiB never repeat a 16-byte block", "[client][local]") {
  TestDaemon daemon;
  const Client client(local_options(daemon.socket_path()));
  constexpr int kThreads = 16;
  std::vector<std::vector<std::uint8_t>> streams(kThreads, std::vector<std::uint8_t>(std::size_t{1} << 20));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto& stream = streams[static_cast<std::size_t>(t)];
      // Small draws (the buffer) and one large one (the direct path).
      for (std::size_t at = 0; at < stream.size() / 2; at += 32) client.fill(std::span(stream).subspan(at, 32));
      client.fill(std::span(stream).subspan(stream.size() / 2));
    });
  }
  for (auto& thread : threads) thread.join();
  std::unordered_set<Block, BlockHash> seen;
  std::size_t total = 0;
  for (const auto& stream : streams) {
    for (const auto& block : blocks_of(stream)) {
      seen.insert(block);
      ++total;
    }
  }
  CHECK(seen.size() == total);
}

// A clock that stands still: no key ever ages, so how many keys are asked
// for ahead (two when a key's first half went fast) does not depend on how
// loaded the machine running the test is.
static std::chrono::steady_clock::time_point frozen_clock() { return {}; }

TEST_CASE("local generator: reseeds after reseed_bytes of output", "[client][local]") {
  TestDaemon daemon;
  RequestCounter requests(daemon.socket_path());
  ClientOptions options = local_options(daemon.socket_path());
  options.reseed_bytes = 64 * 1024;
  options.clock = frozen_clock;
  const Client client(options);
  for (int i = 0; i < 4 * 64 * 1024 / 32; ++i) client.token_bytes(32);
  const auto* generator = detail::find_thread_generator(daemon.socket_path(), false);
  REQUIRE(generator != nullptr);
  CHECK(generator->reseeds() == 4);
  CHECK(generator->reseeds_ahead() == 3);  // each key after the first was asked for at half a budget
  client.token_bytes(32);
  CHECK(generator->reseeds() == 5);
  CHECK(generator->reseeds_ahead() == 4);
  CHECK(client.status().size() > 0);  // reads the reply to the key still on its way
  CHECK(requests.since() == 6);       // one GET_RANDOM per key, and the next one asked for
  draw(client, 200 * 1024);  // larger than the limit: pieces, each under a fresh key
  CHECK(generator->reseeds() == 9);
  CHECK(generator->reseeds_ahead() == 7);  // the first piece's key fetched (STATUS wiped the one on its way)
  CHECK(client.status().size() > 0);
  CHECK(requests.since() == 5);  // 4 keys, and the one asked for with the last whole piece
}

// The next key is asked for at half the budget, so a reseed finds its reply
// waiting instead of a round trip; every case where that reply can no
// longer be used falls back to a fetch of its own, and the stream stays in
// step.
TEST_CASE("local generator: keys asked for ahead, and every way one is dropped", "[client][local]") {
  TestDaemon daemon;
  auto now = std::make_shared<std::atomic<std::int64_t>>(0);
  ClientOptions options = local_options(daemon.socket_path());
  options.reseed_bytes = 64 * 1024;
  options.clock = [now] { return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(now->load())); };
  const Client client(options);
  draw(client, 64 * 1024);  // the first key, and the second asked for
  const auto* generator = detail::find_thread_generator(daemon.socket_path(), false);
  REQUIRE(generator != nullptr);
  draw(client, 64 * 1024);
  CHECK(generator->reseeds() == 2);
  CHECK(generator->reseeds_ahead() == 1);

  SECTION("another exchange on the link reads and wipes the reply first") {
    CHECK(client.status().size() > 0);
    draw(client, 64 * 1024);
    CHECK(generator->reseeds() == 3);
    CHECK(generator->reseeds_ahead() == 1);  // fetched: the one asked for was gone
  }
  SECTION("a key asked for more than a second before its reseed is dropped") {
    *now += std::chrono::nanoseconds(detail::kAheadLifetime + 1ms).count();
    draw(client, 64 * 1024);
    CHECK(generator->reseeds() == 3);
    CHECK(generator->reseeds_ahead() == 1);
  }
  SECTION("a fork child neither reads its parent's reply nor keeps its ticket") {
    const auto child_bytes = [&] {
      int fds[2];
      REQUIRE(::pipe(fds) == 0);
      const pid_t child = ::fork();
      REQUIRE(child >= 0);
      if (child == 0) {
        std::vector<std::uint8_t> out(64 * 1024);
        int code = 0;
        try {
          client.fill(out);
          code = ::write(fds[1], out.data(), 64) == 64 ? 0 : 2;
        } catch (...) {
          code = 1;
        }
        ::_exit(code);
      }
      ::close(fds[1]);
      std::vector<std::uint8_t> first(64);
      const bool read_all = ::read(fds[0], first.data(), first.size()) == 64;
      ::close(fds[0]);
      int status = 0;
      REQUIRE(::waitpid(child, &status, 0) == child);
      CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
      CHECK(read_all);
      return first;
    }();
    const auto parent = draw(client, 64 * 1024);
    CHECK(generator->reseeds_ahead() == 2);  // the parent's reply was still there for it
    CHECK(std::vector<std::uint8_t>(parent.begin(), parent.begin() + 64) != child_bytes);
  }
  CHECK(client.status().size() > 0);  // whatever happened, the stream is in step
  CHECK(draw(client, 64 * 1024).size() == 64 * 1024);
}

// When half a key's budget went fast, the key after the next is asked for
// too, so the key a reseed installs was asked for a whole budget earlier;
// one that has grown too old is skipped for the next (the link reads and
// wipes its reply), and every key asked for is one the daemon served.  A
// slow thread keeps one key on its way.
TEST_CASE("local generator: two keys on their way when half a budget goes fast", "[client][local]") {
  TestDaemon daemon;
  RequestCounter requests(daemon.socket_path());
  auto now = std::make_shared<std::atomic<std::int64_t>>(0);
  ClientOptions options = local_options(daemon.socket_path());
  options.reseed_bytes = 64 * 1024;
  options.clock = [now] { return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(now->load())); };
  const Client client(options);
  const auto quarter = std::chrono::nanoseconds(detail::kAheadLifetime / 4).count();
  draw(client, 64 * 1024);  // fetched; the half went at once: the next two asked for at 0
  const auto* generator = detail::find_thread_generator(daemon.socket_path(), false);
  REQUIRE(generator != nullptr);

  SECTION("a key too old by its reseed is skipped for the next one") {
    const auto step = std::chrono::nanoseconds(detail::kAheadLifetime * 6 / 10).count();
    *now += step;
    draw(client, 64 * 1024);  // the first of them; a third asked for at 0.6 s
    CHECK(generator->reseeds() == 2);
    CHECK(generator->reseeds_ahead() == 1);
    *now += step;  // the second is 1.2 s old now, the third 0.6 s
    draw(client, 64 * 1024);
    CHECK(generator->reseeds() == 3);
    CHECK(generator->reseeds_ahead() == 2);  // the third, not a fetch
    CHECK(client.status().size() > 0);       // in step: the two asked for last are read and wiped
    CHECK(requests.since() == 6);            // 1 fetched + 5 asked for ahead
    draw(client, 32);                        // both gone: a fetch
    CHECK(generator->reseeds() == 4);
    CHECK(generator->reseeds_ahead() == 2);
  }
  SECTION("a key whose first half was slow asks for one") {
    CHECK(client.status().size() > 0);  // reads and wipes the two on their way
    CHECK(requests.since() == 3);
    draw(client, 16 * 1024);  // fetched at 0
    *now += quarter;          // its first half takes a quarter of the lifetime
    draw(client, 32 * 1024);  // crosses the half: one asked for
    draw(client, 16 * 1024 + 1);
    CHECK(generator->reseeds() == 3);
    CHECK(generator->reseeds_ahead() == 1);  // that one
    CHECK(client.status().size() > 0);
    CHECK(requests.since() == 2);  // the fetch and the one asked for: nothing else on its way
  }
}

// Threads sharing a Client share its link, and replies come in order on it:
// the keys on their way are the link's, so whichever thread reseeds next
// takes the oldest and none is wasted.  Every daemon request is a reseed's
// key, or one of at most four still on their way.
TEST_CASE("local generator: threads sharing a client do not spoil each other's keys asked ahead",
          "[client][local]") {
  TestDaemon daemon;
  RequestCounter requests(daemon.socket_path());
  ClientOptions options = local_options(daemon.socket_path());
  options.reseed_bytes = 64 * 1024;
  options.clock = frozen_clock;  // no key is ever too old: each one asked for is taken or still on its way
  const Client client(options);
  std::atomic<std::uint64_t> reseeds{0};
  std::atomic<std::uint64_t> reseeds_ahead{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 64 * 64 * 1024 / 32; ++i) client.token_bytes(32);
      const auto* generator = detail::find_thread_generator(daemon.socket_path(), false);
      reseeds += generator->reseeds();
      reseeds_ahead += generator->reseeds_ahead();
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(client.status().size() > 0);
  const auto made = requests.since();
  INFO("reseeds " << reseeds << ", of them asked ahead " << reseeds_ahead << ", daemon requests " << made);
  CHECK(reseeds >= 128);
  CHECK(made <= reseeds + 4);
}

TEST_CASE("local generator: reseeds once the key is reseed_interval old (injected clock)", "[client][local]") {
  TestDaemon daemon;
  RequestCounter requests(daemon.socket_path());
  auto now = std::make_shared<std::atomic<std::int64_t>>(0);
  ClientOptions options = local_options(daemon.socket_path());
  options.clock = [now] { return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(now->load())); };
  const Client client(options);
  client.token_bytes(32);
  CHECK(requests.since() == 1);
  *now += std::chrono::nanoseconds(59s).count();
  client.token_bytes(32);
  CHECK(requests.since() == 0);
  *now += std::chrono::nanoseconds(1s).count();
  client.token_bytes(32);
  CHECK(requests.since() == 1);
}

TEST_CASE("local generator: prediction resistance and require_hwrng go to the daemon", "[client][local]") {
  TestDaemon daemon;
  RequestCounter requests(daemon.socket_path());
  const Client client(local_options(daemon.socket_path()));
  const Client resistant = client.with({.prediction_resistance = true, .require_hwrng = false, .nonblock = false});
  for (int i = 0; i < 5; ++i) resistant.token_bytes(32);
  CHECK(requests.since() == 5);  // every one
  const Client strict = client.with({.prediction_resistance = false, .require_hwrng = true, .nonblock = false});
  strict.token_bytes(32);
  CHECK(requests.since() == 1);  // a require_hwrng reseed
  client.token_bytes(32);
  CHECK(requests.since() == 1);  // the plain generator is another one: not keyed by the strict reseed
  strict.token_bytes(32);
  client.token_bytes(32);
  CHECK(requests.since() == 0);
  CHECK(detail::find_thread_generator(daemon.socket_path(), true) !=
        detail::find_thread_generator(daemon.socket_path(), false));
}

// The hwrng goes away while a require_hwrng generator is seeded: its next
// reseed is refused with HWRNG_UNAVAILABLE and the call fails, every time;
// nothing is served from the old key past its limit.
TEST_CASE("local generator: a require_hwrng reseed the daemon refuses fails the call", "[client][local]") {
  TempDir dir("rngpool-local-hwrng");
  auto feeder = std::make_unique<FifoFeeder>(dir.path() / "hwrng", FifoFeeder::random_bytes());
  TestDaemon daemon(reading_hwrng(feeder->path()));
  status_when(daemon.socket_path(), [](const protocol::StatusReport& r) {
    return status_number(r, "hwrng_bytes_used") > 0;
  });
  auto now = std::make_shared<std::atomic<std::int64_t>>(0);
  ClientOptions options = local_options(daemon.socket_path());
  options.flags.require_hwrng = true;
  options.clock = [now] { return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(now->load())); };
  const Client strict(options);
  REQUIRE(strict.token_bytes(32).size() == 32);
  feeder.reset();
  status_when(daemon.socket_path(), [](const protocol::StatusReport& r) {
    return status_value(r, "hwrng_state") == "exhausted";
  });
  CHECK(strict.token_bytes(32).size() == 32);  // the key is still young: it came with the hwrng in it
  *now += std::chrono::nanoseconds(61s).count();
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      strict.token_bytes(32);
      FAIL("served past the reseed interval without the hwrng");
    } catch (const Error& error) {
      CHECK(error.status_name() == "HWRNG_UNAVAILABLE");
    }
  }
}

TEST_CASE("local generator: a daemon gone at reseed time fails the call", "[client][local]") {
  auto daemon = std::make_unique<TestDaemon>();
  ClientOptions options = local_options(daemon->socket_path());
  options.reseed_bytes = 4096;
  options.connect_timeout = 2s;
  const Client client(options);
  draw(client, 4000);
  daemon.reset();
  CHECK(draw(client, 96).size() == 96);  // still within the limit
  try {
    draw(client, 1);
    FAIL("served past reseed_bytes without the daemon");
  } catch (const Error& error) {
    CHECK((error.kind() == ErrorKind::connect || error.kind() == ErrorKind::io));
  }
}

TEST_CASE("local generator: AES-256-CTR when asked, through ClientOptions and the C flag, in a generator of its own", "[client][local]") {
  TestDaemon daemon;
  RequestCounter requests(daemon.socket_path());
  ClientOptions options = local_options(daemon.socket_path());
  options.local_cipher = LocalCipher::aes256_ctr;
  const Client aes(options);
  CHECK(aes.token_bytes(32).size() == 32);
  const auto* generator = detail::find_thread_generator(daemon.socket_path(), false, core::Cipher::aes256_ctr);
  REQUIRE(generator != nullptr);
  CHECK(generator->reseeds() == 1);
  CHECK(detail::find_thread_generator(daemon.socket_path(), false, core::Cipher::chacha20) == nullptr);
  CHECK(requests.since() == 1);

  // The C flag selects the same thread's AES generator: no second reseed.
  rngpool_client* handle = rngpool_open_with(daemon.socket_path().c_str(), RNGPOOL_LOCAL_AES256_CTR);
  REQUIRE(handle != nullptr);
  std::uint8_t buffer[64];
  REQUIRE(rngpool_bytes(handle, buffer, sizeof buffer) == RNGPOOL_OK);
  rngpool_close(handle);
  CHECK(generator->reseeds() == 1);
  CHECK(requests.since() == 0);

  // A ChaCha20 client of the same daemon keys a generator of its own.
  const Client chacha(local_options(daemon.socket_path()));
  CHECK(chacha.token_bytes(32).size() == 32);
  CHECK(detail::find_thread_generator(daemon.socket_path(), false, core::Cipher::chacha20) != nullptr);
  CHECK(requests.since() == 1);
  CHECK(draw(aes, 3 * 1024 * 1024).size() == 3 * 1024 * 1024);  // the direct path, pieces under fresh keys
  CHECK(generator->reseeds() == 4);
}

TEST_CASE("local generator: switched off by the C flag and by RNGPOOL_LOCAL_GENERATOR=0", "[client][local]") {
  TestDaemon daemon;
  RequestCounter requests(daemon.socket_path());
  std::uint8_t buffer[32];
  rngpool_client* on = rngpool_open(daemon.socket_path().c_str());
  rngpool_client* off = rngpool_open_with(daemon.socket_path().c_str(), RNGPOOL_NO_LOCAL_GENERATOR);
  for (int i = 0; i < 5; ++i) REQUIRE(rngpool_bytes(on, buffer, sizeof buffer) == RNGPOOL_OK);
  CHECK(requests.since() == 1);
  for (int i = 0; i < 5; ++i) REQUIRE(rngpool_bytes(off, buffer, sizeof buffer) == RNGPOOL_OK);
  CHECK(requests.since() == 5);
  rngpool_close(on);
  rngpool_close(off);
  for (const char* value : {"0", "off", "garbled"}) {
    INFO(value);
    ::setenv("RNGPOOL_LOCAL_GENERATOR", value, 1);
    const Client client(local_options(daemon.socket_path()));
    ::unsetenv("RNGPOOL_LOCAL_GENERATOR");
    for (int i = 0; i < 3; ++i) client.token_bytes(32);
    CHECK(requests.since() == 3);
  }
  ::setenv("RNGPOOL_LOCAL_GENERATOR", "1", 1);
  ClientOptions other = local_options(daemon.socket_path());
  other.reseed_bytes = 1000;  // a generator of its own is not needed: the thread's is shared
  const Client client(other);
  ::unsetenv("RNGPOOL_LOCAL_GENERATOR");
  for (int i = 0; i < 3; ++i) client.token_bytes(32);
  CHECK(requests.since() <= 1);
  CHECK_THROWS_AS(Client([&] {
                    ClientOptions bad = local_options(daemon.socket_path());
                    bad.reseed_bytes = 0;
                    return bad;
                  }()),
                  std::invalid_argument);
}

TEST_CASE("local generator: its key pages are locked and not dumped (/proc/self/smaps)", "[client][local]") {
  TestDaemon daemon;
  const Client client(local_options(daemon.socket_path()));
  client.token_bytes(32);
  const detail::LocalGenerator* generator = detail::find_thread_generator(daemon.socket_path(), false);
  REQUIRE(generator != nullptr);
  for (const auto memory : {generator->key_memory(), generator->book_memory()}) {
    const std::string flags = vm_flags(memory.data());
    INFO(flags);
    CHECK(has_vm_flag(flags, "dd"));
    CHECK(has_vm_flag(flags, "wf"));
    if (generator->locked()) {
      CHECK(has_vm_flag(flags, "lo"));
    } else {
      WARN("mlock refused here (RLIMIT_MEMLOCK " << run_command("ulimit -l").out << "): not locked");
    }
  }
  // The thread's generators go with it.
  const std::size_t before = detail::live_local_generators();
  std::thread([&] { client.token_bytes(32); }).join();
  CHECK(detail::live_local_generators() == before);
}

TEST_CASE("local generator: 2.5 MB of its output passes rngtest (FIPS 140-2)", "[client][local][quality]") {
  if (run_command("command -v rngtest").exit_code != 0)
    FAIL("rngtest not found: install rng-tools5 (Debian), which CI provides");
  TestDaemon daemon;
  ClientOptions options = local_options(daemon.socket_path());
  options.reseed_bytes = 256 * 1024;  // the stream crosses reseeds
  const Client client(options);
  constexpr std::size_t kBlocks = 1000;
  std::string stream;
  std::mt19937 rng(std::random_device{}());
  while (stream.size() < kBlocks * 2500 + 4) {
    const auto bytes = draw(client, std::uniform_int_distribution<std::size_t>(1, 5000)(rng));
    stream.append(bytes.begin(), bytes.end());
  }
  stream.resize(kBlocks * 2500 + 4);
  const auto result = run_command("rngtest -c " + std::to_string(kBlocks), stream);
  INFO(result.err);
  REQUIRE((result.exit_code == 0 || result.exit_code == 1));
  std::smatch match;
  REQUIRE(std::regex_search(result.err, match, std::regex("FIPS 140-2 failures: ([0-9]+)")));
  CHECK(std::stoull(match[1]) <= 6);  // as test_output_quality.cpp: P(false alarm) = 2e-5
}

TEST_CASE("local generator: byte values and randbelow(6) are uniform (chi-square)", "[client][local][quality]") {
  TestDaemon daemon;
  const Client client(local_options(daemon.socket_path()));
  std::vector<double> bytes(256, 0), dice(6, 0);
  const auto stream = draw(client, 4 << 20);
  for (auto b : stream) ++bytes[b];
  for (int i = 0; i < 600000; ++i) ++dice[client.randbelow(6)];
  const auto chi2 = [](const std::vector<double>& counts) {
    double total = 0, statistic = 0;
    for (double c : counts) total += c;
    const double expected = total / static_cast<double>(counts.size());
    for (double c : counts) statistic += (c - expected) * (c - expected) / expected;
    return statistic;
  };
  // Critical values at significance 1e-6 (as tests/client/sources.hpp):
  // 255 degrees of freedom: 377.3 (Wilson-Hilferty); 5: 35.89.
  CHECK(chi2(bytes) < 377.3);
  CHECK(chi2(dice) < 35.89);
}

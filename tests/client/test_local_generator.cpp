// The local generator's own rules (issue 11), over a counting key source and
// an injected clock, no daemon: when it reseeds, what a failed reseed
// serves, what a fork child finds, what wipe() and thread exit leave, and
// how the kernel sees its pages.  The same rules against the real daemon are
// in tests/integration/test_client_local.cpp.
#include "local_generator.hpp"

#include "rngpool/test/process_memory.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <thread>
#include <vector>

using rngpool::detail::KeySource;
using rngpool::detail::LocalGenerator;
using rngpool::detail::ReseedPolicy;
using rngpool::detail::SteadyClock;
using rngpool::test::has_vm_flag;
using rngpool::test::vm_flags;
using namespace std::chrono_literals;

namespace {

// Keys 1, 2, 3, ... (each key all one byte), counted; fails when told.
class CountingSource final : public KeySource {
 public:
  void fetch(std::span<std::uint8_t, 32> key) override {
    if (fail) throw std::runtime_error("no daemon");
    ++fetched;
    std::fill(key.begin(), key.end(), static_cast<std::uint8_t>(fetched));
  }
  int fetched = 0;
  bool fail = false;
};

struct FakeTime {
  std::chrono::steady_clock::time_point now{};
  SteadyClock clock() {
    return [this] { return now; };
  }
};

std::vector<std::uint8_t> draw(LocalGenerator& g, std::size_t n, const ReseedPolicy& policy, KeySource& source) {
  std::vector<std::uint8_t> out(n);
  g.generate(out, policy, source);
  return out;
}

bool all_zero(std::span<const std::uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

}  // namespace

TEST_CASE("local generator: reseeds before its first byte and before the byte limit", "[local]") {
  FakeTime time;
  const SteadyClock clock = time.clock();
  const ReseedPolicy policy{4096, std::chrono::nanoseconds(60s).count(), &clock};
  LocalGenerator g;
  REQUIRE(g.usable());
  CountingSource source;
  CHECK_FALSE(g.seeded());
  draw(g, 32, policy, source);
  CHECK(source.fetched == 1);
  CHECK(g.seeded());
  draw(g, 4096 - 32, policy, source);  // exactly the limit: no reseed yet
  CHECK(source.fetched == 1);
  draw(g, 1, policy, source);          // one past it
  CHECK(source.fetched == 2);
  // A request larger than the limit is served in pieces, each under its own key.
  draw(g, 3 * 4096, policy, source);
  CHECK(source.fetched == 5);
  CHECK(g.reseeds() == 5);
}

TEST_CASE("local generator: reseeds once the key is reseed_interval old", "[local]") {
  FakeTime time;
  const SteadyClock clock = time.clock();
  const ReseedPolicy policy{1 << 20, std::chrono::nanoseconds(60s).count(), &clock};
  LocalGenerator g;
  CountingSource source;
  draw(g, 32, policy, source);
  time.now += 59s;
  draw(g, 32, policy, source);
  CHECK(source.fetched == 1);
  time.now += 1s;
  draw(g, 32, policy, source);
  CHECK(source.fetched == 2);
}

TEST_CASE("local generator: a failed reseed serves nothing and leaves the generator due", "[local]") {
  const ReseedPolicy policy{64, std::chrono::nanoseconds(60s).count(), nullptr};  // the real clock
  LocalGenerator g;
  CountingSource source;
  draw(g, 64, policy, source);
  source.fail = true;
  std::vector<std::uint8_t> out(1, 0xAA);
  CHECK_THROWS_AS(g.generate(out, policy, source), std::runtime_error);
  CHECK(out[0] == 0xAA);  // nothing served past the limit
  CHECK_THROWS_AS(g.generate(out, policy, source), std::runtime_error);
  CHECK(all_zero(g.book_memory().first(32)));  // the incoming key slot is wiped
  source.fail = false;
  draw(g, 1, policy, source);
  CHECK(source.fetched == 2);
}

TEST_CASE("local generator: the same keys make the same stream, new keys a new one", "[local]") {
  const ReseedPolicy policy{1 << 20, std::chrono::nanoseconds(60s).count(), nullptr};
  LocalGenerator a, b;
  CountingSource sa, sb;
  const auto first = draw(a, 5000, policy, sa);
  CHECK(draw(b, 5000, policy, sb) == first);  // deterministic given the key
  b.wipe();                                   // unseeded: the next draw takes key 2
  CHECK(draw(b, 5000, policy, sb) != draw(a, 5000, policy, sa));
}

TEST_CASE("local generator: wipe() leaves no key, keystream or seeded flag", "[local]") {
  const ReseedPolicy policy{1 << 20, std::chrono::nanoseconds(60s).count(), nullptr};
  LocalGenerator g;
  CountingSource source;
  draw(g, 100, policy, source);
  REQUIRE_FALSE(all_zero(g.key_memory()));
  g.wipe();
  CHECK(all_zero(g.key_memory()));
  CHECK(all_zero(g.book_memory()));
  CHECK_FALSE(g.seeded());
  draw(g, 1, policy, source);
  CHECK(source.fetched == 2);
}

// The child sees the pages zeroed by the kernel: unseeded, it reseeds
// before its first byte, from its own source, so its bytes are not the
// parent's next ones.  _Fork() runs no atfork handler: the kernel alone does it.
TEST_CASE("local generator: a child of fork() or _Fork() starts unseeded", "[local][fork]") {
  const ReseedPolicy policy{1 << 20, std::chrono::nanoseconds(60s).count(), nullptr};
  LocalGenerator g;
  CountingSource source;
  draw(g, 100, policy, source);
  for (const bool raw : {false, true}) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t child = raw ? ::_Fork() : ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(fds[0]);
      const bool fresh = !g.seeded() && all_zero(g.key_memory()) && all_zero(g.book_memory());
      CountingSource own;
      own.fetched = 100;  // keys the parent never had
      const auto bytes = draw(g, 64, policy, own);
      const bool ok = fresh && own.fetched == 101 &&
                      ::write(fds[1], bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
      ::_exit(ok ? 0 : 1);
    }
    ::close(fds[1]);
    std::vector<std::uint8_t> theirs(64);
    CHECK(::read(fds[0], theirs.data(), theirs.size()) == 64);
    ::close(fds[0]);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    CHECK(draw(g, 64, policy, source) != theirs);
    CHECK(g.seeded());
    CHECK(source.fetched == 1);  // the parent kept its key
  }
}

TEST_CASE("local generator: its pages are locked, not dumped and wiped on fork", "[local]") {
  LocalGenerator g;
  for (const auto memory : {g.key_memory(), g.book_memory()}) {
    const std::string flags = vm_flags(memory.data());
    INFO(flags);
    REQUIRE_FALSE(flags.empty());
    CHECK(has_vm_flag(flags, "dd"));
    CHECK(has_vm_flag(flags, "wf"));
    CHECK(has_vm_flag(flags, "lo") == g.locked());
  }
  if (!g.locked()) WARN("mlock refused (RLIMIT_MEMLOCK?): the pages are not locked here");
}

// A thread's generators go when it exits: their destructors wipe and unmap
// (SecureBuffer), and the count of live generators says they ran.
TEST_CASE("local generator: a thread's generators are destroyed when it exits", "[local]") {
  const std::size_t before = rngpool::detail::live_local_generators();
  std::size_t during = 0;
  std::thread([&] {
    REQUIRE(rngpool::detail::thread_generator(~0ull, "/nonexistent/a.sock", false) != nullptr);
    REQUIRE(rngpool::detail::thread_generator(~0ull - 1, "/nonexistent/a.sock", true) != nullptr);
    // The same key source through another link: the same generator.
    CHECK(rngpool::detail::thread_generator(~0ull - 2, "/nonexistent/a.sock", false) ==
          rngpool::detail::find_thread_generator("/nonexistent/a.sock", false));
    during = rngpool::detail::live_local_generators();
  }).join();
  CHECK(during == before + 2);
  CHECK(rngpool::detail::live_local_generators() == before);
}

// A thread_local destructor that runs after the thread's generators are gone
// (it was constructed before them) and draws: it must be sent to the daemon
// (null here), not handed a generator from the destroyed table.
namespace {

struct LateDrawer {
  const LocalGenerator** seen = nullptr;
  ~LateDrawer() {
    if (seen) *seen = rngpool::detail::thread_generator(~0ull - 7, "/nonexistent/late.sock", false);
  }
};
thread_local LateDrawer late_drawer;

}  // namespace

TEST_CASE("local generator: a draw from a thread_local destructor after thread exit gets no generator", "[local]") {
  const LocalGenerator* seen = reinterpret_cast<const LocalGenerator*>(1);
  std::thread([&] {
    late_drawer.seen = &seen;  // constructed now, before the table
    REQUIRE(rngpool::detail::thread_generator(~0ull - 7, "/nonexistent/late.sock", false) != nullptr);
  }).join();
  CHECK(seen == nullptr);
}

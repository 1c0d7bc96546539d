// Output chunks (output_buffer.hpp): an idle buffer lingers with its chunk
// for the next reply, and a sweep wipes and releases it when none comes.
#include "serve/output_buffer.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>

using namespace rngpool::server;
using namespace std::chrono_literals;

namespace {

std::uint8_t* fill(OutputBuffer& out, std::size_t n, std::uint8_t value) {
  auto bytes = out.extend(n);
  std::fill(bytes.begin(), bytes.end(), value);
  return bytes.data();
}

}  // namespace

TEST_CASE("an idle buffer's chunk is wiped and released within two sweeps", "[server][output]") {
  asio::io_context io;
  ChunkPool pool(io.get_executor());
  OutputBuffer out(pool);
  std::uint8_t* chunk = fill(out, 1000, 0xAB);
  out.idle();
  CHECK(out.holds_chunk());
  CHECK(pool.in_use() == 1);

  io.run_for(ChunkPool::kLinger / 2);
  CHECK(out.holds_chunk());  // not before a whole interval
  io.run_for(1s);            // returns early once no sweep is pending: nothing lingers
  CHECK(io.stopped());
  CHECK_FALSE(out.holds_chunk());
  CHECK(pool.in_use() == 0);
  CHECK(pool.lingering() == 0);

  Chunk again = pool.take();  // the free list gives the same chunk back
  REQUIRE(again.get() == chunk);
  CHECK(std::all_of(chunk, chunk + 1000, [](std::uint8_t byte) { return byte == 0; }));
  pool.give(std::move(again));
}

TEST_CASE("a buffer used again within the interval keeps its chunk", "[server][output]") {
  asio::io_context io;
  ChunkPool pool(io.get_executor());
  OutputBuffer out(pool);
  std::uint8_t* chunk = fill(out, 64, 1);
  out.idle();
  asio::steady_timer tick(io);
  int replies = 0;
  bool kept = true;
  std::function<void()> next = [&] {
    tick.expires_after(ChunkPool::kLinger / 3);
    tick.async_wait([&](const error_code&) {
      kept = kept && out.holds_chunk() && fill(out, 64, 2) == chunk;
      out.idle();
      if (++replies < 30)
        next();
    });
  };
  next();
  io.run_for(5s);
  CHECK(replies == 30);  // ten sweep intervals
  CHECK(kept);
  CHECK_FALSE(out.holds_chunk());  // released once the replies stopped
}

TEST_CASE("reclaim() releases lingering chunks at once, not busy ones", "[server][output]") {
  asio::io_context io;
  ChunkPool pool(io.get_executor());
  OutputBuffer idle(pool);
  OutputBuffer busy(pool);
  fill(idle, 10, 3);
  idle.idle();
  fill(busy, 10, 4);
  busy.idle();
  fill(busy, 10, 5);  // in use again
  pool.reclaim();
  CHECK_FALSE(idle.holds_chunk());
  CHECK(busy.holds_chunk());
  CHECK(pool.in_use() == 1);
  busy.release();
  io.run();
  CHECK(pool.in_use() == 0);
}

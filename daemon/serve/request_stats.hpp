// What the front-ends count per request, for the metrics (issue 15 §1).
//
// These counters sit on the random-byte path, so they cost what an integer
// increment costs: fixed arrays indexed by enum, fixed histogram buckets
// found by a short scan (most requests land in the first bucket or two), no
// allocation, no lock -- everything here is touched on the io thread only,
// and the metrics side reads it through a snapshot taken there.  They only
// ever grow while the daemon lives (a reload swaps limits, never these).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rngpool/protocol/frame.hpp"

namespace rngpool::server {

// ---------------------------------------------------------------------------
// Front-ends
//
// The label a request is counted under.  egd is the EGD front-end's
// (PROTOCOL.md's EGD section, when it is there); a connection is counted
// under the front-end its first byte chose.
// ---------------------------------------------------------------------------

enum class Frontend : std::uint8_t { binary, text, egd };
inline constexpr std::size_t kFrontends = 3;
constexpr std::string_view frontend_name(Frontend frontend) {
  constexpr std::array<std::string_view, kFrontends> names{"binary", "text", "egd"};
  return names[static_cast<std::size_t>(frontend)];
}

// Every protocol status (frame.hpp) has a slot, internal being the last.
inline constexpr std::size_t kStatuses = static_cast<std::size_t>(protocol::Status::internal) + 1;

// ---------------------------------------------------------------------------
// Fixed-bucket histograms
//
// Cumulative when rendered, per bucket when counted: an observation adds 1
// to one slot (the first bound it does not exceed, or the overflow slot)
// and its value to the sum.
// ---------------------------------------------------------------------------

template <std::size_t Bounds>
struct Histogram {
  std::array<std::uint64_t, Bounds + 1> buckets{};  // the last one: above every bound
  std::uint64_t sum = 0;                             // in the unit of the bounds

  void observe(const std::array<std::uint64_t, Bounds>& bounds, std::uint64_t value) {
    std::size_t i = 0;
    while (i < Bounds && value > bounds[i])
      ++i;
    ++buckets[i];
    sum += value;
  }
};

// Request sizes in bytes: a key, a page, the chunk size, --max-request's default.
inline constexpr std::array<std::uint64_t, 8> kSizeBounds{32, 256, 1024, 4096, 16384, 65536, 262144, 1048576};
// Latency in nanoseconds, 10 us to 1 s: issue 5's 2 ms p99 falls inside.
inline constexpr std::array<std::uint64_t, 10> kLatencyBounds{
    10'000, 50'000, 100'000, 250'000, 500'000, 1'000'000, 2'500'000, 10'000'000, 100'000'000, 1'000'000'000};

// ---------------------------------------------------------------------------
// Connection refusals, by why
// ---------------------------------------------------------------------------

enum class Refusal : std::uint8_t { max_connections, max_connections_per_uid, out_of_descriptors };
inline constexpr std::size_t kRefusals = 3;
constexpr std::string_view refusal_name(Refusal refusal) {
  constexpr std::array<std::string_view, kRefusals> names{"max_connections", "max_connections_per_uid",
                                                          "out_of_descriptors"};
  return names[static_cast<std::size_t>(refusal)];
}

struct RequestStats {
  // [front-end][status]: random-byte requests answered OK, and every request
  // answered with an error -- what STATUS's requests_served and
  // requests_refused count, split.
  std::array<std::array<std::uint64_t, kStatuses>, kFrontends> replies{};
  Histogram<kSizeBounds.size()> size;        // random-byte requests served, bytes
  Histogram<kLatencyBounds.size()> latency;  // the same, read to reply queued, ns
  std::array<std::uint64_t, kRefusals> refused{};

  void count_reply(Frontend frontend, protocol::Status status) {
    ++replies[static_cast<std::size_t>(frontend)][static_cast<std::size_t>(status)];
  }
  void count_served(std::uint64_t bytes, std::chrono::nanoseconds took) {
    size.observe(kSizeBounds, bytes);
    latency.observe(kLatencyBounds, took.count() > 0 ? static_cast<std::uint64_t>(took.count()) : 0);
  }
};

}  // namespace rngpool::server

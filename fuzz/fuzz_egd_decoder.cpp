// libFuzzer target: the daemon's EGD request decoder (PROTOCOL.md §13), the
// bytes QEMU's rng-egd -- or anything else that reaches the EGD socket --
// sends.
//
// Input: one byte choosing a split, then the stream.

#include "split_driver.hpp"

#include "serve/egd_decoder.hpp"

namespace {

using rngpool::fuzz::check;
using rngpool::server::EgdDecoder;
using rngpool::server::EgdError;
using rngpool::server::EgdRequest;
namespace egd = rngpool::server::egd;

std::size_t request_length(const EgdRequest& request)
{
  switch (request.kind) {
    case EgdRequest::Kind::entropy_level:
    case EgdRequest::Kind::pid:
      return 1;
    case EgdRequest::Kind::read_nonblocking:
    case EgdRequest::Kind::read_blocking:
      return 2;
    case EgdRequest::Kind::add_entropy:
      return 4 + request.bytes.size();
  }
  return 0;
}

// A request is exactly the bytes it was decoded from; an error is the one
// command byte it names, which is none of the five.
void check_result(const EgdDecoder::Result& result, std::span<const std::uint8_t> consumed)
{
  if (const auto* request = std::get_if<EgdRequest>(&result)) {
    check(consumed.size() == request_length(*request), "a request decoded from more or fewer bytes than it has");
    check(consumed[0] <= egd::kPid, "a request from a byte that is no command");
    if (request->kind == EgdRequest::Kind::add_entropy) {
      check(request->count == request->bytes.size(), "0x03's n differs from the bytes it carries");
      check(request->bits == (consumed[1] << 8 | consumed[2]), "0x03's bits are not big-endian");
      check(std::equal(request->bytes.begin(), request->bytes.end(), consumed.begin() + 4), "0x03's bytes changed");
    } else if (request->kind == EgdRequest::Kind::read_nonblocking || request->kind == EgdRequest::Kind::read_blocking) {
      check(request->count == consumed[1], "the count is not the byte after the command");
    }
    return;
  }
  const auto& error = std::get<EgdError>(result);
  check(!consumed.empty() && consumed.back() == error.command && error.command > egd::kPid,
        "an error for a byte that is a command");
}

bool is_final(const EgdDecoder::Result& result) { return std::holds_alternative<EgdError>(result); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  rngpool::fuzz::drive_all_splits<EgdDecoder>({data, size}, egd::kMaxRequest, check_result, is_final);
  return 0;
}

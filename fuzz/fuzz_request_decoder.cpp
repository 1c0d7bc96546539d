// libFuzzer target: the binary request decoder (PROTOCOL.md §8) and the
// client's reply header check (§7).
//
// Input: one byte choosing a split, then the byte stream a client sends.

#include "split_driver.hpp"

#include "rngpool/protocol/frame.hpp"

#include <algorithm>

namespace {

using namespace rngpool::protocol;
using rngpool::fuzz::check;

// A request the decoder accepted must be exactly the frame it consumed: the
// same bytes come back when it is encoded again.
void check_request(const Request& request, std::span<const std::uint8_t> frame)
{
  check(request.header.length <= kMaxRequestPayload, "accepted an oversized payload");
  check((request.header.flags & ~flags::known) == 0, "accepted unknown flags");
  check(request.header.status == Status::ok, "accepted a request with a status");
  const auto again = request.opcode == Opcode::get_random
                         ? encode_get_random(request.header.request_id, request.count, request.header.flags)
                         : encode_request(request.opcode, request.header.request_id, request.header.flags);
  check(std::equal(again.begin(), again.end(), frame.begin(), frame.end()),
        "a decoded request does not re-encode to its frame");
}

void check_error(const DecodeError& error, std::span<const std::uint8_t> consumed)
{
  check(!error.reason.empty(), "an error without a reason");
  check(consumed.size() <= kHeaderSize + kMaxRequestPayload, "an error after an unbounded read");
  if (error.status != Status::unknown_opcode) {
    check(is_fatal(error.status), "a header error that is not fatal");
    return;
  }
  const auto again = encode_request(static_cast<Opcode>(error.opcode), error.request_id,
                                    static_cast<std::uint16_t>(consumed[4] << 8 | consumed[5]),
                                    consumed.subspan(kHeaderSize));
  check(std::equal(again.begin(), again.end(), consumed.begin(), consumed.end()),
        "an unknown opcode did not skip exactly its frame");
}

void check_result(const RequestDecoder::Result& result, std::span<const std::uint8_t> consumed)
{
  if (const auto* request = std::get_if<Request>(&result))
    check_request(*request, consumed);
  else
    check_error(std::get<DecodeError>(result), consumed);
}

bool is_final(const RequestDecoder::Result& result)
{
  const auto* error = std::get_if<DecodeError>(&result);
  return error && is_fatal(error->status);
}

// A reply header the client accepts re-encodes to the same 16 bytes.
void check_reply_header(std::span<const std::uint8_t> stream)
{
  if (stream.size() < kHeaderSize)
    return;
  const std::span<const std::uint8_t, kHeaderSize> bytes{stream.data(), kHeaderSize};
  const auto result = decode_reply_header(bytes);
  if (const auto* error = std::get_if<DecodeError>(&result)) {
    check(!error->reason.empty(), "a reply error without a reason");
    return;
  }
  std::array<std::uint8_t, kHeaderSize> again{};
  encode_header(std::get<Header>(result), again);
  check(std::equal(again.begin(), again.end(), bytes.begin()), "an accepted reply header does not re-encode");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const std::span<const std::uint8_t> input{data, size};
  rngpool::fuzz::drive_all_splits<RequestDecoder>(input, kHeaderSize + kMaxRequestPayload,
                                                  check_result, is_final);
  check_reply_header(input.empty() ? input : input.subspan(1));
  return 0;
}

// The rngpool subcommands: each a few lines over librngpool.
#include "commands.hpp"

#include "output.hpp"
#include "watch.hpp"

#include "rngpool/protocol/encoding.hpp"

#include <chrono>
#include <cstdio>
#include <map>
#include <functional>
#include <vector>

#include <unistd.h>

namespace rngpool::cli {

namespace {

// ---------------------------------------------------------------------------
// bytes: streamed
//
// Binary on a terminal garbles it and can send it control sequences, so we
// refuse unless told.  The bytes go out a piece at a time: `rngpool bytes
// 10000000000 > file` needs one piece of memory, not ten gigabytes.
// ---------------------------------------------------------------------------

constexpr std::size_t kPiece = std::size_t{1} << 20;
constexpr std::uint64_t kProgressFrom = 4 * kPiece;

int bytes(const Client& client, const Invocation& in) {
  if (!in.count) throw UsageError("bytes needs a count N");
  if (::isatty(STDOUT_FILENO) && !in.force) {
    throw UsageError("refusing to write binary to a terminal; redirect it, use --force, or try `rngpool hex`");
  }
  const std::uint64_t total = *in.count;
  Progress progress(total, total >= kProgressFrom && ::isatty(STDERR_FILENO));
  std::vector<std::uint8_t> piece(static_cast<std::size_t>(std::min<std::uint64_t>(total, kPiece)));
  for (std::uint64_t done = 0; done < total;) {
    const auto span = std::span(piece).first(static_cast<std::size_t>(std::min<std::uint64_t>(total - done, kPiece)));
    client.fill(span);
    write_all(STDOUT_FILENO, span);
    done += span.size();
    progress.advance(done);
  }
  progress.finish();
  return kExitOk;
}

std::size_t count_or_default(const Invocation& in) {
  return in.count ? static_cast<std::size_t>(*in.count) : kDefaultTokenBytes;
}

int hex(const Client& client, const Invocation& in) {
  write_line(client.token_hex(count_or_default(in)));
  return kExitOk;
}

int base64(const Client& client, const Invocation& in) {
  write_line(protocol::to_base64(client.token_bytes(count_or_default(in))));
  return kExitOk;
}

int urlsafe(const Client& client, const Invocation& in) {
  write_line(client.token_urlsafe(count_or_default(in)));
  return kExitOk;
}

int integer(const Client& client, const Invocation& in) {
  write_line(std::to_string(client.randbelow(*in.count)));
  return kExitOk;
}

int password(const Client& client, const Invocation& in) {
  write_line(client.password(in.policy));
  return kExitOk;
}

int passphrase(const Client& client, const Invocation& in) {
  write_line(client.passphrase(in.words, in.wordlist, in.separator));
  return kExitOk;
}

int status(const Client& client, const Invocation&) {
  std::string text;
  for (const auto& [key, value] : client.status()) text += key + ": " + value + "\n";
  write_all(STDOUT_FILENO, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  return kExitOk;
}

// Exit 0 only when the daemon says OK, so `rngpool health && ...` means it.
int health(const Client& client, const Invocation&) {
  const Health verdict = client.health();
  static constexpr const char* names[] = {"OK", "DEGRADED", "FAILED"};
  std::string line = names[static_cast<int>(verdict.state)];
  if (!verdict.reason.empty()) line += " " + verdict.reason;
  write_line(line);
  return verdict.state == Health::State::ok ? kExitOk : kExitRefused;
}

int ping(const Client& client, const Invocation&) {
  const auto elapsed = client.ping();
  char line[256];
  std::snprintf(line, sizeof line, "pong from %s in %.3f ms", client.socket_path().c_str(),
                std::chrono::duration<double, std::milli>(elapsed).count());
  write_line(line);
  return kExitOk;
}

int watch_command(const Client& client, const Invocation&) { return watch(client); }

using Command = int (*)(const Client&, const Invocation&);

const std::map<std::string, Command, std::less<>> kCommands{
    {"bytes", bytes},       {"hex", hex},           {"base64", base64}, {"urlsafe", urlsafe},
    {"int", integer},       {"password", password}, {"passphrase", passphrase},
    {"status", status},     {"health", health},     {"ping", ping},
    {"watch", watch_command}};

}  // namespace

int run_command(const Invocation& in) {
  ClientOptions options;
  options.socket_path = in.socket;
  options.flags.require_hwrng = in.require_hwrng;
  // Small outputs come from the local generator (one 32-byte reseed, then
  // local); a stream of more than a reseed's worth is read from the daemon
  // in 1 MiB pieces, as many requests as reseeds would take, without the copy.
  options.local_generator = !(in.command == "bytes" && in.count && *in.count > options.reseed_bytes);
  const Client client(std::move(options));
  return kCommands.at(in.command)(client, in);
}

}  // namespace rngpool::cli

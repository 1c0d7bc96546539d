// DaemonLink: one client's connection to rngpoold, shared by its threads.
//
// Every live DaemonLink is on a process-wide list that fork() locks (see
// daemon_link_fork.cpp), so no child inherits its mutex held mid-request.
// Requests without prediction resistance are served by the calling thread's
// local generator (local_generator.hpp) unless the client switched it off;
// the link fetches its keys.
#pragma once

#include "local_generator.hpp"
#include "socket.hpp"
#include "state.hpp"

#include "rngpool/protocol/frame.hpp"

#include <array>
#include <mutex>
#include <sys/types.h>

namespace rngpool::detail {

class DaemonLink final : public Client::State {
 public:
  explicit DaemonLink(ClientOptions options);
  ~DaemonLink() override;
  DaemonLink(const DaemonLink&) = delete;
  DaemonLink& operator=(const DaemonLink&) = delete;

  const std::string& socket_path() const noexcept override { return options_.socket_path; }
  void fill(std::span<std::uint8_t> out, RequestFlags flags) override;
  // Straight from the daemon, bypassing the local generator.  Out of line,
  // so that fill()'s path to the local generator saves no registers for it.
  [[gnu::noinline]] void fill_from_daemon(std::span<std::uint8_t> out, std::uint16_t wire_flags);
  bool local_generator() const noexcept { return local_; }
  // Keys asked for ahead (local_generator.hpp › KeySource): GET_RANDOMs of
  // one key whose replies stay unread until a reseed takes them.  Tops the
  // keys on their way with `wire_flags` up to `keys`, asked for at `now`.
  void request_keys_ahead(std::size_t keys, std::uint16_t wire_flags, std::int64_t now);
  // The oldest key on its way, when it was asked for with `wire_flags` at
  // most kAheadLifetime before `now` and arrives whole and accepted; replies
  // to older or other keys in front of it are read and wiped.  False when
  // there is none (another exchange came first, a reconnect, a fork).
  bool take_key_ahead(std::uint16_t wire_flags, std::int64_t now, std::span<std::uint8_t, core::kKeySize> key);
  StatusReport status() override;
  Health health() override;
  std::chrono::nanoseconds ping() override;

 private:
  std::size_t fill_piece(std::span<std::uint8_t> out, std::uint16_t flags);
  protocol::Header exchange(protocol::Opcode opcode, std::uint16_t flags,
                            std::span<const std::uint8_t> payload);
  protocol::Header send_and_read_header(std::span<const std::uint8_t> frame, protocol::Opcode opcode,
                                        std::uint32_t id);
  protocol::Header read_reply_header(protocol::Opcode opcode, std::uint32_t id);
  bool read_key_reply(std::uint32_t id, std::span<std::uint8_t, core::kKeySize> key);
  void forget_keys_ahead_not_ours() noexcept;
  void discard_keys_ahead() noexcept;
  void drop_oldest_key_ahead() noexcept;
  void read_payload(std::span<std::uint8_t> out);
  std::string read_text(std::uint32_t length);
  [[noreturn]] void refuse(const protocol::Header& header);
  void ensure_connected();

  // fork() safety (daemon_link_fork.cpp)
  void enlist();
  void delist() noexcept;
  std::unique_lock<std::mutex> lock_for_exchange();  // mutex_, after any fork under way
  static int install_fork_handlers() noexcept;
  static const int fork_handlers_;
  static void before_fork() noexcept;
  static void after_fork_in_parent() noexcept;
  static void after_fork_in_child() noexcept;

  const ClientOptions options_;
  const bool local_;            // options_.local_generator and not switched off by the environment
  const core::Cipher cipher_;   // options_.local_cipher
  const ReseedPolicy policy_;   // from options_
  const std::uint64_t serial_;  // unique among this process's links, never 0
  std::mutex mutex_;  // one request/reply exchange at a time on socket_
  Socket socket_;
  pid_t owner_ = 0;   // the process that opened socket_; 0 after a fork: not this one
  bool used_ = false;  // socket_ has carried a complete exchange
  std::uint32_t next_id_ = 1;
  // Keys asked for ahead, their replies unread on socket_, oldest first
  // (daemon_link.cpp › "Keys asked for ahead").
  struct KeyAhead {
    std::uint32_t request;
    std::uint16_t wire_flags;
    std::int64_t asked_at;  // on the policy's clock
  };
  static constexpr std::size_t kMaxKeysAhead = 4;
  std::array<KeyAhead, kMaxKeysAhead> ahead_{};
  std::size_t ahead_count_ = 0;
  std::size_t max_piece_;  // largest GET_RANDOM the daemon accepted so far
  DaemonLink* earlier_ = nullptr;  // neighbours on the list of live links
  DaemonLink* later_ = nullptr;
};

std::string resolve_socket_path(std::string path);

}  // namespace rngpool::detail

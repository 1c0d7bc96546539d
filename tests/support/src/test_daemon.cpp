#include "rngpool/test/test_daemon.hpp"

#include "rngpool/test/binaries.hpp"
#include "rngpool/test/child_process.hpp"
#include "rngpool/test/test_connection.hpp"

#include <signal.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace rngpool::test {

namespace {

std::string hwrng_option(const DaemonConfig& config, const std::filesystem::path& dir,
                         std::unique_ptr<FifoFeeder>& feeder) {
  switch (config.hwrng) {
    case HwrngFeed::none:
      return "none";
    case HwrngFeed::healthy:
      feeder = std::make_unique<FifoFeeder>(dir / "hwrng", FifoFeeder::random_bytes());
      return feeder->path().native();
    case HwrngFeed::path:
      if (config.hwrng_path.empty()) throw std::invalid_argument("HwrngFeed::path needs hwrng_path");
      return config.hwrng_path;
  }
  return "none";
}

bool names_config(const std::vector<std::string>& args) {
  for (const auto& arg : args)
    if (arg == "--config" || arg.starts_with("--config=")) return true;
  return false;
}

std::vector<std::string> daemon_argv(const DaemonConfig& config, const std::string& socket_path,
                                     const std::string& hwrng) {
  std::string daemon = rngpoold_path();
  if (daemon.empty()) throw std::runtime_error("this build has no rngpoold target");
  std::vector<std::string> argv = config.wrapper;
  if (config.socket_activated) {
    argv.insert(argv.end(), {"systemd-socket-activate", "--listen=" + socket_path});
    if (!config.egd_socket_path.empty())
      argv.insert(argv.end(), {"--listen=" + config.egd_socket_path, "--fdname=rngpool:egd"});
    argv.insert(argv.end(), config.activation_args.begin(), config.activation_args.end());
    // systemd-socket-activate hands the program a fresh environment.
    for (const auto& entry : config.env) argv.push_back("--setenv=" + entry);
    argv.push_back(daemon);
  } else {
    argv.insert(argv.end(), {daemon, "--socket", socket_path});
    if (!config.egd_socket_path.empty())
      argv.insert(argv.end(), {"--egd-socket", config.egd_socket_path});
  }
  argv.insert(argv.end(), {"--hwrng", hwrng});
  // Tests never read the host's /etc/rngpool/rngpoold.conf: an empty config
  // stands in for it unless the test names its own.
  if (!names_config(config.args)) argv.insert(argv.end(), {"--config", "/dev/null"});
  argv.insert(argv.end(), config.args.begin(), config.args.end());
  return argv;
}

}  // namespace

TestDaemon::TestDaemon(DaemonConfig config)
    : dir_("rngpoold"),
      socket_path_(config.socket_path.empty() ? (dir_.path() / "rngpool.sock").native() : config.socket_path),
      log_path_(dir_.path() / "rngpoold.log") {
  std::string hwrng = hwrng_option(config, dir_.path(), feeder_);
  auto argv = daemon_argv(config, socket_path_, hwrng);

  process_ = ChildProcess::logged(argv, child_environment(config.env), log_path_.native());
  if (config.wait_ready) wait_ready();
}

TestDaemon::~TestDaemon() {
  // A daemon that does not shut down cleanly (a crash, a sanitizer report)
  // leaves its log on stderr, which ctest shows with the failing test.
  int code = stop();
  if (code != 0) std::cerr << "rngpoold exited with status " << code << "; its log:\n" << log();
}

pid_t TestDaemon::pid() const { return process_->pid(); }

int TestDaemon::stop() { return process_->terminate(SIGTERM, std::chrono::seconds{5}); }

std::optional<int> TestDaemon::wait_exit(std::chrono::milliseconds timeout) { return process_->wait_exit(timeout); }

bool TestDaemon::running() { return !process_->wait_exit(std::chrono::milliseconds{0}); }

std::string TestDaemon::log() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void TestDaemon::wait_ready(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last_error = "no attempt";
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto code = process_->wait_exit(std::chrono::milliseconds{0}))
      throw std::runtime_error("rngpoold exited with status " + std::to_string(*code) +
                               " before answering PING; its log:\n" + log());
    try {
      TestConnection connection(socket_path_, std::chrono::seconds{1});
      auto reply = connection.request(protocol::encode_request(protocol::Opcode::ping, 1));
      if (reply.header.status == protocol::Status::ok) return;
      last_error = "PING answered with " + std::string(protocol::status_name(reply.header.status));
    } catch (const std::exception& e) {
      last_error = e.what();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  throw std::runtime_error("rngpoold did not answer PING within " + std::to_string(timeout.count()) +
                           " ms (" + last_error + "); its log:\n" + log());
}

}  // namespace rngpool::test

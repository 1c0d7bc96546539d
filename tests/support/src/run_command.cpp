#include "rngpool/test/run_command.hpp"

#include "rngpool/test/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <system_error>

namespace rngpool::test {

namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (pipe2(fd, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  ~Pipe() {
    close_end(0);
    close_end(1);
  }
  void close_end(int end) {
    if (fd[end] >= 0) close(fd[end]);
    fd[end] = -1;
  }
};

}  // namespace

CommandResult run_command(const std::string& shell_command, std::string_view stdin_data) {
  Pipe in, out, err;
  ChildProcess child({"/bin/sh", "-c", shell_command}, child_environment(),
                     {{in.fd[0], 0}, {out.fd[1], 1}, {err.fd[1], 2}});
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);
  fcntl(in.fd[1], F_SETFL, O_NONBLOCK);
  if (stdin_data.empty()) in.close_end(1);

  CommandResult result{-1, {}, {}};
  std::size_t written = 0;
  char buffer[65536];
  while (out.fd[0] >= 0 || err.fd[0] >= 0) {
    pollfd fds[3] = {{in.fd[1], POLLOUT, 0}, {out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "poll");
    }
    if (fds[0].revents != 0) {
      // MSG_NOSIGNAL does not exist for pipes: a child that exits without
      // reading its stdin must not kill the test with SIGPIPE.
      sigset_t pipe_signal, old;
      sigemptyset(&pipe_signal);
      sigaddset(&pipe_signal, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe_signal, &old);
      ssize_t n = write(in.fd[1], stdin_data.data() + written, stdin_data.size() - written);
      if (n < 0 && errno == EPIPE) {
        struct timespec zero {};
        sigtimedwait(&pipe_signal, nullptr, &zero);
      }
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      if (n > 0) written += static_cast<std::size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == stdin_data.size()) in.close_end(1);
    }
    for (int i : {1, 2}) {
      if (fds[i].revents == 0) continue;
      Pipe& pipe = i == 1 ? out : err;
      std::string& text = i == 1 ? result.out : result.err;
      ssize_t n = read(pipe.fd[0], buffer, sizeof buffer);
      if (n > 0)
        text.append(buffer, static_cast<std::size_t>(n));
      else if (n == 0 || (errno != EINTR && errno != EAGAIN))
        pipe.close_end(0);
    }
  }
  in.close_end(1);
  result.exit_code = child.wait_exit(std::chrono::hours{1}).value_or(-1);
  return result;
}

std::string shell_quote(std::string_view argument) {
  std::string quoted = "'";
  for (char c : argument) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted += c;
  }
  return quoted + "'";
}

}  // namespace rngpool::test

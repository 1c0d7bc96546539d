/* LD_PRELOAD into rngpoold for test_reply_writes.cpp: logs every send(2) as
 * "<length asked> <result>" lines to $RNGPOOL_TEST_SEND_LOG.
 *
 * Why a preload: how a reply is cut into writes is what a closed-loop client
 * waits on (daemon/serve/connection.cpp, "Starting the write before a long
 * generate"), and no byte a client reads tells where one write ended.  Only
 * the daemon's io thread calls send(), so the lines are in order. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

typedef ssize_t (*send_fn)(int, const void*, size_t, int);

static void log_send(size_t length, ssize_t result) {
  static int log_fd = -2;
  if (log_fd == -2) {
    const char* path = getenv("RNGPOOL_TEST_SEND_LOG");
    log_fd = path ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;
  }
  if (log_fd < 0)
    return;
  char line[64];
  int n = snprintf(line, sizeof line, "%zu %zd\n", length, result);
  if (n > 0 && write(log_fd, line, (size_t)n) < 0)
    return;
}

ssize_t send(int fd, const void* buffer, size_t length, int flags) {
  static send_fn real_send;
  if (!real_send)
    real_send = (send_fn)dlsym(RTLD_NEXT, "send");
  ssize_t result = real_send(fd, buffer, length, flags);
  int saved = errno; /* the daemon reads errno after a failed send */
  log_send(length, result);
  errno = saved;
  return result;
}

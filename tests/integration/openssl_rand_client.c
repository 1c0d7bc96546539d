/* An ordinary OpenSSL program, compiled by test_openssl_provider.cpp: it
 * knows nothing of rngpool; OPENSSL_CONF alone routes its RAND_* calls.
 *
 *   openssl_rand_client draw          RAND_status, RAND_bytes, RAND_priv_bytes
 *   openssl_rand_client fork          then fork(): parent and child draw at once
 *   openssl_rand_client recover DIR   draw; wait for DIR/stopped, draw (must
 *                                     fail); wait for DIR/restarted, draw
 * Each draw prints one line: "<who> <hex>" or "<who> FAILED <error>".
 */
#define _POSIX_C_SOURCE 200809L

#include <openssl/err.h>
#include <openssl/rand.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int draw(const char* who, int private_bytes) {
  unsigned char bytes[32];
  char line[256];
  int ok = private_bytes ? RAND_priv_bytes(bytes, sizeof bytes) : RAND_bytes(bytes, sizeof bytes);
  int n = snprintf(line, sizeof line, "%s ", who);
  if (ok == 1) {
    for (size_t i = 0; i < sizeof bytes; ++i) n += snprintf(line + n, sizeof line - (size_t)n, "%02x", bytes[i]);
  } else {
    char error[160];
    ERR_error_string_n(ERR_get_error(), error, sizeof error);
    ERR_clear_error();
    n += snprintf(line + n, sizeof line - (size_t)n, "FAILED %s", error);
  }
  line[n++] = '\n';
  /* One write(2) per line, so parent and child lines never interleave. */
  return write(STDOUT_FILENO, line, (size_t)n) == n && ok == 1 ? 0 : 1;
}

static void wait_for(const char* dir, const char* name) {
  char path[512];
  struct stat st;
  const struct timespec pause = {0, 10 * 1000 * 1000};
  snprintf(path, sizeof path, "%s/%s", dir, name);
  for (int i = 0; i < 3000 && stat(path, &st) != 0; ++i) nanosleep(&pause, NULL);
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  if (RAND_status() != 1) {
    puts("RAND_status FAILED");
    return 1;
  }
  if (strcmp(argv[1], "recover") == 0 && argc == 3) {
    int failures = draw("before", 0);
    wait_for(argv[2], "stopped");
    failures += draw("stopped", 0);
    wait_for(argv[2], "restarted");
    failures += draw("after", 0);
    return failures == 1 ? 0 : 1; /* exactly the draw while stopped fails */
  }
  if (draw("public", 0) != 0 || draw("private", 1) != 0) return 1;
  if (strcmp(argv[1], "fork") != 0) return 0;
  int ready[2];
  if (pipe(ready) != 0) return 1;
  const pid_t child = fork();
  if (child < 0) return 1;
  /* Both block on the pipe until the parent closes it: they draw at once. */
  char byte;
  if (child == 0) {
    close(ready[1]);
    (void)read(ready[0], &byte, 1);
    _exit(draw("child", 0));
  }
  close(ready[0]);
  close(ready[1]);
  int failures = draw("parent", 0);
  int status = 0;
  waitpid(child, &status, 0);
  return failures == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

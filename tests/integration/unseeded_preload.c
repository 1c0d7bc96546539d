/* LD_PRELOAD into rngpoold for test_egd.cpp: a kernel RNG that never becomes
 * ready, so the daemon stays before its first seed (as early in a boot).
 *
 * Why a preload: the daemon seeds from getrandom(2) as soon as the kernel's
 * RNG is initialised (daemon/entropy/kernel_rng.cpp), which on a running
 * machine it always is, and the wait before the first seed (PROTOCOL.md
 * §5.1, §13.3: an EGD 0x02 closed as egd_closed_not_ready) cannot be reached
 * otherwise.  getrandom(GRND_NONBLOCK) fails with EAGAIN, as the kernel's
 * does before it is ready; a blocking getrandom() -- the daemon's waiting
 * thread -- never returns. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/random.h>
#include <sys/types.h>
#include <unistd.h>

ssize_t getrandom(void* buffer, size_t length, unsigned int flags) {
  (void)buffer;
  (void)length;
  if (flags & GRND_NONBLOCK) {
    errno = EAGAIN;
    return -1;
  }
  for (;;)
    pause();
}

/* futex.c — futex_waitv and FUTEX_WAKE on shared words. */
#include "common/futex.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

int nsem__futex_waitv(_Atomic uint32_t *const *words, const uint32_t *expected, unsigned n,
                      const struct timespec *deadline)
{
    struct futex_waitv w[NSEM_FUTEX_MAX_WAITS];
    memset(w, 0, sizeof w);
    for (unsigned i = 0; i < n; i++) {
        w[i].val = expected[i];
        w[i].uaddr = (uintptr_t)words[i];
        w[i].flags = FUTEX_32; /* shared: no FUTEX_PRIVATE_FLAG */
    }
    long r = syscall(SYS_futex_waitv, w, n, 0, deadline, CLOCK_MONOTONIC);
    if (r >= 0) return 0;
    return -errno;
}

void nsem__futex_wake_all(_Atomic uint32_t *word)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

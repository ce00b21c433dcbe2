/*
 * futex.c — futex_waitv and FUTEX_WAKE on shared words.
 *
 * One word: FUTEX_WAIT_BITSET, which takes an absolute CLOCK_MONOTONIC deadline. Several words:
 * futex_waitv (Linux 5.16). Where futex_waitv is missing (older kernels, valgrind), a wait on
 * several words sleeps on the first one for at most a millisecond at a time and lets the caller
 * look again: slower to notice the others, never wrong, since the caller re-checks every object.
 */
#include "common/futex.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

static atomic_bool no_waitv; /* relaxed: a cached answer of the kernel, set once */

static int wait_one(_Atomic uint32_t *word, uint32_t expected, const struct timespec *deadline)
{
    /* shared (no FUTEX_PRIVATE_FLAG); BITSET takes an absolute deadline on CLOCK_MONOTONIC */
    long r = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_BITSET, expected, deadline, NULL,
                     FUTEX_BITSET_MATCH_ANY);
    return r == 0 ? 0 : -errno;
}

int nsem__futex_waitv(_Atomic uint32_t *const *words, const uint32_t *expected, unsigned n,
                      const struct timespec *deadline)
{
    if (n == 1) return wait_one(words[0], expected[0], deadline);
    if (!atomic_load_explicit(&no_waitv, memory_order_relaxed)) {
        struct futex_waitv w[NSEM_FUTEX_MAX_WAITS];
        memset(w, 0, sizeof w);
        for (unsigned i = 0; i < n; i++) {
            w[i].val = expected[i];
            w[i].uaddr = (uintptr_t)words[i];
            w[i].flags = FUTEX_32; /* shared: no FUTEX_PRIVATE_FLAG */
        }
        long r = syscall(SYS_futex_waitv, w, n, 0, deadline, CLOCK_MONOTONIC);
        if (r >= 0) return 0;
        if (errno != ENOSYS) return -errno;
        atomic_store_explicit(&no_waitv, true, memory_order_relaxed);
    }
    struct timespec soon;
    clock_gettime(CLOCK_MONOTONIC, &soon);
    soon.tv_nsec += 1000000L;
    if (soon.tv_nsec >= 1000000000L) {
        soon.tv_sec++;
        soon.tv_nsec -= 1000000000L;
    }
    bool capped = !deadline || soon.tv_sec < deadline->tv_sec ||
                  (soon.tv_sec == deadline->tv_sec && soon.tv_nsec < deadline->tv_nsec);
    int e = wait_one(words[0], expected[0], capped ? &soon : deadline);
    return (e == -ETIMEDOUT && capped) ? 0 : e; /* our own millisecond is not the caller's timeout */
}

void nsem__futex_wake_all(_Atomic uint32_t *word)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

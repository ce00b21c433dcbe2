/*
 * futex.h — the futex calls nsem blocks and wakes with. All futexes are shared (not
 * FUTEX_PRIVATE): the words live in the arena that several processes map.
 */
#ifndef NSEM_COMMON_FUTEX_H
#define NSEM_COMMON_FUTEX_H

#include <stdint.h>
#include <time.h>

#define NSEM_FUTEX_MAX_WAITS 65 /* 64 objects and the server's liveness word */

/* Sleeps until one of words[i] is woken, or differs from expected[i], or the absolute
 * CLOCK_MONOTONIC deadline passes (NULL: no deadline). Returns 0 when woken, else -errno:
 * -EAGAIN (a word differed), -ETIMEDOUT, -EINTR. */
int nsem__futex_waitv(_Atomic uint32_t *const *words, const uint32_t *expected, unsigned n,
                      const struct timespec *deadline);
/* Wakes every sleeper on word. */
void nsem__futex_wake_all(_Atomic uint32_t *word);

#endif

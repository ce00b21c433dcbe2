/*
 * spin.h — how long a process polls for the other end of a request before it sleeps.
 *
 * A request to nsemd is two hand-overs between processes. When the receiving one sleeps, each
 * hand-over is a wake-up: on a VM that is an interrupt through the hypervisor, and it costs more
 * than the request itself (bench/RESULTS.md, "Polling"). So the server keeps polling its sockets
 * for a short window after its last event, and a client polls for its reply before it sleeps on
 * it: a request that comes while the other end still polls costs no wake-up at all. Both windows
 * are bounded and short, and zero where this process may run on one CPU only (the poller would
 * keep the CPU from the very process it waits for).
 *
 * Polling pays only while CPUs are free. On busy ones a poller is preempted, and being runnable
 * rather than asleep, it gets the CPU back only at its next turn, where a sleeper would have been
 * run as soon as it was woken. So a poll that finds it was preempted (a gap between two of its
 * turns far longer than a turn) stops, and nothing polls again for NSEM_SPIN_BACKOFF_NS.
 */
#ifndef NSEM_COMMON_SPIN_H
#define NSEM_COMMON_SPIN_H

#include <stdbool.h>
#include <stdint.h>

#define NSEM_SPIN_DEFAULT_US 50u
#define NSEM_SPIN_MAX_US 10000u

#define NSEM_SPIN_PREEMPTED_NS 200000u /* a turn is a system call, ~1 us; interrupts take <100 us */
#define NSEM_SPIN_BACKOFF_NS 100000000u /* 100 ms without polling after a preempted poll */

uint64_t nsem__now_ns(void); /* CLOCK_MONOTONIC */

/* One poller's state: its window, and when it may poll again after a preempted poll. */
struct nsem_spin {
    uint64_t window_ns;
    uint64_t quiet_until;
};

/* Whether a poll that began at `start` goes on, at a turn that began at *turn (both
 * nsem__now_ns()); moves *turn to now. False once the window has passed, or when the turn shows
 * that the poller was preempted (the backoff then starts). */
bool nsem__spin_again(struct nsem_spin *s, uint64_t start, uint64_t *turn);
/* Whether a poll may start now (polling is on, and not backing off). */
bool nsem__spin_may_poll(const struct nsem_spin *s, uint64_t now);

/* The polling window in ns: `text` microseconds (0: never poll; NULL: the default), or 0 when this
 * process may use a single CPU. Returns UINT64_MAX when text is not a number up to
 * NSEM_SPIN_MAX_US. */
uint64_t nsem__spin_window_ns(const char *text);

#endif

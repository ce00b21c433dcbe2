/*
 * spin.c — the polling window of spin.h.
 */
#include "common/spin.h"

#include <sched.h>
#include <stdlib.h>
#include <time.h>

uint64_t nsem__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t nsem__spin_window_ns(const char *text)
{
    unsigned long us = NSEM_SPIN_DEFAULT_US;
    if (text) {
        char *end;
        us = strtoul(text, &end, 10);
        if (!*text || *end || *text == '-' || us > NSEM_SPIN_MAX_US) return UINT64_MAX;
    }
    cpu_set_t cpus;
    if (sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) < 2) return 0;
    return (uint64_t)us * 1000u;
}

bool nsem__spin_may_poll(const struct nsem_spin *s, uint64_t now)
{
    return s->window_ns && now >= s->quiet_until;
}

bool nsem__spin_again(struct nsem_spin *s, uint64_t start, uint64_t *turn)
{
    uint64_t now = nsem__now_ns();
    if (now - *turn > NSEM_SPIN_PREEMPTED_NS) {
        s->quiet_until = now + NSEM_SPIN_BACKOFF_NS;
        return false;
    }
    *turn = now;
    return now - start < s->window_ns;
}

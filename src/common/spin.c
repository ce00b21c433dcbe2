/*
 * spin.c — the polling window of spin.h.
 */
#include "common/spin.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

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

/* Threads runnable now, the system over (the 4th field of /proc/loadavg, "running/total"); 0 if
 * unknown. */
static unsigned runnable(void)
{
    char buf[128];
    int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = '\0';
    unsigned running = 0;
    return sscanf(buf, "%*s %*s %*s %u/", &running) == 1 ? running : 0;
}

bool nsem__spin_may_poll(struct nsem_spin *s, uint64_t now)
{
    if (!s->window_ns || now < s->quiet_until) return false;
    if (now >= s->next_look) {
        if (!s->cpus) {
            cpu_set_t set;
            s->cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? (unsigned)CPU_COUNT(&set) : 2;
        }
        s->next_look = now + NSEM_SPIN_BACKOFF_NS;
        if (runnable() > s->cpus) { /* the caller is one of them */
            s->quiet_until = s->next_look;
            return false;
        }
    }
    return true;
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

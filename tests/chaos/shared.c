/*
 * shared.c — the memory the chaos processes share (chaos.h), and the few facts everyone derives
 * from it: which names are of which kind, and whether a worker is dead.
 *
 * One memfd, mapped by the supervisor before any worker exists; forked workers inherit the mapping,
 * exec'd ones map the descriptor they inherit. A worker slot's `life` is written by the supervisor
 * only: ALIVE with a new incarnation just before the worker starts, DEAD once waitpid has reaped it
 * (and after its intents were turned into the names' dead intents, so that "dead" implies that).
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "chaos.h"

struct chaos_shared *chaos_shared_create(int *fd_out)
{
    int fd = memfd_create("nsem-chaos", 0); /* inherited by exec'd workers: no close-on-exec */
    if (fd < 0 || ftruncate(fd, sizeof(struct chaos_shared)) != 0) return NULL;
    struct chaos_shared *sh = chaos_shared_attach(fd);
    if (sh) *fd_out = fd;
    return sh;
}

struct chaos_shared *chaos_shared_attach(int fd)
{
    void *p = mmap(NULL, sizeof(struct chaos_shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

bool chaos_is_reaped(struct chaos_shared *sh, uint32_t slot, uint32_t incarnation)
{
    if (slot == CHAOS_SUPERVISOR_SLOT) return false;
    /* seq_cst: pairs with the supervisor's DEAD store, made after the dead worker's intents were
     * counted (chaos_owner_worker_dead) */
    uint64_t life = atomic_load(&sh->w[slot].life);
    return (uint32_t)life != incarnation || (life >> 32) == LIFE_DEAD;
}

bool chaos_process_gone(uint32_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%u/stat", pid);
    FILE *f = fopen(path, "re");
    if (!f) return true; /* reaped (the supervisor will say so at once) */
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *end = strrchr(buf, ')'); /* "pid (comm) state ...": comm may hold anything */
    return end && (end[2] == 'Z' || end[2] == 'X');
}

bool chaos_is_dead(struct chaos_shared *sh, uint32_t slot, uint32_t incarnation)
{
    if (slot == CHAOS_SUPERVISOR_SLOT) return false;
    if (chaos_is_reaped(sh, slot, incarnation)) return true;
    /* Not reaped yet: ask its process. A pid read after the slot was reaped and reused is a later
     * worker's; if that one has ended, ours has too. */
    uint32_t pid = atomic_load_explicit(&sh->w[slot].pid, memory_order_relaxed); /* relaxed: a pid, checked */
    return pid && chaos_process_gone(pid);
}

enum chaos_kind chaos_kind_of(uint32_t name)
{
    return (enum chaos_kind)(name % KIND_COUNT);
}

/* Undo semaphores must outlive every worker to be checked at the end; half of the mutexes and
 * exclusive semaphores too, so that their last abandonment is checked at the end as well. The other
 * names come and go with their handles. */
bool chaos_name_is_pinned(uint32_t name)
{
    enum chaos_kind k = chaos_kind_of(name);
    return k == KIND_UNDO || ((k == KIND_MUTEX || k == KIND_EXCLUSIVE) && (name / KIND_COUNT) % 2 == 0);
}

bool chaos_event_is_manual(uint32_t name)
{
    return (name / KIND_COUNT) % 2 == 1;
}

void chaos_name(uint32_t name, char *buf, size_t size)
{
    static const char *const kinds[KIND_COUNT] = {"sem", "excl", "undo", "mutex", "event"};
    snprintf(buf, size, "chaos-%s-%02u", kinds[chaos_kind_of(name)], name);
}

uint64_t chaos_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* /proc/<pid>/schedstat: "time on cpu (ns)  time waiting on a run queue (ns)  timeslices" */
uint64_t chaos_run_delay_ns(int fd)
{
    char buf[128];
    if (fd < 0) return 0;
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    buf[n] = 0;
    unsigned long long on_cpu = 0, waiting = 0;
    if (sscanf(buf, "%llu %llu", &on_cpu, &waiting) != 2) return 0;
    return waiting;
}

void chaos_count(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed); /* relaxed: a tally, see chaos.h */
}

void chaos_count_max(_Atomic uint64_t *counter, uint64_t value)
{
    uint64_t old = atomic_load_explicit(counter, memory_order_relaxed); /* relaxed: a tally */
    while (value > old &&
           !atomic_compare_exchange_weak_explicit(counter, &old, value, memory_order_relaxed, memory_order_relaxed)) {
    }
}

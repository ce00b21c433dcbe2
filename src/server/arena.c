/*
 * arena.c — the shared memory of object state: one sparse memfd of NSEM_ARENA_SLOTS slots, mapped
 * by the server and by every client. Slot 0 is never used, so 0 can mean "no slot".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "server/server.h"

static int arena_fd = -1;
static struct nsem_slot *arena;
static uint32_t high_water = 1; /* slots [1, high_water) have been handed out at least once */
/* Freed slots wait in a FIFO before reuse: a thread of some client may still be between reading a
 * handle and touching the slot when another thread closes that handle (a misuse the library does
 * not pay to exclude on its fast path); it then touches a dead slot, not someone's new object. */
#define QUARANTINE 4096u
static uint32_t *free_ring; /* freed slot indexes, oldest at free_head */
static uint32_t free_head, free_len, free_cap;
static uint32_t in_use;

int nsem__arena_init(void)
{
    arena_fd = memfd_create("nsem-arena", MFD_CLOEXEC);
    if (arena_fd < 0) return -errno;
    if (ftruncate(arena_fd, (off_t)NSEM_ARENA_BYTES) != 0) return -errno;
    void *p = mmap(NULL, NSEM_ARENA_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, arena_fd, 0);
    if (p == MAP_FAILED) return -errno;
    arena = p;
    return 0;
}

int nsem__arena_fd(void)
{
    return arena_fd;
}

struct nsem_slot *nsem__arena_slot(uint32_t index)
{
    return &arena[index];
}

uint32_t nsem__arena_alloc(void)
{
    uint32_t index;
    if (free_len > QUARANTINE || (free_len > 0 && high_water >= NSEM_ARENA_SLOTS)) {
        index = free_ring[free_head];
        free_head = (free_head + 1) % free_cap;
        free_len--;
    } else {
        if (high_water >= NSEM_ARENA_SLOTS) return 0;
        index = high_water++;
    }
    struct nsem_slot *s = &arena[index];
    atomic_store(&s->state, 0);
    atomic_store(&s->waiting, 0); /* seq_cst, as every access to waiting */
    atomic_store_explicit(&s->recursion, 0, memory_order_relaxed);
    atomic_store_explicit(&s->owner_pid, 0, memory_order_relaxed);
    atomic_store_explicit(&s->owner_tid, 0, memory_order_relaxed);
    atomic_store_explicit(&s->last_owner_pid, 0, memory_order_relaxed);
    atomic_store_explicit(&s->aux, 0, memory_order_relaxed);
    /* seq keeps counting across reuse, so that a sleeper left from a misused stale handle is woken
     * rather than confused by a repeated value. */
    in_use++;
    return index;
}

void nsem__arena_free(uint32_t index)
{
    struct nsem_slot *s = &arena[index];
    atomic_store_explicit(&s->type, 0, memory_order_relaxed);
    in_use--;
    if (free_len == free_cap) {
        uint32_t cap = free_cap ? free_cap * 2 : 8192;
        uint32_t *n = malloc(cap * sizeof *n);
        if (!n) return; /* the slot is lost until restart; never reused while still referenced */
        for (uint32_t i = 0; i < free_len; i++) n[i] = free_ring[(free_head + i) % free_cap];
        free(free_ring);
        free_ring = n;
        free_head = 0;
        free_cap = cap;
    }
    free_ring[(free_head + free_len) % free_cap] = index;
    free_len++;
}

uint32_t nsem__arena_in_use(void)
{
    return in_use;
}

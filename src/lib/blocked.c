/*
 * blocked.c — which objects the threads of this process are blocked on, for CloseHandle.
 *
 * A blocked wait keeps its objects alive when another thread closes their last handle (the close
 * then pins them: handles.c). Counting the wait on each object would cost two atomic RMWs per
 * object, one of them after the wake-up, on the path whose latency a wait-any over 64 objects
 * measures (bench/RESULTS.md). Instead each thread lists the objects of its wait in a record of
 * its own, with plain stores, and a close of a last handle — rare while a wait blocks on the same
 * object — looks through the records.
 *
 * The records form a list that only grows; a thread takes a free one at its first blocking wait
 * and frees it when it exits, so there are as many as threads that block at once.
 *
 * Ordering (every access to `count`, `pins`, `looked` and a record's `n` is seq_cst):
 *   - a wait reads `looked`, stores its slots, then n, then increments count; a close exchanges
 *     `pinned`, then reads count and, if a wait is blocked, increments pins, reads the records, then
 *     increments looked: a close that finds count at 0 comes before the wait was recorded, as when
 *     a close comes before the wait starts, and a close that pinned for a record it read is seen by
 *     that wait when it leaves (Dekker pairs on n and on pins);
 *   - a wait that leaves stores n = 0, then reads pins: equal to `looked` as the wait read it
 *     before it was recorded, every close that had begun by then had also ended its look, which
 *     cannot have found this wait, and none began since: no close pinned anything for the wait and
 *     it is done. Otherwise it gives back the pins no one uses any more. (Comparing pins with pins
 *     would miss a close that began before the wait read it and found the wait in its look.)
 *   - the end of a last use that finds its object pinned (handles.c) looks as a close does, and
 *     leaves the pin to a wait it finds: one recorded after the look of the close that pinned,
 *     which counted it in `looked`, learns so only from this look.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "lib/client.h"

struct blocked {
    _Atomic uint32_t n;                               /* seq_cst: 0 when not blocked */
    _Atomic uint32_t slots[MAXIMUM_WAIT_OBJECTS];     /* relaxed: published by the store of n */
    _Atomic bool used;                                /* taken by a thread (acq_rel exchange) */
    struct blocked *next;                             /* set before the record is published */
};

static _Atomic(struct blocked *) records; /* acquire/release: the list only grows */
static _Atomic uint32_t count;            /* seq_cst: records with n > 0, as their owners counted */
static _Atomic uint32_t pins;             /* seq_cst: closes that began to look at the records */
static _Atomic uint32_t looked;           /* seq_cst: closes that ended their look */
static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static __thread struct blocked *mine __attribute__((tls_model("initial-exec")));

/* Runs on the exiting thread. A wait in a later destructor of the same thread takes a record again
 * (and this runs again for it): it must not keep using this one, which another thread may take. */
static void thread_gone(void *record)
{
    struct blocked *b = record;
    mine = NULL;
    atomic_store(&b->n, 0);
    atomic_store_explicit(&b->used, false, memory_order_release);
}

static void make_key(void)
{
    pthread_key_create(&key, thread_gone);
}

static struct blocked *take_record(void)
{
    pthread_once(&key_once, make_key);
    for (struct blocked *b = atomic_load_explicit(&records, memory_order_acquire); b; b = b->next)
        if (!atomic_load_explicit(&b->used, memory_order_relaxed) &&
            !atomic_exchange_explicit(&b->used, true, memory_order_acq_rel))
            return b;
    struct blocked *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    atomic_store_explicit(&b->used, true, memory_order_relaxed);
    b->next = atomic_load_explicit(&records, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&records, &b->next, b, memory_order_release, memory_order_relaxed)) {
    }
    return b;
}

bool nsem__blocked_enter(const uint32_t *slots, uint32_t n, uint32_t *since)
{
    if (!mine) {
        mine = take_record();
        if (!mine) return false;
        pthread_setspecific(key, mine);
    }
    *since = atomic_load(&looked); /* before the record shows: a close not done with its look counts */
    for (uint32_t i = 0; i < n; i++) atomic_store_explicit(&mine->slots[i], slots[i], memory_order_relaxed);
    atomic_store(&mine->n, n);
    atomic_fetch_add(&count, 1);
    return true;
}

void nsem__blocked_leave(const uint32_t *slots, uint32_t n, uint32_t since)
{
    atomic_store(&mine->n, 0);
    atomic_fetch_sub(&count, 1);
    if (atomic_load(&pins) == since) return;
    for (uint32_t i = 0; i < n; i++) nsem__unpin_if_unused(slots[i]);
}

bool nsem__blocked_on(uint32_t slot, bool keeps_pin)
{
    if (atomic_load(&count) == 0) return false;
    if (keeps_pin) atomic_fetch_add(&pins, 1); /* before the records are read: see the top */
    bool found = false;
    for (struct blocked *b = atomic_load_explicit(&records, memory_order_acquire); b && !found; b = b->next) {
        uint32_t n = atomic_load(&b->n);
        for (uint32_t i = 0; i < n && i < MAXIMUM_WAIT_OBJECTS && !found; i++)
            found = atomic_load_explicit(&b->slots[i], memory_order_relaxed) == slot;
    }
    if (keeps_pin) atomic_fetch_add(&looked, 1); /* after: see the top */
    return found;
}

void nsem__blocked_after_fork(void)
{
    /* Only the forking thread lives on, and it is not blocked: no record but its own is used. */
    for (struct blocked *b = atomic_load_explicit(&records, memory_order_relaxed); b; b = b->next) {
        atomic_store(&b->n, 0);
        if (b != mine) atomic_store_explicit(&b->used, false, memory_order_relaxed);
    }
    atomic_store(&count, 0);
}

/*
 * liveness.c — whether the server of an arena lives (common/shm.h's header word), for blocked
 * waits: they sleep on the word as well as on their objects, and fail with ERROR_PROCESS_ABORTED
 * when the server dies, rather than wait for a release or an abandonment that no server would
 * report.
 */
#include <linux/futex.h>

#include "common/futex.h"
#include "lib/client.h"

_Atomic uint32_t *nsem__server_word(void)
{
    return &((struct nsem_arena_header *)nsem__slot(0))->server;
}

bool nsem__server_alive(void)
{
    uint32_t v = atomic_load_explicit(nsem__server_word(), memory_order_relaxed); /* as in arm */
    return !(v & FUTEX_OWNER_DIED) && (v & FUTEX_TID_MASK);
}

bool nsem__server_arm(_Atomic uint32_t *word, uint32_t *expected, uint32_t *server)
{
    /* relaxed: the kernel itself compares the word before sleeping and changes it at the death */
    uint32_t v = atomic_load_explicit(word, memory_order_relaxed);
    if (!*server) *server = v & FUTEX_TID_MASK;
    for (;;) {
        if ((v & FUTEX_OWNER_DIED) || !(v & FUTEX_TID_MASK)) return false;
        /* Another server's: ours died and another thread has already started and recovered its
         * successor, which wrote its own id over the death mark. */
        if ((v & FUTEX_TID_MASK) != *server) return false;
        if (v & FUTEX_WAITERS) break; /* the kernel will wake one of us: it wakes the rest */
        if (atomic_compare_exchange_weak_explicit(word, &v, v | FUTEX_WAITERS, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            v |= FUTEX_WAITERS;
            break;
        }
    }
    *expected = v;
    return true;
}

void nsem__server_died(_Atomic uint32_t *word)
{
    nsem__futex_wake_all(word); /* the kernel woke only one sleeper */
    nsem__conn_server_died(word);
}

/* slot.c — the wake protocol of shm.h: arm before sleeping, wake after changing. */
#include "common/slot.h"

#include "common/futex.h"

void nsem__slot_wake(struct nsem_slot *slot)
{
    uint32_t s = atomic_load(&slot->seq); /* seq_cst: the Dekker half after the state change */
    if (!(s & NSEM_SEQ_SLEEPERS)) return;
    /* seq_cst. A sleeper that armed in between sees a changed word and re-checks; two wakers may
     * store the same value, and each wakes after its store, so no sleeper is missed. */
    atomic_store(&slot->seq, (s + 2) & ~NSEM_SEQ_SLEEPERS);
    nsem__futex_wake_all(&slot->seq);
}

uint32_t nsem__slot_arm(struct nsem_slot *slot)
{
    uint32_t s = atomic_load(&slot->seq); /* seq_cst */
    while (!(s & NSEM_SEQ_SLEEPERS)) {
        /* seq_cst RMW: the Dekker half before the sleeper re-reads the state */
        if (atomic_compare_exchange_weak(&slot->seq, &s, s | NSEM_SEQ_SLEEPERS)) return s | NSEM_SEQ_SLEEPERS;
    }
    return s;
}

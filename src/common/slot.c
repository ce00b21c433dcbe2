/* slot.c — the wake protocol of shm.h: arm before sleeping, wake after changing. */
#include "common/slot.h"

#include "common/futex.h"

void nsem__slot_wake_sleepers(struct nsem_slot *slot)
{
    uint32_t s = atomic_load(&slot->seq); /* seq_cst: the Dekker half after the state change */
    while (s & NSEM_SEQ_SLEEPERS) {
        /* seq_cst CAS, so that seq only moves forward: a plain store from a waker delayed since its
         * load could bring back a value a later sleeper armed with, and that sleeper would sleep
         * through the change. A failed CAS means seq moved: re-check the bit. */
        if (atomic_compare_exchange_weak(&slot->seq, &s, (s + 2) & ~NSEM_SEQ_SLEEPERS)) {
            nsem__futex_wake_all(&slot->seq);
            return;
        }
    }
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

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

uint32_t nsem__slot_waiting_join(struct nsem_slot *slot)
{
    uint64_t w = atomic_load(&slot->waiting); /* seq_cst, as every access to waiting */
    while (!atomic_compare_exchange_weak(&slot->waiting, &w, w + 1)) {
    }
    return (uint32_t)(w >> 32);
}

void nsem__slot_waiting_rejoin(struct nsem_slot *slot, uint32_t *epoch)
{
    /* seq_cst: the Dekker half after arming; the server writes a new epoch, then reads seq */
    if ((uint32_t)(atomic_load(&slot->waiting) >> 32) != *epoch) *epoch = nsem__slot_waiting_join(slot);
}

void nsem__slot_waiting_leave(struct nsem_slot *slot, uint32_t epoch)
{
    uint64_t w = atomic_load(&slot->waiting); /* seq_cst */
    while ((uint32_t)(w >> 32) == epoch && (uint32_t)w > 0 && !atomic_compare_exchange_weak(&slot->waiting, &w, w - 1)) {
    }
}

void nsem__slot_waiting_recount(struct nsem_slot *slot)
{
    uint64_t w = atomic_load(&slot->waiting); /* seq_cst */
    while ((uint32_t)w > 0) {
        /* seq_cst: before the read of seq in the wake, the other Dekker half */
        if (atomic_compare_exchange_weak(&slot->waiting, &w, (uint64_t)((uint32_t)(w >> 32) + 1) << 32)) {
            nsem__slot_wake(slot);
            return;
        }
    }
}

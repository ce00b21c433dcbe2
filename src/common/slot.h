/*
 * slot.h — the atomic operations on an arena slot that clients and the server share: the two
 * halves of the wake protocol of shm.h.
 */
#ifndef NSEM_COMMON_SLOT_H
#define NSEM_COMMON_SLOT_H

#include "common/shm.h"

void nsem__slot_wake_sleepers(struct nsem_slot *slot);

/* After a change of slot->state: wakes all sleepers; with none, one load and no call. */
static inline void nsem__slot_wake(struct nsem_slot *slot)
{
    if (atomic_load(&slot->seq) & NSEM_SEQ_SLEEPERS) nsem__slot_wake_sleepers(slot); /* seq_cst: Dekker half */
}
/* Before sleeping on slot->seq: sets NSEM_SEQ_SLEEPERS and returns the value to sleep on. The
 * caller must re-read slot->state after this and before sleeping. */
uint32_t nsem__slot_arm(struct nsem_slot *slot);

/* slot->waiting (shm.h). A thread about to block counts itself; returns the epoch it counted in. */
uint32_t nsem__slot_waiting_join(struct nsem_slot *slot);
/* After arming: if the server started a new epoch, counts the thread again, in it. */
void nsem__slot_waiting_rejoin(struct nsem_slot *slot, uint32_t *epoch);
/* The wait is over: uncounts the thread if its epoch is still the current one. */
void nsem__slot_waiting_leave(struct nsem_slot *slot, uint32_t epoch);
/* The server, when a process that could reach the object has died: a new epoch, at 0, and the
 * sleepers woken to count themselves in it. */
void nsem__slot_waiting_recount(struct nsem_slot *slot);

#endif

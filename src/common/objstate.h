/*
 * objstate.h — the pure state machine of semaphores, mutexes and events.
 *
 * Each function takes the 32-bit value of an object (see shm.h) and plain parameters, and returns
 * an outcome and the new value; none touches memory, so all are unit-tested without a process or a
 * server. The atomic layer (src/lib/objops.c, the server's cleanup) applies them with one CAS.
 */
#ifndef NSEM_COMMON_OBJSTATE_H
#define NSEM_COMMON_OBJSTATE_H

#include <nsem.h>
#include <stdint.h>

#include "common/shm.h"

enum nsem_take {
    NSEM_TAKE_OK,        /* acquired: store the new value */
    NSEM_TAKE_ABANDONED, /* acquired an abandoned mutex: store the new value, report WAIT_ABANDONED */
    NSEM_TAKE_RECURSE,   /* the caller already owns the mutex: value unchanged, recursion + 1 */
    NSEM_TAKE_BUSY,      /* not signalled for this caller */
};

/* NSEM_TAKE_RECURSE, applied: one more level of the owner's recursion, or false, changing nothing,
 * at `limit`. Only the owner takes it again (or the server for the owner, who waits for it, or
 * whoever holds the state word's lock, for an exclusive semaphore): relaxed. */
static inline bool nsem_recurse(_Atomic uint32_t *recursion, uint32_t limit)
{
    uint32_t rec = atomic_load_explicit(recursion, memory_order_relaxed);
    if (rec >= limit) return false;
    atomic_store_explicit(recursion, rec + 1, memory_order_relaxed);
    return true;
}

/* Whether `me` could acquire an object of `type` whose value is `v`, and the value after. */
static inline enum nsem_take nsem_state_take(uint32_t type, uint32_t slot_flags, uint32_t v, uint32_t me,
                                             uint32_t *nv)
{
    if (type == NSEM_TYPE_SEMAPHORE && (slot_flags & NSEM_SLOT_EXCLUSIVE)) type = NSEM_TYPE_MUTEX; /* owned */
    switch (type) {
    case NSEM_TYPE_SEMAPHORE:
        if (v == 0) return NSEM_TAKE_BUSY;
        *nv = v - 1;
        return NSEM_TAKE_OK;
    case NSEM_TYPE_MUTEX: {
        uint32_t owner = v & NSEM_TOKEN_MASK;
        if (owner == me) {
            *nv = v;
            return NSEM_TAKE_RECURSE;
        }
        if (owner != 0) return NSEM_TAKE_BUSY;
        *nv = me;
        return (v & NSEM_MUTEX_ABANDONED) ? NSEM_TAKE_ABANDONED : NSEM_TAKE_OK;
    }
    case NSEM_TYPE_PROCESS: /* signalled for good once it has ended: a wait takes nothing */
        if (!(v & 1u)) return NSEM_TAKE_BUSY;
        *nv = v;
        return NSEM_TAKE_OK;
    case NSEM_TYPE_EVENT:
        if (!(v & NSEM_EVENT_SET)) return NSEM_TAKE_BUSY;
        *nv = (slot_flags & NSEM_SLOT_MANUAL_RESET) ? v : (v & ~NSEM_EVENT_SET);
        return NSEM_TAKE_OK;
    default:
        return NSEM_TAKE_BUSY;
    }
}

/* ReleaseSemaphore: 0 and the new count, or ERROR_TOO_MANY_POSTS (also when count + n overflows). */
static inline DWORD nsem_state_sem_release(uint32_t count, int32_t max, int32_t n, uint32_t *nv)
{
    if (n <= 0 || max <= 0) return ERROR_INVALID_PARAMETER;
    if ((uint64_t)count + (uint64_t)n > (uint64_t)max) return ERROR_TOO_MANY_POSTS;
    *nv = count + (uint32_t)n;
    return ERROR_SUCCESS;
}

/* ReleaseMutex's ownership check: ERROR_NOT_OWNER unless `me` owns it. The value after the last
 * level of recursion is released is 0 (free, and no longer abandoned). */
static inline DWORD nsem_state_mutex_check_owner(uint32_t v, uint32_t me)
{
    return (v & NSEM_TOKEN_MASK) == me && me != 0 ? ERROR_SUCCESS : ERROR_NOT_OWNER;
}

/* An exclusive semaphore's release check: owned by a thread of the caller's process (client). */
static inline DWORD nsem_state_excl_check_release(uint32_t v, uint32_t my_client)
{
    uint32_t owner = v & NSEM_TOKEN_MASK;
    if (owner == 0) return ERROR_NOT_OWNER;
    return NSEM_TOKEN_CLIENT(owner) == my_client ? ERROR_SUCCESS : ERROR_EXCL_SEM_ALREADY_OWNED;
}

/* The value of a mutex whose owner is gone: free, and abandoned until someone acquires it. */
static inline uint32_t nsem_state_mutex_abandon(void)
{
    return NSEM_MUTEX_ABANDONED;
}

static inline uint32_t nsem_state_event_set(uint32_t v)
{
    return v | NSEM_EVENT_SET;
}
static inline uint32_t nsem_state_event_reset(uint32_t v)
{
    return v & ~NSEM_EVENT_SET;
}
/* PulseEvent on a manual-reset event: reset, and a new pulse number, by which the threads that were
 * waiting know they were released. (An auto-reset pulse is a set that a waiter consumes.) */
static inline uint32_t nsem_state_event_pulse_manual(uint32_t v)
{
    return (v + NSEM_EVENT_PULSE_STEP) & ~NSEM_EVENT_SET;
}
static inline uint32_t nsem_state_event_pulses(uint32_t v)
{
    return v & ~NSEM_EVENT_SET;
}

#endif

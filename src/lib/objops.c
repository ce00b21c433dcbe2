/*
 * objops.c — the atomic operations that change an object's state: releases, event changes,
 * mutex bookkeeping and abandonment. Each applies a pure function of common/objstate.h with one
 * CAS on the slot's state word, waits while a wait-all holds the object's lock, and ends with
 * nsem__slot_wake (no syscall when nobody sleeps).
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "common/futex.h"
#include "lib/client.h"

static bool passed(const struct timespec *deadline)
{
    if (!deadline) return false;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec || (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

const struct timespec *nsem__lock_limit(struct nsem_lock_limit *limit)
{
    if (!limit || limit->ms == INFINITE) return NULL;
    if (!limit->known) {
        DWORD ms = limit->ms > NSEM_LOCK_GRACE_MS ? limit->ms : NSEM_LOCK_GRACE_MS;
        clock_gettime(CLOCK_MONOTONIC, &limit->at);
        limit->at.tv_sec += ms / 1000;
        limit->at.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (limit->at.tv_nsec >= 1000000000L) {
            limit->at.tv_sec++;
            limit->at.tv_nsec -= 1000000000L;
        }
        limit->known = true;
    }
    return &limit->at;
}

uint64_t nsem__wait_unlocked_until(struct nsem_slot *s, struct nsem_lock_limit *limit)
{
    uint64_t w = atomic_load(&s->state); /* seq_cst, as every access to state */
    const struct timespec *deadline = nsem_word_locker(w) ? nsem__lock_limit(limit) : NULL;
    while (nsem_word_locker(w)) {
        /* A wait-all holds the lock for a few instructions; sleep rather than spin in case its
         * thread is descheduled. Its unlock stores the state and wakes. */
        uint32_t seq = nsem__slot_arm(s);
        w = atomic_load(&s->state);
        if (!nsem_word_locker(w)) break;
        _Atomic uint32_t *word = &s->seq;
        int e = nsem__futex_waitv(&word, &seq, 1, deadline);
        w = atomic_load(&s->state);
        if (e == -ETIMEDOUT || passed(deadline)) break; /* still locked, maybe: the caller decides */
    }
    return w;
}

uint64_t nsem__wait_unlocked(struct nsem_slot *s)
{
    return nsem__wait_unlocked_until(s, NULL);
}

bool nsem__lock_word_until(struct nsem_slot *s, uint32_t me, struct nsem_lock_limit *limit, uint32_t *value)
{
    uint64_t w = nsem__wait_unlocked_until(s, limit);
    for (;;) {
        if (nsem_word_locker(w)) {
            w = nsem__wait_unlocked_until(s, limit);
            if (nsem_word_locker(w)) return false; /* still locked at the deadline */
        } else if (atomic_compare_exchange_weak(&s->state, &w, nsem_word(nsem_word_value(w), me))) { /* seq_cst */
            *value = nsem_word_value(w);
            return true;
        }
    }
}

uint32_t nsem__lock_word(struct nsem_slot *s, uint32_t me)
{
    uint32_t v = 0;
    nsem__lock_word_until(s, me, NULL, &v);
    return v;
}

void nsem__unlock_word(struct nsem_slot *s, uint32_t value)
{
    atomic_store(&s->state, nsem_word(value, 0)); /* seq_cst; we hold the lock */
    nsem__slot_wake(s);
}

DWORD nsem__sem_release(uint32_t slot, LONG count, LONG *prev)
{
    struct nsem_slot *s = nsem__slot(slot);
    int32_t max = atomic_load_explicit(&s->max, memory_order_relaxed);
    uint64_t w = nsem__wait_unlocked(s);
    for (;;) {
        uint32_t nv;
        DWORD e = nsem_state_sem_release(nsem_word_value(w), max, count, &nv);
        if (e) return e;
        if (atomic_compare_exchange_weak(&s->state, &w, nsem_word(nv, 0))) {
            if (prev) *prev = (LONG)nsem_word_value(w);
            nsem__slot_wake(s);
            return 0;
        }
        if (nsem_word_locker(w)) w = nsem__wait_unlocked(s);
    }
}

void nsem__mutex_acquired(uint32_t slot, struct nsem_slot *s)
{
    atomic_store_explicit(&s->recursion, 1, memory_order_relaxed);
    atomic_store_explicit(&s->owner_pid, nsem__pid(), memory_order_relaxed);
    atomic_store_explicit(&s->owner_tid, nsem__tid(), memory_order_relaxed);
    nsem__owned_add(slot);
    nsem__busy_inc(slot);
}

/* Frees a mutex the caller owns, storing `value` (0 released, or abandoned). */
static void mutex_free(uint32_t slot, struct nsem_slot *s, uint32_t value)
{
    atomic_store_explicit(&s->recursion, 0, memory_order_relaxed);
    atomic_store_explicit(&s->owner_pid, 0, memory_order_relaxed);
    atomic_store_explicit(&s->owner_tid, 0, memory_order_relaxed);
    uint64_t w = nsem__wait_unlocked(s);
    while (!atomic_compare_exchange_weak(&s->state, &w, nsem_word(value, 0)))
        if (nsem_word_locker(w)) w = nsem__wait_unlocked(s);
    nsem__slot_wake(s);
    nsem__owned_remove(slot);
    nsem__busy_dec(slot);
}

DWORD nsem__mutex_release(uint32_t slot)
{
    struct nsem_slot *s = nsem__slot(slot);
    uint32_t me = nsem__thread_token();
    uint64_t w = atomic_load(&s->state);
    if (nsem_state_mutex_check_owner(nsem_word_value(w), me)) return ERROR_NOT_OWNER;
    /* Only the owner changes the recursion count, so a plain read-modify-write is enough. */
    uint32_t rec = atomic_load_explicit(&s->recursion, memory_order_relaxed);
    if (rec > 1) {
        atomic_store_explicit(&s->recursion, rec - 1, memory_order_relaxed);
        return 0;
    }
    mutex_free(slot, s, 0);
    return 0;
}

void nsem__mutex_abandon_mine(uint32_t slot, uint32_t me)
{
    struct nsem_slot *s = nsem__slot(slot);
    if (atomic_load_explicit(&s->type, memory_order_relaxed) == NSEM_TYPE_SEMAPHORE) {
        nsem__excl_abandon_mine(slot, me); /* other threads of the process may change it: lock */
        return;
    }
    if (nsem_state_mutex_check_owner(nsem_word_value(atomic_load(&s->state)), me)) {
        nsem__owned_remove(slot);
        return;
    }
    atomic_store_explicit(&s->last_owner_pid, nsem__pid(), memory_order_relaxed);
    mutex_free(slot, s, nsem_state_mutex_abandon());
}

/* Applies f to an event's value; wakes when `wake`. */
static void event_change(struct nsem_slot *s, uint32_t (*f)(uint32_t), bool wake)
{
    uint64_t w = nsem__wait_unlocked(s);
    while (!atomic_compare_exchange_weak(&s->state, &w, nsem_word(f(nsem_word_value(w)), 0)))
        if (nsem_word_locker(w)) w = nsem__wait_unlocked(s);
    if (wake) nsem__slot_wake(s);
}

DWORD nsem__event_set(uint32_t slot)
{
    event_change(nsem__slot(slot), nsem_state_event_set, true);
    return 0;
}

DWORD nsem__event_reset(uint32_t slot)
{
    event_change(nsem__slot(slot), nsem_state_event_reset, false);
    return 0;
}

/* Manual reset: a new pulse number releases every thread that was waiting (wait.c compares it).
 * Auto reset: set, so that one waiter consumes it; with nobody waiting, it is only reset. */
DWORD nsem__event_pulse(uint32_t slot)
{
    struct nsem_slot *s = nsem__slot(slot);
    if (atomic_load_explicit(&s->flags, memory_order_relaxed) & NSEM_SLOT_MANUAL_RESET)
        event_change(s, nsem_state_event_pulse_manual, true);
    else if (nsem_waiting_count(atomic_load(&s->waiting)) > 0) /* seq_cst, as every access to waiting */
        event_change(s, nsem_state_event_set, true);
    else
        event_change(s, nsem_state_event_reset, false);
    return 0;
}

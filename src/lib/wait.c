/*
 * wait.c — one wait engine for WaitForSingleObject, WaitForMultipleObjects (any and all) and
 * SignalObjectAndWait.
 *
 * Shape (after the kernel's ntsync): validate every handle -> try to acquire -> arm the futex
 * words (shm.h's wake protocol) -> try again -> sleep on all words until an absolute
 * CLOCK_MONOTONIC deadline -> repeat. An uncontended acquisition is one CAS and no syscall.
 *
 * Wait-any acquires the lowest-index signalled object with one CAS on it. Wait-all locks the
 * objects in slot order (a CAS that puts our token in the state's high half, so no two wait-alls
 * deadlock), checks that every one is signalled for us, then stores each new value with the lock
 * cleared; if any is not signalled it stores the values it read. No one can see a partial grab:
 * a locked object is busy to everybody else until it is unlocked.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common/futex.h"
#include "lib/client.h"
#include "lib/handle_table.h"

struct wait_obj {
    uint32_t slot_index;
    struct nsem_slot *slot;
    uint32_t type, flags;
    uint32_t pulses; /* manual event: the pulse number when we began to sleep */
    uint32_t epoch;  /* of our count in slot->waiting (common/slot.h) */
    bool queued;     /* exclusive semaphore: we are in its waiter queue */
};

enum attempt { GOT_IT, NOT_YET, FAILED };

struct wait {
    struct wait_obj objs[MAXIMUM_WAIT_OBJECTS];
    uint32_t order[MAXIMUM_WAIT_OBJECTS]; /* wait-all: indexes sorted by slot */
    DWORD n;
    bool all, armed;
    uint32_t me;
    uint32_t server; /* the server's thread id when the wait first slept (liveness.c) */
    /* Another wait-all's lock on an object is held for a few instructions, but its thread may be
     * stalled there: waited out only until this limit; then the object counts as not signalled. */
    struct nsem_lock_limit lock;
    DWORD result; /* when GOT_IT: WAIT_OBJECT_0 + i or WAIT_ABANDONED_0 + i */
    DWORD error;  /* when FAILED */
};

static bool is_exclusive(const struct wait_obj *o)
{
    return o->type == NSEM_TYPE_SEMAPHORE && (o->flags & NSEM_SLOT_EXCLUSIVE);
}

static bool is_undo(const struct wait_obj *o)
{
    return o->type == NSEM_TYPE_SEMAPHORE && (o->flags & NSEM_SLOT_UNDO);
}

/* One object, wait-any: acquire it with one CAS if it is signalled for us. */
static enum nsem_take take_one(struct wait *w, struct wait_obj *o, DWORD *error)
{
    struct nsem_slot *s = o->slot;
    if (is_exclusive(o)) return nsem__excl_take(o->slot_index, s, w->me, error, w->armed, &o->queued, &w->lock);
    if (is_undo(o)) return nsem__undo_take(o->slot_index, s, w->me, &w->lock);
    uint64_t word = atomic_load(&s->state); /* seq_cst: the Dekker half after arming */
    for (;;) {
        uint32_t nv, v = nsem_word_value(word);
        if (w->armed && o->type == NSEM_TYPE_EVENT && (o->flags & NSEM_SLOT_MANUAL_RESET) &&
            nsem_state_event_pulses(v) != o->pulses)
            return NSEM_TAKE_OK; /* released by a PulseEvent while we slept */
        enum nsem_take r = nsem_state_take(o->type, o->flags, v, w->me, &nv);
        if (r == NSEM_TAKE_RECURSE) {
            if (nsem_recurse(&s->recursion, NSEM_MUTEX_MAX_RECURSION)) return r;
            *error = ERROR_MUTANT_LIMIT_EXCEEDED;
            return NSEM_TAKE_BUSY;
        }
        if (nsem_word_locker(word)) {
            /* A wait-all is looking at it for a few instructions: its state is not known until
             * then, and a signalled object must not be reported busy (unless it stays locked). */
            word = nsem__wait_unlocked_until(s, &w->lock);
            if (nsem_word_locker(word)) return NSEM_TAKE_BUSY;
            continue;
        }
        if (r == NSEM_TAKE_BUSY) return NSEM_TAKE_BUSY;
        if (atomic_compare_exchange_weak(&s->state, &word, nsem_word(nv, 0))) {
            if (o->type == NSEM_TYPE_MUTEX) nsem__mutex_acquired(o->slot_index, s);
            return r;
        }
    }
}

static enum attempt try_any(struct wait *w)
{
    for (DWORD i = 0; i < w->n; i++) {
        DWORD error = 0;
        enum nsem_take r = take_one(w, &w->objs[i], &error);
        if (error) {
            w->error = error;
            return FAILED;
        }
        if (r == NSEM_TAKE_BUSY) continue;
        w->result = (r == NSEM_TAKE_ABANDONED ? WAIT_ABANDONED_0 : WAIT_OBJECT_0) + i;
        return GOT_IT;
    }
    return NOT_YET;
}

/* Stores back `values` of the first `count` locked objects (in slot order), unlocking them. */
static void unlock_all(struct wait *w, const uint32_t *values, DWORD count)
{
    for (DWORD k = 0; k < count; k++) {
        struct nsem_slot *s = w->objs[w->order[k]].slot;
        atomic_store(&s->state, nsem_word(values[k], 0)); /* seq_cst; we hold the lock */
        nsem__slot_wake(s); /* someone may sleep until the lock is gone */
    }
}

static enum attempt try_all(struct wait *w)
{
    uint32_t old[MAXIMUM_WAIT_OBJECTS], nv[MAXIMUM_WAIT_OBJECTS] = {0}; /* nv: set for every k that is taken */
    enum nsem_take how[MAXIMUM_WAIT_OBJECTS];
    /* lock, in slot order; another wait-all's lock is waited out (a few instructions), with ours
     * given back first */
    for (DWORD k = 0; k < w->n; k++) {
        struct nsem_slot *s = w->objs[w->order[k]].slot;
        uint64_t word = atomic_load(&s->state);
        while (!nsem_word_locker(word) &&
               !atomic_compare_exchange_weak(&s->state, &word, nsem_word(nsem_word_value(word), w->me))) {
        }
        if (nsem_word_locker(word)) {
            unlock_all(w, old, k);
            if (nsem_word_locker(nsem__wait_unlocked_until(s, &w->lock))) return NOT_YET;
            k = (DWORD)-1; /* start again */
            continue;
        }
        old[k] = nsem_word_value(word);
    }
    /* every object signalled for us? */
    DWORD abandoned = MAXIMUM_WAIT_OBJECTS;
    for (DWORD k = 0; k < w->n; k++) {
        struct wait_obj *o = &w->objs[w->order[k]];
        how[k] = nsem_state_take(o->type, o->flags, old[k], w->me, &nv[k]);
        if (how[k] == NSEM_TAKE_BUSY) {
            unlock_all(w, old, w->n);
            return NOT_YET;
        }
        if (how[k] == NSEM_TAKE_RECURSE &&
            atomic_load_explicit(&o->slot->recursion, memory_order_relaxed) >=
                (is_exclusive(o) ? NSEM_EXCL_MAX_RECURSION : NSEM_MUTEX_MAX_RECURSION)) {
            unlock_all(w, old, w->n);
            w->error = is_exclusive(o) ? ERROR_TOO_MANY_SEM_REQUESTS : ERROR_MUTANT_LIMIT_EXCEEDED;
            return FAILED;
        }
        if (how[k] == NSEM_TAKE_ABANDONED && w->order[k] < abandoned) abandoned = w->order[k];
    }
    /* take them all */
    for (DWORD k = 0; k < w->n; k++) {
        struct wait_obj *o = &w->objs[w->order[k]];
        if (how[k] == NSEM_TAKE_RECURSE)
            atomic_store_explicit(&o->slot->recursion, atomic_load_explicit(&o->slot->recursion, memory_order_relaxed) + 1,
                                  memory_order_relaxed);
        else if (is_exclusive(o))
            nsem__excl_acquired_locked(o->slot_index, o->slot);
        else if (o->type == NSEM_TYPE_MUTEX)
            nsem__mutex_acquired(o->slot_index, o->slot);
        else if (is_undo(o))
            nsem__undo_journal_take(o->slot_index); /* committed by the store below */
    }
    unlock_all(w, nv, w->n);
    for (DWORD k = 0; k < w->n; k++)
        if (is_undo(&w->objs[w->order[k]])) nsem__undo_commit(w->objs[w->order[k]].slot_index);
    w->result = abandoned < MAXIMUM_WAIT_OBJECTS ? WAIT_ABANDONED_0 + abandoned : WAIT_OBJECT_0;
    return GOT_IT;
}

static enum attempt attempt(struct wait *w)
{
    return w->all ? try_all(w) : try_any(w);
}

static void deadline_after(DWORD ms, struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Whether every object is signalled for us now, read without locking anything: after arming, a
 * wait-all must not lock and unlock, since its own unlock would change the words it sleeps on. */
static bool all_signalled(const struct wait *w)
{
    for (DWORD i = 0; i < w->n; i++) {
        const struct wait_obj *o = &w->objs[i];
        uint64_t word = atomic_load(&o->slot->state); /* seq_cst: the Dekker half after arming */
        uint32_t nv;
        if (nsem_word_locker(word) ||
            nsem_state_take(o->type, o->flags, nsem_word_value(word), w->me, &nv) == NSEM_TAKE_BUSY)
            return false;
    }
    return true;
}

static bool passed(const struct timespec *deadline)
{
    if (!deadline) return false;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec || (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* Blocks until the attempt succeeds or fails, or the deadline passes. */
static enum attempt block(struct wait *w, const struct timespec *deadline)
{
    /* the objects' words, then the server's liveness word */
    _Atomic uint32_t *words[MAXIMUM_WAIT_OBJECTS + 1];
    uint32_t expected[MAXIMUM_WAIT_OBJECTS + 1];
    _Atomic uint32_t *server = nsem__server_word();
    words[w->n] = server;
    /* a close by another thread must not free them meanwhile */
    uint32_t slots[MAXIMUM_WAIT_OBJECTS], since;
    for (DWORD i = 0; i < w->n; i++) slots[i] = w->objs[i].slot_index;
    bool recorded = nsem__blocked_enter(slots, w->n, &since);
    for (DWORD i = 0; i < w->n; i++) {
        struct wait_obj *o = &w->objs[i];
        if (!recorded) nsem__busy_inc(o->slot_index);
        o->epoch = nsem__slot_waiting_join(o->slot);
        o->pulses = nsem_state_event_pulses(nsem_word_value(atomic_load(&o->slot->state)));
        words[i] = &o->slot->seq;
    }
    enum attempt r;
    for (;;) {
        /* arm every word, then look again: a change after this wakes us */
        for (DWORD i = 0; i < w->n; i++) expected[i] = nsem__slot_arm(w->objs[i].slot);
        for (DWORD i = 0; i < w->n; i++) nsem__slot_waiting_rejoin(w->objs[i].slot, &w->objs[i].epoch);
        w->armed = true;
        if (!w->all || all_signalled(w)) {
            r = attempt(w);
            if (r != NOT_YET) break;
            if (w->all) continue; /* lost a race; our attempt changed the words: arm again */
        }
        if (!nsem__server_arm(server, &expected[w->n], &w->server)) {
            nsem__server_died(server);
            w->error = ERROR_PROCESS_ABORTED;
            r = FAILED;
            break;
        }
        int e = nsem__futex_waitv(words, expected, w->n + 1, deadline);
        if (e == -ETIMEDOUT || passed(deadline)) {
            /* An acquisition racing with the timeout still counts. */
            r = attempt(w);
            break;
        }
        /* Woken, most likely by the change it waits for: a wait-any on several objects tries
         * before it arms again, which a success then never needs (arming is a pass over every
         * object; for one object it is one step, kept as before). A failure arms and looks again
         * above, so no change is missed. */
        if (!w->all && w->n > 1) {
            r = try_any(w);
            if (r != NOT_YET) break;
        }
    }
    for (DWORD i = 0; i < w->n; i++) {
        if (w->objs[i].queued) nsem__excl_leave(w->objs[i].slot_index, w->me, &w->objs[i].queued);
        nsem__slot_waiting_leave(w->objs[i].slot, w->objs[i].epoch);
        if (!recorded) nsem__busy_dec(w->objs[i].slot_index);
    }
    if (recorded) nsem__blocked_leave(slots, w->n, since);
    return r;
}

/* GetCurrentProcess() and GetCurrentThread() are signalled when the caller ends: never, here. */
static DWORD wait_forever_pseudo(DWORD ms)
{
    if (ms == INFINITE)
        for (;;) pause();
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    return WAIT_TIMEOUT;
}

static int by_slot(const void *a, const void *b, void *objs)
{
    const struct wait_obj *o = objs;
    uint32_t sa = o[*(const uint32_t *)a].slot_index, sb = o[*(const uint32_t *)b].slot_index;
    return sa < sb ? -1 : sa > sb;
}

DWORD nsem__wait(DWORD n, const HANDLE *handles, bool wait_all, DWORD ms)
{
    struct wait w;
    /* validate */
    if (n == 0 || n > MAXIMUM_WAIT_OBJECTS || !handles) {
        nsem__set_error(ERROR_INVALID_PARAMETER);
        return WAIT_FAILED;
    }
    struct nsem_handle hs[MAXIMUM_WAIT_OBJECTS];
    bool brokered = false;
    for (DWORD i = 0; i < n; i++) {
        DWORD e = nsem__handle_lookup(handles[i], 0, SYNCHRONIZE, &hs[i]);
        if (e) {
            nsem__set_error(e);
            return WAIT_FAILED;
        }
        brokered |= hs[i].slot == 0;
    }
    if (brokered) { /* another user's object: the server makes each attempt (brokered.c) */
        DWORD result, e = nsem__broker_wait(n, hs, wait_all && n > 1, ms, &result, NULL);
        if (e) nsem__set_error(e);
        return e ? WAIT_FAILED : result;
    }
    for (DWORD i = 0; i < n; i++) {
        w.objs[i] = (struct wait_obj){hs[i].slot, nsem__slot(hs[i].slot), hs[i].type,
                                      atomic_load_explicit(&nsem__slot(hs[i].slot)->flags, memory_order_relaxed), 0, 0, false};
        w.order[i] = i;
    }
    w.n = n;
    w.all = wait_all && n > 1;
    w.armed = false;
    w.server = 0;
    w.error = 0;
    w.lock = (struct nsem_lock_limit){ms, false, {0, 0}};
    w.me = nsem__thread_token();
    if (!w.me) {
        nsem__set_error(ERROR_SERVICE_NOT_ACTIVE);
        return WAIT_FAILED;
    }
    if (w.all) {
        qsort_r(w.order, n, sizeof w.order[0], by_slot, w.objs);
        for (DWORD k = 1; k < n; k++)
            if (w.objs[w.order[k]].slot_index == w.objs[w.order[k - 1]].slot_index) {
                nsem__set_error(ERROR_INVALID_PARAMETER); /* STATUS_INVALID_PARAMETER_MIX */
                return WAIT_FAILED;
            }
    }
    /* try */
    enum attempt r = attempt(&w);
    if (r == NOT_YET && ms != 0) {
        struct timespec deadline;
        if (ms != INFINITE) deadline_after(ms, &deadline);
        nsem__lock_limit(&w.lock); /* from the start of the wait, not from the first lock met */
        r = block(&w, ms == INFINITE ? NULL : &deadline);
    }
    if (r == GOT_IT) return w.result;
    if (r == FAILED) {
        nsem__set_error(w.error);
        return WAIT_FAILED;
    }
    return WAIT_TIMEOUT;
}

/* ---- public ------------------------------------------------------------------------------ */

NSEM_EXTERN DWORD WaitForSingleObjectEx(HANDLE hHandle, DWORD dwMilliseconds, BOOL bAlertable)
{
    /* Fast path: a plain counting semaphore with a permit free is one CAS. */
    uint64_t e = nsem__plain_semaphore(hHandle, SYNCHRONIZE);
    if (e) {
        struct nsem_slot *s = nsem__slot_fast(nsem__entry_slot(e));
        uint64_t word = atomic_load(&s->state); /* seq_cst, as every access to state */
        if (!nsem_word_locker(word) && nsem_word_value(word) > 0 &&
            atomic_compare_exchange_strong(&s->state, &word, word - 1))
            return WAIT_OBJECT_0;
    }
    uintptr_t v = (uintptr_t)hHandle;
    if (v == NSEM_PSEUDO_PROCESS || v == NSEM_PSEUDO_THREAD) return wait_forever_pseudo(dwMilliseconds);
    return nsem__wait(1, &hHandle, false, dwMilliseconds);
}

NSEM_EXTERN DWORD WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds)
{
    return WaitForSingleObjectEx(hHandle, dwMilliseconds, FALSE);
}

NSEM_EXTERN DWORD WaitForMultipleObjectsEx(DWORD nCount, const HANDLE *lpHandles, BOOL bWaitAll,
                                           DWORD dwMilliseconds, BOOL bAlertable)
{
    return nsem__wait(nCount, lpHandles, bWaitAll != FALSE, dwMilliseconds);
}

NSEM_EXTERN DWORD WaitForMultipleObjects(DWORD nCount, const HANDLE *lpHandles, BOOL bWaitAll,
                                         DWORD dwMilliseconds)
{
    return nsem__wait(nCount, lpHandles, bWaitAll != FALSE, dwMilliseconds);
}

/* The right each type needs to be signalled by SignalObjectAndWait. */
static uint32_t signal_right(uint32_t type)
{
    return type == NSEM_TYPE_SEMAPHORE ? SEMAPHORE_MODIFY_STATE
           : type == NSEM_TYPE_EVENT   ? EVENT_MODIFY_STATE
                                       : SYNCHRONIZE;
}

NSEM_EXTERN DWORD SignalObjectAndWait(HANDLE hObjectToSignal, HANDLE hObjectToWaitOn, DWORD dwMilliseconds,
                                      BOOL bAlertable)
{
    struct nsem_handle sig, wait_h;
    uintptr_t wv = (uintptr_t)hObjectToWaitOn;
    bool pseudo_wait = wv == NSEM_PSEUDO_PROCESS || wv == NSEM_PSEUDO_THREAD;
    DWORD e = pseudo_wait ? 0 : nsem__handle_lookup(hObjectToWaitOn, 0, SYNCHRONIZE, &wait_h);
    if (!e) e = nsem__handle_lookup(hObjectToSignal, 0, 0, &sig);
    if (!e && (sig.access & signal_right(sig.type)) != signal_right(sig.type)) e = ERROR_ACCESS_DENIED;
    if (!e && !sig.slot) {
        static const uint32_t action[] = {[NSEM_TYPE_SEMAPHORE] = NSEM_SIGNAL_RELEASE_SEMAPHORE,
                                          [NSEM_TYPE_MUTEX] = NSEM_SIGNAL_RELEASE_MUTEX,
                                          [NSEM_TYPE_EVENT] = NSEM_SIGNAL_SET_EVENT};
        e = sig.type < sizeof action / sizeof action[0] && action[sig.type]
                ? nsem__broker_signal(sig.value, action[sig.type], 1, NULL)
                : ERROR_INVALID_HANDLE;
    } else if (!e) {
        switch (sig.type) {
        case NSEM_TYPE_SEMAPHORE:
            e = nsem__semaphore_release(sig.slot, 1, NULL);
            break;
        case NSEM_TYPE_EVENT:
            e = nsem__event_set(sig.slot);
            break;
        default:
            e = nsem__mutex_release(sig.slot);
            break;
        }
    }
    if (e) {
        nsem__set_error(e);
        return WAIT_FAILED;
    }
    return WaitForSingleObjectEx(hObjectToWaitOn, dwMilliseconds, bAlertable);
}

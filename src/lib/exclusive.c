/*
 * exclusive.c — exclusive semaphores (EXCLUSIVE.md): owned by one thread, recursively, and
 * changeable only by the owner's process.
 *
 * The value is a mutex's (owner token | ABANDONED). Unlike a mutex, any thread of the owning
 * process may release, so the recursion count is not the owner thread's alone: every change of
 * ownership or recursion happens under the state word's lock (the high half that a wait-all uses),
 * which makes "check the owner, change the recursion, store the value" one atomic step for every
 * other thread and process.
 *
 * First come, first served: a thread that must wait joins the semaphore's waiter queue
 * (common/exclq.h); the last release hands the semaphore to the oldest waiter (owner = its token |
 * NSEM_EXCL_HANDED), which claims it when it wakes; while waiters are queued, nobody else may take
 * it even if it is free (after an abandonment: the oldest takes it, and is told).
 */
#include "common/exclq.h"
#include "lib/client.h"

static struct nsem_excl_queue *queue_of(struct nsem_slot *s)
{
    uint32_t q = atomic_load_explicit(&s->aux, memory_order_relaxed);
    return q ? (struct nsem_excl_queue *)nsem__slot(q) : NULL;
}

static void set_owner(struct nsem_slot *s, uint32_t recursion)
{
    atomic_store_explicit(&s->recursion, recursion, memory_order_relaxed);
    atomic_store_explicit(&s->owner_pid, recursion ? nsem__pid() : 0, memory_order_relaxed);
    atomic_store_explicit(&s->owner_tid, recursion ? nsem__tid() : 0, memory_order_relaxed);
}

void nsem__excl_acquired_locked(uint32_t slot, struct nsem_slot *s)
{
    set_owner(s, 1);
    nsem__owned_add(slot); /* abandoned at this thread's exit */
}

enum nsem_take nsem__excl_take(uint32_t slot, struct nsem_slot *s, uint32_t me, DWORD *error, bool may_queue,
                               bool *queued, struct nsem_lock_limit *limit)
{
    uint32_t nv;
    struct nsem_excl_queue *q = queue_of(s);
    /* Busy for us, and nothing to do about it: say so without locking, since the unlock would wake
     * the very words a waiting caller has just armed. */
    uint64_t word = nsem__wait_unlocked_until(s, limit);
    uint32_t v = nsem_word_value(word);
    /* Ours already: a wait on an owned object succeeds, so its recursion (changed only under the
     * lock) waits out the lock's holder however long it stalls. */
    struct nsem_lock_limit *until = (v & NSEM_TOKEN_MASK) == me ? NULL : limit;
    if (until && nsem_word_locker(word)) return NSEM_TAKE_BUSY;
    if (!nsem_excl_takeable(q, v, me) && (!may_queue || *queued || !q)) return NSEM_TAKE_BUSY;
    if (!nsem__lock_word_until(s, me, until, &v)) return NSEM_TAKE_BUSY;
    if (!nsem_excl_takeable(q, v, me)) {
        if (may_queue && q && !*queued && nsem_q_push(q, me)) *queued = true; /* first come, first served */
        nsem__unlock_word(s, v);
        return NSEM_TAKE_BUSY;
    }
    if ((v & NSEM_TOKEN_MASK) == me && (v & NSEM_EXCL_HANDED)) { /* handed to us by a release */
        *queued = false;
        nsem__excl_acquired_locked(slot, s);
        nsem__unlock_word(s, me);
        return NSEM_TAKE_OK;
    }
    if (!(v & NSEM_TOKEN_MASK) && q && nsem_q_len(q) && nsem_q_at(q, 0) == me) { /* our turn */
        nsem_q_pop(q);
        *queued = false;
    }
    enum nsem_take r = nsem_state_take(NSEM_TYPE_SEMAPHORE, NSEM_SLOT_EXCLUSIVE, v, me, &nv);
    if (r == NSEM_TAKE_RECURSE) {
        if (!nsem_recurse(&s->recursion, NSEM_EXCL_MAX_RECURSION)) {
            *error = ERROR_TOO_MANY_SEM_REQUESTS; /* nothing changes */
            r = NSEM_TAKE_BUSY;
        }
    } else if (r != NSEM_TAKE_BUSY) {
        nsem__excl_acquired_locked(slot, s);
        v = nv;
    }
    nsem__unlock_word(s, v);
    return r;
}

/* The value after the last release (state locked): handed to the oldest waiter, else free. */
static uint32_t hand_on(struct nsem_slot *s)
{
    struct nsem_excl_queue *q = queue_of(s);
    uint32_t next = q ? nsem_q_pop(q) : 0;
    if (!next) return 0; /* free, and no longer abandoned */
    atomic_store_explicit(&s->recursion, 1, memory_order_relaxed);
    return next | NSEM_EXCL_HANDED; /* its owner pid and thread are filled in when it claims it */
}

void nsem__excl_leave(uint32_t slot, uint32_t me, bool *queued)
{
    struct nsem_slot *s = nsem__slot(slot);
    struct nsem_excl_queue *q = queue_of(s);
    if (!*queued || !q) return;
    uint32_t v = nsem__lock_word(s, me);
    if ((v & NSEM_TOKEN_MASK) == me && (v & NSEM_EXCL_HANDED)) {
        set_owner(s, 0);
        v = hand_on(s); /* handed to us, but we took another object: pass it on */
    } else {
        nsem_q_remove_if(q, nsem_q_is_token, me);
    }
    *queued = false;
    nsem__unlock_word(s, v);
}

DWORD nsem__excl_release(uint32_t slot, LONG *prev)
{
    struct nsem_slot *s = nsem__slot(slot);
    uint32_t me = nsem__thread_token();
    if (!me) return ERROR_NOT_OWNER;
    uint32_t v = nsem__lock_word(s, me);
    DWORD e = nsem_state_excl_check_release(v, NSEM_TOKEN_CLIENT(me));
    if (e) {
        nsem__unlock_word(s, v);
        return e;
    }
    uint32_t rec = atomic_load_explicit(&s->recursion, memory_order_relaxed);
    if (rec > 1 && !(v & NSEM_EXCL_HANDED)) {
        atomic_store_explicit(&s->recursion, rec - 1, memory_order_relaxed);
    } else {
        set_owner(s, 0);
        if ((v & NSEM_TOKEN_MASK) == me) nsem__owned_remove(slot); /* another thread's list it keeps */
        v = hand_on(s);
    }
    nsem__unlock_word(s, v);
    if (prev) *prev = 0; /* while owned the count is 0: a release never reports 1 */
    return 0;
}

/* Abandons it if `who` owns it: a thread (its exit) or, with whole_process, any thread of the
 * process (its last close). */
static void abandon_if(uint32_t slot, uint32_t me, bool whole_process)
{
    struct nsem_slot *s = nsem__slot(slot);
    uint32_t v = nsem__lock_word(s, me);
    uint32_t owner = v & NSEM_TOKEN_MASK;
    if (owner && (owner == me || (whole_process && NSEM_TOKEN_CLIENT(owner) == NSEM_TOKEN_CLIENT(me)))) {
        atomic_store_explicit(&s->last_owner_pid, nsem__pid(), memory_order_relaxed);
        set_owner(s, 0);
        v = nsem_state_mutex_abandon();
    }
    nsem__unlock_word(s, v);
}

void nsem__excl_abandon_if_ours(uint32_t slot)
{
    uint32_t me = nsem__thread_token();
    if (me) abandon_if(slot, me, true);
}

void nsem__excl_abandon_mine(uint32_t slot, uint32_t me)
{
    nsem__owned_remove(slot);
    abandon_if(slot, me, false);
}

NSEM_EXTERN DWORD NsemRequestSemaphore(HANDLE hSemaphore, DWORD dwMilliseconds)
{
    struct nsem_handle h;
    DWORD code = nsem__handle_lookup(hSemaphore, NSEM_TYPE_SEMAPHORE, SYNCHRONIZE, &h);
    if (!code && !h.slot) { /* another user's (lib/brokered.c): the server says who owns it */
        DWORD r;
        bool elsewhere = false;
        code = nsem__broker_wait(1, &h, false, dwMilliseconds, &r, &elsewhere);
        if (!code)
            code = r == WAIT_OBJECT_0              ? 0
                   : r == WAIT_ABANDONED_0         ? ERROR_SEM_OWNER_DIED
                   : dwMilliseconds == 0 && elsewhere ? ERROR_EXCL_SEM_ALREADY_OWNED
                                                     : ERROR_SEM_TIMEOUT;
    } else if (!code) {
        DWORD r = nsem__wait(1, &hSemaphore, false, dwMilliseconds);
        if (r == WAIT_OBJECT_0) code = 0;
        else if (r == WAIT_ABANDONED_0) code = ERROR_SEM_OWNER_DIED;
        else if (r == WAIT_FAILED) code = GetLastError();
        else {
            code = ERROR_SEM_TIMEOUT;
            struct nsem_slot *s = nsem__slot(h.slot);
            uint32_t owner = nsem_word_value(atomic_load(&s->state)) & NSEM_TOKEN_MASK; /* seq_cst */
            if (dwMilliseconds == 0 && (atomic_load_explicit(&s->flags, memory_order_relaxed) & NSEM_SLOT_EXCLUSIVE) &&
                owner && NSEM_TOKEN_CLIENT(owner) != nsem__client_id())
                code = ERROR_EXCL_SEM_ALREADY_OWNED; /* another process has it; it is not ours to wait */
        }
    }
    nsem__set_error(code);
    return code;
}

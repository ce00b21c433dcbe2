/*
 * brokered.c — handles of a system server to another user's objects (docs/security.md).
 *
 * Such an object lives in an arena the caller does not map, so every operation on it is a request:
 * SIGNAL (release, set, reset, pulse, and the abandonment of a thread's mutexes at its exit) and
 * TRY_WAIT (one attempt of a wait, over all its objects, the caller's own included). Each is checked
 * against the handle's granted access and applied with the same transitions the library applies
 * (common/objstate.h), under the same lock protocol; the server never blocks on one: a locked word
 * makes a signal answer ERROR_RETRY and an attempt count the object as not signalled.
 *
 * A failed attempt leaves a watch on each brokered object's seq word, armed as a sleeper arms it:
 * the watcher thread, the server's only other thread, sleeps on all of them (futex_waitv) and,
 * when one moves, advances the caller's proxy word, a slot of its own arena it sleeps on. Watches
 * are one-shot and replaced by the thread's next attempt. The watcher touches nothing but the watch
 * list (under `watch_lock`) and arena words; the main thread owns every other structure.
 *
 * Exclusive semaphores (EXCLUSIVE.md) are brokered as the library handles them (lib/exclusive.c):
 * every change under the state word's lock, first come first served through the waiter queue (a
 * blocked brokered waiter joins it; its wait's end leaves it, passing on what was handed to it).
 * An undo semaphore's permits taken through a brokered handle are counted in the caller's undo
 * record, which the server keeps in the object's arena and changes alone: no journal is needed, as
 * no process dies between the state change and the count.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/exclq.h"
#include "common/futex.h"
#include "server/server.h"

#define WATCHES_PER_CLIENT 1024u /* a client's watches at once: 16 threads blocked on 64 objects */
#define WAITV_MAX 128u           /* futex_waitv's limit: the control word and 127 watches */
#define POLL_NS 5000000L         /* watches past what one futex_waitv takes are compared this often */

struct watch {
    _Atomic uint32_t *word; /* an object's seq */
    uint32_t expected;      /* armed: the value it had, SLEEPERS set */
    uint32_t client_id, token;
    _Atomic uint32_t *proxy; /* the client's proxy word */
};

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct watch *watches; /* under watch_lock */
static uint32_t nwatches, watch_cap;
static _Atomic uint32_t control; /* seq_cst: bumped (and woken) when the list changes */

/* ---- the watcher thread ----------------------------------------------------------------- */

static void bump(_Atomic uint32_t *proxy)
{
    atomic_fetch_add(proxy, 2); /* seq_cst: the sleeper compares it before sleeping */
    nsem__futex_wake_all(proxy);
}

/* Fires every watch whose word moved (watch_lock held). */
static void fire_moved(void)
{
    for (uint32_t i = 0; i < nwatches;) {
        if (atomic_load(watches[i].word) == watches[i].expected) { /* seq_cst: after the changer's state */
            i++;
            continue;
        }
        bump(watches[i].proxy);
        watches[i] = watches[--nwatches];
    }
}

static void *watcher(void *arg)
{
    (void)arg;
    _Atomic uint32_t *words[WAITV_MAX];
    uint32_t expected[WAITV_MAX];
    for (;;) {
        pthread_mutex_lock(&watch_lock);
        words[0] = &control;
        expected[0] = atomic_load(&control);
        uint32_t n = 1;
        for (uint32_t i = 0; i < nwatches && n < WAITV_MAX; i++, n++) {
            words[n] = watches[i].word;
            expected[n] = watches[i].expected;
        }
        bool more = nwatches >= WAITV_MAX;
        pthread_mutex_unlock(&watch_lock);
        struct timespec deadline;
        if (more) {
            clock_gettime(CLOCK_MONOTONIC, &deadline);
            deadline.tv_nsec += POLL_NS;
            if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
            }
        }
        nsem__futex_waitv(words, expected, n, more ? &deadline : NULL);
        pthread_mutex_lock(&watch_lock);
        fire_moved();
        pthread_mutex_unlock(&watch_lock);
    }
    return NULL;
}

int nsem__broker_init(void)
{
    pthread_t t;
    int e = pthread_create(&t, NULL, watcher, NULL);
    if (e) return -e;
    pthread_detach(t);
    return 0;
}

static void control_changed(void)
{
    atomic_fetch_add(&control, 1); /* seq_cst */
    nsem__futex_wake_all(&control);
}

/* Drops the watches of a client's thread (token), or of all its threads (token 0); bumps the
 * proxy once if any is dropped that was not the caller's own (watch_lock held). */
static uint32_t drop_watches(uint32_t client_id, uint32_t token, _Atomic uint32_t *proxy)
{
    uint32_t left = 0;
    bool dropped = false;
    for (uint32_t i = 0; i < nwatches;) {
        if (watches[i].client_id == client_id && (!token || watches[i].token == token)) {
            watches[i] = watches[--nwatches];
            dropped = true;
            continue;
        }
        if (watches[i].client_id == client_id) left++;
        i++;
    }
    if (dropped && !token && proxy) bump(proxy); /* its other threads wake, and watch again */
    return left;
}

/* Watches the words of objs for c's thread `token`, replacing its former watches. False when out
 * of memory (the caller then polls: its proxy is bumped at once). */
static bool watch(struct nsem_client *c, uint32_t token, struct nsem_obj **objs, uint32_t n, _Atomic uint32_t *proxy)
{
    pthread_mutex_lock(&watch_lock);
    uint32_t left = drop_watches(c->id, token, proxy);
    if (left + n > WATCHES_PER_CLIENT) drop_watches(c->id, 0, proxy); /* the others ask again */
    bool ok = true;
    if (nwatches + n > watch_cap) {
        uint32_t cap = watch_cap ? watch_cap * 2 : 256;
        while (cap < nwatches + n) cap *= 2;
        struct watch *w = realloc(watches, cap * sizeof *w);
        if (w) {
            watches = w;
            watch_cap = cap;
        } else {
            ok = false;
        }
    }
    for (uint32_t i = 0; ok && i < n; i++) {
        struct nsem_slot *s = nsem__obj_slot(objs[i]);
        watches[nwatches++] = (struct watch){&s->seq, nsem__slot_arm(s), c->id, token, proxy};
    }
    if (!ok) bump(proxy);
    pthread_mutex_unlock(&watch_lock);
    control_changed();
    return ok;
}

void nsem__broker_client_gone(struct nsem_client *c)
{
    if (!c->proxy_slot) return;
    pthread_mutex_lock(&watch_lock);
    drop_watches(c->id, 0, NULL);
    pthread_mutex_unlock(&watch_lock);
    control_changed();
    nsem__arena_free(c->proxy_slot);
    c->proxy_slot = 0;
}

/* ---- checks -------------------------------------------------------------------------------- */

static bool brokered(const struct nsem_client *c, const struct nsem_obj *obj)
{
    return nsem_slot_domain(obj->slot) != c->domain;
}

static bool sem_kind(const struct nsem_obj *obj, uint32_t kind)
{
    return obj->ops == &nsem__semaphore_ops && (atomic_load_explicit(&nsem__obj_slot(obj)->flags, memory_order_relaxed) & kind);
}

static bool is_exclusive(const struct nsem_obj *obj)
{
    return sem_kind(obj, NSEM_SLOT_EXCLUSIVE);
}

static bool is_undo(const struct nsem_obj *obj)
{
    return sem_kind(obj, NSEM_SLOT_UNDO);
}

/* A thread token of c's: its client part c's id, its thread part not 0. */
static bool token_ok(const struct nsem_client *c, uint32_t token)
{
    return token <= NSEM_TOKEN_MASK && NSEM_TOKEN_CLIENT(token) == c->id && (token & NSEM_TOKEN_MAX_THREADS);
}

/* ---- SIGNAL -------------------------------------------------------------------------------- */

/* Replaces the value of an unlocked word with f(value); false when it is locked. */
static bool change(struct nsem_slot *s, uint32_t (*f)(uint32_t))
{
    uint64_t w = atomic_load(&s->state); /* seq_cst, as every access to state */
    do {
        if (nsem_word_locker(w)) return false;
    } while (!atomic_compare_exchange_weak(&s->state, &w, nsem_word(f(nsem_word_value(w)), 0)));
    return true;
}

static DWORD release_semaphore(struct nsem_slot *s, int32_t count, int32_t *previous)
{
    int32_t max = atomic_load_explicit(&s->max, memory_order_relaxed);
    uint64_t w = atomic_load(&s->state); /* seq_cst */
    for (;;) {
        if (nsem_word_locker(w)) return ERROR_RETRY;
        uint32_t nv;
        DWORD e = nsem_state_sem_release(nsem_word_value(w), max, count, &nv);
        if (e) return e;
        if (atomic_compare_exchange_weak(&s->state, &w, nsem_word(nv, 0))) {
            *previous = (int32_t)nsem_word_value(w);
            nsem__slot_wake(s);
            return 0;
        }
    }
}

/* Frees a mutex `token` owns, storing value (0, or abandoned); false when locked. */
static bool mutex_free(struct nsem_slot *s, uint32_t token, uint32_t value)
{
    uint64_t w = atomic_load(&s->state); /* seq_cst */
    do {
        if (nsem_word_locker(w) || nsem_state_mutex_check_owner(nsem_word_value(w), token)) return false;
    } while (!atomic_compare_exchange_weak(&s->state, &w, nsem_word(value, 0)));
    atomic_store_explicit(&s->recursion, 0, memory_order_relaxed);
    atomic_store_explicit(&s->owner_pid, 0, memory_order_relaxed);
    atomic_store_explicit(&s->owner_tid, 0, memory_order_relaxed);
    nsem__slot_wake(s);
    return true;
}

static DWORD release_mutex(struct nsem_slot *s, uint32_t token)
{
    uint64_t w = atomic_load(&s->state); /* seq_cst */
    if (nsem_state_mutex_check_owner(nsem_word_value(w), token)) return ERROR_NOT_OWNER;
    uint32_t rec = atomic_load_explicit(&s->recursion, memory_order_relaxed);
    if (rec > 1) { /* only the owner changes it, and the owner is the caller, which waits for us */
        atomic_store_explicit(&s->recursion, rec - 1, memory_order_relaxed);
        return 0;
    }
    return mutex_free(s, token, 0) ? 0 : ERROR_RETRY;
}

static DWORD pulse_event(struct nsem_slot *s)
{
    bool manual = atomic_load_explicit(&s->flags, memory_order_relaxed) & NSEM_SLOT_MANUAL_RESET;
    bool waiters = nsem_waiting_count(atomic_load(&s->waiting)) > 0; /* seq_cst */
    uint32_t (*f)(uint32_t) = manual ? nsem_state_event_pulse_manual
                              : waiters ? nsem_state_event_set
                                        : nsem_state_event_reset;
    if (!change(s, f)) return ERROR_RETRY;
    if (manual || waiters) nsem__slot_wake(s);
    return 0;
}

/* ---- exclusive and undo semaphores ------------------------------------------------------- */

/* Locks the state word for `token`: false (nothing done) when someone else holds it. */
static bool lock_word(struct nsem_slot *s, uint32_t token, uint32_t *value)
{
    uint64_t w = atomic_load(&s->state); /* seq_cst */
    do {
        if (nsem_word_locker(w)) return false;
    } while (!atomic_compare_exchange_weak(&s->state, &w, nsem_word(nsem_word_value(w), token)));
    *value = nsem_word_value(w);
    return true;
}

static void unlock_word(struct nsem_slot *s, uint32_t value)
{
    atomic_store(&s->state, nsem_word(value, 0)); /* seq_cst; we hold the lock */
    nsem__slot_wake(s);
}

/* The waiter queue of an exclusive semaphore, NULL if none (semaphore.c's check of `aux`). */
static struct nsem_excl_queue *queue_of(const struct nsem_obj *obj)
{
    uint32_t domain = nsem_slot_domain(obj->slot);
    uint32_t local = atomic_load_explicit(&nsem__obj_slot(obj)->aux, memory_order_relaxed);
    if (!nsem__arena_local_ok(domain, local)) return NULL;
    struct nsem_slot *q = nsem__arena_slot(nsem_slot_index(domain, local));
    return atomic_load_explicit(&q->type, memory_order_relaxed) == NSEM_TYPE_EXCL_QUEUE ? (struct nsem_excl_queue *)(void *)q
                                                                                       : NULL;
}

static void set_owner(struct nsem_slot *s, uint32_t recursion, pid_t pid, uint32_t tid)
{
    atomic_store_explicit(&s->recursion, recursion, memory_order_relaxed);
    atomic_store_explicit(&s->owner_pid, recursion ? (uint32_t)pid : 0, memory_order_relaxed);
    atomic_store_explicit(&s->owner_tid, recursion ? tid : 0, memory_order_relaxed);
}

/* The value after the last release (state locked): handed to the oldest waiter, else free. */
static uint32_t hand_on(struct nsem_obj *obj, struct nsem_slot *s)
{
    struct nsem_excl_queue *q = queue_of(obj);
    uint32_t next = q ? nsem_q_pop(q) : 0;
    if (!next) return 0;
    atomic_store_explicit(&s->recursion, 1, memory_order_relaxed);
    return next | NSEM_EXCL_HANDED;
}

static DWORD excl_release(struct nsem_obj *obj, uint32_t me, int32_t *previous)
{
    struct nsem_slot *s = nsem__obj_slot(obj);
    uint32_t v;
    if (!lock_word(s, me, &v)) return ERROR_RETRY;
    DWORD e = nsem_state_excl_check_release(v, NSEM_TOKEN_CLIENT(me)); /* any thread of the owner's process */
    if (e) {
        unlock_word(s, v);
        return e;
    }
    uint32_t rec = atomic_load_explicit(&s->recursion, memory_order_relaxed);
    if (rec > 1 && !(v & NSEM_EXCL_HANDED)) {
        atomic_store_explicit(&s->recursion, rec - 1, memory_order_relaxed);
    } else {
        set_owner(s, 0, 0, 0);
        v = hand_on(obj, s);
    }
    unlock_word(s, v);
    *previous = 0; /* while owned the count is 0 */
    return 0;
}

/* Abandons obj if `me` (or, whole_process, any thread of its client) owns it; false when locked. */
static bool excl_abandon_if(struct nsem_obj *obj, uint32_t me, bool whole_process, pid_t pid)
{
    struct nsem_slot *s = nsem__obj_slot(obj);
    uint32_t v;
    if (!lock_word(s, me, &v)) return false;
    uint32_t owner = v & NSEM_TOKEN_MASK;
    if (owner && (owner == me || (whole_process && NSEM_TOKEN_CLIENT(owner) == NSEM_TOKEN_CLIENT(me)))) {
        atomic_store_explicit(&s->last_owner_pid, (uint32_t)pid, memory_order_relaxed);
        set_owner(s, 0, 0, 0);
        v = nsem_state_mutex_abandon();
    }
    unlock_word(s, v);
    return true;
}

/* Leaves obj's waiter queue (the wait is over); what was handed to `me` passes on. */
static void excl_leave(struct nsem_obj *obj, uint32_t me)
{
    struct nsem_excl_queue *q = queue_of(obj);
    struct nsem_slot *s = nsem__obj_slot(obj);
    uint64_t w = atomic_load(&s->state); /* seq_cst: a look before locking, which would wake the sleepers */
    bool handed = (nsem_word_value(w) & NSEM_TOKEN_MASK) == me && (nsem_word_value(w) & NSEM_EXCL_HANDED);
    uint32_t v;
    if (!q || (!handed && !nsem_q_contains(q, me)) || !lock_word(s, me, &v)) return;
    if ((v & NSEM_TOKEN_MASK) == me && (v & NSEM_EXCL_HANDED)) {
        set_owner(s, 0, 0, 0);
        v = hand_on(obj, s);
    } else {
        nsem_q_remove_if(q, nsem_q_is_token, me);
    }
    unlock_word(s, v);
}

/* The caller's undo record of obj (made at its open), NULL when there is none. */
static struct nsem_undo_record *undo_record(struct nsem_client *c, struct nsem_obj *obj)
{
    uint32_t slot = nsem__undo_record_for(c, obj);
    return slot ? (struct nsem_undo_record *)(void *)nsem__arena_slot(slot) : NULL;
}

/* Counts n more permits taken (n < 0: given back, never below 0). */
static void undo_count(struct nsem_client *c, struct nsem_obj *obj, int32_t n)
{
    struct nsem_undo_record *r = undo_record(c, obj);
    if (!r) return;
    uint32_t taken = atomic_load_explicit(&r->taken, memory_order_relaxed); /* the server's alone: relaxed */
    taken = n >= 0 ? taken + (uint32_t)n : (taken > (uint32_t)-n ? taken - (uint32_t)-n : 0);
    atomic_store_explicit(&r->taken, taken, memory_order_relaxed);
}

void nsem__broker_closing(struct nsem_client *c, struct nsem_obj *obj)
{
    if (!brokered(c, obj) || !is_exclusive(obj)) return;
    uint32_t handles = 0;
    for (uint32_t i = 0; i < c->handles.size; i++) handles += c->handles.entries[i].obj == obj;
    if (handles > 1) return; /* not the process's last handle */
    /* As lib/handleapi.c does at the last close: an exclusive semaphore the process owns is
     * abandoned. A wait-all's lock is held for a few instructions: waited out, within reason. */
    for (int i = 0; i < 1000 && !excl_abandon_if(obj, NSEM_MAKE_TOKEN(c->id, 1), true, c->pid); i++) sched_yield();
}

/* The thread `token` of c ended: the brokered mutexes it owns are abandoned (its own arena's
 * the library abandons itself). */
static void thread_exit(struct nsem_client *c, uint32_t token)
{
    for (uint32_t i = 0; i < c->handles.size; i++) {
        struct nsem_obj *obj = c->handles.entries[i].obj;
        if (!obj || !brokered(c, obj)) continue;
        if (is_exclusive(obj)) {
            excl_abandon_if(obj, token, false, c->pid);
            continue;
        }
        if (obj->ops != &nsem__mutex_ops) continue;
        struct nsem_slot *s = nsem__obj_slot(obj);
        if (nsem_state_mutex_check_owner(nsem_word_value(atomic_load(&s->state)), token)) continue; /* seq_cst */
        atomic_store_explicit(&s->last_owner_pid, (uint32_t)c->pid, memory_order_relaxed);
        mutex_free(s, token, nsem_state_mutex_abandon());
    }
}

static DWORD signal_one(struct nsem_client *c, const struct nsem_req_signal *r, int32_t *previous)
{
    if (!token_ok(c, r->token)) return ERROR_INVALID_PARAMETER;
    if (r->action == NSEM_SIGNAL_THREAD_EXIT) {
        thread_exit(c, r->token);
        return 0;
    }
    struct nsem_handle_entry *e = nsem__handle_get(&c->handles, r->handle);
    if (!e) return ERROR_INVALID_HANDLE;
    struct nsem_obj *obj = e->obj;
    struct nsem_slot *s = nsem__obj_slot(obj);
    switch (r->action) {
    case NSEM_SIGNAL_RELEASE_SEMAPHORE: {
        if (obj->ops != &nsem__semaphore_ops) return ERROR_INVALID_HANDLE;
        if (r->count <= 0 || (is_exclusive(obj) && r->count != 1)) return ERROR_INVALID_PARAMETER; /* EXCLUSIVE.md's order */
        if (!(e->access & SEMAPHORE_MODIFY_STATE)) return ERROR_ACCESS_DENIED;
        if (is_exclusive(obj)) return excl_release(obj, r->token, previous);
        DWORD err = release_semaphore(s, r->count, previous);
        if (!err && is_undo(obj)) undo_count(c, obj, -r->count); /* gives back at most what it took */
        return err;
    }
    case NSEM_SIGNAL_RELEASE_MUTEX:
        if (obj->ops != &nsem__mutex_ops) return ERROR_INVALID_HANDLE;
        return release_mutex(s, r->token);
    case NSEM_SIGNAL_SET_EVENT:
    case NSEM_SIGNAL_RESET_EVENT:
    case NSEM_SIGNAL_PULSE_EVENT:
        if (obj->ops != &nsem__event_ops) return ERROR_INVALID_HANDLE;
        if (!(e->access & EVENT_MODIFY_STATE)) return ERROR_ACCESS_DENIED;
        if (r->action == NSEM_SIGNAL_PULSE_EVENT) return pulse_event(s);
        if (!change(s, r->action == NSEM_SIGNAL_SET_EVENT ? nsem_state_event_set : nsem_state_event_reset))
            return ERROR_RETRY;
        if (r->action == NSEM_SIGNAL_SET_EVENT) nsem__slot_wake(s);
        return 0;
    default:
        return ERROR_INVALID_PARAMETER;
    }
}

uint32_t nsem__do_signal(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    (void)pass_fd;
    struct nsem_rep_signal *rep = (struct nsem_rep_signal *)out;
    memset(rep, 0, sizeof *rep);
    DWORD e = signal_one(c, req, &rep->previous);
    uint32_t len = e ? (uint32_t)sizeof(struct nsem_rep_status) : (uint32_t)sizeof *rep; /* a failure says no more */
    rep->hdr = (struct nsem_rep_hdr){len, e};
    return len;
}

/* ---- TRY_WAIT ------------------------------------------------------------------------------ */

struct attempt {
    struct nsem_obj *objs[64];
    uint32_t order[64]; /* wait-all: by slot */
    uint32_t n, me, tid;
    pid_t pid;
    struct nsem_client *c;
    bool armed, own[64];
    const uint32_t *pulses;
    uint64_t acquired;
};

static void owner_fields(struct attempt *a, struct nsem_slot *s)
{
    atomic_store_explicit(&s->recursion, 1, memory_order_relaxed);
    atomic_store_explicit(&s->owner_pid, (uint32_t)a->pid, memory_order_relaxed);
    atomic_store_explicit(&s->owner_tid, a->tid, memory_order_relaxed);
}

static bool is_manual_event(const struct nsem_obj *obj, const struct nsem_slot *s)
{
    return obj->ops == &nsem__event_ops && (atomic_load_explicit(&s->flags, memory_order_relaxed) & NSEM_SLOT_MANUAL_RESET);
}

/* One object of a wait-any: BUSY, or acquired (OK, ABANDONED, RECURSE); *error at a limit. */
/* An exclusive semaphore, wait-any: as lib/exclusive.c's nsem__excl_take, never waiting for a lock;
 * a blocked waiter (armed) joins the queue. */
static enum nsem_take excl_take(struct attempt *a, uint32_t i, DWORD *error)
{
    struct nsem_obj *obj = a->objs[i];
    struct nsem_slot *s = nsem__obj_slot(obj);
    struct nsem_excl_queue *q = queue_of(obj);
    uint32_t me = a->me, v = nsem_word_value(atomic_load(&s->state)); /* seq_cst */
    /* Busy and nothing to do about it: say so without locking, since the unlock would wake the very
     * words the caller and the watcher have armed. */
    if (!nsem_excl_takeable(q, v, me) && (!a->armed || !q || nsem_q_contains(q, me))) return NSEM_TAKE_BUSY;
    if (!lock_word(s, me, &v)) return NSEM_TAKE_BUSY;
    if (!nsem_excl_takeable(q, v, me)) {
        if (a->armed && q && !nsem_q_contains(q, me)) nsem_q_push(q, me); /* first come, first served */
        unlock_word(s, v);
        return NSEM_TAKE_BUSY;
    }
    if ((v & NSEM_TOKEN_MASK) == me && (v & NSEM_EXCL_HANDED)) { /* handed to us by a release */
        set_owner(s, 1, a->pid, a->tid);
        if (a->own[i]) a->acquired |= 1ull << i;
        unlock_word(s, me);
        return NSEM_TAKE_OK;
    }
    if (!(v & NSEM_TOKEN_MASK) && q && nsem_q_len(q) && nsem_q_at(q, 0) == me) nsem_q_pop(q); /* our turn */
    uint32_t nv;
    enum nsem_take r = nsem_state_take(NSEM_TYPE_SEMAPHORE, NSEM_SLOT_EXCLUSIVE, v, me, &nv);
    if (r == NSEM_TAKE_RECURSE) {
        if (!nsem_recurse(&s->recursion, NSEM_EXCL_MAX_RECURSION)) {
            *error = ERROR_TOO_MANY_SEM_REQUESTS;
            r = NSEM_TAKE_BUSY;
        }
    } else if (r != NSEM_TAKE_BUSY) {
        set_owner(s, 1, a->pid, a->tid);
        if (a->own[i]) a->acquired |= 1ull << i;
        v = nv;
    }
    unlock_word(s, v);
    return r;
}

static enum nsem_take take_one(struct attempt *a, uint32_t i, DWORD *error)
{
    struct nsem_obj *obj = a->objs[i];
    struct nsem_slot *s = nsem__obj_slot(obj);
    if (is_exclusive(obj)) return excl_take(a, i, error);
    uint32_t flags = atomic_load_explicit(&s->flags, memory_order_relaxed);
    uint64_t w = atomic_load(&s->state); /* seq_cst: after the watch armed the word */
    for (;;) {
        uint32_t nv, v = nsem_word_value(w);
        if (a->armed && is_manual_event(obj, s) && nsem_state_event_pulses(v) != a->pulses[i]) return NSEM_TAKE_OK;
        enum nsem_take r = nsem_state_take(obj->ops->type, flags, v, a->me, &nv);
        if (r == NSEM_TAKE_RECURSE) {
            if (nsem_recurse(&s->recursion, NSEM_MUTEX_MAX_RECURSION)) return r; /* the owner waits for us */
            *error = ERROR_MUTANT_LIMIT_EXCEEDED;
            return NSEM_TAKE_BUSY;
        }
        if (r == NSEM_TAKE_BUSY || nsem_word_locker(w)) return NSEM_TAKE_BUSY;
        if (atomic_compare_exchange_weak(&s->state, &w, nsem_word(nv, 0))) {
            if (obj->ops == &nsem__mutex_ops) {
                owner_fields(a, s);
                if (a->own[i]) a->acquired |= 1ull << i;
            }
            if ((flags & NSEM_SLOT_UNDO) && obj->ops == &nsem__semaphore_ops) undo_count(a->c, obj, 1);
            return r;
        }
    }
}

static void unlock_all(struct attempt *a, const uint32_t *values, uint32_t count)
{
    for (uint32_t k = 0; k < count; k++) {
        struct nsem_slot *s = nsem__obj_slot(a->objs[a->order[k]]);
        atomic_store(&s->state, nsem_word(values[k], 0)); /* seq_cst; we hold the lock */
        nsem__slot_wake(s);
    }
}

/* Wait-all: lock every object in slot order, take all if all are signalled, else none. A lock
 * someone else holds counts as not signalled: the server never waits. */
static bool take_all(struct attempt *a, DWORD *result, DWORD *error)
{
    uint32_t old[64], nv[64] = {0};
    enum nsem_take how[64];
    for (uint32_t k = 0; k < a->n; k++) {
        struct nsem_slot *s = nsem__obj_slot(a->objs[a->order[k]]);
        uint64_t w = atomic_load(&s->state); /* seq_cst */
        while (!nsem_word_locker(w) && !atomic_compare_exchange_weak(&s->state, &w, nsem_word(nsem_word_value(w), a->me))) {
        }
        if (nsem_word_locker(w)) {
            unlock_all(a, old, k);
            return false;
        }
        old[k] = nsem_word_value(w);
    }
    uint32_t abandoned = 64;
    for (uint32_t k = 0; k < a->n; k++) {
        uint32_t i = a->order[k];
        struct nsem_slot *s = nsem__obj_slot(a->objs[i]);
        uint32_t flags = atomic_load_explicit(&s->flags, memory_order_relaxed);
        how[k] = nsem_state_take(a->objs[i]->ops->type, flags, old[k], a->me, &nv[k]);
        bool excl = is_exclusive(a->objs[i]);
        if (how[k] == NSEM_TAKE_RECURSE && atomic_load_explicit(&s->recursion, memory_order_relaxed) >=
                                               (excl ? NSEM_EXCL_MAX_RECURSION : NSEM_MUTEX_MAX_RECURSION)) {
            *error = excl ? ERROR_TOO_MANY_SEM_REQUESTS : ERROR_MUTANT_LIMIT_EXCEEDED;
            how[k] = NSEM_TAKE_BUSY;
        }
        if (how[k] == NSEM_TAKE_BUSY) {
            unlock_all(a, old, a->n);
            return false;
        }
        if (how[k] == NSEM_TAKE_ABANDONED && i < abandoned) abandoned = i;
    }
    for (uint32_t k = 0; k < a->n; k++) {
        uint32_t i = a->order[k];
        struct nsem_slot *s = nsem__obj_slot(a->objs[i]);
        if (how[k] == NSEM_TAKE_RECURSE) {
            atomic_store_explicit(&s->recursion, atomic_load_explicit(&s->recursion, memory_order_relaxed) + 1,
                                  memory_order_relaxed);
        } else if (a->objs[i]->ops == &nsem__mutex_ops || is_exclusive(a->objs[i])) {
            owner_fields(a, s);
            if (a->own[i]) a->acquired |= 1ull << i;
        }
    }
    unlock_all(a, nv, a->n);
    for (uint32_t k = 0; k < a->n; k++)
        if (is_undo(a->objs[a->order[k]])) undo_count(a->c, a->objs[a->order[k]], 1);
    *result = abandoned < 64 ? WAIT_ABANDONED_0 + abandoned : WAIT_OBJECT_0;
    return true;
}

/* Whether every object is signalled for the caller, read without locking anything: a failed
 * wait-all's lock and unlock would move the words the caller and the watcher sleep on, and wake
 * them at once, forever. */
static bool all_signalled(const struct attempt *a)
{
    for (uint32_t i = 0; i < a->n; i++) {
        struct nsem_slot *s = nsem__obj_slot(a->objs[i]);
        uint64_t w = atomic_load(&s->state); /* seq_cst: after the watches armed the words */
        uint32_t nv;
        if (nsem_word_locker(w) ||
            nsem_state_take(a->objs[i]->ops->type, atomic_load_explicit(&s->flags, memory_order_relaxed),
                            nsem_word_value(w), a->me, &nv) == NSEM_TAKE_BUSY)
            return false;
    }
    return true;
}

static int by_slot(const void *x, const void *y, void *objs)
{
    struct nsem_obj *const *o = objs;
    uint32_t sx = o[*(const uint32_t *)x]->slot, sy = o[*(const uint32_t *)y]->slot;
    return sx < sy ? -1 : sx > sy;
}

/* The client's proxy word (a slot of its own arena), made on first use; NULL when its arena is full. */
static struct nsem_slot *proxy_of(struct nsem_client *c)
{
    if (!c->proxy_slot) {
        c->proxy_slot = nsem__arena_alloc(c->domain);
        if (!c->proxy_slot) return NULL;
        atomic_store_explicit(&nsem__arena_slot(c->proxy_slot)->type, NSEM_TYPE_PROXY, memory_order_relaxed);
    }
    return nsem__arena_slot(c->proxy_slot);
}

static DWORD try_wait(struct nsem_client *c, const struct nsem_req_try_wait *r, struct nsem_rep_try_wait *rep)
{
    struct attempt a = {.n = r->count, .me = r->token, .tid = r->tid, .pid = c->pid, .c = c,
                        .armed = r->flags & NSEM_TRY_WAIT_ARMED, .pulses = r->pulses};
    bool all = (r->flags & NSEM_TRY_WAIT_ALL) && r->count > 1;
    if (r->count == 0 || r->count > 64 || (r->flags & ~(NSEM_TRY_WAIT_ALL | NSEM_TRY_WAIT_ARMED | NSEM_TRY_WAIT_LAST)) ||
        !token_ok(c, r->token))
        return ERROR_INVALID_PARAMETER;
    struct nsem_obj *watched[64];
    uint32_t nwatched = 0;
    for (uint32_t i = 0; i < a.n; i++) {
        struct nsem_handle_entry *e = nsem__handle_get(&c->handles, r->handles[i]);
        if (!e) return ERROR_INVALID_HANDLE;
        const struct nsem_obj_ops *ops = e->obj->ops;
        if (ops != &nsem__semaphore_ops && ops != &nsem__mutex_ops && ops != &nsem__event_ops && ops != &nsem__process_ops)
            return ERROR_INVALID_HANDLE;
        if (!(e->access & SYNCHRONIZE)) return ERROR_ACCESS_DENIED;
        a.objs[i] = e->obj;
        a.order[i] = i;
        a.own[i] = !brokered(c, e->obj);
        if (!a.own[i]) watched[nwatched++] = e->obj;
        rep->pulses[i] = nsem_state_event_pulses(nsem_word_value(atomic_load(&nsem__obj_slot(e->obj)->state)));
    }
    if (all) {
        qsort_r(a.order, a.n, sizeof a.order[0], by_slot, a.objs);
        for (uint32_t k = 1; k < a.n; k++)
            if (a.objs[a.order[k]] == a.objs[a.order[k - 1]]) return ERROR_INVALID_PARAMETER;
    }
    struct nsem_slot *proxy = proxy_of(c);
    if (!proxy) return ERROR_NO_SYSTEM_RESOURCES;
    /* The proxy's value before the watches are armed, and they before the attempt: a change after
     * the attempt moves a watched word, which moves the proxy past what the caller sleeps on. */
    rep->proxy_slot = nsem_slot_local(c->proxy_slot);
    rep->proxy_seq = atomic_load(&proxy->seq); /* seq_cst */
    watch(c, r->token, watched, nwatched, &proxy->seq);
    DWORD error = 0, result = 0;
    bool got = false;
    if (all) {
        got = all_signalled(&a) && take_all(&a, &result, &error);
    } else {
        for (uint32_t i = 0; i < a.n && !got && !error; i++) {
            enum nsem_take t = take_one(&a, i, &error);
            if (t == NSEM_TAKE_BUSY) continue;
            got = true;
            result = (t == NSEM_TAKE_ABANDONED ? WAIT_ABANDONED_0 : WAIT_OBJECT_0) + i;
        }
    }
    bool over = got || error || (r->flags & NSEM_TRY_WAIT_LAST);
    if (over) /* the queues it joined, but for the semaphore it got */
        for (uint32_t i = 0; i < a.n; i++)
            if (is_exclusive(a.objs[i]) && !(got && !all && result - (result >= WAIT_ABANDONED_0 ? WAIT_ABANDONED_0 : 0) == i))
                excl_leave(a.objs[i], a.me);
    if (over) { /* the wait is over: its watches would only wake the proxy for nothing */
        pthread_mutex_lock(&watch_lock);
        drop_watches(c->id, r->token, NULL);
        pthread_mutex_unlock(&watch_lock);
    }
    if (error) return error;
    rep->status = got ? NSEM_TRY_WAIT_GOT : NSEM_TRY_WAIT_NOT_YET;
    uint32_t owner = nsem_word_value(atomic_load(&nsem__obj_slot(a.objs[0])->state)) & NSEM_TOKEN_MASK; /* seq_cst */
    rep->owner_elsewhere = is_exclusive(a.objs[0]) && owner && NSEM_TOKEN_CLIENT(owner) != c->id;
    rep->result = result;
    rep->acquired = a.acquired;
    return 0;
}

uint32_t nsem__do_try_wait(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    (void)pass_fd;
    struct nsem_rep_try_wait *rep = (struct nsem_rep_try_wait *)out;
    memset(rep, 0, sizeof *rep);
    DWORD e = try_wait(c, req, rep);
    uint32_t len = e ? (uint32_t)sizeof(struct nsem_rep_status) : (uint32_t)sizeof *rep;
    rep->hdr = (struct nsem_rep_hdr){len, e};
    return len;
}

/* semaphore.c — server-side semaphores: parameters, initial state, query. */
#include <assert.h>

#include "server/server.h"

/* semaphores: counting, or exclusive (owned by one process at a time; EXCLUSIVE.md) */

static bool is_exclusive(const struct nsem_slot *s)
{
    return atomic_load_explicit(&s->flags, memory_order_relaxed) & NSEM_SLOT_EXCLUSIVE;
}

static DWORD sem_check_params(const struct nsem_create_params *p)
{
    const uint32_t known = NSEM_CREATE_SEM_EXCLUSIVE | NSEM_CREATE_SEM_UNDO;
    if ((p->type_flags & ~known) || (p->type_flags & known) == known) return ERROR_INVALID_PARAMETER;
    if (p->max <= 0 || p->initial < 0 || p->initial > p->max) return ERROR_INVALID_PARAMETER;
    if (p->type_flags & NSEM_CREATE_SEM_EXCLUSIVE) {
        if (p->max != 1) return ERROR_INVALID_PARAMETER;
        if (p->initial == 0 && p->owner_token == 0) return ERROR_INVALID_PARAMETER; /* owned by whom? */
    }
    return 0;
}

static void sem_init(struct nsem_slot *slot, const struct nsem_create_params *p)
{
    atomic_store_explicit(&slot->max, p->max, memory_order_relaxed);
    if (!(p->type_flags & NSEM_CREATE_SEM_EXCLUSIVE)) {
        atomic_store_explicit(&slot->flags, (p->type_flags & NSEM_CREATE_SEM_UNDO) ? NSEM_SLOT_UNDO : 0,
                              memory_order_relaxed);
        atomic_store(&slot->state, nsem_word((uint32_t)p->initial, 0));
        return;
    }
    atomic_store_explicit(&slot->flags, NSEM_SLOT_EXCLUSIVE, memory_order_relaxed);
    /* Its waiter queue, for first come, first served; without one (arena full) it still works,
     * in no particular order. */
    uint32_t queue = nsem__arena_alloc(nsem_slot_domain(nsem__arena_index_of(slot)));
    if (queue) {
        struct nsem_excl_queue *q = (struct nsem_excl_queue *)nsem__arena_slot(queue);
        atomic_store_explicit(&q->head, 0, memory_order_relaxed);
        atomic_store_explicit(&q->len, 0, memory_order_relaxed);
        atomic_store_explicit(&q->type, NSEM_TYPE_EXCL_QUEUE, memory_order_relaxed);
    }
    atomic_store_explicit(&slot->aux, nsem_slot_local(queue), memory_order_relaxed); /* its clients' index */
    nsem__slot_init_owner(slot, p, p->initial == 0); /* 0: owned by the creating thread */
}

/* The waiter queue's slot index, 0 if none. `aux` is in client-writable memory: a value that is not
 * a slot of the object's own arena is taken for none, so that a scribble costs its writer only. */
static uint32_t queue_of(const struct nsem_obj *obj)
{
    uint32_t domain = nsem_slot_domain(obj->slot);
    uint32_t local = atomic_load_explicit(&nsem__obj_slot(obj)->aux, memory_order_relaxed);
    if (!nsem__arena_local_ok(domain, local)) return 0;
    uint32_t qi = nsem_slot_index(domain, local);
    return atomic_load_explicit(&nsem__arena_slot(qi)->type, memory_order_relaxed) == NSEM_TYPE_EXCL_QUEUE ? qi : 0;
}

/* A dead client's threads leave an exclusive semaphore's queue, and what they owned (or were
 * handed) is abandoned; under the state lock, as every change of an exclusive semaphore. */
static bool excl_client_gone(struct nsem_obj *obj, uint32_t client_id, pid_t pid)
{
    struct nsem_slot *s = nsem__obj_slot(obj);
    uint32_t qi = queue_of(obj);
    struct nsem_excl_queue *q = qi ? (struct nsem_excl_queue *)nsem__arena_slot(qi) : NULL;
    uint64_t w = atomic_load(&s->state); /* seq_cst */
    for (;;) {
        if (nsem_word_locker(w)) return false; /* a live client holds the lock: later, never spin */
        if (atomic_compare_exchange_weak(&s->state, &w, nsem_word(nsem_word_value(w), NSEM_SERVER_TOKEN))) break;
    }
    uint32_t v = nsem_word_value(w), owner = v & NSEM_TOKEN_MASK;
    if (q) nsem_q_remove_if(q, nsem_q_is_client, client_id);
    if (owner && NSEM_TOKEN_CLIENT(owner) == client_id) {
        atomic_store_explicit(&s->recursion, 0, memory_order_relaxed);
        atomic_store_explicit(&s->owner_pid, 0, memory_order_relaxed);
        atomic_store_explicit(&s->owner_tid, 0, memory_order_relaxed);
        atomic_store_explicit(&s->last_owner_pid, (uint32_t)pid, memory_order_relaxed);
        v = nsem_state_mutex_abandon();
    }
    atomic_store(&s->state, nsem_word(v, 0)); /* seq_cst: unlock */
    nsem__slot_wake(s);
    return true;
}

/* A counting semaphore has no owner: a dead client's permits stay taken, as on Windows. */
static bool sem_client_gone(struct nsem_obj *obj, uint32_t client_id, pid_t pid)
{
    assert(obj->ops == &nsem__semaphore_ops);
    return is_exclusive(nsem__obj_slot(obj)) ? excl_client_gone(obj, client_id, pid) : true;
}

static void sem_destroy(struct nsem_obj *obj)
{
    assert(obj->ops == &nsem__semaphore_ops);
    struct nsem_slot *s = nsem__obj_slot(obj);
    uint32_t queue = queue_of(obj);
    if (is_exclusive(s) && queue) nsem__arena_free(queue);
    atomic_store_explicit(&s->aux, 0, memory_order_relaxed);
}

static void sem_query(const struct nsem_obj *obj, struct nsem_obj_state *rep)
{
    assert(obj->ops == &nsem__semaphore_ops);
    struct nsem_slot *s = nsem__obj_slot(obj);
    uint32_t v = nsem_word_value(atomic_load(&s->state));
    rep->max = atomic_load_explicit(&s->max, memory_order_relaxed);
    if (!is_exclusive(s)) {
        rep->count = (int32_t)v;
        if (atomic_load_explicit(&s->flags, memory_order_relaxed) & NSEM_SLOT_UNDO) rep->flags = NSEM_INFO_UNDO;
        return;
    }
    rep->flags = NSEM_INFO_EXCLUSIVE;
    rep->count = (v & NSEM_TOKEN_MASK) ? 0 : 1;
    if (v & NSEM_TOKEN_MASK) {
        rep->recursion = atomic_load_explicit(&s->recursion, memory_order_relaxed);
        rep->owner_pid = atomic_load_explicit(&s->owner_pid, memory_order_relaxed);
        rep->owner_tid = atomic_load_explicit(&s->owner_tid, memory_order_relaxed);
    }
    rep->abandoned = (v & NSEM_MUTEX_ABANDONED) ? 1 : 0;
    if (rep->abandoned) rep->last_owner_pid = atomic_load_explicit(&s->last_owner_pid, memory_order_relaxed);
}

const struct nsem_obj_ops nsem__semaphore_ops = {
    .type = NSEM_TYPE_SEMAPHORE,
    .type_name = "Semaphore",
    .valid_access = SEMAPHORE_ALL_ACCESS,
    .mapping = {.read = STANDARD_RIGHTS_READ | SEMAPHORE_QUERY_STATE,
                .write = STANDARD_RIGHTS_WRITE | SEMAPHORE_MODIFY_STATE,
                .execute = STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE,
                .all = SEMAPHORE_ALL_ACCESS},
    .check_params = sem_check_params,
    .init = sem_init,
    .client_gone = sem_client_gone,
    .query = sem_query,
    .destroy = sem_destroy,
};

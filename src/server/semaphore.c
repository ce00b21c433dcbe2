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
    if (p->initial == 0) { /* owned by the creating thread */
        atomic_store_explicit(&slot->recursion, 1, memory_order_relaxed);
        atomic_store_explicit(&slot->owner_pid, p->owner_pid, memory_order_relaxed);
        atomic_store_explicit(&slot->owner_tid, p->owner_tid, memory_order_relaxed);
        atomic_store(&slot->state, nsem_word(p->owner_token & NSEM_TOKEN_MASK, 0));
    } else {
        atomic_store(&slot->state, nsem_word(0, 0));
    }
}

/* A counting semaphore has no owner: a dead client's permits stay taken, as on Windows. An
 * exclusive one owned by the dead client is abandoned. */
static bool sem_client_gone(struct nsem_obj *obj, uint32_t client_id, pid_t pid)
{
    assert(obj->ops == &nsem__semaphore_ops);
    if (!is_exclusive(nsem__obj_slot(obj))) return true;
    return nsem__obj_abandon_owned(obj, client_id, pid);
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
};

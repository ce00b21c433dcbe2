/* mutex.c — server-side mutexes: initial ownership, abandonment when the owner's process dies,
 * query. (A thread that ends while its process lives is handled by the client library.) */
#include <assert.h>

#include "server/server.h"

static DWORD mutex_check_params(const struct nsem_create_params *p)
{
    if ((p->type_flags & NSEM_CREATE_MUTEX_OWNED) && p->owner_token == 0) return ERROR_INVALID_PARAMETER;
    return 0;
}

static void mutex_init(struct nsem_slot *slot, const struct nsem_create_params *p)
{
    atomic_store_explicit(&slot->flags, 0, memory_order_relaxed);
    atomic_store_explicit(&slot->max, 1, memory_order_relaxed);
    nsem__slot_init_owner(slot, p, p->type_flags & NSEM_CREATE_MUTEX_OWNED);
}

static bool mutex_client_gone(struct nsem_obj *obj, uint32_t client_id, pid_t pid)
{
    assert(obj->ops == &nsem__mutex_ops);
    return nsem__obj_abandon_owned(obj, client_id, pid);
}

static void mutex_query(const struct nsem_obj *obj, struct nsem_obj_state *rep)
{
    assert(obj->ops == &nsem__mutex_ops);
    struct nsem_slot *s = nsem__obj_slot(obj);
    uint32_t v = nsem_word_value(atomic_load(&s->state));
    uint32_t rec = (v & NSEM_TOKEN_MASK) ? atomic_load_explicit(&s->recursion, memory_order_relaxed) : 0;
    rep->recursion = rec;
    rep->count = 1 - (int32_t)rec;
    rep->max = 1;
    if (v & NSEM_TOKEN_MASK) {
        rep->owner_pid = atomic_load_explicit(&s->owner_pid, memory_order_relaxed);
        rep->owner_tid = atomic_load_explicit(&s->owner_tid, memory_order_relaxed);
    }
    rep->abandoned = (v & NSEM_MUTEX_ABANDONED) ? 1 : 0;
    if (rep->abandoned) rep->last_owner_pid = atomic_load_explicit(&s->last_owner_pid, memory_order_relaxed);
}

/* Nothing but its slot. */
static void mutex_destroy(struct nsem_obj *obj)
{
    assert(obj->ops == &nsem__mutex_ops);
}

const struct nsem_obj_ops nsem__mutex_ops = {
    .type = NSEM_TYPE_MUTEX,
    .type_name = "Mutant",
    .valid_access = MUTANT_ALL_ACCESS,
    .mapping = {.read = STANDARD_RIGHTS_READ | MUTANT_QUERY_STATE,
                .write = STANDARD_RIGHTS_WRITE,
                .execute = STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE,
                .all = MUTANT_ALL_ACCESS},
    .check_params = mutex_check_params,
    .init = mutex_init,
    .client_gone = mutex_client_gone,
    .query = mutex_query,
    .destroy = mutex_destroy,
};

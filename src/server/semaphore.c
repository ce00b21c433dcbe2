/* semaphore.c — server-side semaphores: parameters, initial state, query. */
#include <assert.h>

#include "server/server.h"

static DWORD sem_check_params(const struct nsem_create_params *p)
{
    if (p->max <= 0 || p->initial < 0 || p->initial > p->max) return ERROR_INVALID_PARAMETER;
    return 0;
}

static void sem_init(struct nsem_slot *slot, const struct nsem_create_params *p)
{
    atomic_store_explicit(&slot->max, p->max, memory_order_relaxed);
    atomic_store_explicit(&slot->flags, 0, memory_order_relaxed);
    atomic_store(&slot->state, nsem_word((uint32_t)p->initial, 0));
}

/* A semaphore has no owner: a dead client's permits stay taken, as on Windows. */
static bool sem_client_gone(struct nsem_obj *obj, uint32_t client_id, pid_t pid)
{
    assert(obj->ops == &nsem__semaphore_ops);
    return true;
}

static void sem_query(const struct nsem_obj *obj, struct nsem_rep_query *rep)
{
    assert(obj->ops == &nsem__semaphore_ops);
    struct nsem_slot *s = nsem__obj_slot(obj);
    rep->count = (int32_t)nsem_word_value(atomic_load(&s->state));
    rep->max = atomic_load_explicit(&s->max, memory_order_relaxed);
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

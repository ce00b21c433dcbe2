/* event.c — server-side events: initial state, query. */
#include <assert.h>

#include "server/server.h"

static DWORD event_check_params(const struct nsem_create_params *p)
{
    return 0; /* CreateEventEx ignores unknown flag bits, as Windows does */
}

static void event_init(struct nsem_slot *slot, const struct nsem_create_params *p)
{
    uint32_t flags = (p->type_flags & NSEM_CREATE_EVENT_MANUAL) ? NSEM_SLOT_MANUAL_RESET : 0;
    atomic_store_explicit(&slot->flags, flags, memory_order_relaxed);
    atomic_store_explicit(&slot->max, 1, memory_order_relaxed);
    atomic_store(&slot->state, nsem_word((p->type_flags & NSEM_CREATE_EVENT_SET) ? NSEM_EVENT_SET : 0, 0));
}

/* An event has no owner. */
static bool event_client_gone(struct nsem_obj *obj, uint32_t client_id, pid_t pid)
{
    assert(obj->ops == &nsem__event_ops);
    return true;
}

static void event_query(const struct nsem_obj *obj, struct nsem_obj_state *rep)
{
    assert(obj->ops == &nsem__event_ops);
    struct nsem_slot *s = nsem__obj_slot(obj);
    rep->count = (nsem_word_value(atomic_load(&s->state)) & NSEM_EVENT_SET) ? 1 : 0;
    rep->max = 1;
    rep->flags = (atomic_load_explicit(&s->flags, memory_order_relaxed) & NSEM_SLOT_MANUAL_RESET)
                     ? NSEM_INFO_MANUAL_RESET
                     : 0;
}

/* Nothing but its slot. */
static void event_destroy(struct nsem_obj *obj)
{
    assert(obj->ops == &nsem__event_ops);
}

const struct nsem_obj_ops nsem__event_ops = {
    .type = NSEM_TYPE_EVENT,
    .type_name = "Event",
    .valid_access = EVENT_ALL_ACCESS,
    .mapping = {.read = STANDARD_RIGHTS_READ | EVENT_QUERY_STATE,
                .write = STANDARD_RIGHTS_WRITE | EVENT_MODIFY_STATE,
                .execute = STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE,
                .all = EVENT_ALL_ACCESS},
    .check_params = event_check_params,
    .init = event_init,
    .client_gone = event_client_gone,
    .query = event_query,
    .destroy = event_destroy,
};

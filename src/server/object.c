/*
 * object.c — server-side objects: creation into an arena slot, handle and pin references,
 * destruction with the last reference, access mapping, and the access check of an open.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "common/access_check.h"
#include "server/server.h"

/* Objects by slot index, per domain, so that a slot (from an UNPIN) finds its object. Grown on
 * demand. */
static struct nsem_obj **by_slot[NSEM_ARENA_MAX_DOMAINS];
static uint32_t by_slot_cap[NSEM_ARENA_MAX_DOMAINS];
static uint32_t live_objects;
static uint32_t live_in_domain[NSEM_ARENA_MAX_DOMAINS]; /* a system server limits each user */

const struct nsem_obj_ops *nsem__ops_for_type(uint32_t type)
{
    switch (type) {
    case NSEM_TYPE_SEMAPHORE:
        return &nsem__semaphore_ops;
    case NSEM_TYPE_MUTEX:
        return &nsem__mutex_ops;
    case NSEM_TYPE_EVENT:
        return &nsem__event_ops;
    case NSEM_TYPE_PROCESS:
        return &nsem__process_ops;
    default:
        return NULL;
    }
}

/* Enters obj (at its slot) in the table by slot; false when out of memory. */
static bool index_by_slot(struct nsem_obj *obj, uint32_t slot)
{
    uint32_t d = nsem_slot_domain(slot), local = nsem_slot_local(slot);
    if (local >= by_slot_cap[d]) {
        uint32_t cap = by_slot_cap[d] ? by_slot_cap[d] : 1024;
        while (cap <= local) cap *= 2;
        struct nsem_obj **n = realloc(by_slot[d], cap * sizeof *n);
        if (!n) return false;
        memset(n + by_slot_cap[d], 0, (cap - by_slot_cap[d]) * sizeof *n);
        by_slot[d] = n;
        by_slot_cap[d] = cap;
    }
    obj->slot = slot;
    by_slot[d][local] = obj;
    live_objects++;
    live_in_domain[d]++;
    return true;
}

struct nsem_obj *nsem__obj_adopt(const struct nsem_obj_ops *ops, uint32_t slot, struct nsem_sd_entry *sd)
{
    struct nsem_obj *obj = calloc(1, sizeof *obj);
    if (!obj || !index_by_slot(obj, slot)) {
        free(obj);
        nsem__sd_release(sd);
        return NULL;
    }
    obj->ops = ops;
    obj->sd = sd;
    nsem__arena_slot(slot)->sd_slot = sd->blob;
    return obj;
}

struct nsem_obj *nsem__obj_create(const struct nsem_obj_ops *ops, const struct nsem_create_params *p,
                                  struct nsem_sd_entry *sd, uint32_t domain)
{
    if (nsem__obj_count_in(domain) >= nsem__limits.max_objects) return NULL; /* callers check nsem__quota_objects first */
    struct nsem_obj *obj = calloc(1, sizeof *obj);
    uint32_t slot = obj ? nsem__arena_alloc(domain) : 0;
    if (!slot || !index_by_slot(obj, slot)) {
        if (slot) nsem__arena_free(slot);
        free(obj);
        nsem__sd_release(sd);
        return NULL;
    }
    obj->ops = ops;
    obj->sd = sd;
    struct nsem_slot *s = nsem__arena_slot(slot);
    ops->init(s, p);
    s->sd_slot = sd->blob; /* for a restarted server, before the slot says it is an object */
    atomic_store_explicit(&s->type, ops->type, memory_order_relaxed);
    return obj;
}

void nsem__obj_set_sd(struct nsem_obj *obj, struct nsem_sd_entry *sd)
{
    struct nsem_sd_entry *old = obj->sd;
    obj->sd = sd;
    /* The new copy is in the arena before the slot points at it, and the old one goes after: a
     * crash in between finds one or the other, whole. */
    nsem__obj_slot(obj)->sd_slot = sd->blob;
    nsem__sd_release(old);
}

GENERIC_MAPPING nsem__generic_mapping(const struct nsem_obj_ops *ops)
{
    return (GENERIC_MAPPING){ops->mapping.read, ops->mapping.write, ops->mapping.execute, ops->mapping.all};
}

DWORD nsem__obj_access_check(const struct nsem_token *t, const struct nsem_obj *obj, uint32_t desired,
                             uint32_t *granted)
{
    GENERIC_MAPPING mapping = nsem__generic_mapping(obj->ops);
    uint32_t rights;
    DWORD e = nsem__access_check(t, obj->sd->bytes, obj->sd->len, desired, &mapping, &rights);
    if (e) return e;
    if (rights == 0) return ERROR_ACCESS_DENIED; /* SPEC 12, 21: no handle without a right */
    /* A NULL DACL grants whatever is asked: the handle keeps only what the type has. */
    *granted = rights & (obj->ops->valid_access | ACCESS_SYSTEM_SECURITY);
    return 0;
}

struct nsem_slot *nsem__obj_slot(const struct nsem_obj *obj)
{
    return nsem__arena_slot(obj->slot);
}

struct nsem_obj *nsem__obj_by_slot(uint32_t slot)
{
    uint32_t d = nsem_slot_domain(slot), local = nsem_slot_local(slot);
    return d < NSEM_ARENA_MAX_DOMAINS && local < by_slot_cap[d] ? by_slot[d][local] : NULL;
}

struct nsem_obj *nsem__obj_next(uint32_t *cursor)
{
    for (uint32_t d = nsem_slot_domain(*cursor); d < nsem__arena_domains(); d++)
        for (uint32_t i = d == nsem_slot_domain(*cursor) ? nsem_slot_local(*cursor) : 0; i < by_slot_cap[d]; i++)
            if (by_slot[d][i]) {
                *cursor = nsem_slot_index(d, i) + 1;
                return by_slot[d][i];
            }
    *cursor = nsem_slot_index(nsem__arena_domains(), 0);
    return NULL;
}

uint32_t nsem__obj_count(void)
{
    return live_objects;
}

uint32_t nsem__obj_count_in(uint32_t domain)
{
    /* A per-user server's limit is its user's, all objects; a system server's is each user's. */
    return nsem__system ? live_in_domain[domain] : live_objects;
}

/* The last reference is gone: no handle, no pin, so no client can reach the slot. */
static void obj_destroy(struct nsem_obj *obj)
{
    assert(obj->handle_count == 0 && obj->pin_count == 0);
    assert(obj->name == NULL);
    obj->ops->destroy(obj);
    by_slot[nsem_slot_domain(obj->slot)][nsem_slot_local(obj->slot)] = NULL;
    nsem__obj_slot(obj)->sd_slot = 0;
    nsem__arena_free(obj->slot);
    nsem__sd_release(obj->sd);
    live_objects--;
    live_in_domain[nsem_slot_domain(obj->slot)]--;
    free(obj);
}

void nsem__obj_add_handle(struct nsem_obj *obj)
{
    obj->handle_count++;
}

void nsem__obj_remove_handle(struct nsem_obj *obj)
{
    assert(obj->handle_count > 0);
    if (--obj->handle_count > 0) return;
    /* Windows removes the name with the last handle, even while a pin keeps the object. */
    if (obj->name) nsem__ns_unlink(obj);
    if (obj->pin_count == 0) obj_destroy(obj);
}

void nsem__obj_add_pin(struct nsem_obj *obj)
{
    obj->pin_count++;
}

void nsem__obj_remove_pin(struct nsem_obj *obj)
{
    assert(obj->pin_count > 0);
    if (--obj->pin_count > 0 || obj->handle_count > 0) return;
    /* A recovered object nobody came back for never had a handle here: its name goes now. */
    if (obj->name) nsem__ns_unlink(obj);
    obj_destroy(obj);
}

uint32_t nsem__map_access(const struct nsem_obj_ops *ops, uint32_t access)
{
    if (access & MAXIMUM_ALLOWED) access = (access & ~MAXIMUM_ALLOWED) | GENERIC_ALL;
    if (access & GENERIC_READ) access |= ops->mapping.read;
    if (access & GENERIC_WRITE) access |= ops->mapping.write;
    if (access & GENERIC_EXECUTE) access |= ops->mapping.execute;
    if (access & GENERIC_ALL) access |= ops->mapping.all;
    return access & ~(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL);
}

bool nsem__obj_held_by(const struct nsem_obj *obj, uint32_t client_id)
{
    struct nsem_slot *s = nsem__obj_slot(obj);
    uint64_t w = atomic_load(&s->state); /* seq_cst, as every state access */
    bool owned = obj->ops == &nsem__mutex_ops ||
                 (atomic_load_explicit(&s->flags, memory_order_relaxed) & NSEM_SLOT_EXCLUSIVE);
    uint32_t owner = owned ? nsem_word_value(w) & NSEM_TOKEN_MASK : 0;
    return (nsem_word_locker(w) && NSEM_TOKEN_CLIENT(nsem_word_locker(w)) == client_id) ||
           (owner && NSEM_TOKEN_CLIENT(owner) == client_id);
}

bool nsem__obj_unlock_dead(struct nsem_obj *obj, uint32_t client_id)
{
    struct nsem_slot *s = nsem__obj_slot(obj);
    uint64_t w = atomic_load(&s->state); /* seq_cst, as every state access */
    while (nsem_word_locker(w) != 0 && NSEM_TOKEN_CLIENT(nsem_word_locker(w)) == client_id) {
        /* The dead client stored nothing yet for this object: its value is the one before. */
        if (atomic_compare_exchange_weak(&s->state, &w, nsem_word(nsem_word_value(w), 0))) {
            nsem__slot_wake(s);
            return true;
        }
    }
    return false;
}

bool nsem__obj_abandon_owned(struct nsem_obj *obj, uint32_t client_id, pid_t pid)
{
    struct nsem_slot *s = nsem__obj_slot(obj);
    uint64_t w = atomic_load(&s->state); /* seq_cst */
    for (;;) {
        uint32_t owner = nsem_word_value(w) & NSEM_TOKEN_MASK;
        if (owner == 0 || NSEM_TOKEN_CLIENT(owner) != client_id) return true;
        /* A live wait-all holds the lock and will store back the value it read: try again later,
         * never spin on another process. */
        if (nsem_word_locker(w) != 0 && NSEM_TOKEN_CLIENT(nsem_word_locker(w)) != client_id) return false;
        atomic_store_explicit(&s->recursion, 0, memory_order_relaxed);
        atomic_store_explicit(&s->last_owner_pid, (uint32_t)pid, memory_order_relaxed);
        if (atomic_compare_exchange_weak(&s->state, &w, nsem_word(nsem_state_mutex_abandon(), 0))) {
            atomic_store_explicit(&s->owner_pid, 0, memory_order_relaxed);
            atomic_store_explicit(&s->owner_tid, 0, memory_order_relaxed);
            nsem__slot_wake(s);
            return true;
        }
    }
}

void nsem__slot_init_owner(struct nsem_slot *slot, const struct nsem_create_params *p, bool owned)
{
    if (!owned) {
        atomic_store(&slot->state, nsem_word(0, 0)); /* seq_cst: free */
        return;
    }
    atomic_store_explicit(&slot->recursion, 1, memory_order_relaxed);
    atomic_store_explicit(&slot->owner_pid, p->owner_pid, memory_order_relaxed);
    atomic_store_explicit(&slot->owner_tid, p->owner_tid, memory_order_relaxed);
    atomic_store(&slot->state, nsem_word(p->owner_token & NSEM_TOKEN_MASK, 0)); /* seq_cst */
}

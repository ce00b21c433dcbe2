/*
 * undo.c — undo records of undo semaphores (SEMAPHORE_UNDO): for each client and each undo
 * semaphore it has had a handle to, one arena slot counting the permits it took and did not give
 * back (common/shm.h says how the client keeps it). The record pins its semaphore. When the client
 * dies those permits are given back, never above the maximum.
 */
#include <stdlib.h>

#include "server/server.h"

struct nsem_undo {
    struct nsem_obj *obj; /* pinned */
    uint32_t slot;
    struct nsem_undo *next;
};

static struct nsem_undo_record *record(uint32_t slot)
{
    return (struct nsem_undo_record *)nsem__arena_slot(slot);
}

bool nsem__is_undo(const struct nsem_obj *obj)
{
    return obj->ops == &nsem__semaphore_ops &&
           (atomic_load_explicit(&nsem__obj_slot(obj)->flags, memory_order_relaxed) & NSEM_SLOT_UNDO);
}

uint32_t nsem__undo_count(const struct nsem_client *c)
{
    uint32_t n = 0;
    for (const struct nsem_undo *u = c->undos; u; u = u->next) n++;
    return n;
}

bool nsem__undo_attach(struct nsem_client *c, uint32_t slot, struct nsem_obj *obj)
{
    struct nsem_undo *u = malloc(sizeof *u);
    if (!u) return false;
    nsem__obj_add_pin(obj);
    *u = (struct nsem_undo){obj, slot, c->undos};
    c->undos = u;
    return true;
}

uint32_t nsem__undo_record_for(struct nsem_client *c, struct nsem_obj *obj)
{
    for (struct nsem_undo *u = c->undos; u; u = u->next)
        if (u->obj == obj) return u->slot;
    struct nsem_undo *u = malloc(sizeof *u);
    uint32_t slot = u ? nsem__arena_alloc(nsem_slot_domain(obj->slot)) : 0;
    if (!slot) {
        free(u);
        return 0;
    }
    struct nsem_undo_record *r = record(slot);
    atomic_store_explicit(&r->taken, 0, memory_order_relaxed);
    atomic_store(&r->journal, 0);
    r->client_id = c->id;
    r->sem_slot = nsem_slot_local(obj->slot); /* within the arena, as every index in it */
    atomic_store_explicit(&r->type, NSEM_TYPE_UNDO_RECORD, memory_order_relaxed);
    nsem__obj_add_pin(obj);
    *u = (struct nsem_undo){obj, slot, c->undos};
    c->undos = u;
    return slot;
}

void nsem__undo_drop_if_idle(struct nsem_client *c, struct nsem_obj *obj)
{
    struct nsem_undo **link = &c->undos;
    while (*link && (*link)->obj != obj) link = &(*link)->next;
    struct nsem_undo *u = *link;
    if (!u) return;
    struct nsem_undo_record *r = record(u->slot);
    /* journal 0: no take or give-back of this client is in flight; taken 0: nothing to give back. */
    if (atomic_load(&r->journal) || atomic_load_explicit(&r->taken, memory_order_relaxed)) return;
    for (uint32_t i = 0; i < c->handles.size; i++)
        if (c->handles.entries[i].obj == obj) return;
    *link = u->next;
    nsem__arena_free(u->slot);
    nsem__obj_remove_pin(obj);
    free(u);
}

void nsem__undo_drop_all_idle(struct nsem_client *c)
{
    for (struct nsem_undo *u = c->undos, *next; u; u = next) {
        next = u->next; /* u may go */
        nsem__undo_drop_if_idle(c, u->obj);
    }
}

bool nsem__undo_give_back(struct nsem_obj *obj, uint32_t n)
{
    struct nsem_slot *s = nsem__obj_slot(obj);
    uint64_t max = (uint64_t)atomic_load_explicit(&s->max, memory_order_relaxed);
    uint64_t w = atomic_load(&s->state); /* seq_cst */
    for (;;) {
        if (nsem_word_locker(w)) return false; /* a live wait-all: later */
        uint64_t count = nsem_word_value(w) + (uint64_t)n;
        if (count > max) count = max;
        if (atomic_compare_exchange_weak(&s->state, &w, nsem_word((uint32_t)count, 0))) {
            nsem__slot_wake(s);
            return true;
        }
    }
}

void nsem__undo_settle(struct nsem_client *c)
{
    for (struct nsem_undo *u = c->undos; u; u = u->next) {
        /* Still locked by the client's dead image: nothing it journaled was stored. Else a journal
         * left is a stored change whose `taken` was not yet written. Either way, `taken` is made
         * true and the journal cleared, before anything else may unlock the object. */
        bool was_locked = nsem__obj_unlock_dead(u->obj, c->id);
        struct nsem_undo_record *r = record(u->slot);
        uint32_t journal = atomic_load(&r->journal); /* seq_cst */
        if (!was_locked && (journal & NSEM_UNDO_JOURNAL))
            atomic_store_explicit(&r->taken, journal & ~NSEM_UNDO_JOURNAL, memory_order_relaxed);
        atomic_store(&r->journal, 0); /* seq_cst */
    }
}

void nsem__undo_client_gone(struct nsem_client *c)
{
    nsem__undo_settle(c);
    while (c->undos) {
        struct nsem_undo *u = c->undos;
        c->undos = u->next;
        uint32_t n = atomic_load_explicit(&record(u->slot)->taken, memory_order_relaxed);
        if (n && !nsem__undo_give_back(u->obj, n)) nsem__retry_add(u->obj, c->id, c->pid, n);
        nsem__arena_free(u->slot);
        nsem__obj_remove_pin(u->obj);
        free(u);
    }
}

void nsem__undo_take_over(struct nsem_client *to, struct nsem_client *from)
{
    while (from->undos) {
        struct nsem_undo *u = from->undos;
        from->undos = u->next;
        struct nsem_undo *mine = to->undos;
        while (mine && mine->obj != u->obj) mine = mine->next;
        if (!mine) {
            u->next = to->undos;
            to->undos = u;
            record(u->slot)->client_id = to->id; /* whose it is, for a restarted server */
            continue;
        }
        /* Both settled (no journal): neither image is running in the other's record. */
        struct nsem_undo_record *keep = record(mine->slot), *gone = record(u->slot);
        atomic_store_explicit(&keep->taken,
                              atomic_load_explicit(&keep->taken, memory_order_relaxed) +
                                  atomic_load_explicit(&gone->taken, memory_order_relaxed),
                              memory_order_relaxed); /* relaxed: no image runs in either record yet */
        nsem__arena_free(u->slot);
        nsem__obj_remove_pin(u->obj);
        free(u);
    }
}

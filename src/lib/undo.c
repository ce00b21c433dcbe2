/*
 * undo.c — undo semaphores: each take and each give-back is journaled in this process's undo
 * record (common/shm.h) while the semaphore's state word is locked, so that the server, if this
 * process dies at any instruction, gives back exactly the permits it held.
 */
#include "lib/client.h"

static struct nsem_undo_record *record_of(uint32_t slot)
{
    uint32_t r = nsem__undo_record(slot);
    return r ? (struct nsem_undo_record *)nsem__slot(r) : NULL;
}

/* Before the state store that commits a new `taken`. */
static void journal(struct nsem_undo_record *r, uint32_t taken)
{
    atomic_store(&r->journal, NSEM_UNDO_JOURNAL | taken); /* seq_cst: before the state store */
}

/* After it. */
static void commit(struct nsem_undo_record *r, uint32_t taken)
{
    atomic_store_explicit(&r->taken, taken, memory_order_relaxed); /* read by the server only after our death */
    atomic_store(&r->journal, 0);                                   /* seq_cst: after `taken` */
}

void nsem__undo_journal_take(uint32_t slot)
{
    struct nsem_undo_record *r = record_of(slot);
    if (r) journal(r, atomic_load_explicit(&r->taken, memory_order_relaxed) + 1);
}

void nsem__undo_commit(uint32_t slot)
{
    struct nsem_undo_record *r = record_of(slot);
    if (r) commit(r, atomic_load(&r->journal) & ~NSEM_UNDO_JOURNAL);
}

enum nsem_take nsem__undo_take(uint32_t slot, struct nsem_slot *s, uint32_t me, struct nsem_lock_limit *limit)
{
    /* Busy: say so without locking (the unlock would wake a waiting caller's own words). */
    uint64_t word = nsem__wait_unlocked_until(s, limit);
    uint32_t v;
    if (nsem_word_locker(word) || nsem_word_value(word) == 0) return NSEM_TAKE_BUSY;
    if (!nsem__lock_word_until(s, me, limit, &v)) return NSEM_TAKE_BUSY;
    if (v == 0) {
        nsem__unlock_word(s, v);
        return NSEM_TAKE_BUSY;
    }
    struct nsem_undo_record *r = record_of(slot);
    uint32_t taken = r ? atomic_load_explicit(&r->taken, memory_order_relaxed) + 1 : 0;
    if (r) journal(r, taken);
    nsem__unlock_word(s, v - 1); /* the commit point */
    if (r) commit(r, taken);
    return NSEM_TAKE_OK;
}

DWORD nsem__undo_release(uint32_t slot, LONG count, LONG *prev)
{
    struct nsem_slot *s = nsem__slot(slot);
    uint32_t me = nsem__thread_token();
    if (!me) return ERROR_SERVICE_NOT_ACTIVE;
    int32_t max = atomic_load_explicit(&s->max, memory_order_relaxed);
    uint32_t v = nsem__lock_word(s, me), nv;
    DWORD e = nsem_state_sem_release(v, max, count, &nv);
    if (e) {
        nsem__unlock_word(s, v);
        return e;
    }
    struct nsem_undo_record *r = record_of(slot);
    uint32_t taken = r ? atomic_load_explicit(&r->taken, memory_order_relaxed) : 0;
    taken = taken > (uint32_t)count ? taken - (uint32_t)count : 0; /* gives back at most what it took */
    if (r) journal(r, taken);
    nsem__unlock_word(s, nv);
    if (r) commit(r, taken);
    if (prev) *prev = (LONG)v;
    return 0;
}

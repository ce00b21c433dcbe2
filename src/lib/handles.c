/*
 * handles.c — the process's handle table, a mirror of the server's, and per-object bookkeeping.
 *
 * An entry is one 64-bit atomic: valid | type | flags | slot | access. Readers (every wait and
 * release) load it with acquire order and take no lock; writers hold the connection lock and
 * publish with release order, after the server has made or closed the handle. Chunks of the table
 * are never freed, so a stale handle read by a racing thread reads an empty entry, never freed
 * memory.
 */
#include <stdlib.h>

#include "lib/client.h"
#include "lib/handle_table.h"

#define CHUNK_BITS NSEM_HT_CHUNK_BITS
#define CHUNK NSEM_HT_CHUNK
#define TOP NSEM_HT_TOP
#define E_VALID NSEM_E_VALID
#define E_TYPE_SHIFT NSEM_E_TYPE_SHIFT
#define E_FLAGS_SHIFT NSEM_E_FLAGS_SHIFT
#define E_SLOT_SHIFT NSEM_E_SLOT_SHIFT
#define E_SLOT_MASK NSEM_E_SLOT_MASK

_Atomic(_Atomic uint64_t *) nsem__handle_chunks[NSEM_HT_TOP];
#define table nsem__handle_chunks

bool nsem__is_pseudo(HANDLE h)
{
    intptr_t v = (intptr_t)h;
    return v >= -6 && v <= -1;
}

static _Atomic uint64_t *entry_of(uintptr_t value, bool create)
{
    if (value == 0 || value > 0xFFFFFFFFu) return NULL;
    uint32_t index = (uint32_t)(value >> 2);
    if (index == 0 || index > TOP * CHUNK) return NULL;
    index--;
    _Atomic uint64_t *chunk = atomic_load_explicit(&table[index >> CHUNK_BITS], memory_order_acquire);
    if (!chunk && create) {
        chunk = calloc(CHUNK, sizeof *chunk);
        if (!chunk) return NULL;
        atomic_store_explicit(&table[index >> CHUNK_BITS], chunk, memory_order_release);
    }
    return chunk ? &chunk[index & (CHUNK - 1)] : NULL;
}

static uint64_t entry_value(HANDLE h)
{
    _Atomic uint64_t *e = entry_of((uintptr_t)h, false);
    return e ? atomic_load_explicit(e, memory_order_acquire) : 0; /* pairs with install */
}

DWORD nsem__handle_lookup(HANDLE h, uint32_t type, uint32_t need, struct nsem_handle *out)
{
    uint64_t v = entry_value(h);
    if (!(v & E_VALID) && !nsem__conn_lock_held() && (uintptr_t)h && (uintptr_t)h <= 0xFFFFFFFFu &&
        !nsem__is_pseudo(h)) {
        /* A handle this process never made: inherited through exec (the first connection brings
         * it, conn.c), or duplicated into us by another process (ask the server). Only a miss
         * pays for this. */
        bool was_connected = nsem__client_id() != 0;
        if (nsem__ensure_connected() == 0 && (was_connected || !(entry_value(h) & E_VALID)))
            nsem__handle_refresh((uint32_t)(uintptr_t)h & ~3u);
        v = entry_value(h);
    }
    if ((v & E_VALID) && !nsem__server_alive()) {
        /* Its server died: a new one recovers the handles, or they are gone (conn.c). */
        nsem__server_died(nsem__server_word());
        v = entry_value(h);
    }
    if (!(v & E_VALID)) return ERROR_INVALID_HANDLE;
    out->value = (uint32_t)(uintptr_t)h & ~3u;
    out->type = (uint32_t)(v >> E_TYPE_SHIFT) & 0xF;
    out->flags = (uint32_t)(v >> E_FLAGS_SHIFT) & 3u;
    out->slot = (uint32_t)((v >> E_SLOT_SHIFT) & E_SLOT_MASK);
    out->access = (uint32_t)v;
    if (type && out->type != type) return ERROR_INVALID_HANDLE;
    if ((out->access & need) != need) return ERROR_ACCESS_DENIED;
    return 0;
}

static uint64_t pack(uint32_t slot, uint32_t type, uint32_t flags, uint32_t access)
{
    /* The kind of a semaphore, so that the fast path needs no read of the slot to know it. */
    uint32_t slot_flags = slot ? atomic_load_explicit(&nsem__slot(slot)->flags, memory_order_relaxed) : 0;
    uint64_t kind = !slot                                ? NSEM_E_BROKERED
                    : type != NSEM_TYPE_SEMAPHORE        ? 0
                    : (slot_flags & NSEM_SLOT_EXCLUSIVE) ? NSEM_E_EXCLUSIVE
                    : (slot_flags & NSEM_SLOT_UNDO)      ? NSEM_E_UNDO
                                                         : 0;
    return E_VALID | kind | ((uint64_t)(type & 0xF) << E_TYPE_SHIFT) | ((uint64_t)(flags & 3u) << E_FLAGS_SHIFT) |
           ((uint64_t)(slot & E_SLOT_MASK) << E_SLOT_SHIFT) | access;
}

/* ---- per-object bookkeeping ------------------------------------------------------------- */

struct lobj {
    uint32_t handles;         /* under the connection lock */
    _Atomic uint32_t undo;    /* relaxed: the undo record's slot, set before the handle is published */
    _Atomic uint32_t busy;    /* seq_cst: Dekker pair with `pinned` (see nsem__close_needs_pin) */
    _Atomic uint32_t pinned;  /* seq_cst */
};

#define LOBJ_TOP (NSEM_ARENA_SLOTS / CHUNK)
static _Atomic(struct lobj *) lobjs[LOBJ_TOP];

static struct lobj *lobj_of(uint32_t slot, bool create)
{
    struct lobj *chunk = atomic_load_explicit(&lobjs[slot >> CHUNK_BITS], memory_order_acquire);
    if (!chunk && create) {
        chunk = calloc(CHUNK, sizeof *chunk);
        if (!chunk) return NULL;
        atomic_store_explicit(&lobjs[slot >> CHUNK_BITS], chunk, memory_order_release);
    }
    return chunk ? &chunk[slot & (CHUNK - 1)] : NULL;
}

/* The highest handle index this process has ever had (connection lock): a new server's handles
 * start above it, so that no value the process may still hold comes to mean another object. */
static uint32_t handle_high;

uint32_t nsem__handle_floor(void)
{
    return handle_high;
}

void nsem__handle_install(const struct nsem_rep_handle *rep)
{
    if (rep->handle >> 2 > handle_high) handle_high = rep->handle >> 2;
    _Atomic uint64_t *e = entry_of(rep->handle, true);
    struct lobj *o = rep->slot ? lobj_of(rep->slot, true) : NULL; /* none for a brokered handle */
    if (!e || (rep->slot && !o)) return; /* out of memory: the handle reads as invalid here */
    if (o) o->handles++;
    if (o && rep->undo_slot) atomic_store_explicit(&o->undo, rep->undo_slot, memory_order_relaxed);
    atomic_store_explicit(e, pack(rep->slot, rep->type, rep->handle_flags, rep->access), memory_order_release);
}

void nsem__handle_forget(uint32_t value)
{
    _Atomic uint64_t *e = entry_of(value, false);
    if (!e) return;
    uint64_t v = atomic_exchange_explicit(e, 0, memory_order_acq_rel);
    if (!(v & E_VALID) || (v & NSEM_E_BROKERED)) return;
    struct lobj *o = lobj_of((uint32_t)((v >> E_SLOT_SHIFT) & E_SLOT_MASK), false);
    if (o && o->handles) o->handles--;
}

void nsem__handle_set_flags(uint32_t value, uint32_t flags)
{
    _Atomic uint64_t *e = entry_of(value, false);
    if (!e) return;
    uint64_t v = atomic_load_explicit(e, memory_order_relaxed);
    if (!(v & E_VALID)) return;
    v = (v & ~(3ull << E_FLAGS_SHIFT)) | ((uint64_t)(flags & 3u) << E_FLAGS_SHIFT); /* keeps the kind bits */
    atomic_store_explicit(e, v, memory_order_release);
}

void nsem__handles_each(void (*fn)(void *ctx, uint32_t value, const struct nsem_handle *h), void *ctx)
{
    for (uint32_t i = 0; i < TOP; i++) {
        _Atomic uint64_t *chunk = atomic_load_explicit(&table[i], memory_order_acquire);
        if (!chunk) continue;
        for (uint32_t j = 0; j < CHUNK; j++) {
            uint64_t v = atomic_load_explicit(&chunk[j], memory_order_acquire);
            if (!(v & E_VALID)) continue;
            uint32_t value = (i * CHUNK + j + 1) << 2;
            struct nsem_handle h = {value, (uint32_t)((v >> E_SLOT_SHIFT) & E_SLOT_MASK), (uint32_t)(v >> E_TYPE_SHIFT) & 0xF,
                                    (uint32_t)v, (uint32_t)(v >> E_FLAGS_SHIFT) & 3u};
            fn(ctx, value, &h);
        }
    }
}

void nsem__pins_each(void (*fn)(void *ctx, uint32_t slot), void *ctx)
{
    for (uint32_t i = 0; i < LOBJ_TOP; i++) {
        struct lobj *chunk = atomic_load_explicit(&lobjs[i], memory_order_acquire);
        if (!chunk) continue;
        for (uint32_t j = 0; j < CHUNK; j++)
            if (atomic_load(&chunk[j].pinned)) fn(ctx, i * CHUNK + j);
    }
}

void nsem__handles_reset(void)
{
    nsem__closering_reset(); /* the ring was the connection's whose handles these were */
    for (uint32_t i = 0; i < TOP; i++) {
        _Atomic uint64_t *chunk = atomic_load_explicit(&table[i], memory_order_relaxed);
        if (!chunk) continue;
        for (uint32_t j = 0; j < CHUNK; j++) atomic_store_explicit(&chunk[j], 0, memory_order_relaxed);
    }
    for (uint32_t i = 0; i < LOBJ_TOP; i++) {
        struct lobj *chunk = atomic_load_explicit(&lobjs[i], memory_order_relaxed);
        if (!chunk) continue;
        for (uint32_t j = 0; j < CHUNK; j++) {
            chunk[j].handles = 0;
            atomic_store(&chunk[j].undo, 0);
            atomic_store(&chunk[j].busy, 0);
            atomic_store(&chunk[j].pinned, 0);
        }
    }
}

void nsem__busy_inc(uint32_t slot)
{
    struct lobj *o = lobj_of(slot, false);
    if (o) atomic_fetch_add(&o->busy, 1); /* seq_cst: see nsem__close_needs_pin */
}

void nsem__busy_dec(uint32_t slot)
{
    struct lobj *o = lobj_of(slot, false);
    if (!o) return;
    /* seq_cst pair: the last use ends after a close that pinned; one of the two sees the other.
     * One RMW; never left below 0 (a reset after a lost server may have zeroed it under a wait). */
    uint32_t b = atomic_fetch_sub(&o->busy, 1);
    if (b == 0) {
        atomic_fetch_add(&o->busy, 1);
        return;
    }
    if (b == 1) nsem__unpin_if_unused(slot);
}

void nsem__unpin_if_unused(uint32_t slot)
{
    struct lobj *o = lobj_of(slot, false);
    if (!o || !atomic_load(&o->pinned)) return; /* seq_cst: after the caller's end of its use */
    nsem__conn_lock();
    /* The pin goes with the last use, whatever the handles: handles keep the object alive anyway.
     * Under the lock, so that of two last uses ending at once the later sees the other's end. A
     * blocked wait that keeps the pin gives it back as it ends: also one the close that pinned did
     * not find (recorded after its look), which only this look tells to. */
    if (atomic_load(&o->busy) == 0 && atomic_load(&o->pinned) && !nsem__blocked_on(slot, true)) {
        atomic_store(&o->pinned, 0);
        struct nsem_req_unpin req = {{0, NSEM_OP_UNPIN}, slot, 0};
        struct nsem_rep_status rep;
        nsem__request_locked(&req, sizeof req, NULL, 0, &rep, sizeof rep);
    }
    nsem__conn_unlock();
}

uint32_t nsem__undo_record(uint32_t slot)
{
    struct lobj *o = lobj_of(slot, false);
    return o ? atomic_load_explicit(&o->undo, memory_order_relaxed) : 0;
}

bool nsem__is_last_handle(uint32_t slot)
{
    struct lobj *o = lobj_of(slot, false);
    return o && o->handles == 1;
}

bool nsem__close_needs_pin(uint32_t slot, bool *drop_stale_pin)
{
    struct lobj *o = lobj_of(slot, false);
    *drop_stale_pin = false;
    if (!o || o->handles != 1) return false; /* not the last handle of this process */
    /* seq_cst: then read busy (Dekker with busy_dec). The server keeps one pin per process and
     * object; one left from an earlier close is kept if still needed, else dropped. */
    bool was_pinned = atomic_exchange(&o->pinned, 1);
    bool blocked = nsem__blocked_on(slot, true); /* first: a blocked wait then gives the pin back */
    if (blocked || atomic_load(&o->busy) > 0) return true;
    atomic_store(&o->pinned, 0);
    *drop_stale_pin = was_pinned;
    return false;
}

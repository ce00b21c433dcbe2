/*
 * handle_table.h — the process's handle table, read inline on the fast path (no call, no lock).
 *
 * An entry is one 64-bit atomic, published with release order by handles.c after the server made
 * the handle, and read here with acquire order:
 *   bit 63 valid | 62 exclusive semaphore | 61 undo semaphore | 60 brokered (slot 0: another user's
 *   object, lib/brokered.c) | 56-59 type | 54-55 HANDLE_FLAG_* |
 *   32-53 arena slot | 0-31 granted access
 * Chunks are allocated once and never freed, so a stale read finds an empty entry, not freed memory.
 */
#ifndef NSEM_LIB_HANDLE_TABLE_H
#define NSEM_LIB_HANDLE_TABLE_H

#include <nsem.h>
#include <stdatomic.h>
#include <stdint.h>

#include "common/shm.h"

#define NSEM_HT_CHUNK_BITS 10u
#define NSEM_HT_CHUNK (1u << NSEM_HT_CHUNK_BITS)
#define NSEM_HT_TOP 1024u /* 1M handles, the server's bound */

#define NSEM_E_VALID (1ull << 63)
#define NSEM_E_EXCLUSIVE (1ull << 62)
#define NSEM_E_UNDO (1ull << 61)
#define NSEM_E_BROKERED (1ull << 60)
#define NSEM_E_TYPE_SHIFT 56
#define NSEM_E_FLAGS_SHIFT 54
#define NSEM_E_SLOT_SHIFT 32
#define NSEM_E_SLOT_MASK 0x3FFFFFull

extern _Atomic(_Atomic uint64_t *) nsem__handle_chunks[NSEM_HT_TOP];
extern _Atomic(struct nsem_slot *) nsem__arena_base; /* acquire/release: set once the arena is mapped */

/* The entry of a handle value, or 0. */
static inline uint64_t nsem__entry(HANDLE h)
{
    uintptr_t value = (uintptr_t)h;
    uint32_t index = (uint32_t)(value >> 2) - 1u; /* 0 -> UINT32_MAX: out of range below */
    if (value > 0xFFFFFFFFu || index >= NSEM_HT_TOP * NSEM_HT_CHUNK) return 0;
    _Atomic uint64_t *chunk = atomic_load_explicit(&nsem__handle_chunks[index >> NSEM_HT_CHUNK_BITS], memory_order_acquire);
    return chunk ? atomic_load_explicit(&chunk[index & (NSEM_HT_CHUNK - 1)], memory_order_acquire) : 0;
}

static inline uint32_t nsem__entry_slot(uint64_t e)
{
    return (uint32_t)((e >> NSEM_E_SLOT_SHIFT) & NSEM_E_SLOT_MASK);
}

static inline struct nsem_slot *nsem__slot_fast(uint32_t index)
{
    return atomic_load_explicit(&nsem__arena_base, memory_order_acquire) + index;
}

/* The entry of a plain counting semaphore handle with all of `need`, or 0. */
static inline uint64_t nsem__plain_semaphore(HANDLE h, uint32_t need)
{
    uint64_t e = nsem__entry(h);
    const uint64_t want = NSEM_E_VALID | ((uint64_t)NSEM_TYPE_SEMAPHORE << NSEM_E_TYPE_SHIFT);
    const uint64_t mask = NSEM_E_VALID | NSEM_E_EXCLUSIVE | NSEM_E_UNDO | NSEM_E_BROKERED | (0xFull << NSEM_E_TYPE_SHIFT);
    return ((e & mask) == want && ((uint32_t)e & need) == need) ? e : 0;
}

#endif

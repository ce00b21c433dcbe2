/*
 * namestore.c — object names kept in the arena, in chains of 64-byte chunks (common/shm.h), so
 * that a server restarted after a crash finds them (recover.c). A name that fits one chunk (most)
 * is not copied again: the server's table points at the chunk.
 */
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

static struct nsem_name_chunk *chunk(uint32_t slot)
{
    return (struct nsem_name_chunk *)(void *)nsem__arena_slot(slot);
}

/* Whether slot is a chunk of the object at owner: a client scribbling over the arena must not make
 * the server free slots that are not the name's. */
static bool chunk_of(uint32_t slot, uint32_t owner)
{
    return slot >= NSEM_ARENA_FIRST_SLOT && slot < nsem__arena_high_water() &&
           atomic_load_explicit(&chunk(slot)->type, memory_order_relaxed) == NSEM_TYPE_NAME_CHUNK &&
           chunk(slot)->owner == owner;
}

void nsem__namestore_free(uint32_t first, uint32_t owner)
{
    while (first && chunk_of(first, owner)) {
        uint32_t next = chunk(first)->next;
        nsem__arena_free(first);
        first = next;
    }
}

char *nsem__namestore_inline(uint32_t first, uint32_t owner, uint32_t len)
{
    if (!first || !chunk_of(first, owner)) return NULL;
    struct nsem_name_chunk *c = chunk(first);
    return c->next == 0 && c->len == len ? c->bytes : NULL;
}

/* Writes the name into a chain of chunks; the first chunk's slot, 0 when the arena is full. */
uint32_t nsem__namestore_write(uint32_t owner, const char *leaf, uint32_t leaf_len)
{
    uint32_t first = 0, *link = &first;
    for (uint32_t done = 0; done < leaf_len || !first;) {
        uint32_t slot = nsem__arena_alloc();
        if (!slot) {
            nsem__namestore_free(first, owner);
            return 0;
        }
        struct nsem_name_chunk *c = chunk(slot);
        uint32_t n = leaf_len - done < NSEM_NAME_CHUNK_BYTES ? leaf_len - done : NSEM_NAME_CHUNK_BYTES;
        c->next = 0;
        c->len = n;
        c->owner = owner;
        memcpy(c->bytes, leaf + done, n);
        atomic_store_explicit(&c->type, NSEM_TYPE_NAME_CHUNK, memory_order_relaxed);
        *link = slot;
        link = &c->next;
        done += n;
    }
    return first;
}

/* The name in the chunks from `first` on, as a malloc'd copy; NULL if the chain is not a sound one
 * of the object at `owner`. */
char *nsem__namestore_read(uint32_t first, uint32_t owner, uint32_t *len)
{
    uint32_t total = 0, hops = 0, high = nsem__arena_high_water();
    for (uint32_t s = first; s; s = chunk(s)->next) {
        struct nsem_name_chunk *c = chunk(s);
        if (s < NSEM_ARENA_FIRST_SLOT || s >= high || ++hops > NSEM_NAME_MAX_BYTES / NSEM_NAME_CHUNK_BYTES + 1 ||
            atomic_load_explicit(&c->type, memory_order_relaxed) != NSEM_TYPE_NAME_CHUNK || c->owner != owner ||
            c->len > NSEM_NAME_CHUNK_BYTES)
            return NULL;
        total += c->len;
    }
    if (total > NSEM_NAME_MAX_BYTES) return NULL;
    char *name = malloc(total ? total : 1);
    if (!name) return NULL;
    uint32_t at = 0;
    for (uint32_t s = first; s; s = chunk(s)->next) {
        memcpy(name + at, chunk(s)->bytes, chunk(s)->len);
        at += chunk(s)->len;
    }
    *len = total;
    return name;
}

/*
 * blobstore.c — blobs the server keeps in the arena, so that a server restarted after a crash
 * finds them (recover.c): objects' names and security descriptors. A blob is a chain of 64-byte
 * chunks (common/shm.h) of one type, each naming the blob's owner: a name's owner is its object's
 * slot; a descriptor, which the objects that have it share, owns itself (its first chunk's slot).
 * A name that fits one chunk (most) is not copied again: the server's table points at the chunk.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

static struct nsem_blob_chunk *chunk(uint32_t slot)
{
    return (struct nsem_blob_chunk *)(void *)nsem__arena_slot(slot);
}

/* Whether slot is a chunk of the blob of that type and owner: a client scribbling over the arena
 * must not make the server free slots that are not the blob's. */
static bool chunk_of(uint32_t slot, uint32_t type, uint32_t owner)
{
    return slot >= NSEM_ARENA_FIRST_SLOT && slot < nsem__arena_high_water() &&
           atomic_load_explicit(&chunk(slot)->type, memory_order_relaxed) == type && chunk(slot)->owner == owner;
}

void nsem__blob_free(uint32_t type, uint32_t first, uint32_t owner)
{
    while (first && chunk_of(first, type, owner)) {
        uint32_t next = chunk(first)->next;
        nsem__arena_free(first);
        first = next;
    }
}

char *nsem__blob_inline(uint32_t type, uint32_t first, uint32_t owner, uint32_t len)
{
    if (!first || !chunk_of(first, type, owner)) return NULL;
    struct nsem_blob_chunk *c = chunk(first);
    return c->next == 0 && c->len == len ? c->bytes : NULL;
}

uint32_t nsem__blob_write(uint32_t type, uint32_t owner, const void *bytes, uint32_t len)
{
    /* A system server does not recover, and keeps what decides for users out of their reach. */
    if (nsem__system) return 0;
    uint32_t first = 0, *link = &first;
    for (uint32_t done = 0; done < len || !first;) {
        uint32_t slot = nsem__arena_alloc(0);
        if (!slot) {
            nsem__blob_free(type, first, owner ? owner : first);
            return 0;
        }
        if (!first && !owner) owner = slot; /* a blob of its own */
        struct nsem_blob_chunk *c = chunk(slot);
        uint32_t n = len - done < NSEM_BLOB_CHUNK_BYTES ? len - done : NSEM_BLOB_CHUNK_BYTES;
        c->next = 0;
        c->len = n;
        c->owner = owner;
        memcpy(c->bytes, (const char *)bytes + done, n);
        atomic_store_explicit(&c->type, type, memory_order_relaxed);
        *link = slot;
        link = &c->next;
        done += n;
    }
    return first;
}

void *nsem__blob_read(uint32_t type, uint32_t first, uint32_t owner, uint32_t max, uint32_t *len)
{
    uint32_t total = 0, hops = 0, high = nsem__arena_high_water();
    for (uint32_t s = first; s; s = chunk(s)->next) {
        struct nsem_blob_chunk *c = chunk(s);
        if (s < NSEM_ARENA_FIRST_SLOT || s >= high || ++hops > max / NSEM_BLOB_CHUNK_BYTES + 1 ||
            atomic_load_explicit(&c->type, memory_order_relaxed) != type || c->owner != owner ||
            c->len > NSEM_BLOB_CHUNK_BYTES)
            goto unsound;
        total += c->len;
    }
    if (total > max) goto unsound;
    char *blob = malloc(total ? total : 1);
    if (!blob) {
        errno = ENOMEM;
        return NULL;
    }
    uint32_t at = 0;
    for (uint32_t s = first; s; s = chunk(s)->next) {
        memcpy(blob + at, chunk(s)->bytes, chunk(s)->len);
        at += chunk(s)->len;
    }
    *len = total;
    return blob;
unsound:
    errno = EINVAL;
    return NULL;
}

uint32_t nsem__blob_next(uint32_t slot)
{
    return chunk(slot)->next;
}

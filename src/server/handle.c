/*
 * handle.c — per-client handle tables. A handle value is (index + 1) << 2, so it is never 0 and
 * always a multiple of 4; the low two bits are ignored on lookup, as Windows does. A new handle
 * takes the lowest free index. Every table's handles are counted in one total, which the limit on
 * handles in all bounds (limits.c): a new handle passes nsem__quota_handles first.
 */
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

static uint32_t total; /* handles in every table */

uint32_t nsem__handle_total(void)
{
    return total;
}

/* The lowest free index at or above the floor; t->size or more when the table must grow. */
static uint32_t next_free(const struct nsem_handle_table *t)
{
    uint32_t i = t->first_free > t->floor ? t->first_free : t->floor;
    while (i < t->size && t->entries[i].obj) i++;
    return i;
}

bool nsem__handle_table_full(const struct nsem_handle_table *t)
{
    return next_free(t) >= NSEM_HANDLE_MAX_ENTRIES;
}

uint32_t nsem__handle_table_count(const struct nsem_handle_table *t, bool inheritable_only)
{
    if (!inheritable_only) return t->used;
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->size; i++)
        if (t->entries[i].obj && (t->entries[i].flags & HANDLE_FLAG_INHERIT)) n++;
    return n;
}

uint32_t nsem__handle_alloc(struct nsem_handle_table *t, struct nsem_obj *obj, uint32_t access, uint32_t flags)
{
    /* The caller checked the quota; this is the backstop that keeps the limits true regardless. */
    if (t->used >= nsem__limits.max_handles_per_process || total >= nsem__limits.max_handles) return 0;
    uint32_t i = next_free(t);
    if (i >= t->size) {
        if (i >= NSEM_HANDLE_MAX_ENTRIES) return 0;
        uint32_t size = t->size ? t->size : 64;
        while (size <= i) size *= 2;
        struct nsem_handle_entry *e = realloc(t->entries, size * sizeof *e);
        if (!e) return 0;
        memset(e + t->size, 0, (size - t->size) * sizeof *e);
        t->entries = e;
        t->size = size;
    }
    t->entries[i] = (struct nsem_handle_entry){obj, access, flags};
    t->first_free = i + 1;
    t->used++;
    total++;
    nsem__obj_add_handle(obj);
    return (i + 1) << 2;
}

struct nsem_handle_entry *nsem__handle_get(struct nsem_handle_table *t, uint32_t handle)
{
    uint32_t index = (handle >> 2);
    if (index == 0 || index > t->size) return NULL;
    struct nsem_handle_entry *e = &t->entries[index - 1];
    return e->obj ? e : NULL;
}

void nsem__handle_free(struct nsem_handle_table *t, uint32_t handle)
{
    uint32_t i = (handle >> 2) - 1;
    struct nsem_obj *obj = t->entries[i].obj;
    t->entries[i] = (struct nsem_handle_entry){NULL, 0, 0};
    if (i < t->first_free) t->first_free = i;
    t->used--;
    total--;
    nsem__obj_remove_handle(obj);
}

void nsem__handle_table_destroy(struct nsem_handle_table *t)
{
    for (uint32_t i = 0; i < t->size; i++)
        if (t->entries[i].obj) nsem__handle_free(t, (i + 1) << 2);
    free(t->entries);
    memset(t, 0, sizeof *t);
}

int nsem__handle_table_copy(struct nsem_handle_table *dst, const struct nsem_handle_table *src, bool inheritable_only)
{
    memset(dst, 0, sizeof *dst);
    dst->floor = src->floor;
    uint32_t size = 0;
    for (uint32_t i = 0; i < src->size; i++)
        if (src->entries[i].obj && (!inheritable_only || (src->entries[i].flags & HANDLE_FLAG_INHERIT))) size = i + 1;
    if (!size) return 0;
    dst->entries = calloc(size, sizeof *dst->entries);
    if (!dst->entries) return -1;
    dst->size = size;
    for (uint32_t i = 0; i < size; i++) {
        const struct nsem_handle_entry *e = &src->entries[i];
        if (!e->obj || (inheritable_only && !(e->flags & HANDLE_FLAG_INHERIT))) continue;
        dst->entries[i] = *e; /* the same value, access and flags */
        dst->used++;
        total++;
        nsem__obj_add_handle(e->obj);
    }
    while (dst->first_free < dst->size && dst->entries[dst->first_free].obj) dst->first_free++;
    return 0;
}

void nsem__handle_table_keep_inheritable(struct nsem_handle_table *t)
{
    for (uint32_t i = 0; i < t->size; i++)
        if (t->entries[i].obj && !(t->entries[i].flags & HANDLE_FLAG_INHERIT)) nsem__handle_free(t, (i + 1) << 2);
}

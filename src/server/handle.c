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

/* The lowest free index at or above the floor and min_index; t->size or more when the table must
 * grow. */
static uint32_t next_free(const struct nsem_handle_table *t, uint32_t min_index)
{
    if (min_index < t->floor) min_index = t->floor;
    uint32_t i = t->first_free > min_index ? t->first_free : min_index;
    while (i < t->size && t->entries[i].obj) i++;
    return i;
}

bool nsem__handle_table_full(const struct nsem_handle_table *t)
{
    return next_free(t, 0) >= NSEM_HANDLE_MAX_ENTRIES;
}

uint32_t nsem__handle_table_count(const struct nsem_handle_table *t, bool inheritable_only)
{
    if (!inheritable_only) return t->used;
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->size; i++)
        if (t->entries[i].obj && (t->entries[i].flags & HANDLE_FLAG_INHERIT)) n++;
    return n;
}

/* Makes entry i exist; false when out of memory or over the bound. */
static bool reserve(struct nsem_handle_table *t, uint32_t i)
{
    if (i < t->size) return true;
    if (i >= NSEM_HANDLE_MAX_ENTRIES) return false;
    uint32_t size = t->size ? t->size : 64;
    while (size <= i) size *= 2;
    struct nsem_handle_entry *e = realloc(t->entries, size * sizeof *e);
    if (!e) return false;
    memset(e + t->size, 0, (size - t->size) * sizeof *e);
    t->entries = e;
    t->size = size;
    return true;
}

/* The caller checked the quota; this is the backstop that keeps the limits true regardless. */
static bool over_limits(const struct nsem_handle_table *t)
{
    return t->used >= nsem__limits.max_handles_per_process || total >= nsem__limits.max_handles;
}

uint32_t nsem__handle_alloc_from(struct nsem_handle_table *t, uint32_t min_index, struct nsem_obj *obj, uint32_t access,
                                 uint32_t flags)
{
    if (over_limits(t)) return 0;
    uint32_t i = next_free(t, min_index);
    if (!reserve(t, i)) return 0;
    t->entries[i] = (struct nsem_handle_entry){obj, access, flags};
    if (min_index <= t->first_free) t->first_free = i + 1; /* else free entries may remain below */
    t->used++;
    total++;
    nsem__obj_add_handle(obj);
    return (i + 1) << 2;
}

uint32_t nsem__handle_alloc(struct nsem_handle_table *t, struct nsem_obj *obj, uint32_t access, uint32_t flags)
{
    return nsem__handle_alloc_from(t, 0, obj, access, flags);
}

bool nsem__handle_install_at(struct nsem_handle_table *t, uint32_t handle, struct nsem_obj *obj, uint32_t access,
                             uint32_t flags)
{
    uint32_t index = handle >> 2;
    if ((handle & 3) || index == 0 || over_limits(t) || !reserve(t, index - 1) || t->entries[index - 1].obj)
        return false;
    t->entries[index - 1] = (struct nsem_handle_entry){obj, access, flags};
    while (t->first_free < t->size && t->entries[t->first_free].obj) t->first_free++;
    t->used++;
    total++;
    nsem__obj_add_handle(obj);
    return true;
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

void nsem__handle_table_merge(struct nsem_handle_table *dst, struct nsem_handle_table *src)
{
    for (uint32_t i = 0; i < src->size; i++) {
        struct nsem_handle_entry e = src->entries[i];
        if (!e.obj) continue;
        if (reserve(dst, i) && !dst->entries[i].obj) {
            dst->entries[i] = e; /* the same value: its handle reference moves with it */
            dst->used++;
            continue;
        }
        /* Taken (or no memory): the lowest free value, or, failing that, closed. */
        nsem__handle_alloc(dst, e.obj, e.access, e.flags);
        nsem__obj_remove_handle(e.obj);
    }
    free(src->entries);
    memset(src, 0, sizeof *src);
}

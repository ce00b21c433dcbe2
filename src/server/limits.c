/*
 * limits.c — the limits of one user's server (nsemd serves one user, so they are per user), and
 * the quota checks every path that makes an object or a handle passes first.
 *
 *   objects              live objects of the server (semaphores, mutexes, events, processes)
 *   handles per process  handles in one process's table (a client, or a record of a process
 *                        without a connection)
 *   handles              handles in all: every process's, and the copies fork and spawn tickets
 *                        hold for children not yet started
 *
 * Going over a limit is ERROR_NOT_ENOUGH_QUOTA, Windows' code for a charge its quota refuses
 * (STATUS_QUOTA_EXCEEDED). A resource that is simply used up — the arena's slots, the values of a
 * handle table — is ERROR_NO_SYSTEM_RESOURCES, Windows' STATUS_INSUFFICIENT_RESOURCES. Undo records
 * and exclusive semaphores' waiter queues are not objects: they take arena slots, so they meet the
 * second code, not the first (a queue is made only with its semaphore; an undo record only for a
 * process's handle, which the handle limits bound).
 */
#include <errno.h>
#include <stdlib.h>

#include "server/server.h"

struct nsem_limits nsem__limits = {
    .max_objects = NSEM_DEFAULT_MAX_OBJECTS,
    .max_handles_per_process = NSEM_DEFAULT_MAX_HANDLES_PER_PROCESS,
    .max_handles = NSEM_DEFAULT_MAX_HANDLES,
};

bool nsem__limit_parse(const char *text, uint32_t max, uint32_t *out)
{
    if (!text || *text < '0' || *text > '9') return false; /* no sign, no space, no empty */
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || v == 0 || v > max) return false;
    *out = (uint32_t)v;
    return true;
}

DWORD nsem__quota_objects(uint32_t domain)
{
    if (nsem__obj_count_in(domain) >= nsem__limits.max_objects) return ERROR_NOT_ENOUGH_QUOTA;
    if (nsem__arena_full(domain)) return ERROR_NO_SYSTEM_RESOURCES;
    return 0;
}

DWORD nsem__quota_handles(const struct nsem_handle_table *t, uint32_t n)
{
    if (t && t->used + (uint64_t)n > nsem__limits.max_handles_per_process) return ERROR_NOT_ENOUGH_QUOTA;
    if (nsem__handle_total() + (uint64_t)n > nsem__limits.max_handles) return ERROR_NOT_ENOUGH_QUOTA;
    if (t && n && nsem__handle_table_full(t)) return ERROR_NO_SYSTEM_RESOURCES;
    return 0;
}

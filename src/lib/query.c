/* query.c — inspection: NsemQueryObject, NsemEnumObjects, NsemGetObjectHolders, NsemGetServerStats.
 * The server reports what an object is and who holds it, and what it holds in all. */
#include <stdlib.h>
#include <string.h>

#include "lib/client.h"

/* The size of the first version of NSEM_OBJECT_INFO; later versions only add fields. */
#define INFO_V1_SIZE sizeof(NSEM_OBJECT_INFO)

static void to_info(const struct nsem_obj_state *st, NSEM_OBJECT_INFO *info)
{
    memset(info, 0, INFO_V1_SIZE);
    info->cbSize = INFO_V1_SIZE;
    info->dwType = st->type;
    info->dwFlags = st->flags;
    info->lCurrentCount = st->count;
    info->lMaximumCount = st->max;
    info->dwOwnerProcessId = st->owner_pid;
    info->dwOwnerThreadId = st->owner_tid;
    info->dwRecursionCount = st->recursion;
    info->bAbandoned = st->abandoned != 0;
    info->dwLastOwnerProcessId = st->last_owner_pid;
    info->dwHandleCount = st->handle_count;
    info->dwWaiterCount = st->waiter_count;
}

NSEM_EXTERN BOOL NsemQueryObject(HANDLE hObject, NSEM_OBJECT_INFO *lpInfo)
{
    struct nsem_handle h;
    DWORD e = nsem__handle_lookup(hObject, 0, 0, &h);
    if (!e && (!lpInfo || lpInfo->cbSize < INFO_V1_SIZE)) e = ERROR_INVALID_PARAMETER;
    struct nsem_rep_query rep;
    if (!e) {
        struct nsem_req_query req = {{0, NSEM_OP_QUERY}, h.value, 0};
        nsem__conn_lock();
        e = nsem__request_locked(&req, sizeof req, NULL, 0, &rep, sizeof rep);
        nsem__conn_unlock();
    }
    if (e) {
        nsem__set_error(e);
        return FALSE;
    }
    DWORD size = lpInfo->cbSize;
    to_info(&rep.state, lpInfo);
    lpInfo->cbSize = size;
    return TRUE;
}

NSEM_EXTERN BOOL NsemEnumObjects(NSEM_ENUM_PROC lpEnumFunc, LPVOID lpContext)
{
    if (!lpEnumFunc) {
        nsem__set_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    unsigned char *buf = malloc(NSEM_MSG_MAX);
    char *name = malloc(NSEM_NAME_MAX_BYTES + 1);
    DWORD e = buf && name ? 0 : ERROR_NOT_ENOUGH_MEMORY;
    uint32_t cursor = 0;
    bool go_on = true;
    while (!e && go_on) {
        struct nsem_req_list req = {{0, NSEM_OP_LIST}, cursor, 0};
        nsem__conn_lock();
        e = nsem__request_locked(&req, sizeof req, NULL, 0, buf, NSEM_MSG_MAX);
        nsem__conn_unlock();
        if (e) break;
        const struct nsem_rep_list *rep = (const struct nsem_rep_list *)buf;
        uint32_t off = sizeof *rep;
        for (uint32_t i = 0; i < rep->count && go_on; i++) {
            const struct nsem_list_entry *ent = (const struct nsem_list_entry *)(buf + off);
            if (ent->len < sizeof *ent || off + ent->len > rep->hdr.len || ent->name_len > NSEM_NAME_MAX_BYTES ||
                sizeof *ent + ent->name_len > ent->len) {
                e = ERROR_INVALID_FUNCTION; /* a reply we cannot read: not from our server */
                break;
            }
            memcpy(name, ent + 1, ent->name_len);
            name[ent->name_len] = 0;
            NSEM_OBJECT_INFO info;
            to_info(&ent->state, &info);
            go_on = lpEnumFunc(&info, ent->session, name, lpContext) != FALSE;
            off += ent->len;
        }
        cursor = rep->next_cursor;
        if (!cursor) break;
    }
    free(buf);
    free(name);
    if (e) nsem__set_error(e);
    return e == 0;
}

NSEM_EXTERN BOOL NsemGetObjectHolders(HANDLE hObject, LPDWORD lpPids, DWORD nMax, LPDWORD lpdwCount)
{
    struct nsem_handle h;
    DWORD e = nsem__handle_lookup(hObject, 0, 0, &h);
    if (!e && (!lpdwCount || (!lpPids && nMax))) e = ERROR_INVALID_PARAMETER;
    struct {
        struct nsem_rep_holders rep;
        uint32_t pids[NSEM_HOLDERS_MAX];
    } r;
    if (!e) {
        struct nsem_req_holders req = {{0, NSEM_OP_HOLDERS}, h.value, 0};
        nsem__conn_lock();
        e = nsem__request_locked(&req, sizeof req, NULL, 0, &r, sizeof r);
        nsem__conn_unlock();
    }
    if (!e) {
        uint32_t n = r.rep.count < nMax ? r.rep.count : nMax;
        for (uint32_t i = 0; i < n; i++) lpPids[i] = r.pids[i];
        *lpdwCount = r.rep.total;
        if (r.rep.total > nMax) e = ERROR_INSUFFICIENT_BUFFER;
    }
    if (e) nsem__set_error(e);
    return e == 0;
}

NSEM_EXTERN BOOL NsemGetServerStats(NSEM_SERVER_STATS *lpStats)
{
    if (!lpStats || lpStats->cbSize < sizeof(NSEM_SERVER_STATS)) {
        nsem__set_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    struct nsem_req_stats req = {{0, NSEM_OP_STATS}, {0, 0}};
    struct nsem_rep_stats rep;
    nsem__conn_lock();
    DWORD e = nsem__request_locked(&req, sizeof req, NULL, 0, &rep, sizeof rep);
    nsem__conn_unlock();
    if (e) {
        nsem__set_error(e);
        return FALSE;
    }
    const struct nsem_server_stats *st = &rep.stats;
    DWORD size = lpStats->cbSize;
    memset(lpStats, 0, sizeof *lpStats);
    *lpStats = (NSEM_SERVER_STATS){size, st->server_pid, st->objects, st->handles, st->pins, st->clients,
                                   st->records, st->undo_records, st->tickets, st->cleanups, st->arena_slots,
                                   st->heap_bytes};
    return TRUE;
}

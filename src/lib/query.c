/* query.c — NsemQueryObject: the server reports what an object is and who holds it. */
#include <string.h>

#include "lib/client.h"

/* The size of the first version of NSEM_OBJECT_INFO; later versions only add fields. */
#define INFO_V1_SIZE sizeof(NSEM_OBJECT_INFO)

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
    memset(lpInfo, 0, INFO_V1_SIZE);
    lpInfo->cbSize = size;
    lpInfo->dwType = rep.type;
    lpInfo->dwFlags = rep.flags;
    lpInfo->lCurrentCount = rep.count;
    lpInfo->lMaximumCount = rep.max;
    lpInfo->dwOwnerProcessId = rep.owner_pid;
    lpInfo->dwOwnerThreadId = rep.owner_tid;
    lpInfo->dwRecursionCount = rep.recursion;
    lpInfo->bAbandoned = rep.abandoned != 0;
    lpInfo->dwLastOwnerProcessId = rep.last_owner_pid;
    lpInfo->dwHandleCount = rep.handle_count;
    lpInfo->dwWaiterCount = rep.waiter_count;
    return TRUE;
}

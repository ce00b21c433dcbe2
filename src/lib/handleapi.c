/* handleapi.c — CloseHandle, Get/SetHandleInformation, DuplicateHandle and the pseudo handles. */
#include <string.h>
#include <unistd.h>

#include "lib/client.h"

NSEM_EXTERN HANDLE GetCurrentProcess(void)
{
    return (HANDLE)NSEM_PSEUDO_PROCESS;
}

NSEM_EXTERN HANDLE GetCurrentThread(void)
{
    return (HANDLE)NSEM_PSEUDO_THREAD;
}

NSEM_EXTERN DWORD GetCurrentProcessId(void)
{
    return nsem__pid();
}

NSEM_EXTERN DWORD GetCurrentThreadId(void)
{
    return nsem__tid();
}

NSEM_EXTERN BOOL CloseHandle(HANDLE hObject)
{
    if (nsem__is_pseudo(hObject)) return TRUE; /* closing a pseudo handle does nothing */
    struct nsem_handle h;
    nsem__ensure_connected(); /* an exec'd image's inherited handles come with the connection */
    struct nsem_handle known;
    nsem__handle_lookup(hObject, 0, 0, &known); /* one duplicated into us by another process, too */
    nsem__conn_lock();
    DWORD e = nsem__handle_lookup(hObject, 0, 0, &h);
    if (!e && (h.flags & HANDLE_FLAG_PROTECT_FROM_CLOSE)) e = ERROR_INVALID_HANDLE;
    if (!e) {
        bool drop_pin = false; /* a brokered handle (slot 0) has no pin of ours: the server decides */
        bool pin = h.slot && nsem__close_needs_pin(h.slot, &drop_pin);
        struct nsem_req_close req = {{0, NSEM_OP_CLOSE}, h.value, pin ? NSEM_CLOSE_PIN : 0};
        struct nsem_rep_status rep;
        /* An exclusive semaphore this process owns is abandoned with the process's last handle. */
        if (h.slot && h.type == NSEM_TYPE_SEMAPHORE && nsem__is_last_handle(h.slot) &&
            (atomic_load_explicit(&nsem__slot(h.slot)->flags, memory_order_relaxed) & NSEM_SLOT_EXCLUSIVE))
            nsem__excl_abandon_if_ours(h.slot);
        /* Forget it first: from now on no thread of ours reaches the object through it. Then the
         * close costs no round trip: it goes to the close ring, which the server empties before it
         * handles any later request (closering.c), or, when it cannot, as a request. */
        nsem__handle_forget(h.value);
        /* Another user's semaphore may be exclusive, which the server abandons at our last close:
         * at once, as we do our own, so that close goes as a request. */
        bool brokered_semaphore = !h.slot && h.type == NSEM_TYPE_SEMAPHORE;
        if (brokered_semaphore || !nsem__closering_post(h.value, req.flags))
            e = nsem__request_locked(&req, sizeof req, NULL, 0, &rep, sizeof rep);
        if (!e && drop_pin) {
            struct nsem_req_unpin unpin = {{0, NSEM_OP_UNPIN}, h.slot, 0};
            nsem__request_locked(&unpin, sizeof unpin, NULL, 0, &rep, sizeof rep);
        }
        if (e == ERROR_SERVICE_NOT_ACTIVE || e == ERROR_PROCESS_ABORTED) e = 0; /* the server, and the handle with it, is gone */
    }
    nsem__conn_unlock();
    if (e) nsem__set_error(e);
    return e == 0;
}

NSEM_EXTERN BOOL GetHandleInformation(HANDLE hObject, LPDWORD lpdwFlags)
{
    struct nsem_handle h;
    DWORD e = nsem__handle_lookup(hObject, 0, 0, &h);
    if (!e && !lpdwFlags) e = ERROR_INVALID_PARAMETER;
    if (e) {
        nsem__set_error(e);
        return FALSE;
    }
    *lpdwFlags = h.flags;
    return TRUE;
}

NSEM_EXTERN BOOL SetHandleInformation(HANDLE hObject, DWORD dwMask, DWORD dwFlags)
{
    struct nsem_handle h;
    nsem__ensure_connected(); /* see CloseHandle */
    nsem__handle_lookup(hObject, 0, 0, &h);
    nsem__conn_lock();
    DWORD e = nsem__handle_lookup(hObject, 0, 0, &h);
    if (!e) {
        struct nsem_req_set_handle_info req = {{0, NSEM_OP_SET_HANDLE_INFO}, h.value, dwMask, dwFlags, 0};
        struct nsem_rep_handle_info rep;
        e = nsem__request_locked(&req, sizeof req, NULL, 0, &rep, sizeof rep);
        if (!e) nsem__handle_set_flags(h.value, rep.flags);
    }
    nsem__conn_unlock();
    if (e) nsem__set_error(e);
    return e == 0;
}

NSEM_EXTERN BOOL NsemGetHandleAccess(HANDLE hObject, LPDWORD lpdwGrantedAccess)
{
    struct nsem_handle h;
    DWORD e = nsem__handle_lookup(hObject, 0, 0, &h);
    if (!e && !lpdwGrantedAccess) e = ERROR_INVALID_PARAMETER;
    if (e) {
        nsem__set_error(e);
        return FALSE;
    }
    *lpdwGrantedAccess = h.access;
    return TRUE;
}

/* A process handle argument: NSEM_SELF for GetCurrentProcess(), else the value; false if it is
 * another pseudo handle (a thread, a token: not a process). */
static bool process_arg(HANDLE h, uint32_t *out)
{
    if ((uintptr_t)h == NSEM_PSEUDO_PROCESS) {
        *out = NSEM_SELF;
        return true;
    }
    if (nsem__is_pseudo(h) || (uintptr_t)h > 0xFFFFFFFFu || !h) return false;
    *out = (uint32_t)(uintptr_t)h & ~3u;
    return true;
}

NSEM_EXTERN BOOL DuplicateHandle(HANDLE hSourceProcessHandle, HANDLE hSourceHandle, HANDLE hTargetProcessHandle,
                                 LPHANDLE lpTargetHandle, DWORD dwDesiredAccess, BOOL bInheritHandle,
                                 DWORD dwOptions)
{
    uint32_t from, to;
    if (!process_arg(hSourceProcessHandle, &from) || !process_arg(hTargetProcessHandle, &to)) {
        nsem__set_error(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    struct nsem_handle h = {0};
    DWORD e = 0;
    uint32_t source;
    if ((uintptr_t)hSourceHandle == NSEM_PSEUDO_PROCESS) {
        source = NSEM_PSEUDO_PROCESS_HANDLE; /* the source process's own GetCurrentProcess() */
    } else if (from == NSEM_SELF) {
        e = nsem__handle_lookup(hSourceHandle, 0, 0, &h); /* also brings one duplicated into us */
        source = h.value;
    } else if (nsem__is_pseudo(hSourceHandle) || (uintptr_t)hSourceHandle > 0xFFFFFFFFu) {
        e = ERROR_INVALID_HANDLE;
        source = 0;
    } else {
        source = (uint32_t)(uintptr_t)hSourceHandle & ~3u; /* another process's: the server checks */
    }
    nsem__ensure_connected();
    nsem__conn_lock();
    if (!e && from == NSEM_SELF && source != NSEM_PSEUDO_PROCESS_HANDLE)
        e = nsem__handle_lookup(hSourceHandle, 0, 0, &h); /* still there, now that we hold the lock */
    if (!e) {
        struct nsem_req_dup req = {{0, NSEM_OP_DUP}, source, dwDesiredAccess, dwOptions,
                                   bInheritHandle ? NSEM_ATTR_INHERIT : 0, from, to};
        struct nsem_rep_handle rep;
        /* The server closes an unprotected source with DUPLICATE_CLOSE_SOURCE, whatever happens. */
        bool ours_goes = from == NSEM_SELF && source != NSEM_PSEUDO_PROCESS_HANDLE &&
                         (dwOptions & DUPLICATE_CLOSE_SOURCE) && !(h.flags & HANDLE_FLAG_PROTECT_FROM_CLOSE);
        e = nsem__request_locked(&req, sizeof req, NULL, 0, &rep, sizeof rep);
        if (ours_goes && (e || to != NSEM_SELF || rep.handle != h.value)) nsem__handle_forget(h.value);
        if (!e) {
            if (to == NSEM_SELF) {
                if (ours_goes && rep.handle == h.value) nsem__handle_forget(h.value); /* re-installed */
                nsem__handle_install(&rep);
            }
            if (lpTargetHandle) *lpTargetHandle = (HANDLE)(uintptr_t)rep.handle; /* valid in the target */
        }
    }
    nsem__conn_unlock();
    if (e) {
        if (lpTargetHandle) *lpTargetHandle = NULL;
        nsem__set_error(e);
    }
    return e == 0;
}

NSEM_EXTERN HANDLE OpenProcess(DWORD dwDesiredAccess, BOOL bInheritHandle, DWORD dwProcessId)
{
    struct nsem_req_open_process req = {{0, NSEM_OP_OPEN_PROCESS}, dwProcessId, dwDesiredAccess,
                                        bInheritHandle ? NSEM_ATTR_INHERIT : 0, 0};
    struct nsem_rep_handle rep;
    nsem__conn_lock();
    DWORD e = nsem__request_locked(&req, sizeof req, NULL, 0, &rep, sizeof rep);
    if (!e) nsem__handle_install(&rep);
    nsem__conn_unlock();
    if (e) {
        nsem__set_error(e);
        return NULL;
    }
    return (HANDLE)(uintptr_t)rep.handle;
}

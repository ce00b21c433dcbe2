/*
 * create.c — Create* and Open* for semaphores, mutexes and events, in A and W forms.
 * Parameters are checked here in Windows' order (counts before the name, then the security
 * descriptor); the server resolves the name, checks access and makes the handle.
 */
#include <stdlib.h>
#include <string.h>

#include "common/secdesc.h"
#include "lib/client.h"

struct create_args {
    uint32_t type;
    LPSECURITY_ATTRIBUTES sa;
    uint32_t access;
    uint32_t type_flags;
    int32_t initial, max;
};

/* The new object's descriptor from SECURITY_ATTRIBUTES, checked and laid out canonically, so that
 * it travels with its length (a public descriptor has none). The server checks it again and
 * completes it (owner, group, default DACL) from the caller's token, which only it knows for sure.
 * *sd NULL, *len 0: none given. Returns 0 or the validator's error. */
static DWORD creation_sd(LPSECURITY_ATTRIBUTES sa, unsigned char **sd, size_t *len)
{
    *sd = NULL;
    *len = 0;
    if (!sa || !sa->lpSecurityDescriptor) return 0;
    struct nsem_sd parts;
    DWORD e = nsem__sd_check(sa->lpSecurityDescriptor, NSEM_SD_LEN_UNKNOWN, &parts);
    return e ? e : nsem__sd_build(&parts, sd, len);
}

/* Sends CREATE with a converted name (NULL: anonymous) and the caller's descriptor, if any. */
static HANDLE do_create(const struct create_args *a, const char *name, uint32_t name_len)
{
    unsigned char *sd;
    size_t sd_len;
    DWORD e = creation_sd(a->sa, &sd, &sd_len);
    char *tail = NULL; /* the name, then the descriptor */
    if (!e && sd && !(tail = malloc(name_len + sd_len))) e = ERROR_NOT_ENOUGH_MEMORY;
    if (e) {
        free(sd);
        nsem__set_error(e);
        return NULL;
    }
    if (tail) {
        if (name_len) memcpy(tail, name, name_len);
        memcpy(tail + name_len, sd, sd_len);
        free(sd);
    }
    struct nsem_req_create req;
    memset(&req, 0, sizeof req);
    req.hdr.op = NSEM_OP_CREATE;
    req.type = a->type;
    req.access = a->access;
    req.attributes = (a->sa && a->sa->bInheritHandle) ? NSEM_ATTR_INHERIT : 0;
    req.type_flags = a->type_flags;
    req.initial = a->initial;
    req.max = a->max;
    req.name_len = name_len;
    req.sd_len = (uint32_t)sd_len;
    bool owned_mutex = a->type == NSEM_TYPE_MUTEX && (a->type_flags & NSEM_CREATE_MUTEX_OWNED);
    bool owned_excl = a->type == NSEM_TYPE_SEMAPHORE && (a->type_flags & NSEM_CREATE_SEM_EXCLUSIVE) && a->initial == 0;
    bool owned = owned_mutex || owned_excl;
    if (owned) {
        req.owner_token = nsem__thread_token();
        req.owner_tid = nsem__tid();
        if (!req.owner_token) {
            free(tail);
            nsem__set_error(ERROR_SERVICE_NOT_ACTIVE);
            return NULL;
        }
    }
    struct nsem_rep_handle rep;
    nsem__conn_lock();
    e = nsem__request_locked(&req, sizeof req, tail ? tail : name, name_len + (uint32_t)sd_len, &rep, sizeof rep);
    free(tail);
    if (e == 0 || e == ERROR_ALREADY_EXISTS) {
        nsem__handle_install(&rep);
        if (owned && e == 0) {
            nsem__owned_add(rep.slot);
            if (owned_mutex) nsem__busy_inc(rep.slot); /* an exclusive one goes with the last close */
        }
    }
    nsem__conn_unlock();
    nsem__set_error(e); /* 0 for a new object: Create* always sets the last error */
    return (e == 0 || e == ERROR_ALREADY_EXISTS) ? (HANDLE)(uintptr_t)rep.handle : NULL;
}

static HANDLE create_a(const struct create_args *a, LPCSTR name)
{
    const char *n = NULL;
    uint32_t len = 0;
    if (name) {
        DWORD e = nsem__name_a(name, &n, &len);
        if (e) {
            nsem__set_error(e);
            return NULL;
        }
    }
    return do_create(a, n, len);
}

static HANDLE create_w(const struct create_args *a, LPCWSTR name)
{
    char *n = NULL;
    uint32_t len = 0;
    if (name) {
        DWORD e = nsem__name_w(name, &n, &len);
        if (e) {
            nsem__set_error(e);
            return NULL;
        }
    }
    HANDLE h = do_create(a, n, len);
    free(n);
    return h;
}

static HANDLE do_open(uint32_t type, DWORD access, BOOL inherit, const char *name, uint32_t name_len)
{
    struct nsem_req_open req;
    memset(&req, 0, sizeof req);
    req.hdr.op = NSEM_OP_OPEN;
    req.type = type;
    req.access = access;
    req.attributes = inherit ? NSEM_ATTR_INHERIT : 0;
    req.name_len = name_len;
    struct nsem_rep_handle rep;
    nsem__conn_lock();
    DWORD e = nsem__request_locked(&req, sizeof req, name, name_len, &rep, sizeof rep);
    if (!e) nsem__handle_install(&rep);
    nsem__conn_unlock();
    if (e) {
        nsem__set_error(e); /* Open* leaves the last error alone on success */
        return NULL;
    }
    return (HANDLE)(uintptr_t)rep.handle;
}

static HANDLE open_a(uint32_t type, DWORD access, BOOL inherit, LPCSTR name)
{
    const char *n;
    uint32_t len;
    DWORD e = name ? nsem__name_a(name, &n, &len) : ERROR_INVALID_PARAMETER;
    if (e) {
        nsem__set_error(e);
        return NULL;
    }
    return do_open(type, access, inherit, n, len);
}

static HANDLE open_w(uint32_t type, DWORD access, BOOL inherit, LPCWSTR name)
{
    char *n = NULL;
    uint32_t len;
    DWORD e = name ? nsem__name_w(name, &n, &len) : ERROR_INVALID_PARAMETER;
    if (e) {
        nsem__set_error(e);
        return NULL;
    }
    HANDLE h = do_open(type, access, inherit, n, len);
    free(n);
    return h;
}

/* ---- semaphores ---- */

static bool semaphore_args(struct create_args *a, LPSECURITY_ATTRIBUTES sa, LONG initial, LONG max, DWORD flags,
                           DWORD access)
{
    bool exclusive = flags & SEMAPHORE_EXCLUSIVE, undo = flags & SEMAPHORE_UNDO;
    uint32_t tf = (exclusive ? NSEM_CREATE_SEM_EXCLUSIVE : 0) | (undo ? NSEM_CREATE_SEM_UNDO : 0);
    *a = (struct create_args){NSEM_TYPE_SEMAPHORE, sa, access, tf, initial, max};
    if ((flags & ~(SEMAPHORE_EXCLUSIVE | SEMAPHORE_UNDO)) || (exclusive && undo) || max <= 0 || initial < 0 ||
        initial > max || (exclusive && max != 1)) {
        nsem__set_error(ERROR_INVALID_PARAMETER);
        return false;
    }
    return true;
}

NSEM_EXTERN HANDLE CreateSemaphoreExA(LPSECURITY_ATTRIBUTES sa, LONG initial, LONG max, LPCSTR name, DWORD flags,
                                      DWORD access)
{
    struct create_args a;
    return semaphore_args(&a, sa, initial, max, flags, access) ? create_a(&a, name) : NULL;
}

NSEM_EXTERN HANDLE CreateSemaphoreExW(LPSECURITY_ATTRIBUTES sa, LONG initial, LONG max, LPCWSTR name, DWORD flags,
                                      DWORD access)
{
    struct create_args a;
    return semaphore_args(&a, sa, initial, max, flags, access) ? create_w(&a, name) : NULL;
}

NSEM_EXTERN HANDLE CreateSemaphoreA(LPSECURITY_ATTRIBUTES sa, LONG initial, LONG max, LPCSTR name)
{
    return CreateSemaphoreExA(sa, initial, max, name, 0, SEMAPHORE_ALL_ACCESS);
}

NSEM_EXTERN HANDLE CreateSemaphoreW(LPSECURITY_ATTRIBUTES sa, LONG initial, LONG max, LPCWSTR name)
{
    return CreateSemaphoreExW(sa, initial, max, name, 0, SEMAPHORE_ALL_ACCESS);
}

NSEM_EXTERN HANDLE OpenSemaphoreA(DWORD access, BOOL inherit, LPCSTR name)
{
    return open_a(NSEM_TYPE_SEMAPHORE, access, inherit, name);
}

NSEM_EXTERN HANDLE OpenSemaphoreW(DWORD access, BOOL inherit, LPCWSTR name)
{
    return open_w(NSEM_TYPE_SEMAPHORE, access, inherit, name);
}

/* ---- mutexes ---- */

static struct create_args mutex_args(LPSECURITY_ATTRIBUTES sa, DWORD flags, DWORD access)
{
    uint32_t tf = (flags & CREATE_MUTEX_INITIAL_OWNER) ? NSEM_CREATE_MUTEX_OWNED : 0;
    return (struct create_args){NSEM_TYPE_MUTEX, sa, access, tf, 0, 0};
}

NSEM_EXTERN HANDLE CreateMutexExA(LPSECURITY_ATTRIBUTES sa, LPCSTR name, DWORD flags, DWORD access)
{
    struct create_args a = mutex_args(sa, flags, access);
    return create_a(&a, name);
}

NSEM_EXTERN HANDLE CreateMutexExW(LPSECURITY_ATTRIBUTES sa, LPCWSTR name, DWORD flags, DWORD access)
{
    struct create_args a = mutex_args(sa, flags, access);
    return create_w(&a, name);
}

NSEM_EXTERN HANDLE CreateMutexA(LPSECURITY_ATTRIBUTES sa, BOOL initial_owner, LPCSTR name)
{
    return CreateMutexExA(sa, name, initial_owner ? CREATE_MUTEX_INITIAL_OWNER : 0, MUTEX_ALL_ACCESS);
}

NSEM_EXTERN HANDLE CreateMutexW(LPSECURITY_ATTRIBUTES sa, BOOL initial_owner, LPCWSTR name)
{
    return CreateMutexExW(sa, name, initial_owner ? CREATE_MUTEX_INITIAL_OWNER : 0, MUTEX_ALL_ACCESS);
}

NSEM_EXTERN HANDLE OpenMutexA(DWORD access, BOOL inherit, LPCSTR name)
{
    return open_a(NSEM_TYPE_MUTEX, access, inherit, name);
}

NSEM_EXTERN HANDLE OpenMutexW(DWORD access, BOOL inherit, LPCWSTR name)
{
    return open_w(NSEM_TYPE_MUTEX, access, inherit, name);
}

/* ---- events ---- */

static struct create_args event_args(LPSECURITY_ATTRIBUTES sa, DWORD flags, DWORD access)
{
    uint32_t tf = ((flags & CREATE_EVENT_MANUAL_RESET) ? NSEM_CREATE_EVENT_MANUAL : 0) |
                  ((flags & CREATE_EVENT_INITIAL_SET) ? NSEM_CREATE_EVENT_SET : 0);
    return (struct create_args){NSEM_TYPE_EVENT, sa, access, tf, 0, 0};
}

NSEM_EXTERN HANDLE CreateEventExA(LPSECURITY_ATTRIBUTES sa, LPCSTR name, DWORD flags, DWORD access)
{
    struct create_args a = event_args(sa, flags, access);
    return create_a(&a, name);
}

NSEM_EXTERN HANDLE CreateEventExW(LPSECURITY_ATTRIBUTES sa, LPCWSTR name, DWORD flags, DWORD access)
{
    struct create_args a = event_args(sa, flags, access);
    return create_w(&a, name);
}

static DWORD event_flags(BOOL manual, BOOL initial)
{
    return (manual ? CREATE_EVENT_MANUAL_RESET : 0) | (initial ? CREATE_EVENT_INITIAL_SET : 0);
}

NSEM_EXTERN HANDLE CreateEventA(LPSECURITY_ATTRIBUTES sa, BOOL manual, BOOL initial, LPCSTR name)
{
    return CreateEventExA(sa, name, event_flags(manual, initial), EVENT_ALL_ACCESS);
}

NSEM_EXTERN HANDLE CreateEventW(LPSECURITY_ATTRIBUTES sa, BOOL manual, BOOL initial, LPCWSTR name)
{
    return CreateEventExW(sa, name, event_flags(manual, initial), EVENT_ALL_ACCESS);
}

NSEM_EXTERN HANDLE OpenEventA(DWORD access, BOOL inherit, LPCSTR name)
{
    return open_a(NSEM_TYPE_EVENT, access, inherit, name);
}

NSEM_EXTERN HANDLE OpenEventW(DWORD access, BOOL inherit, LPCWSTR name)
{
    return open_w(NSEM_TYPE_EVENT, access, inherit, name);
}

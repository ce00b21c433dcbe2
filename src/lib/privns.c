/*
 * privns.c — boundary descriptors (in the caller's memory, as Windows keeps them) and the private
 * namespace calls, which the server answers (server/privns.c). A boundary travels as its name and
 * its SIDs in string form, "S-1-...;" each.
 */
#include <stdlib.h>
#include <string.h>

#include "common/sid.h"
#include "lib/client.h"

#define BOUNDARY_MAGIC 0x6e73626eu /* a check that a HANDLE is one of ours */

struct boundary {
    uint32_t magic;
    uint32_t name_len;
    char *name;   /* UTF-8, as object names */
    char *sids;   /* "S-1-...;" each */
    size_t sids_len;
};

static struct boundary *boundary_of(const void *h)
{
    const struct boundary *b = h;
    return b && b->magic == BOUNDARY_MAGIC ? (struct boundary *)b : NULL;
}

static HANDLE make_boundary(const char *name, uint32_t len, ULONG flags)
{
    struct boundary *b = calloc(1, sizeof *b);
    char *copy = b ? malloc(len ? len : 1) : NULL;
    if (!copy) {
        free(b);
        nsem__set_error(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    memcpy(copy, name, len);
    *b = (struct boundary){BOUNDARY_MAGIC, len, copy, NULL, 0};
    return b;
}

NSEM_EXTERN HANDLE CreateBoundaryDescriptorA(LPCSTR Name, ULONG Flags)
{
    if (!Name || Flags) { /* nsem has no app containers */
        nsem__set_error(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    return make_boundary(Name, (uint32_t)strlen(Name), Flags);
}

NSEM_EXTERN HANDLE CreateBoundaryDescriptorW(LPCWSTR Name, ULONG Flags)
{
    if (!Name || Flags) {
        nsem__set_error(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    char *utf8;
    uint32_t len;
    DWORD e = nsem__name_w(Name, &utf8, &len);
    if (e) {
        nsem__set_error(e);
        return NULL;
    }
    HANDLE h = make_boundary(utf8, len, Flags);
    free(utf8);
    return h;
}

NSEM_EXTERN BOOL AddSIDToBoundaryDescriptor(HANDLE *BoundaryDescriptor, PSID RequiredSid)
{
    struct boundary *b = BoundaryDescriptor ? boundary_of(*BoundaryDescriptor) : NULL;
    if (!b || !RequiredSid || !IsValidSid(RequiredSid)) {
        nsem__set_error(ERROR_INVALID_PARAMETER);
        return FALSE;
    }
    char text[NSEM_SID_STRING_MAX];
    size_t n = nsem__sid_format(RequiredSid, text);
    char *grown = realloc(b->sids, b->sids_len + n + 1);
    if (!grown) {
        nsem__set_error(ERROR_NOT_ENOUGH_MEMORY);
        return FALSE;
    }
    memcpy(grown + b->sids_len, text, n);
    grown[b->sids_len + n] = ';';
    b->sids = grown;
    b->sids_len += n + 1;
    return TRUE;
}

NSEM_EXTERN void DeleteBoundaryDescriptor(HANDLE BoundaryDescriptor)
{
    struct boundary *b = boundary_of(BoundaryDescriptor);
    if (!b) return;
    b->magic = 0;
    free(b->name);
    free(b->sids);
    free(b);
}

/* CREATE or OPEN with a converted alias. */
static HANDLE namespace_request(uint32_t action, LPSECURITY_ATTRIBUTES sa, const void *bd, const char *alias,
                                uint32_t alias_len)
{
    const struct boundary *b = boundary_of(bd);
    if (!b || !b->sids_len) { /* a boundary needs a SID at least */
        nsem__set_error(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    size_t tail_len = (size_t)alias_len + b->name_len + b->sids_len;
    char *tail = tail_len <= NSEM_NAME_MAX_BYTES ? malloc(tail_len) : NULL;
    if (!tail) {
        nsem__set_error(tail_len <= NSEM_NAME_MAX_BYTES ? ERROR_NOT_ENOUGH_MEMORY : ERROR_INVALID_PARAMETER);
        return NULL;
    }
    memcpy(tail, alias, alias_len);
    memcpy(tail + alias_len, b->name, b->name_len);
    memcpy(tail + alias_len + b->name_len, b->sids, b->sids_len);
    struct nsem_req_namespace req = {{0, NSEM_OP_NAMESPACE},
                                     action,
                                     (sa && sa->bInheritHandle) ? NSEM_ATTR_INHERIT : 0,
                                     0,
                                     alias_len,
                                     b->name_len,
                                     (uint32_t)tail_len};
    struct nsem_rep_handle rep;
    nsem__conn_lock();
    DWORD e = nsem__request_locked(&req, sizeof req, tail, (uint32_t)tail_len, &rep, sizeof rep);
    if (!e) nsem__handle_install(&rep);
    nsem__conn_unlock();
    free(tail);
    nsem__set_error(e);
    return e ? NULL : (HANDLE)(uintptr_t)rep.handle;
}

static HANDLE namespace_a(uint32_t action, LPSECURITY_ATTRIBUTES sa, const void *bd, LPCSTR alias)
{
    if (!alias) {
        nsem__set_error(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    const char *a;
    uint32_t len;
    DWORD e = nsem__name_a(alias, &a, &len);
    if (e) {
        nsem__set_error(e);
        return NULL;
    }
    return namespace_request(action, sa, bd, a, len);
}

static HANDLE namespace_w(uint32_t action, LPSECURITY_ATTRIBUTES sa, const void *bd, LPCWSTR alias)
{
    if (!alias) {
        nsem__set_error(ERROR_INVALID_PARAMETER);
        return NULL;
    }
    char *a;
    uint32_t len;
    DWORD e = nsem__name_w(alias, &a, &len);
    if (e) {
        nsem__set_error(e);
        return NULL;
    }
    HANDLE h = namespace_request(action, sa, bd, a, len);
    free(a);
    return h;
}

NSEM_EXTERN HANDLE CreatePrivateNamespaceA(LPSECURITY_ATTRIBUTES lpPrivateNamespaceAttributes, LPVOID lpBoundaryDescriptor,
                                           LPCSTR lpAliasPrefix)
{
    return namespace_a(NSEM_NAMESPACE_CREATE, lpPrivateNamespaceAttributes, lpBoundaryDescriptor, lpAliasPrefix);
}

NSEM_EXTERN HANDLE CreatePrivateNamespaceW(LPSECURITY_ATTRIBUTES lpPrivateNamespaceAttributes, LPVOID lpBoundaryDescriptor,
                                           LPCWSTR lpAliasPrefix)
{
    return namespace_w(NSEM_NAMESPACE_CREATE, lpPrivateNamespaceAttributes, lpBoundaryDescriptor, lpAliasPrefix);
}

NSEM_EXTERN HANDLE OpenPrivateNamespaceA(LPVOID lpBoundaryDescriptor, LPCSTR lpAliasPrefix)
{
    return namespace_a(NSEM_NAMESPACE_OPEN, NULL, lpBoundaryDescriptor, lpAliasPrefix);
}

NSEM_EXTERN HANDLE OpenPrivateNamespaceW(LPVOID lpBoundaryDescriptor, LPCWSTR lpAliasPrefix)
{
    return namespace_w(NSEM_NAMESPACE_OPEN, NULL, lpBoundaryDescriptor, lpAliasPrefix);
}

NSEM_EXTERN BOOLEAN ClosePrivateNamespace(HANDLE Handle, ULONG Flags)
{
    struct nsem_handle h;
    DWORD e = nsem__handle_lookup(Handle, NSEM_TYPE_NAMESPACE, 0, &h);
    if (!e && (Flags & ~PRIVATE_NAMESPACE_FLAG_DESTROY)) e = ERROR_INVALID_PARAMETER;
    if (!e && (Flags & PRIVATE_NAMESPACE_FLAG_DESTROY)) {
        struct nsem_req_namespace req = {{0, NSEM_OP_NAMESPACE}, NSEM_NAMESPACE_DESTROY, 0, h.value, 0, 0, 0};
        struct nsem_rep_status rep;
        nsem__conn_lock();
        e = nsem__request_locked(&req, sizeof req, NULL, 0, &rep, sizeof rep);
        nsem__conn_unlock();
    }
    if (e) {
        nsem__set_error(e);
        return FALSE;
    }
    return CloseHandle(Handle) ? TRUE : FALSE;
}

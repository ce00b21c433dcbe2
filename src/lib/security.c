/*
 * security.c — the public security functions: SIDs, security descriptors and SDDL, over the pure
 * code of src/common (sid.c, acl.c, secdesc.c, sddl.c), LocalFree, which frees what they return,
 * and the descriptors of objects, which the server keeps (Get/SetKernelObjectSecurity).
 *
 * The W forms take and return wchar_t strings (WCHAR, as names.c does). SID and SDDL strings are
 * ASCII, so a W string is narrowed character by character; a character outside ASCII becomes 0x7F,
 * which no grammar accepts, so it fails where it stands as any other wrong character would.
 * A public descriptor comes without a length: as on Windows, its offsets are believed.
 */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "common/acl.h"
#include "common/object_sd.h"
#include "common/secdesc.h"
#include "common/sddl.h"
#include "common/sid.h"
#include "lib/client.h"

_Static_assert(sizeof(SECURITY_DESCRIPTOR_RELATIVE) == NSEM_SD_HEADER, "Windows' 20-byte header");
_Static_assert(sizeof(ACL) == 8 && sizeof(ACE_HEADER) == 4 && sizeof(ACCESS_ALLOWED_ACE) == 12, "Windows' layouts");
_Static_assert(sizeof(SID) == 12 && SECURITY_MAX_SID_SIZE == NSEM_SID_MAX_SIZE, "Windows' SID layout");

static BOOL fail(DWORD error)
{
    nsem__set_error(error);
    return FALSE;
}

static char *narrow(const wchar_t *w)
{
    size_t n = wcslen(w);
    char *s = malloc(n + 1);
    if (!s) return NULL;
    for (size_t i = 0; i <= n; i++) s[i] = (uint32_t)w[i] < 0x80 ? (char)w[i] : 0x7F;
    return s;
}

static wchar_t *widen(const char *s, size_t len)
{
    wchar_t *w = malloc((len + 1) * sizeof *w);
    if (!w) return NULL;
    for (size_t i = 0; i <= len; i++) w[i] = (wchar_t)(unsigned char)s[i];
    return w;
}

/* ---- security descriptors and SDDL -------------------------------------------------------- */

NSEM_EXTERN BOOL ConvertStringSecurityDescriptorToSecurityDescriptorA(LPCSTR string, DWORD revision,
                                                                      PSECURITY_DESCRIPTOR *sd, PULONG size)
{
    if (!string || !sd) return fail(ERROR_INVALID_PARAMETER);
    if (revision != SDDL_REVISION_1) return fail(ERROR_UNKNOWN_REVISION);
    unsigned char *out;
    size_t len;
    DWORD e = nsem__sddl_to_sd(string, &out, &len);
    if (e) return fail(e);
    *sd = out;
    if (size) *size = (ULONG)len;
    return TRUE;
}

NSEM_EXTERN BOOL ConvertStringSecurityDescriptorToSecurityDescriptorW(LPCWSTR string, DWORD revision,
                                                                      PSECURITY_DESCRIPTOR *sd, PULONG size)
{
    if (!string || !sd) return fail(ERROR_INVALID_PARAMETER);
    char *a = narrow(string);
    if (!a) return fail(ERROR_NOT_ENOUGH_MEMORY);
    BOOL ok = ConvertStringSecurityDescriptorToSecurityDescriptorA(a, revision, sd, size);
    free(a);
    return ok;
}

/* The SDDL of a descriptor, shared by the A and W forms. */
static DWORD to_sddl(PSECURITY_DESCRIPTOR sd, DWORD revision, SECURITY_INFORMATION info, void *out, char **s,
                     size_t *len)
{
    if (!sd || !out) return ERROR_INVALID_PARAMETER;
    if (revision != SDDL_REVISION_1) return ERROR_UNKNOWN_REVISION;
    return nsem__sd_to_sddl(sd, NSEM_SD_LEN_UNKNOWN, info, s, len);
}

NSEM_EXTERN BOOL ConvertSecurityDescriptorToStringSecurityDescriptorA(PSECURITY_DESCRIPTOR sd, DWORD revision,
                                                                      SECURITY_INFORMATION info, LPSTR *string,
                                                                      PULONG string_len)
{
    char *s;
    size_t len;
    DWORD e = to_sddl(sd, revision, info, string, &s, &len);
    if (e) return fail(e);
    *string = s;
    if (string_len) *string_len = (ULONG)(len + 1);
    return TRUE;
}

NSEM_EXTERN BOOL ConvertSecurityDescriptorToStringSecurityDescriptorW(PSECURITY_DESCRIPTOR sd, DWORD revision,
                                                                      SECURITY_INFORMATION info, LPWSTR *string,
                                                                      PULONG string_len)
{
    char *s;
    size_t len;
    DWORD e = to_sddl(sd, revision, info, string, &s, &len);
    if (e) return fail(e);
    wchar_t *w = widen(s, len);
    free(s);
    if (!w) return fail(ERROR_NOT_ENOUGH_MEMORY);
    *string = w;
    if (string_len) *string_len = (ULONG)(len + 1);
    return TRUE;
}

NSEM_EXTERN BOOL IsValidSecurityDescriptor(PSECURITY_DESCRIPTOR sd)
{
    struct nsem_sd parts;
    if (!sd || nsem__sd_check(sd, NSEM_SD_LEN_UNKNOWN, &parts) != 0) return fail(ERROR_INVALID_SECURITY_DESCR);
    return TRUE;
}

NSEM_EXTERN DWORD GetSecurityDescriptorLength(PSECURITY_DESCRIPTOR sd)
{
    struct nsem_sd parts;
    if (!sd || nsem__sd_check(sd, NSEM_SD_LEN_UNKNOWN, &parts) != 0) return 0;
    return (DWORD)nsem__sd_length(&parts);
}

/* ---- SIDs --------------------------------------------------------------------------------- */

NSEM_EXTERN BOOL ConvertStringSidToSidA(LPCSTR string, PSID *sid)
{
    struct nsem_sid parsed;
    if (!string || !sid) return fail(ERROR_INVALID_PARAMETER);
    DWORD e = nsem__sid_parse(string, strlen(string), &parsed);
    if (e) return fail(e);
    size_t size = nsem__sid_size(parsed.b);
    void *out = malloc(size);
    if (!out) return fail(ERROR_NOT_ENOUGH_MEMORY);
    memcpy(out, parsed.b, size);
    *sid = out;
    return TRUE;
}

NSEM_EXTERN BOOL ConvertStringSidToSidW(LPCWSTR string, PSID *sid)
{
    if (!string || !sid) return fail(ERROR_INVALID_PARAMETER);
    char *a = narrow(string);
    if (!a) return fail(ERROR_NOT_ENOUGH_MEMORY);
    BOOL ok = ConvertStringSidToSidA(a, sid);
    free(a);
    return ok;
}

/* The string of a SID, shared by the A and W forms. */
static DWORD sid_string(PSID sid, void *out, char buf[NSEM_SID_STRING_MAX], size_t *len)
{
    if (!sid || !out) return ERROR_INVALID_PARAMETER;
    if (!nsem__sid_valid(sid, NSEM_SID_MAX_SIZE)) return ERROR_INVALID_SID;
    *len = nsem__sid_format(sid, buf);
    return 0;
}

NSEM_EXTERN BOOL ConvertSidToStringSidA(PSID sid, LPSTR *string)
{
    char buf[NSEM_SID_STRING_MAX];
    size_t len;
    DWORD e = sid_string(sid, string, buf, &len);
    if (e) return fail(e);
    char *s = malloc(len + 1);
    if (!s) return fail(ERROR_NOT_ENOUGH_MEMORY);
    memcpy(s, buf, len + 1);
    *string = s;
    return TRUE;
}

NSEM_EXTERN BOOL ConvertSidToStringSidW(PSID sid, LPWSTR *string)
{
    char buf[NSEM_SID_STRING_MAX];
    size_t len;
    DWORD e = sid_string(sid, string, buf, &len);
    if (e) return fail(e);
    wchar_t *w = widen(buf, len);
    if (!w) return fail(ERROR_NOT_ENOUGH_MEMORY);
    *string = w;
    return TRUE;
}

NSEM_EXTERN BOOL IsValidSid(PSID sid)
{
    return sid && nsem__sid_valid(sid, NSEM_SID_MAX_SIZE);
}

NSEM_EXTERN DWORD GetLengthSid(PSID sid)
{
    return IsValidSid(sid) ? (DWORD)nsem__sid_size(sid) : 0;
}

NSEM_EXTERN BOOL EqualSid(PSID a, PSID b)
{
    if (!IsValidSid(a) || !IsValidSid(b)) return fail(ERROR_INVALID_SID);
    BOOL equal = nsem__sid_equal(a, b);
    nsem__set_error(ERROR_SUCCESS); /* Windows sets it whatever the answer */
    return equal;
}

/* ---- descriptors of objects --------------------------------------------------------------- */

NSEM_EXTERN BOOL GetKernelObjectSecurity(HANDLE Handle, SECURITY_INFORMATION RequestedInformation,
                                         PSECURITY_DESCRIPTOR pSecurityDescriptor, DWORD nLength,
                                         LPDWORD lpnLengthNeeded)
{
    /* Windows probes both buffers before it looks at the handle. */
    if (!lpnLengthNeeded || (!pSecurityDescriptor && nLength)) return fail(ERROR_NOACCESS);
    struct nsem_handle h;
    DWORD e = nsem__handle_lookup(Handle, 0, 0, &h);
    if (e) return fail(e);
    struct nsem_rep_security *rep = malloc(sizeof *rep + NSEM_SD_MAX_BYTES);
    if (!rep) return fail(ERROR_NOT_ENOUGH_MEMORY);
    struct nsem_req_get_security req = {{0, NSEM_OP_GET_SECURITY}, h.value, RequestedInformation};
    nsem__conn_lock();
    e = nsem__request_locked(&req, sizeof req, NULL, 0, rep, sizeof *rep + NSEM_SD_MAX_BYTES);
    nsem__conn_unlock();
    if (!e && rep->sd_len != rep->hdr.len - sizeof *rep) e = ERROR_PROCESS_ABORTED; /* not our server's reply */
    if (!e) {
        *lpnLengthNeeded = rep->sd_len;
        if (rep->sd_len > nLength) e = ERROR_INSUFFICIENT_BUFFER;
        else memcpy(pSecurityDescriptor, rep + 1, rep->sd_len);
    }
    free(rep);
    return e ? fail(e) : TRUE;
}

NSEM_EXTERN BOOL SetKernelObjectSecurity(HANDLE Handle, SECURITY_INFORMATION SecurityInformation,
                                         PSECURITY_DESCRIPTOR SecurityDescriptor)
{
    if (!SecurityDescriptor) return fail(ERROR_NOACCESS);
    /* The handle and its access first, then the descriptor, in Windows' order (the server checks
     * all of it again). */
    struct nsem_handle h;
    DWORD e = nsem__handle_lookup(Handle, 0, nsem__sd_write_access(SecurityInformation), &h);
    struct nsem_sd parts;
    unsigned char *sd = NULL;
    size_t len = 0;
    if (!e) e = nsem__sd_check(SecurityDescriptor, NSEM_SD_LEN_UNKNOWN, &parts);
    if (!e) e = nsem__sd_build(&parts, &sd, &len); /* with its length, for the message */
    if (!e) {
        struct nsem_req_set_security req = {{0, NSEM_OP_SET_SECURITY}, h.value, SecurityInformation, (uint32_t)len, 0};
        struct nsem_rep_status rep;
        nsem__conn_lock();
        e = nsem__request_locked(&req, sizeof req, (const char *)sd, (uint32_t)len, &rep, sizeof rep);
        nsem__conn_unlock();
    }
    free(sd);
    return e ? fail(e) : TRUE;
}

NSEM_EXTERN DWORD GetSecurityInfo(HANDLE handle, SE_OBJECT_TYPE ObjectType, SECURITY_INFORMATION SecurityInfo,
                                  PSID *ppsidOwner, PSID *ppsidGroup, PACL *ppDacl, PACL *ppSacl,
                                  PSECURITY_DESCRIPTOR *ppSecurityDescriptor)
{
    const SECURITY_INFORMATION sacl_parts = SACL_SECURITY_INFORMATION | LABEL_SECURITY_INFORMATION;
    if (ObjectType != SE_KERNEL_OBJECT || !(ppsidOwner || ppsidGroup || ppDacl || ppSacl || ppSecurityDescriptor))
        return ERROR_INVALID_PARAMETER;
    /* Without the descriptor, a part asked for could only be given through its own pointer. */
    if (!ppSecurityDescriptor && (((SecurityInfo & OWNER_SECURITY_INFORMATION) && !ppsidOwner) ||
                                  ((SecurityInfo & GROUP_SECURITY_INFORMATION) && !ppsidGroup) ||
                                  ((SecurityInfo & DACL_SECURITY_INFORMATION) && !ppDacl) ||
                                  ((SecurityInfo & sacl_parts) && !ppSacl)))
        return ERROR_INVALID_PARAMETER;
    DWORD saved = GetLastError(), e = 0, needed = 0;
    unsigned char *sd = NULL;
    /* Asks for the length, then for the descriptor, again if it grew meanwhile. */
    while (!GetKernelObjectSecurity(handle, SecurityInfo, sd, sd ? needed : 0, &needed)) {
        e = GetLastError();
        free(sd);
        sd = NULL;
        if (e != ERROR_INSUFFICIENT_BUFFER) break;
        if (!(sd = malloc(needed))) {
            e = ERROR_NOT_ENOUGH_MEMORY;
            break;
        }
        e = 0;
    }
    nsem__set_error(saved);
    if (e) return e;
    struct nsem_sd parts;
    nsem__sd_check(sd, needed, &parts); /* the server's, canonical: the parts are where it says */
    if (ppsidOwner) *ppsidOwner = (PSID)parts.owner;
    if (ppsidGroup) *ppsidGroup = (PSID)parts.group;
    if (ppDacl) *ppDacl = (PACL)parts.dacl;
    if (ppSacl) *ppSacl = (PACL)parts.sacl;
    if (ppSecurityDescriptor) *ppSecurityDescriptor = sd;
    return ERROR_SUCCESS;
}

NSEM_EXTERN DWORD SetSecurityInfo(HANDLE handle, SE_OBJECT_TYPE ObjectType, SECURITY_INFORMATION SecurityInfo,
                                  PSID psidOwner, PSID psidGroup, PACL pDacl, PACL pSacl)
{
    if (ObjectType != SE_KERNEL_OBJECT) return ERROR_INVALID_PARAMETER;
    struct nsem_sd parts = {0};
    if (SecurityInfo & OWNER_SECURITY_INFORMATION) parts.owner = psidOwner;
    if (SecurityInfo & GROUP_SECURITY_INFORMATION) parts.group = psidGroup;
    if (SecurityInfo & DACL_SECURITY_INFORMATION) {
        parts.dacl_present = true;
        parts.dacl = (const unsigned char *)pDacl;
        if (SecurityInfo & PROTECTED_DACL_SECURITY_INFORMATION) parts.control |= SE_DACL_PROTECTED;
    }
    if (SecurityInfo & (SACL_SECURITY_INFORMATION | LABEL_SECURITY_INFORMATION)) {
        parts.sacl_present = true;
        parts.sacl = (const unsigned char *)pSacl;
        if (SecurityInfo & PROTECTED_SACL_SECURITY_INFORMATION) parts.control |= SE_SACL_PROTECTED;
    }
    /* The parts come without lengths: their own headers are believed, as Windows does. */
    const unsigned char *sids[2] = {parts.owner, parts.group}, *acls[2] = {parts.dacl, parts.sacl};
    for (int i = 0; i < 2; i++) {
        if (sids[i] && !nsem__sid_valid(sids[i], NSEM_SID_MAX_SIZE)) return ERROR_INVALID_SID;
        if (acls[i] && nsem__acl_check(acls[i], nsem__acl_size(acls[i])) != 0) return ERROR_INVALID_ACL;
    }
    unsigned char *sd;
    size_t len;
    DWORD e = nsem__sd_build(&parts, &sd, &len);
    if (e) return e;
    DWORD saved = GetLastError();
    if (!SetKernelObjectSecurity(handle, SecurityInfo, sd)) e = GetLastError();
    nsem__set_error(saved);
    free(sd);
    return e;
}

/* ---- memory ------------------------------------------------------------------------------- */

NSEM_EXTERN HLOCAL LocalFree(HLOCAL mem)
{
    free(mem);
    return NULL;
}

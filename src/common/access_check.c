/*
 * access_check.c — Windows' access check over a self-relative security descriptor.
 */
#include "common/access_check.h"

#include "common/acl.h"
#include "common/secdesc.h"
#include "common/sid.h"

#define GENERIC_BITS (GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL)
/* Bits no ACE can grant: the privilege decides the first, the second is a request flag. */
#define NOT_FROM_ACES (ACCESS_SYSTEM_SECURITY | MAXIMUM_ALLOWED)

uint32_t nsem__map_generic(uint32_t access, const GENERIC_MAPPING *m)
{
    if (access & GENERIC_READ) access |= m->GenericRead;
    if (access & GENERIC_WRITE) access |= m->GenericWrite;
    if (access & GENERIC_EXECUTE) access |= m->GenericExecute;
    if (access & GENERIC_ALL) access |= m->GenericAll;
    return access & ~GENERIC_BITS;
}

static bool is_allow_or_deny(const struct nsem_ace *ace)
{
    return ace->type == ACCESS_ALLOWED_ACE_TYPE || ace->type == ACCESS_DENIED_ACE_TYPE;
}

/* Whether the DACL speaks for the owner through OWNER RIGHTS, which cancels its implicit rights. */
static bool has_owner_rights_ace(const unsigned char *dacl, const struct nsem_sid *owner_rights)
{
    struct nsem_ace_iter it;
    struct nsem_ace ace;
    nsem__ace_iter_init(&it, dacl);
    while (nsem__ace_iter_next(&it, &ace))
        if (is_allow_or_deny(&ace) && !(ace.flags & INHERIT_ONLY_ACE) && nsem__sid_equal(ace.sid, owner_rights->b))
            return true;
    return false;
}

DWORD nsem__access_check(const struct nsem_token *t, const void *sd, size_t len, uint32_t desired,
                         const GENERIC_MAPPING *m, uint32_t *granted)
{
    bool maximum = (desired & MAXIMUM_ALLOWED) != 0;
    uint32_t want = nsem__map_generic(desired & ~MAXIMUM_ALLOWED, m);
    if ((want & ACCESS_SYSTEM_SECURITY) && !t->privileged) return ERROR_PRIVILEGE_NOT_HELD;

    struct nsem_sd p = {0};
    if (sd) {
        if (nsem__sd_check(sd, len, &p) != 0 || !p.owner || !p.group) return ERROR_INVALID_SECURITY_DESCR;
    }
    if (!sd || !p.dacl_present || !p.dacl) {
        *granted = maximum ? m->GenericAll | want : want;
        return 0;
    }

    struct nsem_sid owner_rights;
    nsem__sid_from_alias(&owner_rights, "OW");
    bool is_owner = nsem__token_has_sid(t, p.owner);
    uint32_t allowed = want & ACCESS_SYSTEM_SECURITY; /* by the privilege, checked above */
    uint32_t denied = 0;
    if (is_owner && !has_owner_rights_ace(p.dacl, &owner_rights)) allowed |= READ_CONTROL | WRITE_DAC;

    /* The rights still worth deciding: all of them for MAXIMUM_ALLOWED, else those desired. */
    uint32_t interest = maximum ? ~NOT_FROM_ACES : want & ~NOT_FROM_ACES;
    struct nsem_ace_iter it;
    struct nsem_ace ace;
    nsem__ace_iter_init(&it, p.dacl);
    while ((interest & ~(allowed | denied)) && nsem__ace_iter_next(&it, &ace)) {
        if (!is_allow_or_deny(&ace) || (ace.flags & INHERIT_ONLY_ACE)) continue;
        bool applies = nsem__sid_equal(ace.sid, owner_rights.b) ? is_owner : nsem__token_has_sid(t, ace.sid);
        if (!applies) continue;
        uint32_t undecided = nsem__map_generic(ace.mask, m) & interest & ~(allowed | denied);
        if (ace.type == ACCESS_ALLOWED_ACE_TYPE)
            allowed |= undecided;
        else
            denied |= undecided;
        if (!maximum && (want & denied)) return ERROR_ACCESS_DENIED; /* a desired right is refused */
    }

    if (want & ~allowed) return ERROR_ACCESS_DENIED;
    if (maximum && !allowed) return ERROR_ACCESS_DENIED;
    *granted = maximum ? allowed : want;
    return 0;
}

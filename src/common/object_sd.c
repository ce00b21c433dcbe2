/*
 * object_sd.c — default and completed security descriptors of new objects.
 */
#include "common/object_sd.h"

#include <stdlib.h>

#include "common/acl.h"
#include "common/secdesc.h"
#include "common/sid.h"

/* Windows' default token DACL: the user and Local System may do everything. */
static DWORD default_dacl(const struct nsem_token *creator, unsigned char **dacl, size_t *size)
{
    struct nsem_sid system;
    nsem__sid_from_alias(&system, "SY");
    struct nsem_acl_builder b;
    nsem__acl_builder_init(&b);
    nsem__acl_add(&b, ACCESS_ALLOWED_ACE_TYPE, 0, GENERIC_ALL, creator->user.b);
    nsem__acl_add(&b, ACCESS_ALLOWED_ACE_TYPE, 0, GENERIC_ALL, system.b);
    return nsem__acl_finish(&b, dacl, size);
}

DWORD nsem__sd_default(const struct nsem_token *creator, unsigned char **sd, size_t *len)
{
    return nsem__sd_for_new_object(creator, NULL, 0, sd, len);
}

/* Whether a SACL holds anything but mandatory labels, which a creator may set without privilege. */
static bool sacl_needs_privilege(const unsigned char *sacl)
{
    struct nsem_ace_iter it;
    struct nsem_ace ace;
    nsem__ace_iter_init(&it, sacl);
    while (nsem__ace_iter_next(&it, &ace))
        if (ace.type != SYSTEM_MANDATORY_LABEL_ACE_TYPE) return true;
    return false;
}

DWORD nsem__sd_for_new_object(const struct nsem_token *creator, const void *sd, size_t len, unsigned char **out,
                              size_t *out_len)
{
    struct nsem_sd p = {0};
    if (sd) {
        DWORD e = nsem__sd_check(sd, len, &p);
        if (e) return e;
        if (p.owner && !creator->privileged && !nsem__sid_equal(p.owner, creator->user.b)) return ERROR_INVALID_OWNER;
        if (p.sacl_present && p.sacl && !creator->privileged && sacl_needs_privilege(p.sacl))
            return ERROR_PRIVILEGE_NOT_HELD;
    }
    if (!p.owner) p.owner = creator->user.b;
    if (!p.group) p.group = creator->primary_group.b;
    unsigned char *dacl = NULL;
    size_t dacl_size;
    if (!p.dacl_present) {
        DWORD e = default_dacl(creator, &dacl, &dacl_size);
        if (e) return e;
        p.dacl_present = true;
        p.dacl = dacl;
    }
    DWORD e = nsem__sd_build(&p, out, out_len);
    free(dacl);
    return e;
}

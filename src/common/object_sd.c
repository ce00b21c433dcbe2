/*
 * object_sd.c — the security descriptors of objects: default and completed ones for new objects,
 * the parts a reader asks for, and the change a writer makes.
 */
#include "common/object_sd.h"

#include <stdlib.h>
#include <string.h>

#include "common/acl.h"
#include "common/lebytes.h"
#include "common/secdesc.h"
#include "common/sid.h"

/* The control bits that belong to each part, and go with it when it is read or changed. */
#define OWNER_CONTROL SE_OWNER_DEFAULTED
#define GROUP_CONTROL SE_GROUP_DEFAULTED
#define DACL_CONTROL \
    (SE_DACL_PRESENT | SE_DACL_DEFAULTED | SE_DACL_AUTO_INHERIT_REQ | SE_DACL_AUTO_INHERITED | SE_DACL_PROTECTED)
#define SACL_CONTROL \
    (SE_SACL_PRESENT | SE_SACL_DEFAULTED | SE_SACL_AUTO_INHERIT_REQ | SE_SACL_AUTO_INHERITED | SE_SACL_PROTECTED)

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

/* Whether t may make sid an owner: its own user, or any SID when privileged (Windows'
 * SeRestorePrivilege). */
static bool may_own(const struct nsem_token *t, const unsigned char *sid)
{
    return t->privileged || nsem__sid_equal(sid, t->user.b);
}

DWORD nsem__sd_for_new_object(const struct nsem_token *creator, const void *sd, size_t len, unsigned char **out,
                              size_t *out_len)
{
    struct nsem_sd p = {0};
    if (sd) {
        DWORD e = nsem__sd_check(sd, len, &p);
        if (e) return e;
        if (p.owner && !may_own(creator, p.owner)) return ERROR_INVALID_OWNER;
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

/* ---- reading and changing an object's descriptor ------------------------------------------ */

uint32_t nsem__sd_read_access(uint32_t info)
{
    const uint32_t by_read_control = OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION |
                                     DACL_SECURITY_INFORMATION | LABEL_SECURITY_INFORMATION;
    uint32_t need = 0;
    if (info & by_read_control) need |= READ_CONTROL;
    if (info & SACL_SECURITY_INFORMATION) need |= ACCESS_SYSTEM_SECURITY;
    return need;
}

uint32_t nsem__sd_write_access(uint32_t info)
{
    const uint32_t by_write_owner =
        OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | LABEL_SECURITY_INFORMATION;
    uint32_t need = 0;
    if (info & by_write_owner) need |= WRITE_OWNER;
    if (info & DACL_SECURITY_INFORMATION) need |= WRITE_DAC;
    if (info & SACL_SECURITY_INFORMATION) need |= ACCESS_SYSTEM_SECURITY;
    return need;
}

/* The ACEs of one ACL that are mandatory labels (or that are not), for acl_of. */
struct ace_pick {
    const unsigned char *acl; /* NULL: none */
    bool labels;
};

/* A new ACL (malloc'd) of the ACEs the picks select, copied as they are, in order. Its revision
 * is the highest of the ACLs that give it an ACE (a label from a revision 3 ACL stays in one). */
static DWORD acl_of(const struct ace_pick *picks, int n, unsigned char **out)
{
    size_t size = NSEM_ACL_HEADER;
    unsigned count = 0;
    uint8_t revision = ACL_REVISION;
    for (int pass = 0; pass < 2; pass++) {
        unsigned char *acl = pass ? malloc(size) : NULL;
        if (pass && !acl) return ERROR_NOT_ENOUGH_MEMORY;
        size_t at = NSEM_ACL_HEADER;
        for (int i = 0; i < n; i++) {
            if (!picks[i].acl) continue;
            struct nsem_ace_iter it;
            struct nsem_ace ace;
            nsem__ace_iter_init(&it, picks[i].acl);
            for (size_t start = it.offset; nsem__ace_iter_next(&it, &ace); start = it.offset) {
                if ((ace.type == SYSTEM_MANDATORY_LABEL_ACE_TYPE) != picks[i].labels) continue;
                if (pass) {
                    memcpy(acl + at, picks[i].acl + start, ace.size);
                    at += ace.size;
                    continue;
                }
                size += ace.size;
                count++;
                if (picks[i].acl[0] > revision) revision = picks[i].acl[0];
            }
        }
        if (!pass && size > NSEM_ACL_MAX_SIZE) return ERROR_INVALID_ACL;
        if (pass) {
            acl[0] = revision;
            acl[1] = 0;
            nsem__wr16(acl + 2, (uint16_t)size);
            nsem__wr16(acl + 4, (uint16_t)count);
            nsem__wr16(acl + 6, 0);
            *out = acl;
        }
    }
    return 0;
}

DWORD nsem__sd_query(const void *sd, size_t len, uint32_t info, unsigned char **out, size_t *out_len)
{
    struct nsem_sd p, q = {0};
    if (nsem__sd_check(sd, len, &p) != 0) return ERROR_INVALID_SECURITY_DESCR; /* an object's: cannot happen */
    q.sbz1 = p.sbz1;
    unsigned char *labels = NULL;
    if (info & OWNER_SECURITY_INFORMATION) {
        q.owner = p.owner;
        q.control |= p.control & OWNER_CONTROL;
    }
    if (info & GROUP_SECURITY_INFORMATION) {
        q.group = p.group;
        q.control |= p.control & GROUP_CONTROL;
    }
    if (info & DACL_SECURITY_INFORMATION) {
        q.dacl_present = p.dacl_present;
        q.dacl = p.dacl;
        q.control |= p.control & DACL_CONTROL;
    }
    if (info & SACL_SECURITY_INFORMATION) {
        q.sacl_present = p.sacl_present;
        q.sacl = p.sacl;
        q.control |= p.control & SACL_CONTROL;
    } else if ((info & LABEL_SECURITY_INFORMATION) && p.sacl_present) {
        const struct ace_pick pick = {p.sacl, true};
        if (p.sacl) {
            DWORD e = acl_of(&pick, 1, &labels);
            if (e) return e;
        }
        q.sacl_present = true;
        q.sacl = labels;
        q.control |= p.control & SACL_CONTROL;
    }
    DWORD e = nsem__sd_build(&q, out, out_len);
    free(labels);
    return e;
}

DWORD nsem__sd_set(const struct nsem_token *t, const void *old, size_t old_len, uint32_t info, const void *sd,
                   size_t len, unsigned char **out, size_t *out_len)
{
    struct nsem_sd o, n;
    DWORD e = nsem__sd_check(sd, len, &n);
    if (e) return e;
    if (((info & OWNER_SECURITY_INFORMATION) && !n.owner) || ((info & GROUP_SECURITY_INFORMATION) && !n.group))
        return ERROR_INVALID_SECURITY_DESCR;
    if ((info & OWNER_SECURITY_INFORMATION) && !may_own(t, n.owner)) return ERROR_INVALID_OWNER;
    bool sacl = (info & SACL_SECURITY_INFORMATION) && n.sacl_present && n.sacl;
    if (sacl && !t->privileged && sacl_needs_privilege(n.sacl)) return ERROR_PRIVILEGE_NOT_HELD;
    if (nsem__sd_check(old, old_len, &o) != 0) return ERROR_INVALID_SECURITY_DESCR; /* cannot happen */
    unsigned char *labels = NULL;
    if (info & OWNER_SECURITY_INFORMATION) {
        o.owner = n.owner;
        o.control = (uint16_t)((o.control & ~OWNER_CONTROL) | (n.control & OWNER_CONTROL));
    }
    if (info & GROUP_SECURITY_INFORMATION) {
        o.group = n.group;
        o.control = (uint16_t)((o.control & ~GROUP_CONTROL) | (n.control & GROUP_CONTROL));
    }
    if (info & DACL_SECURITY_INFORMATION) {
        o.dacl_present = n.dacl_present;
        o.dacl = n.dacl;
        o.control = (uint16_t)((o.control & ~DACL_CONTROL) | (n.control & DACL_CONTROL));
    }
    if (info & SACL_SECURITY_INFORMATION) {
        o.sacl_present = n.sacl_present;
        o.sacl = n.sacl;
        o.control = (uint16_t)((o.control & ~SACL_CONTROL) | (n.control & SACL_CONTROL));
    } else if (info & LABEL_SECURITY_INFORMATION) {
        /* Windows keeps the rest of the SACL and takes the labels from the new one. */
        const struct ace_pick picks[2] = {{o.sacl_present ? o.sacl : NULL, false},
                                          {n.sacl_present ? n.sacl : NULL, true}};
        e = acl_of(picks, 2, &labels);
        if (e) return e;
        o.sacl_present = true;
        o.sacl = labels;
    }
    e = nsem__sd_build(&o, out, out_len);
    free(labels);
    return e;
}

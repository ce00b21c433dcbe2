/*
 * secdesc.c — self-relative security descriptors: the validator, the length, the builder.
 */
#include "common/secdesc.h"

#include <stdlib.h>
#include <string.h>

#include "common/acl.h"
#include "common/lebytes.h"
#include "common/sid.h"

#define OWNER_FIELD 4
#define GROUP_FIELD 8
#define SACL_FIELD 12
#define DACL_FIELD 16
#define SID_PART_MIN 12 /* Windows asks this much room of a SID's offset, even for an 8-byte SID */

/* Windows' RtlpValidateSDOffsetAndSize: the room after a part's offset, or 0 when the offset is bad. */
static size_t part_room(uint32_t offset, size_t len, size_t min)
{
    if (offset < NSEM_SD_HEADER || offset >= len || offset % 4 != 0 || len - offset < min) return 0;
    return len - offset;
}

static DWORD check_sid_part(const unsigned char *sd, size_t len, int field, const unsigned char **sid)
{
    uint32_t offset = nsem__rd32(sd + field);
    *sid = NULL;
    if (offset == 0) return 0;
    size_t room = part_room(offset, len, SID_PART_MIN);
    if (!room) return ERROR_INVALID_SECURITY_DESCR;
    if (!nsem__sid_valid(sd + offset, room)) return ERROR_INVALID_SID;
    *sid = sd + offset;
    return 0;
}

static DWORD check_acl_part(const unsigned char *sd, size_t len, int field, const unsigned char **acl)
{
    uint32_t offset = nsem__rd32(sd + field);
    *acl = NULL;
    if (offset == 0) return 0; /* a NULL ACL */
    size_t room = part_room(offset, len, NSEM_ACL_HEADER);
    if (!room) return ERROR_INVALID_SECURITY_DESCR;
    DWORD e = nsem__acl_check(sd + offset, room);
    if (e) return e;
    *acl = sd + offset;
    return 0;
}

DWORD nsem__sd_check(const void *sd_, size_t len, struct nsem_sd *out)
{
    const unsigned char *sd = sd_;
    if (len < NSEM_SD_HEADER || sd[0] != NSEM_SD_REVISION) return ERROR_INVALID_SECURITY_DESCR;
    uint16_t control = nsem__rd16(sd + 2);
    if (!(control & SE_SELF_RELATIVE)) return ERROR_INVALID_SECURITY_DESCR;
    memset(out, 0, sizeof *out);
    out->control = control;
    out->sbz1 = sd[1];
    out->dacl_present = (control & SE_DACL_PRESENT) != 0;
    out->sacl_present = (control & SE_SACL_PRESENT) != 0;
    DWORD e = check_sid_part(sd, len, OWNER_FIELD, &out->owner);
    if (!e) e = check_sid_part(sd, len, GROUP_FIELD, &out->group);
    if (!e && out->dacl_present) e = check_acl_part(sd, len, DACL_FIELD, &out->dacl);
    if (!e && out->sacl_present) e = check_acl_part(sd, len, SACL_FIELD, &out->sacl);
    return e;
}

static size_t round4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

size_t nsem__sd_length(const struct nsem_sd *p)
{
    size_t n = NSEM_SD_HEADER;
    if (p->sacl_present && p->sacl) n += round4(nsem__acl_size(p->sacl));
    if (p->dacl_present && p->dacl) n += round4(nsem__acl_size(p->dacl));
    if (p->owner) n += nsem__sid_size(p->owner);
    if (p->group) n += nsem__sid_size(p->group);
    return n;
}

/* Copies a part to *at (a multiple of 4, zero-padded) and records its offset in field. */
static void put_part(unsigned char *sd, size_t *at, int field, const unsigned char *part, size_t size)
{
    memcpy(sd + *at, part, size);
    nsem__wr32(sd + field, (uint32_t)*at);
    *at += round4(size);
}

DWORD nsem__sd_build(const struct nsem_sd *p, unsigned char **out, size_t *out_len)
{
    size_t len = nsem__sd_length(p);
    unsigned char *sd = calloc(1, len); /* zeroed: absent parts' offsets and padding */
    if (!sd) return ERROR_NOT_ENOUGH_MEMORY;
    uint16_t control = (uint16_t)(p->control & ~(SE_DACL_PRESENT | SE_SACL_PRESENT)) | SE_SELF_RELATIVE;
    if (p->dacl_present) control |= SE_DACL_PRESENT;
    if (p->sacl_present) control |= SE_SACL_PRESENT;
    sd[0] = NSEM_SD_REVISION;
    sd[1] = p->sbz1;
    nsem__wr16(sd + 2, control);
    size_t at = NSEM_SD_HEADER;
    if (p->sacl_present && p->sacl) put_part(sd, &at, SACL_FIELD, p->sacl, nsem__acl_size(p->sacl));
    if (p->dacl_present && p->dacl) put_part(sd, &at, DACL_FIELD, p->dacl, nsem__acl_size(p->dacl));
    if (p->owner) put_part(sd, &at, OWNER_FIELD, p->owner, nsem__sid_size(p->owner));
    if (p->group) put_part(sd, &at, GROUP_FIELD, p->group, nsem__sid_size(p->group));
    *out = sd;
    *out_len = len;
    return 0;
}

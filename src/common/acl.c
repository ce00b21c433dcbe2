/*
 * acl.c — ACLs: the validator, a walk over the ACEs, and a builder.
 */
#include "common/acl.h"

#include <stdlib.h>
#include <string.h>

#include "common/lebytes.h"
#include "common/sid.h"

#define ACL_REVISION_MIN 2
#define ACL_REVISION_COMPOUND 3 /* ACL_REVISION3: compound ACEs allowed */
#define ACL_REVISION_OBJECT 4   /* ACL_REVISION_DS: object ACEs allowed */

/* ACE types besides those of nsem.h, as numbered by winnt.h. */
#define COMPOUND_ACE_TYPE 4
#define RESOURCE_ATTRIBUTE_ACE_TYPE 18
#define ACCESS_FILTER_ACE_TYPE 21
#define OBJECT_TYPE_PRESENT 1u           /* object ACE Flags: ObjectType GUID follows */
#define INHERITED_OBJECT_TYPE_PRESENT 2u /* InheritedObjectType GUID follows */
#define GUID_SIZE 16

/* Mask + SID bodies: allowed, denied, audit, alarm (0-3), their callback forms (9, 10, 13, 14),
 * mandatory label (17), scoped policy id (19), process trust label (20). */
#define MASK_AND_SID_TYPES 0x1A660Fu
/* Object ACEs: allowed, denied, audit, alarm (5-8) and their callback forms (11, 12, 15, 16). */
#define OBJECT_TYPES 0x199E0u

static bool type_in(uint8_t type, uint32_t set)
{
    return type < 32 && (set >> type & 1);
}

bool nsem__ace_has_mask_and_sid(uint8_t type)
{
    return type_in(type, MASK_AND_SID_TYPES);
}

/* A SID at ace + offset that fits in the ACE. */
static bool sid_at(const unsigned char *ace, size_t size, size_t offset)
{
    return offset <= size && nsem__sid_valid(ace + offset, size - offset);
}

static bool ace_body_valid(uint8_t acl_revision, const unsigned char *ace, uint16_t size)
{
    uint8_t type = ace[0];
    if (type_in(type, MASK_AND_SID_TYPES) || type == RESOURCE_ATTRIBUTE_ACE_TYPE || type == ACCESS_FILTER_ACE_TYPE)
        return size % 4 == 0 && size >= NSEM_ACE_SID_OFFSET + NSEM_SID_HEADER && sid_at(ace, size, NSEM_ACE_SID_OFFSET);
    if (type == COMPOUND_ACE_TYPE) {
        /* Mask, CompoundAceType (2), Reserved (2), then the server's SID and the client's. */
        size_t server = NSEM_ACE_SID_OFFSET + 4;
        if (acl_revision < ACL_REVISION_COMPOUND || size % 4 != 0 || !sid_at(ace, size, server)) return false;
        return sid_at(ace, size, server + nsem__sid_size(ace + server));
    }
    if (type_in(type, OBJECT_TYPES)) {
        /* Mask, Flags (4), the GUIDs that Flags announce, then the SID. */
        if (acl_revision < ACL_REVISION_OBJECT || size % 4 != 0 || size < NSEM_ACE_SID_OFFSET + 4) return false;
        uint32_t flags = nsem__rd32(ace + NSEM_ACE_SID_OFFSET);
        size_t sid = NSEM_ACE_SID_OFFSET + 4;
        if (flags & OBJECT_TYPE_PRESENT) sid += GUID_SIZE;
        if (flags & INHERITED_OBJECT_TYPE_PRESENT) sid += GUID_SIZE;
        return sid_at(ace, size, sid);
    }
    return size >= NSEM_ACE_HEADER; /* a type Windows does not know: only its size is checked */
}

DWORD nsem__acl_check(const unsigned char *acl, size_t avail)
{
    if (avail < NSEM_ACL_HEADER) return ERROR_INVALID_ACL;
    uint8_t revision = acl[0];
    uint16_t size = nsem__acl_size(acl), count = nsem__acl_count(acl);
    if (revision < ACL_REVISION_MIN || revision > ACL_REVISION_OBJECT || size < NSEM_ACL_HEADER || size > avail)
        return ERROR_INVALID_ACL;
    size_t offset = NSEM_ACL_HEADER;
    for (unsigned i = 0; i < count; i++) {
        if ((offset & 1) || offset + NSEM_ACE_HEADER > size) return ERROR_INVALID_ACL;
        const unsigned char *ace = acl + offset;
        uint16_t ace_size = nsem__rd16(ace + 2);
        /* A size below the header is caught by the type's check, so the walk always advances. */
        if (offset + ace_size > size || !ace_body_valid(revision, ace, ace_size)) return ERROR_INVALID_ACL;
        offset += ace_size;
    }
    return 0;
}

void nsem__ace_iter_init(struct nsem_ace_iter *it, const unsigned char *acl)
{
    it->acl = acl;
    it->index = 0;
    it->offset = NSEM_ACL_HEADER;
}

bool nsem__ace_iter_next(struct nsem_ace_iter *it, struct nsem_ace *ace)
{
    if (it->index == nsem__acl_count(it->acl)) return false;
    const unsigned char *p = it->acl + it->offset;
    ace->type = p[0];
    ace->flags = p[1];
    ace->size = nsem__rd16(p + 2);
    bool known = nsem__ace_has_mask_and_sid(ace->type);
    ace->mask = known ? nsem__rd32(p + NSEM_ACE_HEADER) : 0;
    ace->sid = known ? p + NSEM_ACE_SID_OFFSET : NULL;
    it->offset += ace->size;
    it->index++;
    return true;
}

/* ---- builder ------------------------------------------------------------------------------ */

void nsem__acl_builder_init(struct nsem_acl_builder *b)
{
    memset(b, 0, sizeof *b);
    b->len = NSEM_ACL_HEADER;
}

void nsem__acl_add(struct nsem_acl_builder *b, uint8_t type, uint8_t flags, uint32_t mask, const unsigned char *sid)
{
    size_t ace_size = NSEM_ACE_SID_OFFSET + nsem__sid_size(sid);
    if (b->error) return;
    if (b->len + ace_size > NSEM_ACL_MAX_SIZE) {
        b->error = ERROR_INVALID_ACL;
        return;
    }
    if (b->len + ace_size > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + ace_size) cap *= 2;
        unsigned char *buf = realloc(b->buf, cap);
        if (!buf) {
            b->error = ERROR_NOT_ENOUGH_MEMORY;
            return;
        }
        b->buf = buf;
        b->cap = cap;
    }
    unsigned char *p = b->buf + b->len;
    p[0] = type;
    p[1] = flags;
    nsem__wr16(p + 2, (uint16_t)ace_size);
    nsem__wr32(p + NSEM_ACE_HEADER, mask);
    memcpy(p + NSEM_ACE_SID_OFFSET, sid, ace_size - NSEM_ACE_SID_OFFSET);
    b->len += ace_size;
    b->count++;
}

DWORD nsem__acl_finish(struct nsem_acl_builder *b, unsigned char **acl, size_t *size)
{
    if (!b->error && !b->buf && !(b->buf = malloc(NSEM_ACL_HEADER))) b->error = ERROR_NOT_ENOUGH_MEMORY;
    if (b->error) {
        free(b->buf);
        b->buf = NULL;
        return b->error;
    }
    unsigned char *p = b->buf;
    p[0] = ACL_REVISION;
    p[1] = 0;
    nsem__wr16(p + 2, (uint16_t)b->len);
    nsem__wr16(p + 4, (uint16_t)b->count);
    nsem__wr16(p + 6, 0);
    *acl = p;
    *size = b->len;
    b->buf = NULL;
    return 0;
}

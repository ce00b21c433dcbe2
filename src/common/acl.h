/*
 * acl.h — access control lists (ACLs) and their entries (ACEs), as Windows lays them out.
 *
 * ACL: AclRevision (1 byte: 2, or 3-4 for compound and object ACEs), Sbz1 (1), AclSize (2: the
 * whole ACL, header included), AceCount (2), Sbz2 (2), then the ACEs one after the other.
 * ACE: AceType (1), AceFlags (1), AceSize (2: the whole ACE), then a body that depends on the type.
 * The types nsem writes (allowed, denied, audit, alarm, mandatory label) have the body
 * Mask (4) + SID; the validator also knows the compound and object ACEs and the rest of Windows'
 * types, so that a descriptor Windows accepts is accepted and kept as it is.
 * All fields little-endian, read byte by byte (lebytes.h).
 */
#ifndef NSEM_COMMON_ACL_H
#define NSEM_COMMON_ACL_H

#include <nsem.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NSEM_ACL_HEADER 8
#define NSEM_ACL_MAX_SIZE 0xFFFFu /* AclSize is 16 bits */
#define NSEM_ACE_HEADER 4
#define NSEM_ACE_SID_OFFSET 8 /* header, then Mask, then the SID */

/* Checks an ACL of which avail bytes are readable, with Windows' rules (RtlValidAcl): revision
 * 2 to 4, AclSize at least 8 and inside avail, each of the AceCount ACEs inside AclSize and at an
 * even offset, each ACE's body valid for its type (the SID of a mask-and-SID ACE: revision 1, at
 * most 15 sub-authorities, inside the ACE; AceSize a multiple of 4). Bytes after the last ACE are
 * allowed. Returns 0 or ERROR_INVALID_ACL. */
DWORD nsem__acl_check(const unsigned char *acl, size_t avail);

static inline uint16_t nsem__acl_size(const unsigned char *acl)
{
    return (uint16_t)(acl[2] | acl[3] << 8);
}

static inline uint16_t nsem__acl_count(const unsigned char *acl)
{
    return (uint16_t)(acl[4] | acl[5] << 8);
}

/* Whether an ACE type has the body Mask + SID (ACCESS_ALLOWED_ACE's layout). */
bool nsem__ace_has_mask_and_sid(uint8_t type);

/* One ACE of a checked ACL. */
struct nsem_ace {
    uint8_t type;
    uint8_t flags;
    uint16_t size;
    uint32_t mask;            /* when nsem__ace_has_mask_and_sid(type), else 0 */
    const unsigned char *sid; /* when nsem__ace_has_mask_and_sid(type), else NULL */
};

/* Walks the ACEs of an ACL that nsem__acl_check accepted. */
struct nsem_ace_iter {
    const unsigned char *acl;
    unsigned index;
    size_t offset;
};
void nsem__ace_iter_init(struct nsem_ace_iter *it, const unsigned char *acl);
bool nsem__ace_iter_next(struct nsem_ace_iter *it, struct nsem_ace *ace);

/* Builds an ACL of revision 2 from mask-and-SID ACEs. Errors are kept until nsem__acl_finish. */
struct nsem_acl_builder {
    unsigned char *buf; /* header then ACEs */
    size_t len, cap;
    unsigned count;
    DWORD error;
};
void nsem__acl_builder_init(struct nsem_acl_builder *b);
void nsem__acl_add(struct nsem_acl_builder *b, uint8_t type, uint8_t flags, uint32_t mask, const unsigned char *sid);
/* Writes the header and hands over the ACL (malloc'd, AclSize bytes): 0, ERROR_NOT_ENOUGH_MEMORY,
 * or ERROR_INVALID_ACL when it would pass 65535 bytes. On error nothing is handed over. */
DWORD nsem__acl_finish(struct nsem_acl_builder *b, unsigned char **acl, size_t *size);

#endif

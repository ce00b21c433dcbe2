/*
 * secdesc.h — self-relative security descriptors (SECURITY_DESCRIPTOR_RELATIVE), as Windows lays
 * them out: a 20-byte header, then the parts it points to by offset from its start.
 *
 *   byte 0      Revision, always 1
 *   byte 1      Sbz1 (Windows' resource-manager bits; kept, never interpreted)
 *   bytes 2-3   Control: SE_* bits; SE_SELF_RELATIVE always set
 *   bytes 4-7   Owner offset (0: no owner)      bytes 8-11   Group offset (0: no group)
 *   bytes 12-15 Sacl offset                     bytes 16-19  Dacl offset
 * A DACL is present when SE_DACL_PRESENT is set; its offset 0 then means a NULL DACL (no
 * protection at all), and an offset without SE_DACL_PRESENT is ignored. Likewise the SACL.
 * nsem writes the parts in Windows' order: SACL, DACL, owner, group, each at a multiple of 4.
 */
#ifndef NSEM_COMMON_SECDESC_H
#define NSEM_COMMON_SECDESC_H

#include <nsem.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NSEM_SD_REVISION 1
#define NSEM_SD_HEADER 20
/* The length to pass for a descriptor from a public function, which has none: as Windows, the
 * offsets are believed and the parts read where they point. */
#define NSEM_SD_LEN_UNKNOWN SIZE_MAX

/* A descriptor's parts: pointers into a checked descriptor, or the parts of one to build. */
struct nsem_sd {
    uint16_t control;                  /* SE_* bits */
    uint8_t sbz1;
    const unsigned char *owner, *group; /* SIDs, NULL when absent */
    bool sacl_present, dacl_present;
    const unsigned char *sacl, *dacl;   /* ACLs, NULL when absent or a NULL ACL */
};

/* Checks a self-relative descriptor of which len bytes are readable, with Windows' rules
 * (RtlValidRelativeSecurityDescriptor), and fills *out. Returns 0 or:
 *   ERROR_INVALID_SECURITY_DESCR  len < 20, revision not 1, SE_SELF_RELATIVE clear, or an offset
 *                                 below 20, past the end, not a multiple of 4, or leaving less
 *                                 room than its part's header (12 bytes for a SID, 8 for an ACL);
 *   ERROR_INVALID_SID             the owner or the group is not a valid SID inside len;
 *   ERROR_INVALID_ACL             a present DACL or SACL that nsem__acl_check rejects, or whose
 *                                 AclSize passes the end. */
DWORD nsem__sd_check(const void *sd, size_t len, struct nsem_sd *out);

/* Windows' GetSecurityDescriptorLength: 20 plus each part's size rounded up to 4. */
size_t nsem__sd_length(const struct nsem_sd *parts);

/* Writes a self-relative descriptor of the given parts (malloc'd) in the canonical layout; the
 * control is parts->control with SE_SELF_RELATIVE, SE_DACL_PRESENT and SE_SACL_PRESENT set from
 * the parts. The parts must be valid. Returns 0 or ERROR_NOT_ENOUGH_MEMORY. */
DWORD nsem__sd_build(const struct nsem_sd *parts, unsigned char **sd, size_t *len);

#endif

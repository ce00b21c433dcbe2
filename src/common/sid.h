/*
 * sid.h — security identifiers (SIDs), as Windows lays them out and writes them.
 *
 * Binary form (Windows' SID structure), at any alignment:
 *   byte 0      Revision, always 1
 *   byte 1      SubAuthorityCount, 0 to 15
 *   bytes 2-7   IdentifierAuthority, a 48-bit big-endian number
 *   bytes 8-    SubAuthority[SubAuthorityCount], 32-bit little-endian numbers
 * String form: "S-1-<authority>-<sub>-<sub>...", the authority in decimal below 2^32 and as
 * "0x" + 12 lowercase hex digits from 2^32 on (MS-DTYP 2.4.2.1).
 * SDDL aliases: two letters for the well-known SIDs that do not depend on a domain ("WD" Everyone
 * S-1-1-0, "SY" Local System S-1-5-18, "BA" Administrators S-1-5-32-544, ...).
 * Unix users and groups map as Samba maps them: user uid is S-1-22-1-<uid>, group gid S-1-22-2-<gid>.
 */
#ifndef NSEM_COMMON_SID_H
#define NSEM_COMMON_SID_H

#include <nsem.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NSEM_SID_REVISION 1
#define NSEM_SID_MAX_SUBS 15
#define NSEM_SID_HEADER 8                                    /* revision, count, authority */
#define NSEM_SID_MAX_SIZE (NSEM_SID_HEADER + 4 * NSEM_SID_MAX_SUBS) /* 68: SECURITY_MAX_SID_SIZE */
#define NSEM_SID_AUTHORITY_MAX ((UINT64_C(1) << 48) - 1)
/* "S-1-0x" + 12 hex digits + 15 * ("-" + 10 digits) + NUL = 184, rounded up. */
#define NSEM_SID_STRING_MAX 192

/* A binary SID in a buffer large enough for any SID. */
struct nsem_sid {
    unsigned char b[NSEM_SID_MAX_SIZE];
};

/* The size of a SID from its count byte: 8 + 4 * count. The caller knows two bytes are there. */
size_t nsem__sid_size(const unsigned char *sid);
/* Whether the avail bytes at sid hold a valid SID: revision 1, at most 15 sub-authorities, all of
 * it inside avail. */
bool nsem__sid_valid(const unsigned char *sid, size_t avail);
/* Whether two valid SIDs are the same SID. */
bool nsem__sid_equal(const unsigned char *a, const unsigned char *b);
uint64_t nsem__sid_authority(const unsigned char *sid);
uint32_t nsem__sid_sub(const unsigned char *sid, unsigned index);
/* Writes a SID (authority <= NSEM_SID_AUTHORITY_MAX, count <= 15); returns its size. */
size_t nsem__sid_init(struct nsem_sid *out, uint64_t authority, unsigned count, const uint32_t *subs);

/* Parses len bytes (no NUL needed) holding a whole SID string: "S-1-..." (or "s-1-..."; each number
 * decimal or "0x"/"0X" hex; 1 to 15 sub-authorities) or a two-letter alias (any case).
 * Returns 0, ERROR_INVALID_SID, or ERROR_NONE_MAPPED for an alias of a domain-relative SID
 * ("DA", "LA", ...: nsem knows no domain). */
DWORD nsem__sid_parse(const char *s, size_t len, struct nsem_sid *out);
/* Like nsem__sid_parse, for an alias only: asserts that it is one nsem knows. */
void nsem__sid_from_alias(struct nsem_sid *out, const char *alias);
/* Writes the "S-1-..." form of a valid SID and a NUL; returns the length without the NUL. */
size_t nsem__sid_format(const unsigned char *sid, char out[NSEM_SID_STRING_MAX]);
/* The SDDL alias of a valid SID ("WD"), or NULL when it has none. */
const char *nsem__sid_alias(const unsigned char *sid);

/* The Unix mapping. nsem__sid_to_uid/gid: false for a SID that is not a user (group) SID. */
void nsem__sid_from_uid(struct nsem_sid *out, uint32_t uid);
void nsem__sid_from_gid(struct nsem_sid *out, uint32_t gid);
bool nsem__sid_to_uid(const unsigned char *sid, uint32_t *uid);
bool nsem__sid_to_gid(const unsigned char *sid, uint32_t *gid);

#endif

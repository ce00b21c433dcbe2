/*
 * token.h — who is asking: the security identity of a client process, as a Windows access token
 * holds it (a user SID, group SIDs, privileges), made from its Unix credentials.
 *
 * A Unix process becomes: user S-1-22-1-<uid>; groups S-1-22-2-<gid> for its primary and each
 * supplementary group, and, as every Windows logon has them, Everyone (S-1-1-0), Authenticated
 * Users (S-1-5-11) and Users (S-1-5-32-545). Root (uid 0) is also Local System (S-1-5-18) and
 * Administrators (S-1-5-32-544), and holds their privileges: SeSecurityPrivilege (the right to ask
 * for ACCESS_SYSTEM_SECURITY) and the right to name any owner for a new object.
 */
#ifndef NSEM_COMMON_TOKEN_H
#define NSEM_COMMON_TOKEN_H

#include <nsem.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sid.h"

struct nsem_token {
    struct nsem_sid user;
    struct nsem_sid primary_group; /* the owner group of the objects it creates */
    struct nsem_sid *groups;       /* every group it is in, the primary group among them (malloc'd) */
    size_t group_count;
    bool privileged;               /* its privileges are in effect: root's are, in a token made by
                                      nsem__token_init; the server's tokens of its clients have them
                                      disabled, as a Windows logon has (see server/identity.c) */
};

/* The token of a process with these credentials (groups: its supplementary groups, n of them; the
 * primary group may be among them or not). Returns 0 or ERROR_NOT_ENOUGH_MEMORY. */
DWORD nsem__token_init(struct nsem_token *t, uint32_t uid, uint32_t gid, const uint32_t *groups, size_t n);
void nsem__token_destroy(struct nsem_token *t);
/* Whether the SID is the token's user or one of its groups. */
bool nsem__token_has_sid(const struct nsem_token *t, const unsigned char *sid);

#endif

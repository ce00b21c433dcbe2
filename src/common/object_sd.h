/*
 * object_sd.h — the security descriptor a new object gets: Windows' default when the creator gives
 * none, or the creator's, completed with what it lacks.
 */
#ifndef NSEM_COMMON_OBJECT_SD_H
#define NSEM_COMMON_OBJECT_SD_H

#include <nsem.h>
#include <stddef.h>

#include "common/token.h"

/* The descriptor of an object created without one (Windows takes the creator token's defaults):
 * owner the creator's user, group its primary group, DACL granting GENERIC_ALL to the creator's
 * user and to Local System, "O:<user>G:<group>D:(A;;GA;;;<user>)(A;;GA;;;SY)".
 * Returns 0 with a malloc'd descriptor, or ERROR_NOT_ENOUGH_MEMORY. */
DWORD nsem__sd_default(const struct nsem_token *creator, unsigned char **sd, size_t *len);

/* The descriptor of an object created with sd (len bytes; NULL: nsem__sd_default), in the
 * canonical layout: its owner, else the creator's user; its group, else the creator's primary
 * group; its DACL (a NULL DACL too), else the default DACL; its SACL; its control bits.
 * Returns 0 with a malloc'd descriptor, or:
 *   the error of nsem__sd_check for a malformed sd;
 *   ERROR_INVALID_OWNER       an owner that is not the creator's user (root may name any owner);
 *   ERROR_PRIVILEGE_NOT_HELD  a SACL with an ACE other than a mandatory label, from a creator
 *                             that is not root (it takes SeSecurityPrivilege, as on Windows);
 *   ERROR_NOT_ENOUGH_MEMORY. */
DWORD nsem__sd_for_new_object(const struct nsem_token *creator, const void *sd, size_t len, unsigned char **out,
                              size_t *out_len);

#endif

/*
 * object_sd.h — the security descriptor of an object: the one a new object gets (Windows' default
 * when the creator gives none, or the creator's, completed with what it lacks), the parts of it
 * that GetKernelObjectSecurity returns, and what SetKernelObjectSecurity makes of it.
 * Every descriptor these functions take as an object's, and every one they make, is complete
 * (owner, group, a DACL or a NULL DACL) and in the canonical layout of nsem__sd_build.
 */
#ifndef NSEM_COMMON_OBJECT_SD_H
#define NSEM_COMMON_OBJECT_SD_H

#include <nsem.h>
#include <stddef.h>
#include <stdint.h>

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

/* `info` is a SECURITY_INFORMATION: OWNER_, GROUP_, DACL_, SACL_ and LABEL_SECURITY_INFORMATION
 * are read; other bits are ignored, as Windows ignores those that do not apply to the object. */

/* The rights a handle needs to read (nsem__sd_read_access) or change (nsem__sd_write_access) the
 * parts `info` selects, as Windows' SeQuerySecurityAccessMask and SeSetSecurityAccessMask say:
 * reading owner, group, DACL or label takes READ_CONTROL; changing the DACL WRITE_DAC, the owner,
 * group or label WRITE_OWNER; the SACL either way ACCESS_SYSTEM_SECURITY. */
uint32_t nsem__sd_read_access(uint32_t info);
uint32_t nsem__sd_write_access(uint32_t info);

/* GetKernelObjectSecurity's answer: the parts of the object's descriptor sd (len bytes) that
 * `info` selects, with their control bits, in a new canonical descriptor. LABEL without SACL
 * gives a SACL holding only the object SACL's mandatory labels (none present when the object has
 * no SACL). Returns 0 with a malloc'd descriptor, or ERROR_NOT_ENOUGH_MEMORY. */
DWORD nsem__sd_query(const void *sd, size_t len, uint32_t info, unsigned char **out, size_t *out_len);

/* SetKernelObjectSecurity's change: the object's descriptor `old` with the parts `info` selects
 * taken from `sd` (len bytes) by token t, with their control bits. A DACL (SACL) that sd does not
 * have present makes the object's absent too. LABEL without SACL replaces only the mandatory labels
 * of the object's SACL by those of sd's (the SACL is present afterwards, empty if nothing is left).
 * Returns 0 with a malloc'd descriptor, or:
 *   the error of nsem__sd_check for a malformed sd;
 *   ERROR_INVALID_SECURITY_DESCR  OWNER (GROUP) selected and sd has no owner (group);
 *   ERROR_INVALID_OWNER           an owner that t may not name (as for a new object);
 *   ERROR_PRIVILEGE_NOT_HELD      SACL selected with an ACE other than a label, t not privileged;
 *   ERROR_INVALID_ACL             the labels and the rest of the SACL would pass 65535 bytes;
 *   ERROR_NOT_ENOUGH_MEMORY. */
DWORD nsem__sd_set(const struct nsem_token *t, const void *old, size_t old_len, uint32_t info, const void *sd,
                   size_t len, unsigned char **out, size_t *out_len);

#endif

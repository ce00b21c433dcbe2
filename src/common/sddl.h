/*
 * sddl.h — the Security Descriptor Definition Language: security descriptors to and from strings,
 * as Windows' ConvertStringSecurityDescriptorToSecurityDescriptor and
 * ConvertSecurityDescriptorToStringSecurityDescriptor write and read them.
 *
 *   string  = *( "O:" sid / "G:" sid / "D:" acl / "S:" acl )     each part at most once, any order
 *   acl     = *( "P" / "AR" / "AI" / "NO_ACCESS_CONTROL" ) *ace
 *   ace     = "(" type ";" *flag ";" *right ";" ";" ";" sid ")"    (object GUIDs must be empty)
 *   type    = "A" / "D" / "AU" / "AL" / "ML"
 *   flag    = "OI" / "CI" / "NP" / "IO" / "ID" / "SA" / "FA"
 *   right   = two-letter code / number (0x hex, 0 octal, decimal; they combine: "GR0x1")
 *   sid     = "S-1-..." / two-letter alias (sid.h)
 * Spaces may come before the string, a part's text, an ACE, each ACE field but the type, and after
 * a SID (Windows' tests: " D:(D;;GA;;;WD)", "D:( D; ; GA; ; ; WD )" parse; "D:(D ;;...)" and
 * "D:(D;;GA ;;;WD)" do not).
 */
#ifndef NSEM_COMMON_SDDL_H
#define NSEM_COMMON_SDDL_H

#include <nsem.h>
#include <stddef.h>
#include <stdint.h>

/* A NUL-terminated SDDL string to a new self-relative descriptor (malloc'd; secdesc.h layout).
 * Returns 0 or ERROR_INVALID_PARAMETER (a part that is not "O:", "G:", "D:", "S:", or one given
 * twice), ERROR_INVALID_SID or ERROR_NONE_MAPPED (the owner or the group), ERROR_INVALID_ACL
 * (anything wrong in an ACL, its flags or an ACE, including its SID; an ACL over 65535 bytes;
 * NO_ACCESS_CONTROL with ACEs), ERROR_NOT_ENOUGH_MEMORY. */
DWORD nsem__sddl_to_sd(const char *s, unsigned char **sd, size_t *len);

/* The SDDL of the parts of a descriptor (sd_len readable bytes, or NSEM_SD_LEN_UNKNOWN) that `info`
 * selects (OWNER_, GROUP_, DACL_, SACL_SECURITY_INFORMATION), as Windows writes it: a malloc'd
 * NUL-terminated string, *len its length without the NUL. Returns 0, the error of nsem__sd_check,
 * ERROR_INVALID_ACL (an ACE type SDDL output does not support: only A, D, AU, AL, ML are),
 * ERROR_NOT_ENOUGH_MEMORY. */
DWORD nsem__sd_to_sddl(const void *sd, size_t sd_len, uint32_t info, char **out, size_t *len);

#endif

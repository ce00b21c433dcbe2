/*
 * access_check.h — Windows' access check: the rights a token gets to an object from the object's
 * security descriptor. Pure (no I/O, no locks): the server calls it when a handle is opened.
 */
#ifndef NSEM_COMMON_ACCESS_CHECK_H
#define NSEM_COMMON_ACCESS_CHECK_H

#include <nsem.h>
#include <stddef.h>
#include <stdint.h>

#include "common/token.h"

/* access with each GENERIC_* bit replaced by what the mapping says it means. */
uint32_t nsem__map_generic(uint32_t access, const GENERIC_MAPPING *mapping);

/* The rights token t gets when it asks for `desired` on an object protected by sd (len bytes;
 * NULL: an object without security). Windows' rules (SeAccessCheck), in this order:
 *  1. GENERIC_* bits are mapped through `mapping`, in desired and in each ACE's mask.
 *  2. ACCESS_SYSTEM_SECURITY needs the token's privilege (root): else ERROR_PRIVILEGE_NOT_HELD.
 *     It is granted by the privilege alone, never by an ACE.
 *  3. sd is checked (ERROR_INVALID_SECURITY_DESCR if malformed) and must have an owner and a group
 *     (else ERROR_INVALID_SECURITY_DESCR, as AccessCheck).
 *  4. No sd, no DACL, or a NULL DACL: everything desired is granted; MAXIMUM_ALLOWED is
 *     mapping->GenericAll plus the other rights desired.
 *  5. The owner (the token holds the owner SID) has READ_CONTROL and WRITE_DAC before any ACE is
 *     read, unless the DACL has an ACE for OWNER RIGHTS (S-1-3-4): those ACEs then say what the
 *     owner has.
 *  6. The ACEs in order: inherit-only ACEs and types other than allowed and denied are skipped;
 *     an ACE applies when the token holds its SID (OWNER RIGHTS: when the token is the owner); each
 *     right is decided by the first applying ACE that names it, granted (allowed) or refused
 *     (denied). So an empty DACL grants nothing (but the owner's two rights).
 *  7. Every desired right must be granted, else ERROR_ACCESS_DENIED. desired 0 succeeds with 0
 *     (AccessCheck's rule; the open path refuses a handle with no right). MAXIMUM_ALLOWED grants
 *     every right the ACEs (and the owner rule) grant, and fails with ERROR_ACCESS_DENIED if that is
 *     none.
 * Returns 0 with *granted set, or the error (then *granted is not written). */
DWORD nsem__access_check(const struct nsem_token *t, const void *sd, size_t len, uint32_t desired,
                         const GENERIC_MAPPING *mapping, uint32_t *granted);

#endif

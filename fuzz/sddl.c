/*
 * sddl.c — fuzz-sddl: the security descriptor parsers (src/common/sddl.c, secdesc.c, acl.c,
 * sid.c), which read what any caller passes to ConvertStringSecurityDescriptorToSecurityDescriptor
 * and what a client sends the server in CREATE and SET_SECURITY.
 *
 * Input: byte 0 even: the rest is an SDDL string (cut at its first NUL); odd: the rest is a binary
 * self-relative descriptor. Checked, besides memory safety:
 *   - a string that parses gives a descriptor nsem__sd_check accepts, whose length is Windows'
 *     GetSecurityDescriptorLength;
 *   - a descriptor that checks converts to SDDL (unless it holds an ACE type SDDL output has no
 *     letters for: ERROR_INVALID_ACL), and that SDDL parses back (unless it holds a SID of no
 *     sub-authority, which the string grammar cannot express);
 *   - SDDL output is canonical: the descriptor parsed from it converts to the very same string.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/sddl.h"
#include "common/secdesc.h"
#include "fuzz/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ALL_PARTS (OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION | \
                   SACL_SECURITY_INFORMATION)

/* A descriptor nsem made: it checks, and its length is the one Windows would compute. */
static void check_made(const unsigned char *sd, size_t len)
{
    struct nsem_sd parts;
    CHECK(nsem__sd_check(sd, len, &parts) == 0);
    CHECK(nsem__sd_length(&parts) == len);
}

/* Whether the SDDL holds a SID of no sub-authority ("S-1-5"): valid in binary, and written so, but
 * the string grammar (MS-DTYP 2.4.2.1) wants one at least, so it does not parse back. */
static bool bare_authority(const char *text)
{
    for (const char *p = strstr(text, "S-1-"); p; p = strstr(p + 1, "S-1-")) {
        const char *q = p + 4;
        while ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') || *q == 'x') q++;
        if (*q != '-') return true;
    }
    return false;
}

/* SDDL of a checked descriptor: parses back, and is a fixed point. */
static void round_trip(const unsigned char *sd, size_t len)
{
    char *text;
    size_t text_len;
    DWORD e = nsem__sd_to_sddl(sd, len, ALL_PARTS, &text, &text_len);
    if (e == ERROR_INVALID_ACL) return; /* an ACE type with no SDDL letters */
    CHECK(e == 0);
    CHECK(strlen(text) == text_len);
    unsigned char *again;
    size_t again_len;
    if (bare_authority(text)) {
        free(text);
        return;
    }
    CHECK(nsem__sddl_to_sd(text, &again, &again_len) == 0);
    check_made(again, again_len);
    char *text2;
    size_t text2_len;
    CHECK(nsem__sd_to_sddl(again, again_len, ALL_PARTS, &text2, &text2_len) == 0);
    CHECK(text2_len == text_len && memcmp(text, text2, text_len) == 0);
    free(text);
    free(text2);
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (data[0] % 2 == 0) {
        char *s = malloc(size);
        CHECK(s != NULL);
        memcpy(s, data + 1, size - 1);
        s[size - 1] = 0;
        unsigned char *sd;
        size_t len;
        if (nsem__sddl_to_sd(s, &sd, &len) == 0) {
            check_made(sd, len);
            round_trip(sd, len);
            free(sd);
        }
        free(s);
        return 0;
    }
    /* A copy of exactly the bytes given, so that reading past them is caught. */
    unsigned char *sd = malloc(size - 1 ? size - 1 : 1);
    CHECK(sd != NULL);
    memcpy(sd, data + 1, size - 1);
    struct nsem_sd parts;
    if (nsem__sd_check(sd, size - 1, &parts) == 0) round_trip(sd, size - 1);
    free(sd);
    return 0;
}

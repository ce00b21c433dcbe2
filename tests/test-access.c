/*
 * test-access.c — the access check and the descriptors of new objects (src/common/access_check.c,
 * token.c, object_sd.c; docs/security.md "Access check"), one Windows rule at a time, with the
 * generic mappings of SPEC §3 for semaphores, mutexes and events.
 *
 * Also the SPEC behaviours of advapi32's security tests that hold without a server: the mappings
 * (SPEC 10, 25, 93), the per-bit outcome of OpenMutex over the default descriptor (SPEC 74: the
 * failure mask 0x0DE0FFFE and ERROR_PRIVILEGE_NOT_HELD for ACCESS_SYSTEM_SECURITY), the descriptors
 * SPEC 16 says a create accepts, and Wine's test_AccessCheck facts (NULL DACL, empty DACL,
 * inherit-only ACEs, a descriptor without owner or group).
 */
#include "harness.h"

#include <stdarg.h>
#include <string.h>

#include "common/access_check.h"
#include "common/object_sd.h"
#include "common/sddl.h"
#include "common/secdesc.h"
#include "common/token.h"

/* SPEC §3, generic mappings (server type_descr, confirmed by advapi32 test_*_security). */
static const GENERIC_MAPPING sem_mapping = {0x00020001, 0x00020002, 0x00120000, 0x001F0003};
static const GENERIC_MAPPING mutex_mapping = {0x00020001, 0x00020000, 0x00120000, 0x001F0001};
static const GENERIC_MAPPING event_mapping = {0x00020001, 0x00020002, 0x00120000, 0x001F0003};
/* Wine's test_AccessCheck uses the registry key mapping. */
static const GENERIC_MAPPING key_mapping = {0x20019, 0x20006, 0x20019, 0xF003F};
#define KEY_READ 0x20019u
#define KEY_WRITE 0x20006u
#define KEY_ALL_ACCESS 0xF003Fu

#define POISON_PTR_SD ((unsigned char *)(uintptr_t)0xdeadbeef)

#define USER_UID 1000u
#define USER_GID 1000u
#define OTHER_UID 1001u
#define SUPPLEMENTARY_GID 27u

/* uid 1000 in groups 1000 (primary) and 27; root in group 0. */
static struct nsem_token user, other, root;

static void make_tokens(void)
{
    static const uint32_t user_groups[] = {USER_GID, SUPPLEMENTARY_GID};
    static const uint32_t root_groups[] = {0};
    ASSERT_EQ(nsem__token_init(&user, USER_UID, USER_GID, user_groups, 2), 0);
    ASSERT_EQ(nsem__token_init(&other, OTHER_UID, OTHER_UID, NULL, 0), 0);
    ASSERT_EQ(nsem__token_init(&root, 0, 0, root_groups, 1), 0);
}

static void failf(const char *file, int line, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));
static void failf(const char *file, int line, const char *what, const char *fmt, ...)
{
    char d[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, sizeof d, fmt, ap);
    va_end(ap);
    harness_fail(file, line, what, d);
}

/* The descriptor of an SDDL string (free() it). Owner and group are the user's unless given. */
static unsigned char *sd_of_at(const char *file, int line, const char *sddl, size_t *len)
{
    char full[1024];
    snprintf(full, sizeof full, "%s%s%s", strstr(sddl, "O:") ? "" : "O:S-1-22-1-1000",
             strstr(sddl, "G:") ? "" : "G:S-1-22-2-1000", sddl);
    unsigned char *sd;
    DWORD e = nsem__sddl_to_sd(full, &sd, len);
    if (e) failf(file, line, "sd_of", "\"%s\" gave %u", full, (unsigned)e);
    return sd;
}

/* The check of token t for `desired` on sddl under mapping m gives `error`, and (on success)
 * exactly `want`; on failure *granted is not written. */
static void check_access_at(const char *file, int line, const struct nsem_token *t, const char *sddl,
                            const GENERIC_MAPPING *m, DWORD desired, DWORD error, DWORD want)
{
    size_t len = 0;
    unsigned char *sd = sddl ? sd_of_at(file, line, sddl, &len) : NULL;
    uint32_t granted = POISON;
    DWORD e = nsem__access_check(t, sd, len, desired, m, &granted);
    if (e != error)
        failf(file, line, "access", "\"%s\" desired 0x%x: error %u, expected %u", sddl ? sddl : "(no sd)",
              (unsigned)desired, (unsigned)e, (unsigned)error);
    if (!e && granted != want)
        failf(file, line, "access", "\"%s\" desired 0x%x: granted 0x%x, expected 0x%x", sddl ? sddl : "(no sd)",
              (unsigned)desired, (unsigned)granted, (unsigned)want);
    if (e && granted != POISON) failf(file, line, "access", "granted written on failure");
    free(sd);
}
#define check_access(t, sddl, m, desired, error, want) \
    check_access_at(__FILE__, __LINE__, (t), (sddl), (m), (desired), (error), (want))
#define check_granted(t, sddl, m, desired, want) check_access(t, sddl, m, desired, 0, want)
#define check_denied(t, sddl, m, desired) check_access(t, sddl, m, desired, ERROR_ACCESS_DENIED, 0)

/* ---------------------------------------------------------------------------------------------
 * Generic mapping (SPEC §3, 10, 25, 93)
 * ------------------------------------------------------------------------------------------- */

TEST(access_generic_mapping)
{
    static const struct {
        const GENERIC_MAPPING *m;
        DWORD read, write, execute, all;
    } t[] = {
        {&sem_mapping, 0x00020001, 0x00020002, 0x00120000, SEMAPHORE_ALL_ACCESS},
        {&mutex_mapping, 0x00020001, 0x00020000, 0x00120000, MUTEX_ALL_ACCESS},
        {&event_mapping, 0x00020001, 0x00020002, 0x00120000, EVENT_ALL_ACCESS},
    };
    for (size_t i = 0; i < 3; i++) {
        ASSERT_EQ_U(nsem__map_generic(GENERIC_READ, t[i].m), t[i].read);
        ASSERT_EQ_U(nsem__map_generic(GENERIC_WRITE, t[i].m), t[i].write);
        ASSERT_EQ_U(nsem__map_generic(GENERIC_EXECUTE, t[i].m), t[i].execute);
        ASSERT_EQ_U(nsem__map_generic(GENERIC_ALL, t[i].m), t[i].all);
        ASSERT_EQ_U(nsem__map_generic(0, t[i].m), 0);
        /* Specific and standard bits stay; generic bits go; MAXIMUM_ALLOWED is not generic. */
        ASSERT_EQ_U(nsem__map_generic(GENERIC_READ | SYNCHRONIZE | MAXIMUM_ALLOWED, t[i].m),
                    t[i].read | SYNCHRONIZE | MAXIMUM_ALLOWED);
        ASSERT_EQ_U(nsem__map_generic(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE, t[i].m),
                    t[i].read | t[i].write | t[i].execute);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * No protection: no descriptor, no DACL, a NULL DACL (Wine test_AccessCheck)
 * ------------------------------------------------------------------------------------------- */

TEST(access_unprotected)
{
    make_tokens();
    static const char *const unprotected[] = {NULL, "", "D:NO_ACCESS_CONTROL", "D:PNO_ACCESS_CONTROL"};
    for (size_t i = 0; i < sizeof unprotected / sizeof unprotected[0]; i++) {
        const char *s = unprotected[i];
        check_granted(&other, s, &key_mapping, KEY_READ, KEY_READ);
        check_granted(&other, s, &key_mapping, MAXIMUM_ALLOWED, KEY_ALL_ACCESS);
        check_granted(&other, s, &sem_mapping, SEMAPHORE_MODIFY_STATE | SYNCHRONIZE, 0x00100002);
        check_granted(&other, s, &sem_mapping, GENERIC_ALL, SEMAPHORE_ALL_ACCESS);
        check_granted(&other, s, &mutex_mapping, MAXIMUM_ALLOWED, MUTEX_ALL_ACCESS);
        check_granted(&other, s, &sem_mapping, MAXIMUM_ALLOWED | GENERIC_READ, SEMAPHORE_ALL_ACCESS);
        check_granted(&other, s, &sem_mapping, 0, 0);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Empty DACL: nothing, but the owner's READ_CONTROL and WRITE_DAC
 * ------------------------------------------------------------------------------------------- */

TEST(access_empty_dacl)
{
    make_tokens();
    /* Not the owner (Wine test_AccessCheck: "sd with blank dacl" denies KEY_READ). */
    check_denied(&other, "D:", &key_mapping, KEY_READ);
    check_denied(&other, "D:", &sem_mapping, SYNCHRONIZE);
    check_denied(&other, "D:", &sem_mapping, READ_CONTROL);
    check_denied(&other, "D:", &sem_mapping, MAXIMUM_ALLOWED);
    check_denied(&other, "D:", &sem_mapping, GENERIC_READ);
    /* The owner. */
    check_granted(&user, "D:", &sem_mapping, READ_CONTROL, READ_CONTROL);
    check_granted(&user, "D:", &sem_mapping, WRITE_DAC, WRITE_DAC);
    check_granted(&user, "D:", &sem_mapping, READ_CONTROL | WRITE_DAC, READ_CONTROL | WRITE_DAC);
    check_granted(&user, "D:", &sem_mapping, MAXIMUM_ALLOWED, READ_CONTROL | WRITE_DAC);
    check_denied(&user, "D:", &sem_mapping, SYNCHRONIZE);
    check_denied(&user, "D:", &sem_mapping, READ_CONTROL | SYNCHRONIZE);
    check_denied(&user, "D:", &sem_mapping, WRITE_OWNER);
    check_denied(&user, "D:", &sem_mapping, GENERIC_READ); /* 0x20001: READ_CONTROL, but not QUERY_STATE */
    check_denied(&user, "D:", &sem_mapping, MAXIMUM_ALLOWED | SYNCHRONIZE);
    /* The owner may be a group of the token. */
    check_granted(&user, "O:S-1-22-2-27D:", &sem_mapping, READ_CONTROL, READ_CONTROL);
    check_granted(&root, "O:BAD:", &sem_mapping, MAXIMUM_ALLOWED, READ_CONTROL | WRITE_DAC);
    return 0;
}

/* The owner's two rights come before any ACE: a deny cannot take them away. */
TEST(access_owner_implicit_rights)
{
    make_tokens();
    const char *deny_all = "D:(D;;GA;;;S-1-22-1-1000)(A;;GA;;;WD)";
    check_granted(&user, deny_all, &sem_mapping, READ_CONTROL | WRITE_DAC, READ_CONTROL | WRITE_DAC);
    check_denied(&user, deny_all, &sem_mapping, SYNCHRONIZE);
    check_granted(&user, deny_all, &sem_mapping, MAXIMUM_ALLOWED, READ_CONTROL | WRITE_DAC);
    check_granted(&other, deny_all, &sem_mapping, MAXIMUM_ALLOWED, SEMAPHORE_ALL_ACCESS);
    return 0;
}

/* OWNER RIGHTS (S-1-3-4): its ACEs replace the owner's implicit rights, and apply to the owner. */
TEST(access_owner_rights)
{
    make_tokens();
    const char *ow = "D:(A;;0x100000;;;OW)";
    check_denied(&user, ow, &sem_mapping, READ_CONTROL);
    check_granted(&user, ow, &sem_mapping, SYNCHRONIZE, SYNCHRONIZE);
    check_granted(&user, ow, &sem_mapping, MAXIMUM_ALLOWED, SYNCHRONIZE);
    check_denied(&other, ow, &sem_mapping, SYNCHRONIZE);
    /* A deny for OWNER RIGHTS refuses the owner (and cancels its implicit rights too). */
    const char *deny = "D:(D;;WD;;;OW)(A;;GA;;;WD)";
    check_denied(&user, deny, &sem_mapping, WRITE_DAC);
    check_granted(&user, deny, &sem_mapping, MAXIMUM_ALLOWED, SEMAPHORE_ALL_ACCESS & ~WRITE_DAC);
    check_granted(&other, deny, &sem_mapping, WRITE_DAC, WRITE_DAC);
    /* An inherit-only OWNER RIGHTS ACE does not count: the implicit rights stay. */
    check_granted(&user, "D:(A;IO;0x100000;;;OW)", &sem_mapping, MAXIMUM_ALLOWED, READ_CONTROL | WRITE_DAC);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * ACE order: each right is decided by the first ACE that names it
 * ------------------------------------------------------------------------------------------- */

TEST(access_deny_before_allow)
{
    make_tokens();
    const char *canonical = "D:(D;;0x2;;;WD)(A;;GA;;;WD)";
    check_denied(&other, canonical, &sem_mapping, SEMAPHORE_MODIFY_STATE);
    check_denied(&other, canonical, &sem_mapping, SEMAPHORE_MODIFY_STATE | SYNCHRONIZE);
    check_denied(&other, canonical, &sem_mapping, GENERIC_ALL);
    check_granted(&other, canonical, &sem_mapping, SYNCHRONIZE, SYNCHRONIZE);
    check_granted(&other, canonical, &sem_mapping, MAXIMUM_ALLOWED, 0x001F0001);
    check_denied(&other, canonical, &sem_mapping, MAXIMUM_ALLOWED | SEMAPHORE_MODIFY_STATE);
    check_granted(&other, canonical, &sem_mapping, MAXIMUM_ALLOWED | SYNCHRONIZE, 0x001F0001);
    return 0;
}

/* Windows takes the ACEs as ordered: a deny after the allow that granted the right comes too late
 * (Wine's file test: allow-then-deny opens, deny-then-allow does not). */
TEST(access_allow_before_deny)
{
    make_tokens();
    const char *reversed = "D:(A;;GA;;;WD)(D;;0x2;;;WD)";
    check_granted(&other, reversed, &sem_mapping, SEMAPHORE_MODIFY_STATE, SEMAPHORE_MODIFY_STATE);
    check_granted(&other, reversed, &sem_mapping, MAXIMUM_ALLOWED, SEMAPHORE_ALL_ACCESS);
    check_granted(&other, "D:(A;;GA;;;S-1-22-1-1001)(D;;GA;;;S-1-22-1-1001)", &key_mapping, KEY_READ, KEY_READ);
    check_denied(&other, "D:(D;;GA;;;S-1-22-1-1001)(A;;GA;;;S-1-22-1-1001)", &key_mapping, KEY_READ);
    return 0;
}

TEST(access_per_right_first_ace)
{
    make_tokens();
    const char *mixed = "D:(A;;0x1;;;WD)(D;;0x3;;;WD)(A;;0x2;;;WD)";
    check_granted(&other, mixed, &sem_mapping, 0x1, 0x1);
    check_denied(&other, mixed, &sem_mapping, 0x2);
    check_denied(&other, mixed, &sem_mapping, 0x3);
    check_granted(&other, mixed, &sem_mapping, MAXIMUM_ALLOWED, 0x1);
    /* Rights granted across several ACEs add up. */
    const char *split = "D:(A;;0x1;;;WD)(A;;0x2;;;BU)(A;;0x100000;;;S-1-22-1-1001)";
    check_granted(&other, split, &sem_mapping, 0x100003, 0x100003);
    check_granted(&other, split, &sem_mapping, MAXIMUM_ALLOWED, 0x100003);
    /* Not all desired rights granted: denied, nothing partial. */
    check_denied(&other, "D:(A;;0x100000;;;WD)", &sem_mapping, SYNCHRONIZE | SEMAPHORE_MODIFY_STATE);
    check_denied(&other, "D:(A;;0x100000;;;WD)", &sem_mapping, MAXIMUM_ALLOWED | SEMAPHORE_MODIFY_STATE);
    return 0;
}

/* Desired access 0: AccessCheck's answer is success with nothing (the open path refuses a handle
 * with no right: SPEC 21, in the server). */
TEST(access_zero_desired)
{
    make_tokens();
    check_granted(&other, "D:", &sem_mapping, 0, 0);
    check_granted(&other, "D:(D;;GA;;;WD)", &sem_mapping, 0, 0);
    check_granted(&other, "D:(A;;GA;;;WD)", &sem_mapping, 0, 0);
    check_granted(&other, NULL, &sem_mapping, 0, 0);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Generic rights in ACEs and in the request
 * ------------------------------------------------------------------------------------------- */

TEST(access_generic_rights)
{
    make_tokens();
    check_granted(&other, "D:(A;;GR;;;WD)", &sem_mapping, 0x00020001, 0x00020001);
    check_granted(&other, "D:(A;;GR;;;WD)", &sem_mapping, GENERIC_READ, 0x00020001);
    check_granted(&other, "D:(A;;GR;;;WD)", &sem_mapping, MAXIMUM_ALLOWED, 0x00020001);
    check_denied(&other, "D:(A;;GR;;;WD)", &sem_mapping, SYNCHRONIZE);
    check_granted(&other, "D:(A;;GW;;;WD)", &mutex_mapping, MAXIMUM_ALLOWED, 0x00020000);
    check_granted(&other, "D:(A;;GW;;;WD)", &event_mapping, MAXIMUM_ALLOWED, 0x00020002);
    check_granted(&other, "D:(A;;GX;;;WD)", &mutex_mapping, SYNCHRONIZE, SYNCHRONIZE);
    check_granted(&other, "D:(A;;0x1f0003;;;WD)", &sem_mapping, GENERIC_ALL, SEMAPHORE_ALL_ACCESS);
    check_denied(&other, "D:(A;;0x100000;;;WD)", &sem_mapping, GENERIC_ALL);
    check_granted(&other, "D:(A;;GA;;;WD)", &mutex_mapping, MAXIMUM_ALLOWED, MUTEX_ALL_ACCESS);
    /* A generic deny refuses what it maps to. */
    check_denied(&other, "D:(D;;GW;;;WD)(A;;GA;;;WD)", &sem_mapping, SEMAPHORE_MODIFY_STATE);
    check_granted(&other, "D:(D;;GW;;;WD)(A;;GA;;;WD)", &sem_mapping, MAXIMUM_ALLOWED, 0x001D0001);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Who an ACE applies to: user, groups, Everyone and the other groups of every token, root's groups
 * ------------------------------------------------------------------------------------------- */

TEST(access_trustees)
{
    make_tokens();
    static const char *const applies[] = {
        "D:(A;;GA;;;S-1-22-1-1000)", "D:(A;;GA;;;S-1-22-2-1000)", "D:(A;;GA;;;S-1-22-2-27)",
        "D:(A;;GA;;;WD)",            "D:(A;;GA;;;AU)",            "D:(A;;GA;;;BU)",
    };
    static const char *const does_not[] = {
        "D:(A;;GA;;;S-1-22-1-1001)", "D:(A;;GA;;;S-1-22-2-28)", "D:(A;;GA;;;S-1-22-1-0)", "D:(A;;GA;;;SY)",
        "D:(A;;GA;;;BA)",            "D:(A;;GA;;;AN)",          "D:(A;;GA;;;IU)",         "D:(A;;GA;;;NU)",
        "D:(A;;GA;;;CO)",            "D:(A;;GA;;;CG)",          "D:(A;;GA;;;BG)",         "D:(A;;GA;;;S-1-5-21-1-1000)",
    };
    for (size_t i = 0; i < sizeof applies / sizeof applies[0]; i++)
        check_granted(&user, applies[i], &sem_mapping, SYNCHRONIZE, SYNCHRONIZE);
    for (size_t i = 0; i < sizeof does_not / sizeof does_not[0]; i++)
        check_denied(&user, does_not[i], &sem_mapping, SYNCHRONIZE);
    /* Denies apply to the same SIDs. */
    check_denied(&user, "D:(D;;0x100000;;;S-1-22-2-27)(A;;GA;;;WD)", &sem_mapping, SYNCHRONIZE);
    check_granted(&user, "D:(D;;0x100000;;;S-1-22-2-28)(A;;GA;;;WD)", &sem_mapping, SYNCHRONIZE, SYNCHRONIZE);
    /* Root is Local System and an administrator as well as S-1-22-1-0. */
    check_granted(&root, "D:(A;;GA;;;SY)", &sem_mapping, SYNCHRONIZE, SYNCHRONIZE);
    check_granted(&root, "D:(A;;GA;;;BA)", &sem_mapping, SYNCHRONIZE, SYNCHRONIZE);
    check_granted(&root, "D:(A;;GA;;;S-1-22-1-0)", &sem_mapping, SYNCHRONIZE, SYNCHRONIZE);
    check_granted(&root, "D:(A;;GA;;;S-1-22-2-0)", &sem_mapping, SYNCHRONIZE, SYNCHRONIZE);
    check_denied(&root, "D:(A;;GA;;;S-1-22-1-1000)", &sem_mapping, SYNCHRONIZE);
    /* A root token without the DACL's say gets nothing: root is no bypass. */
    check_denied(&root, "D:", &sem_mapping, SYNCHRONIZE);
    return 0;
}

/* Only allowed and denied ACEs count, and not inherit-only ones (Wine test_AccessCheck:
 * INHERIT_ONLY_ACE for Everyone denies). Audit, alarm and label ACEs in a DACL are kept, not used. */
TEST(access_ignored_aces)
{
    make_tokens();
    check_denied(&other, "D:(A;IO;GA;;;WD)", &key_mapping, KEY_READ);
    check_denied(&other, "D:(A;OICIIO;GA;;;WD)", &key_mapping, KEY_READ);
    check_granted(&other, "D:(D;IO;GA;;;WD)(A;;GA;;;WD)", &key_mapping, KEY_READ, KEY_READ);
    check_granted(&other, "D:(A;OICI;GA;;;WD)", &key_mapping, KEY_READ, KEY_READ); /* inheritable and effective */
    check_granted(&other, "D:(A;ID;GA;;;WD)", &key_mapping, KEY_READ, KEY_READ);   /* inherited */
    check_denied(&other, "D:(AU;SA;GA;;;WD)", &sem_mapping, SYNCHRONIZE);
    check_denied(&other, "D:(AL;SA;GA;;;WD)", &sem_mapping, SYNCHRONIZE);
    check_denied(&other, "D:(ML;;NW;;;WD)", &sem_mapping, SYNCHRONIZE);
    check_granted(&other, "D:(AU;FA;GA;;;WD)(A;;0x100000;;;WD)", &sem_mapping, MAXIMUM_ALLOWED, SYNCHRONIZE);
    /* The SACL plays no part. */
    check_denied(&other, "D:S:(AU;SA;GA;;;WD)", &sem_mapping, SYNCHRONIZE);
    return 0;
}

/* Wine test_AccessCheck: Everyone KEY_READ allowed, Administrators KEY_SET_VALUE denied, the owner
 * an administrator: a user (not the owner, not an administrator) gets KEY_READ, not KEY_WRITE. */
TEST(access_wine_access_check)
{
    make_tokens();
    const char *sd = "O:BAG:BUD:(A;;KR;;;WD)(D;;0x2;;;BA)";
    check_granted(&user, sd, &key_mapping, KEY_READ, KEY_READ);
    check_denied(&user, sd, &key_mapping, KEY_WRITE);
    check_granted(&user, sd, &key_mapping, MAXIMUM_ALLOWED, KEY_READ);
    /* Root: the owner group (Administrators) and denied KEY_SET_VALUE by the ACE for it. */
    check_granted(&root, sd, &key_mapping, MAXIMUM_ALLOWED, KEY_READ | WRITE_DAC);
    check_denied(&root, sd, &key_mapping, 0x2);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * ACCESS_SYSTEM_SECURITY needs the privilege (SPEC 74; Wine test_AccessCheck)
 * ------------------------------------------------------------------------------------------- */

TEST(access_system_security)
{
    make_tokens();
    static const char *const any[] = {NULL, "", "D:", "D:(A;;GA;;;WD)", "D:(A;;0x1000000;;;WD)", "D:NO_ACCESS_CONTROL"};
    for (size_t i = 0; i < sizeof any / sizeof any[0]; i++) {
        check_access(&user, any[i], &sem_mapping, ACCESS_SYSTEM_SECURITY, ERROR_PRIVILEGE_NOT_HELD, 0);
        check_access(&user, any[i], &sem_mapping, ACCESS_SYSTEM_SECURITY | SYNCHRONIZE, ERROR_PRIVILEGE_NOT_HELD, 0);
        check_access(&user, any[i], &sem_mapping, MAXIMUM_ALLOWED | ACCESS_SYSTEM_SECURITY, ERROR_PRIVILEGE_NOT_HELD,
                     0);
    }
    /* Root has the privilege: the right comes from it, whatever the DACL. */
    check_granted(&root, "D:", &sem_mapping, ACCESS_SYSTEM_SECURITY, ACCESS_SYSTEM_SECURITY);
    check_granted(&root, "D:(A;;0x100000;;;SY)", &sem_mapping, ACCESS_SYSTEM_SECURITY | SYNCHRONIZE,
                  ACCESS_SYSTEM_SECURITY | SYNCHRONIZE);
    check_denied(&root, "D:", &sem_mapping, ACCESS_SYSTEM_SECURITY | SYNCHRONIZE);
    check_granted(&root, NULL, &sem_mapping, ACCESS_SYSTEM_SECURITY, ACCESS_SYSTEM_SECURITY);
    /* MAXIMUM_ALLOWED never includes it unless asked; an ACE never grants it. */
    check_granted(&root, "D:(A;;0x1100000;;;SY)", &sem_mapping, MAXIMUM_ALLOWED, SYNCHRONIZE);
    check_granted(&root, "D:(A;;0x100000;;;SY)", &sem_mapping, MAXIMUM_ALLOWED | ACCESS_SYSTEM_SECURITY,
                  ACCESS_SYSTEM_SECURITY | SYNCHRONIZE);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Descriptors the check refuses (Wine test_AccessCheck: no owner or group,
 * ERROR_INVALID_SECURITY_DESCR)
 * ------------------------------------------------------------------------------------------- */

TEST(access_invalid_descriptor)
{
    make_tokens();
    static const char *const incomplete[] = {"D:(A;;GA;;;WD)", "O:SYD:(A;;GA;;;WD)", "G:SYD:(A;;GA;;;WD)", ""};
    for (size_t i = 0; i < sizeof incomplete / sizeof incomplete[0]; i++) {
        unsigned char *sd;
        size_t len;
        ASSERT_EQ(nsem__sddl_to_sd(incomplete[i], &sd, &len), 0);
        uint32_t granted = POISON;
        ASSERT_EQ_U(nsem__access_check(&user, sd, len, SYNCHRONIZE, &sem_mapping, &granted),
                    ERROR_INVALID_SECURITY_DESCR);
        ASSERT_EQ_U(granted, POISON);
        free(sd);
    }
    /* Malformed: each flaw the validator finds, as one code. */
    size_t len;
    unsigned char *sd = sd_of_at(__FILE__, __LINE__, "D:(A;;GA;;;WD)", &len);
    uint32_t granted = POISON;
    ASSERT_EQ_U(nsem__access_check(&user, sd, len - 1, SYNCHRONIZE, &sem_mapping, &granted),
                ERROR_INVALID_SECURITY_DESCR);
    sd[20 + 8 + 9] = 16; /* the ACE's SID: 16 sub-authorities */
    ASSERT_EQ_U(nsem__access_check(&user, sd, len, SYNCHRONIZE, &sem_mapping, &granted),
                ERROR_INVALID_SECURITY_DESCR);
    ASSERT_EQ_U(granted, POISON);
    free(sd);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Descriptors of new objects: the default, and a creator's completed (SPEC 16)
 * ------------------------------------------------------------------------------------------- */

static char *sddl_of(const unsigned char *sd, size_t len)
{
    char *s;
    size_t n;
    ASSERT_EQ(nsem__sd_to_sddl(sd, len, 0xF, &s, &n), 0);
    return s;
}

TEST(access_default_sd)
{
    make_tokens();
    unsigned char *sd;
    size_t len;
    ASSERT_EQ(nsem__sd_default(&user, &sd, &len), 0);
    char *s = sddl_of(sd, len);
    ASSERT(strcmp(s, "O:S-1-22-1-1000G:S-1-22-2-1000D:(A;;GA;;;S-1-22-1-1000)(A;;GA;;;SY)") == 0);
    free(s);
    /* The creator may do everything, Local System too, anyone else nothing. */
    uint32_t granted = 0;
    ASSERT_EQ(nsem__access_check(&user, sd, len, MAXIMUM_ALLOWED, &sem_mapping, &granted), 0);
    ASSERT_EQ_U(granted, SEMAPHORE_ALL_ACCESS);
    ASSERT_EQ(nsem__access_check(&root, sd, len, MAXIMUM_ALLOWED, &mutex_mapping, &granted), 0);
    ASSERT_EQ_U(granted, MUTEX_ALL_ACCESS);
    ASSERT_EQ_U(nsem__access_check(&other, sd, len, SYNCHRONIZE, &event_mapping, &granted), ERROR_ACCESS_DENIED);
    free(sd);
    return 0;
}

/* SPEC 74: OpenMutexA(1 << i) over the default descriptor, by its creator: bits 0, 16-20, 25
 * (MAXIMUM_ALLOWED) and 28-31 are granted; 24 (ACCESS_SYSTEM_SECURITY) fails with
 * ERROR_PRIVILEGE_NOT_HELD; every other bit with ERROR_ACCESS_DENIED: failure mask 0x0DE0FFFE. */
TEST(access_open_mutex_bits)
{
    make_tokens();
    unsigned char *sd;
    size_t len;
    ASSERT_EQ(nsem__sd_default(&user, &sd, &len), 0);
    uint32_t failed = 0;
    for (int bit = 0; bit < 32; bit++) {
        uint32_t granted = POISON;
        DWORD e = nsem__access_check(&user, sd, len, UINT32_C(1) << bit, &mutex_mapping, &granted);
        if (bit == 24)
            ASSERT_EQ_U(e, ERROR_PRIVILEGE_NOT_HELD);
        else if (e)
            ASSERT_EQ_U(e, ERROR_ACCESS_DENIED);
        if (e) failed |= UINT32_C(1) << bit;
        else if (bit != 25 && bit < 28)
            ASSERT_EQ_U(granted, UINT32_C(1) << bit);
    }
    ASSERT_EQ_U(failed, 0x0DE0FFFE);
    free(sd);
    return 0;
}

/* The creator's descriptor keeps what it says and gets what it lacks from the creator. */
TEST(access_new_object_sd)
{
    make_tokens();
    static const struct {
        const struct nsem_token *creator;
        const char *given, *want;
    } t[] = {
        /* SPEC 16: a blank descriptor, a NULL DACL and an empty DACL are all accepted. */
        {&user, "", "O:S-1-22-1-1000G:S-1-22-2-1000D:(A;;GA;;;S-1-22-1-1000)(A;;GA;;;SY)"},
        {&user, "D:NO_ACCESS_CONTROL", "O:S-1-22-1-1000G:S-1-22-2-1000D:NO_ACCESS_CONTROL"},
        {&user, "D:", "O:S-1-22-1-1000G:S-1-22-2-1000D:"},
        {&user, "D:P(A;;GA;;;WD)", "O:S-1-22-1-1000G:S-1-22-2-1000D:P(A;;GA;;;WD)"},
        {&user, "O:S-1-22-1-1000G:BUD:(A;;GA;;;WD)", "O:S-1-22-1-1000G:BUD:(A;;GA;;;WD)"},
        {&user, "G:S-1-22-2-27", "O:S-1-22-1-1000G:S-1-22-2-27D:(A;;GA;;;S-1-22-1-1000)(A;;GA;;;SY)"},
        /* A mandatory label needs no privilege. */
        {&user, "S:(ML;;NW;;;LW)",
         "O:S-1-22-1-1000G:S-1-22-2-1000D:(A;;GA;;;S-1-22-1-1000)(A;;GA;;;SY)S:(ML;;NW;;;LW)"},
        /* Root may name another owner and set a SACL. */
        {&root, "O:S-1-22-1-1000D:", "O:S-1-22-1-1000G:S-1-22-2-0D:"},
        {&root, "D:S:(AU;SA;GA;;;WD)", "O:S-1-22-1-0G:S-1-22-2-0D:S:(AU;SA;GA;;;WD)"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        unsigned char *given, *sd;
        size_t given_len, len;
        ASSERT_EQ(nsem__sddl_to_sd(t[i].given, &given, &given_len), 0);
        ASSERT_EQ(nsem__sd_for_new_object(t[i].creator, given, given_len, &sd, &len), 0);
        char *s = sddl_of(sd, len);
        if (strcmp(s, t[i].want) != 0)
            failf(__FILE__, __LINE__, "new object sd", "\"%s\" became \"%s\", expected \"%s\"", t[i].given, s,
                  t[i].want);
        free(s);
        free(sd);
        free(given);
    }

    /* Refused: another owner (not root), a SACL (not root), a malformed descriptor. */
    static const struct {
        const char *given;
        DWORD error;
    } bad[] = {
        {"O:S-1-22-1-1001", ERROR_INVALID_OWNER},
        {"O:S-1-22-2-1000", ERROR_INVALID_OWNER},
        {"O:SY", ERROR_INVALID_OWNER},
        {"S:(AU;SA;GA;;;WD)", ERROR_PRIVILEGE_NOT_HELD},
        {"S:(ML;;NW;;;LW)(AL;;GA;;;WD)", ERROR_PRIVILEGE_NOT_HELD},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char *given, *sd = POISON_PTR_SD;
        size_t given_len, len;
        ASSERT_EQ(nsem__sddl_to_sd(bad[i].given, &given, &given_len), 0);
        ASSERT_EQ_U(nsem__sd_for_new_object(&user, given, given_len, &sd, &len), bad[i].error);
        ASSERT(sd == POISON_PTR_SD);
        free(given);
    }
    unsigned char *given, *sd;
    size_t given_len, len;
    ASSERT_EQ(nsem__sddl_to_sd("D:(A;;GA;;;WD)", &given, &given_len), 0);
    ASSERT_EQ_U(nsem__sd_for_new_object(&user, given, given_len - 1, &sd, &len), ERROR_INVALID_ACL);
    given[0] = 2;
    ASSERT_EQ_U(nsem__sd_for_new_object(&user, given, given_len, &sd, &len), ERROR_INVALID_SECURITY_DESCR);
    free(given);
    return 0;
}

/* The completed descriptor protects as its DACL says, with the creator as owner. */
TEST(access_new_object_sd_check)
{
    make_tokens();
    unsigned char *given, *sd;
    size_t given_len, len;
    ASSERT_EQ(nsem__sddl_to_sd("D:(A;;0x100000;;;WD)", &given, &given_len), 0);
    ASSERT_EQ(nsem__sd_for_new_object(&user, given, given_len, &sd, &len), 0);
    uint32_t granted = 0;
    ASSERT_EQ(nsem__access_check(&user, sd, len, MAXIMUM_ALLOWED, &event_mapping, &granted), 0);
    ASSERT_EQ_U(granted, SYNCHRONIZE | READ_CONTROL | WRITE_DAC);
    ASSERT_EQ(nsem__access_check(&other, sd, len, MAXIMUM_ALLOWED, &event_mapping, &granted), 0);
    ASSERT_EQ_U(granted, SYNCHRONIZE);
    free(sd);
    free(given);
    return 0;
}

/* Tokens: the groups every token has; the primary group listed once; many supplementary groups. */
TEST(access_tokens)
{
    struct nsem_token t;
    static uint32_t many[4096];
    for (uint32_t i = 0; i < 4096; i++) many[i] = 5000 + i;
    ASSERT_EQ(nsem__token_init(&t, 1000, 1000, many, 4096), 0);
    ASSERT_EQ(t.privileged, false);
    ASSERT_EQ(t.group_count, 1 + 4096 + 3);
    struct nsem_sid s;
    nsem__sid_from_gid(&s, 9095);
    ASSERT(nsem__token_has_sid(&t, s.b));
    nsem__sid_from_gid(&s, 9096);
    ASSERT(!nsem__token_has_sid(&t, s.b));
    nsem__token_destroy(&t);

    static const uint32_t with_primary[] = {1000, 27, 1000};
    ASSERT_EQ(nsem__token_init(&t, 1000, 1000, with_primary, 3), 0);
    ASSERT_EQ(t.group_count, 1 + 1 + 3); /* primary once, 27, WD AU BU */
    nsem__token_destroy(&t);

    ASSERT_EQ(nsem__token_init(&t, 0, 0, NULL, 0), 0);
    ASSERT_EQ(t.privileged, true);
    ASSERT_EQ(t.group_count, 1 + 3 + 2);
    nsem__sid_from_alias(&s, "SY");
    ASSERT(nsem__token_has_sid(&t, s.b));
    nsem__sid_from_alias(&s, "BA");
    ASSERT(nsem__token_has_sid(&t, s.b));
    nsem__token_destroy(&t);
    return 0;
}

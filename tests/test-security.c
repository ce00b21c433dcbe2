/*
 * test-security.c — security descriptors of objects, enforced by the server, end to end through
 * the public API (and raw frames for the protocol): descriptors given at creation, the default
 * one, Windows' access check at open, create of an existing name and duplication, MAXIMUM_ALLOWED
 * and zero access, the owner's implicit rights, Get/SetKernelObjectSecurity, and a token made from
 * what the kernel says of the caller.
 *
 * SPEC 10, 11, 12, 16, 18, 21, 25, 74, 93, 99 and Wine's advapi32 test_mutex_security,
 * test_event_security, test_semaphore_security, test_maximum_allowed, test_default_dacl_owner_sid
 * and test_AddMandatoryAce (labels). A test's user is S-1-22-1-<euid>, its group S-1-22-2-<egid>.
 * The tests run as any user; the ones that change their groups need root, and skip without it.
 */
#include "checks.h"

#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/protocol.h"

/* ---------------------------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------------------------- */

/* The caller's user and primary group SIDs, as strings. */
static const char *me(void)
{
    static char s[40];
    snprintf(s, sizeof s, "S-1-22-1-%u", (unsigned)geteuid());
    return s;
}

static const char *my_group(void)
{
    static char s[40];
    snprintf(s, sizeof s, "S-1-22-2-%u", (unsigned)getegid());
    return s;
}

/* printf into a rotating buffer (SDDL strings with the caller's SIDs in them). */
static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, sizeof bufs[0], f, ap);
    va_end(ap);
    return b;
}

/* The descriptor of an SDDL string (LocalFree it). */
static PSECURITY_DESCRIPTOR sd_at(int line, const char *sddl)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, &sd, NULL)) {
        char d[600];
        snprintf(d, sizeof d, "\"%s\" gave %u", sddl, GetLastError());
        harness_fail(__FILE__, line, "ConvertStringSecurityDescriptorToSecurityDescriptorA", d);
    }
    return sd;
}
#define sd_of(sddl) sd_at(__LINE__, (sddl))

/* A handle's granted access (Windows' GrantedAccess); NsemGetHandleAccess must succeed and leave
 * GetLastError() alone. */
static DWORD access_at(int line, HANDLE h)
{
    DWORD saved = GetLastError(), granted = POISON;
    SetLastError(POISON);
    if (!NsemGetHandleAccess(h, &granted)) harness_fail(__FILE__, line, "NsemGetHandleAccess", "failed");
    CHECK_EQ_AT(line, "GetLastError() after NsemGetHandleAccess", GetLastError(), POISON);
    SetLastError(saved);
    return granted;
}
#define access_of(h) access_at(__LINE__, (h))

#define OGD (OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION)

/* The parts `info` selects of the object's descriptor, as SDDL (static buffer): the size query
 * fails with ERROR_INSUFFICIENT_BUFFER and says the length, which the second call fills exactly,
 * as Wine's test_get_security_descriptor checks. */
static const char *sddl_at(int line, HANDLE h, SECURITY_INFORMATION info)
{
    static char out[4][1024];
    static int next;
    DWORD needed = POISON;
    SetLastError(POISON);
    BOOL ok = GetKernelObjectSecurity(h, info, NULL, 0, &needed);
    CHECK_EQ_AT(line, "GetKernelObjectSecurity(size query)", ok, FALSE);
    CHECK_EQ_AT(line, "GetLastError() of the size query", GetLastError(), ERROR_INSUFFICIENT_BUFFER);
    if (needed == POISON || needed < sizeof(SECURITY_DESCRIPTOR_RELATIVE))
        harness_fail(__FILE__, line, "GetKernelObjectSecurity", "no length needed");
    DWORD length = needed;
    void *sd = malloc(length);
    needed = POISON;
    SetLastError(POISON);
    ok = GetKernelObjectSecurity(h, info, sd, length, &needed);
    CHECK_EQ_AT(line, "GetKernelObjectSecurity", ok, TRUE);
    CHECK_EQ_AT(line, "GetLastError() after GetKernelObjectSecurity", GetLastError(), POISON);
    CHECK_EQ_AT(line, "length needed", needed, length);
    CHECK_EQ_AT(line, "IsValidSecurityDescriptor", IsValidSecurityDescriptor(sd), TRUE);
    CHECK_EQ_AT(line, "GetSecurityDescriptorLength", GetSecurityDescriptorLength(sd), length);
    char *s = NULL;
    const SECURITY_INFORMATION all = OGD | SACL_SECURITY_INFORMATION;
    if (!ConvertSecurityDescriptorToStringSecurityDescriptorA(sd, SDDL_REVISION_1, all, &s, NULL))
        harness_fail(__FILE__, line, "ConvertSecurityDescriptorToStringSecurityDescriptorA", "failed");
    char *b = out[next++ % 4];
    snprintf(b, sizeof out[0], "%s", s);
    LocalFree(s);
    free(sd);
    return b;
}
#define sddl_of(h, info) sddl_at(__LINE__, (h), (info))

static void expect_str_at(int line, const char *got, const char *want)
{
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "got:  %s\nwant: %s\n", got, want);
        harness_fail(__FILE__, line, "string", "mismatch");
    }
}
#define expect_str(got, want) expect_str_at(__LINE__, (got), (want))

/* The default descriptor of an object the caller creates without one. */
static const char *default_sddl(void)
{
    return fmt("O:%sG:%sD:(A;;GA;;;%s)(A;;GA;;;SY)", me(), my_group(), me());
}

/* Sets parts of an object's descriptor from SDDL; must succeed and leave GetLastError() alone. */
static void set_sd_at(int line, HANDLE h, SECURITY_INFORMATION info, const char *sddl)
{
    PSECURITY_DESCRIPTOR sd = sd_at(line, sddl);
    SetLastError(POISON);
    BOOL ok = SetKernelObjectSecurity(h, info, sd);
    if (!ok) fprintf(stderr, "SetKernelObjectSecurity(\"%s\") failed with %u\n", sddl, GetLastError());
    CHECK_EQ_AT(line, "SetKernelObjectSecurity", ok, TRUE);
    CHECK_EQ_AT(line, "GetLastError() after SetKernelObjectSecurity", GetLastError(), POISON);
    LocalFree(sd);
}
#define set_sd(h, info, sddl) set_sd_at(__LINE__, (h), (info), (sddl))

/* SetKernelObjectSecurity fails with `error`. */
static void set_sd_fails_at(int line, HANDLE h, SECURITY_INFORMATION info, const char *sddl, DWORD error)
{
    PSECURITY_DESCRIPTOR sd = sd_at(line, sddl);
    SetLastError(POISON);
    CHECK_EQ_AT(line, "SetKernelObjectSecurity", SetKernelObjectSecurity(h, info, sd), FALSE);
    CHECK_EQ_AT(line, "GetLastError() after SetKernelObjectSecurity", GetLastError(), error);
    LocalFree(sd);
}
#define set_sd_fails(h, info, sddl, error) set_sd_fails_at(__LINE__, (h), (info), (sddl), (error))

/* ---- the three types, for the tests that run over each ---- */

struct kind {
    const char *tag;
    HANDLE (*create)(LPSECURITY_ATTRIBUTES sa, const char *name);
    HANDLE (*create_ex)(LPSECURITY_ATTRIBUTES sa, const char *name, DWORD access);
    HANDLE (*open)(DWORD access, BOOL inherit, const char *name);
    DWORD all;        /* the type's ALL_ACCESS */
    DWORD mapped[5];  /* 0, GENERIC_READ, _WRITE, _EXECUTE, _ALL through DuplicateHandle (SPEC 93) */
    DWORD check[3];   /* the rights Wine's test_default_handle_security asks AccessCheck for */
    DWORD modify;     /* a right to deny in the tests: the type's MODIFY_STATE (mutex: QUERY_STATE) */
};

static HANDLE sem_create(LPSECURITY_ATTRIBUTES sa, const char *name)
{
    return CreateSemaphoreA(sa, 0, 10, name);
}
static HANDLE sem_create_ex(LPSECURITY_ATTRIBUTES sa, const char *name, DWORD access)
{
    return CreateSemaphoreExA(sa, 0, 10, name, 0, access);
}
static HANDLE mutex_create(LPSECURITY_ATTRIBUTES sa, const char *name)
{
    return CreateMutexA(sa, FALSE, name);
}
static HANDLE mutex_create_ex(LPSECURITY_ATTRIBUTES sa, const char *name, DWORD access)
{
    return CreateMutexExA(sa, name, 0, access);
}
static HANDLE event_create(LPSECURITY_ATTRIBUTES sa, const char *name)
{
    return CreateEventA(sa, FALSE, FALSE, name);
}
static HANDLE event_create_ex(LPSECURITY_ATTRIBUTES sa, const char *name, DWORD access)
{
    return CreateEventExA(sa, name, 0, access);
}

static const struct kind semaphore = {
    "sem", sem_create, sem_create_ex, OpenSemaphoreA, SEMAPHORE_ALL_ACCESS,
    {0, STANDARD_RIGHTS_READ | SEMAPHORE_QUERY_STATE, STANDARD_RIGHTS_WRITE | SEMAPHORE_MODIFY_STATE,
     STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, STANDARD_RIGHTS_ALL | SEMAPHORE_QUERY_STATE | SEMAPHORE_MODIFY_STATE},
    {STANDARD_RIGHTS_READ | SEMAPHORE_QUERY_STATE, STANDARD_RIGHTS_WRITE | SEMAPHORE_MODIFY_STATE,
     STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE},
    SEMAPHORE_MODIFY_STATE,
};
static const struct kind mutex = {
    "mutex", mutex_create, mutex_create_ex, OpenMutexA, MUTEX_ALL_ACCESS,
    {0, STANDARD_RIGHTS_READ | MUTANT_QUERY_STATE, STANDARD_RIGHTS_WRITE, STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE,
     STANDARD_RIGHTS_ALL | MUTANT_QUERY_STATE},
    {STANDARD_RIGHTS_READ | MUTANT_QUERY_STATE | SYNCHRONIZE, STANDARD_RIGHTS_WRITE | MUTEX_MODIFY_STATE | SYNCHRONIZE,
     STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE},
    MUTANT_QUERY_STATE,
};
static const struct kind event = {
    "event", event_create, event_create_ex, OpenEventA, EVENT_ALL_ACCESS,
    {0, STANDARD_RIGHTS_READ | EVENT_QUERY_STATE, STANDARD_RIGHTS_WRITE | EVENT_MODIFY_STATE,
     STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE, STANDARD_RIGHTS_ALL | EVENT_QUERY_STATE | EVENT_MODIFY_STATE},
    {STANDARD_RIGHTS_READ | EVENT_QUERY_STATE | SYNCHRONIZE, STANDARD_RIGHTS_WRITE | EVENT_MODIFY_STATE | SYNCHRONIZE,
     STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE},
    EVENT_MODIFY_STATE,
};
static const struct kind *const kinds[] = {&semaphore, &mutex, &event};
#define FOR_EACH_KIND(k) for (const struct kind *const *k##_ = kinds, *k; k##_ < kinds + 3 && (k = *k##_); k##_++)

/* Creating a named object with the descriptor of `sddl` succeeds, new (GetLastError() 0). */
static HANDLE create_with_at(int line, const struct kind *k, const char *name, const char *sddl)
{
    PSECURITY_DESCRIPTOR sd = sddl ? sd_at(line, sddl) : NULL;
    SECURITY_ATTRIBUTES sa = {sizeof sa, sd, FALSE};
    SetLastError(POISON);
    HANDLE h = k->create(&sa, name);
    if (!h) fprintf(stderr, "%s with \"%s\": error %u\n", k->tag, sddl ? sddl : "(none)", GetLastError());
    CHECK_EQ_AT(line, "created", h != NULL, 1);
    CHECK_EQ_AT(line, "GetLastError() after the create", GetLastError(), 0);
    LocalFree(sd);
    return h;
}
#define create_with(k, name, sddl) create_with_at(__LINE__, (k), (name), (sddl))

/* Opening `name` with `access` fails with `error`. */
static void open_fails_at(int line, const struct kind *k, DWORD access, const char *name, DWORD error)
{
    SetLastError(POISON);
    HANDLE h = k->open(access, FALSE, name);
    if (h) fprintf(stderr, "%s: open 0x%x succeeded with access 0x%x\n", k->tag, access, access_of(h));
    CHECK_EQ_AT(line, "open", h == NULL, 1);
    CHECK_EQ_AT(line, "GetLastError() after the open", GetLastError(), error);
}
#define open_fails(k, access, name, error) open_fails_at(__LINE__, (k), (access), (name), (error))

/* Opening `name` with `access` succeeds, leaving GetLastError() alone, with exactly `granted`. */
static HANDLE open_ok_at(int line, const struct kind *k, DWORD access, const char *name, DWORD granted)
{
    SetLastError(POISON);
    HANDLE h = k->open(access, FALSE, name);
    if (!h) fprintf(stderr, "%s: open 0x%x failed with %u\n", k->tag, access, GetLastError());
    CHECK_EQ_AT(line, "open", h != NULL, 1);
    CHECK_EQ_AT(line, "GetLastError() after the open", GetLastError(), POISON);
    CHECK_EQ_AT(line, "granted access", access_of(h), granted);
    return h;
}
#define open_ok(k, access, name, granted) open_ok_at(__LINE__, (k), (access), (name), (granted))

/* ---------------------------------------------------------------------------------------------
 * Wine's test_{mutex,event,semaphore}_security and test_default_handle_security
 * ------------------------------------------------------------------------------------------- */

static int wine_object_security(const struct kind *k)
{
    const char *name = uniq(k->tag);
    /* SPEC 18: the name is looked up before any access check. */
    open_fails(k, 0, name, ERROR_FILE_NOT_FOUND);
    HANDLE h = create_with(k, name, NULL);
    ASSERT_EQ_U(access_of(h), k->all); /* SPEC 10 */

    /* SPEC 93: DuplicateHandle maps generic rights through the type's mapping; 0 is allowed. And
     * SPEC 21: with a handle open, opening with no access is still refused. */
    static const DWORD generic[5] = {0, GENERIC_READ, GENERIC_WRITE, GENERIC_EXECUTE, GENERIC_ALL};
    for (int i = 0; i < 5; i++) {
        HANDLE dup = NULL;
        SetLastError(POISON);
        ASSERT(DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &dup, generic[i], FALSE, 0));
        ASSERT_GLE(POISON);
        ASSERT_EQ_U(access_of(dup), k->mapped[i]);
        ASSERT(CloseHandle(dup));
        open_fails(k, 0, name, ERROR_ACCESS_DENIED);
    }

    /* test_default_handle_security: the default descriptor, owner, group and DACL present and not
     * defaulted (Wine's test_default_dacl_owner_sid: the owner is in the DACL). */
    expect_str(sddl_of(h, OGD), default_sddl());
    DWORD needed;
    unsigned char buf[256];
    ASSERT(GetKernelObjectSecurity(h, OGD, buf, sizeof buf, &needed));
    SECURITY_DESCRIPTOR_RELATIVE hdr;
    memcpy(&hdr, buf, sizeof hdr);
    ASSERT_EQ_U(hdr.Control, SE_SELF_RELATIVE | SE_DACL_PRESENT);
    ASSERT(hdr.Owner && hdr.Group && hdr.Dacl);

    /* Its AccessCheck calls, as opens by the same token: MAXIMUM_ALLOWED gives GenericAll,
     * nothing asked gives nothing (no handle), ACCESS_SYSTEM_SECURITY needs a privilege, and
     * each of the test's mappings is granted exactly. */
    CloseHandle(open_ok(k, MAXIMUM_ALLOWED, name, k->all));
    open_fails(k, 0, name, ERROR_ACCESS_DENIED);
    open_fails(k, ACCESS_SYSTEM_SECURITY, name, ERROR_PRIVILEGE_NOT_HELD);
    for (int i = 0; i < 3; i++) CloseHandle(open_ok(k, k->check[i], name, k->check[i]));
    /* SPEC 25: the type's own mapping of the generic rights on open */
    for (int i = 1; i < 5; i++) CloseHandle(open_ok(k, generic[i], name, k->mapped[i]));
    ASSERT(CloseHandle(h));
    return 0;
}

TEST(security_wine_semaphore)
{
    return wine_object_security(&semaphore);
}

TEST(security_wine_mutex)
{
    return wine_object_security(&mutex);
}

TEST(security_wine_event)
{
    return wine_object_security(&event);
}

/* Wine's test_maximum_allowed (SPEC 11): MAXIMUM_ALLOWED on creation is GENERIC_ALL, invalid bits
 * dropped, whatever the DACL — even an empty one; a new object's handle is never checked. */
TEST(security_maximum_allowed)
{
    PSECURITY_DESCRIPTOR sd = sd_of("D:");
    SECURITY_ATTRIBUTES sa = {sizeof sa, sd, FALSE};
    SetLastError(POISON);
    HANDLE h = CreateEventExA(&sa, NULL, 0, MAXIMUM_ALLOWED | 0x4);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(0);
    ASSERT_EQ_U(access_of(h), EVENT_ALL_ACCESS);
    ASSERT(CloseHandle(h));

    /* named, each type: the creator's handle has what it asked for, even nothing at all */
    FOR_EACH_KIND(k)
    {
        const char *name = uniq(k->tag);
        SetLastError(POISON);
        h = k->create_ex(&sa, name, MAXIMUM_ALLOWED);
        ASSERT_NOT_NULL(h);
        ASSERT_GLE(0);
        ASSERT_EQ_U(access_of(h), k->all);
        /* ACCESS_SYSTEM_SECURITY takes the privilege even for a new object: nothing is made */
        SetLastError(POISON);
        ASSERT_NULL(k->create_ex(NULL, uniq("sacl"), ACCESS_SYSTEM_SECURITY | k->all));
        ASSERT_GLE(ERROR_PRIVILEGE_NOT_HELD);
        open_fails(k, SYNCHRONIZE, uniq("sacl"), ERROR_FILE_NOT_FOUND);
        SetLastError(POISON);
        HANDLE none = k->create_ex(&sa, uniq("none"), 0);
        ASSERT_NOT_NULL(none);
        ASSERT_GLE(0);
        ASSERT_EQ_U(access_of(none), 0);
        /* Opening it is checked: the empty DACL grants nothing but the owner's READ_CONTROL and
         * WRITE_DAC, which MAXIMUM_ALLOWED then gives exactly. */
        CloseHandle(open_ok(k, MAXIMUM_ALLOWED, name, READ_CONTROL | WRITE_DAC));
        CloseHandle(open_ok(k, READ_CONTROL, name, READ_CONTROL));
        open_fails(k, SYNCHRONIZE, name, ERROR_ACCESS_DENIED);
        open_fails(k, READ_CONTROL | SYNCHRONIZE, name, ERROR_ACCESS_DENIED); /* nothing partial */
        SetLastError(POISON);
        ASSERT_NULL(k->create_ex(NULL, name, k->all));
        ASSERT_GLE(ERROR_ACCESS_DENIED);
        ASSERT(CloseHandle(h));
        ASSERT(CloseHandle(none));
    }
    LocalFree(sd);
    return 0;
}

/* SPEC 11, 12, 18, 21 for each type: no access on a new object is a handle without rights; on an
 * existing one ERROR_ACCESS_DENIED; all access on an existing one a handle and 183. */
TEST(security_zero_access)
{
    FOR_EACH_KIND(k)
    {
        const char *name = uniq(k->tag);
        open_fails(k, 0, name, ERROR_FILE_NOT_FOUND);
        SetLastError(POISON);
        HANDLE h = k->create_ex(NULL, name, 0);
        ASSERT_NOT_NULL(h);
        ASSERT_GLE(0);
        ASSERT_EQ_U(access_of(h), 0);
        SetLastError(POISON);
        ASSERT_NULL(k->create_ex(NULL, name, 0));
        ASSERT_GLE(ERROR_ACCESS_DENIED);
        open_fails(k, 0, name, ERROR_ACCESS_DENIED);
        SetLastError(POISON);
        HANDLE again = k->create_ex(NULL, name, k->all);
        ASSERT_NOT_NULL(again);
        ASSERT_GLE(ERROR_ALREADY_EXISTS);
        ASSERT_EQ_U(access_of(again), k->all);
        check_handles(again, 2);
        ASSERT(CloseHandle(h));
        ASSERT(CloseHandle(again));
    }
    return 0;
}

/* SPEC 74 end to end, through the server's access check over the default descriptor: the
 * creator's OpenMutex(1 << i) succeeds for bits 0, 16-20, 25, 28-31, fails with
 * ERROR_PRIVILEGE_NOT_HELD for bit 24 (root too: no privilege is enabled) and
 * ERROR_ACCESS_DENIED for the rest; each success grants exactly the mapped bit. */
TEST(security_open_mutex_bits)
{
    const char *name = uniq("bits");
    HANDLE h = create_with(&mutex, name, NULL);
    DWORD failed = 0;
    for (int i = 0; i < 32; i++) {
        DWORD access = 1u << i;
        SetLastError(POISON);
        HANDLE o = OpenMutexA(access, FALSE, name);
        if (o) {
            ASSERT_GLE(POISON);
            DWORD want = access == GENERIC_READ      ? 0x20001u
                         : access == GENERIC_WRITE   ? 0x20000u
                         : access == GENERIC_EXECUTE ? 0x120000u
                         : access == GENERIC_ALL || access == MAXIMUM_ALLOWED ? MUTEX_ALL_ACCESS
                                                                               : access;
            ASSERT_EQ_U(access_of(o), want);
            ASSERT(CloseHandle(o));
        } else {
            ASSERT_GLE(access == ACCESS_SYSTEM_SECURITY ? ERROR_PRIVILEGE_NOT_HELD : ERROR_ACCESS_DENIED);
            failed |= access;
        }
    }
    ASSERT_EQ_U(failed, 0x0DE0FFFEu);
    ASSERT(CloseHandle(h));
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Descriptors given at creation
 * ------------------------------------------------------------------------------------------- */

/* SPEC 16: a blank descriptor, a NULL DACL and an empty DACL are accepted; what a descriptor
 * lacks comes from the default (Wine's test_default_dacl_owner_sid); the inherit flag holds. */
TEST(security_create_descriptor_variants)
{
    FOR_EACH_KIND(k)
    {
        HANDLE blank = create_with(k, uniq("blank"), "");
        expect_str(sddl_of(blank, OGD), default_sddl());
        const char *null_name = uniq("null-dacl");
        HANDLE null_dacl = create_with(k, null_name, "D:NO_ACCESS_CONTROL");
        expect_str(sddl_of(null_dacl, OGD), fmt("O:%sG:%sD:NO_ACCESS_CONTROL", me(), my_group()));
        /* no protection: any right asked for is granted; the handle keeps the type's */
        CloseHandle(open_ok(k, k->all | 0x8, null_name, k->all));
        CloseHandle(open_ok(k, MAXIMUM_ALLOWED, null_name, k->all));
        open_fails(k, 0, null_name, ERROR_ACCESS_DENIED);
        const char *empty_name = uniq("empty-dacl");
        HANDLE empty = create_with(k, empty_name, "D:");
        expect_str(sddl_of(empty, OGD), fmt("O:%sG:%sD:", me(), my_group()));
        open_fails(k, SYNCHRONIZE, empty_name, ERROR_ACCESS_DENIED);
        /* group and control bits given are kept; the owner comes from the caller */
        HANDLE grouped = create_with(k, uniq("grouped"), "G:BAD:P(A;;GA;;;WD)");
        expect_str(sddl_of(grouped, OGD), fmt("O:%sG:BAD:P(A;;GA;;;WD)", me()));
        /* SPEC 16: inheritable, with a descriptor */
        PSECURITY_DESCRIPTOR sd = sd_of("D:(A;;GA;;;WD)");
        SECURITY_ATTRIBUTES sa = {sizeof sa, sd, TRUE};
        HANDLE inh = k->create(&sa, uniq("inherit"));
        ASSERT_NOT_NULL(inh);
        DWORD flags = 0;
        ASSERT(GetHandleInformation(inh, &flags));
        ASSERT_EQ_U(flags, HANDLE_FLAG_INHERIT);
        LocalFree(sd);
        HANDLE all[] = {blank, null_dacl, empty, grouped, inh};
        for (int i = 0; i < 5; i++) ASSERT(CloseHandle(all[i]));
    }
    return 0;
}

/* A DACL denying the creator SYNCHRONIZE: opens for SYNCHRONIZE fail, the rest succeed; the
 * creator's own handle (no check on creation) keeps everything; ACEs decide in order. */
TEST(security_deny_synchronize)
{
    const char *name = uniq("deny-sync");
    HANDLE h = create_with(&semaphore, name, fmt("D:(D;;0x100000;;;%s)(A;;GA;;;%s)", me(), me()));
    ASSERT_EQ_U(access_of(h), SEMAPHORE_ALL_ACCESS);
    open_fails(&semaphore, SYNCHRONIZE, name, ERROR_ACCESS_DENIED);
    open_fails(&semaphore, GENERIC_EXECUTE, name, ERROR_ACCESS_DENIED); /* maps to SYNCHRONIZE | READ_CONTROL */
    HANDLE modify = open_ok(&semaphore, SEMAPHORE_MODIFY_STATE, name, SEMAPHORE_MODIFY_STATE);
    SetLastError(POISON);
    ASSERT(ReleaseSemaphore(modify, 1, NULL));
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(modify, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    ASSERT_EQ_U(WaitForSingleObject(h, 0), WAIT_OBJECT_0); /* the creator's handle may */
    /* MAXIMUM_ALLOWED: all that is not denied */
    CloseHandle(open_ok(&semaphore, MAXIMUM_ALLOWED, name, SEMAPHORE_ALL_ACCESS & ~SYNCHRONIZE));
    /* Create of the existing name asks for SEMAPHORE_ALL_ACCESS: denied */
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreA(NULL, 0, 1, name));
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_handles(h, 2);

    /* the first ACE naming a right decides it: an allow before the deny grants it */
    const char *allow_first = uniq("allow-first");
    HANDLE a = create_with(&semaphore, allow_first, fmt("D:(A;;GA;;;%s)(D;;0x100000;;;%s)", me(), me()));
    CloseHandle(open_ok(&semaphore, SYNCHRONIZE, allow_first, SYNCHRONIZE));
    /* a deny to a group the caller is in (Everyone) counts as one to the caller */
    const char *everyone = uniq("deny-everyone");
    HANDLE e = create_with(&event, everyone, fmt("D:(D;;0x2;;;WD)(A;;GA;;;%s)", me()));
    open_fails(&event, EVENT_MODIFY_STATE, everyone, ERROR_ACCESS_DENIED);
    CloseHandle(open_ok(&event, SYNCHRONIZE | EVENT_QUERY_STATE, everyone, SYNCHRONIZE | EVENT_QUERY_STATE));
    /* an allow to someone else grants the caller nothing */
    const char *others = uniq("others");
    HANDLE o = create_with(&mutex, others, "D:(A;;GA;;;S-1-22-1-4242)(A;;GA;;;S-1-5-21-1-2-3-500)");
    open_fails(&mutex, SYNCHRONIZE, others, ERROR_ACCESS_DENIED);
    CloseHandle(open_ok(&mutex, READ_CONTROL, others, READ_CONTROL)); /* the owner's */
    HANDLE all[] = {h, modify, a, e, o};
    for (int i = 0; i < 5; i++) ASSERT(CloseHandle(all[i]));
    return 0;
}

/* Bad descriptors at creation get Windows' codes, checked before the name (even an existing one)
 * and after the counts, and nothing is created. Unknown SIDs in ACEs are fine. */
TEST(security_create_bad_descriptors)
{
    const char *name = uniq("bad");
    PSECURITY_DESCRIPTOR good = sd_of("O:SYG:SYD:(A;;GA;;;WD)");
    DWORD len = GetSecurityDescriptorLength(good);
    unsigned char *bad = malloc(len);
    struct {
        const char *what;
        size_t at;
        unsigned char value;
        DWORD error;
    } cases[] = {
        {"absolute (no SE_SELF_RELATIVE)", 3, 0x00, ERROR_INVALID_SECURITY_DESCR},
        {"revision 2", 0, 2, ERROR_INVALID_SECURITY_DESCR},
        {"DACL offset not a multiple of 4", 16, 0x15, ERROR_INVALID_SECURITY_DESCR},
        {"ACL revision 9", 20, 9, ERROR_INVALID_ACL},
        {"AclSize 4", 22, 4, ERROR_INVALID_ACL},
        {"owner SID revision 3", 48, 3, ERROR_INVALID_SID},
    };
    SECURITY_ATTRIBUTES sa = {sizeof sa, bad, FALSE};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(bad, good, len);
        bad[cases[i].at] = cases[i].value;
        FOR_EACH_KIND(k)
        {
            SetLastError(POISON);
            HANDLE h = k->create(&sa, name);
            if (h || GetLastError() != cases[i].error)
                fprintf(stderr, "%s, %s: %p, error %u\n", cases[i].what, k->tag, h, GetLastError());
            ASSERT_NULL(h);
            ASSERT_GLE(cases[i].error);
            open_fails(k, SYNCHRONIZE, name, ERROR_FILE_NOT_FOUND); /* nothing made */
        }
    }
    /* checked even when the name exists (and then ignored), after the counts */
    HANDLE existing = create_with(&semaphore, name, NULL);
    memcpy(bad, good, len);
    bad[0] = 2;
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreA(&sa, 0, 10, name));
    ASSERT_GLE(ERROR_INVALID_SECURITY_DESCR);
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreA(&sa, 2, 1, name));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    expect_str(sddl_of(existing, OGD), default_sddl());
    /* a valid descriptor for an existing name is ignored: the object keeps its own */
    PSECURITY_DESCRIPTOR other = sd_of("D:(A;;GA;;;WD)");
    SECURITY_ATTRIBUTES osa = {sizeof osa, other, FALSE};
    SetLastError(POISON);
    HANDLE again = CreateSemaphoreA(&osa, 0, 10, name);
    ASSERT_NOT_NULL(again);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    expect_str(sddl_of(again, OGD), default_sddl());

    /* an owner other than the caller, even for root (no privilege is enabled); a SACL with an
     * audit ACE (SeSecurityPrivilege): refused, nothing made */
    struct {
        const char *sddl;
        DWORD error;
    } refused[] = {
        {"O:S-1-22-1-4242D:(A;;GA;;;WD)", ERROR_INVALID_OWNER},
        {"O:SYD:(A;;GA;;;WD)", ERROR_INVALID_OWNER},
        {"O:BA", ERROR_INVALID_OWNER},
        {"S:(AU;SA;GA;;;WD)", ERROR_PRIVILEGE_NOT_HELD},
    };
    const char *fresh = uniq("fresh");
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        PSECURITY_DESCRIPTOR sd = sd_of(refused[i].sddl);
        SECURITY_ATTRIBUTES rsa = {sizeof rsa, sd, FALSE};
        FOR_EACH_KIND(k)
        {
            SetLastError(POISON);
            ASSERT_NULL(k->create(&rsa, fresh));
            ASSERT_GLE(refused[i].error);
            open_fails(k, SYNCHRONIZE, fresh, ERROR_FILE_NOT_FOUND);
        }
        LocalFree(sd);
    }
    /* the caller's own user as owner, unknown SIDs in ACEs, a label in the SACL: accepted */
    const char *ok_sddl = fmt("O:%sD:(A;;GA;;;S-1-5-21-1-2-3-500)(A;;GA;;;S-1-22-1-4242)(A;;GA;;;%s)S:(ML;;NW;;;LW)",
                              me(), me());
    HANDLE fine = create_with(&event, fresh, ok_sddl);
    expect_str(sddl_of(fine, OGD | LABEL_SECURITY_INFORMATION),
               fmt("O:%sG:%sD:(A;;GA;;;S-1-5-21-1-2-3-500)(A;;GA;;;S-1-22-1-4242)(A;;GA;;;%s)S:(ML;;NW;;;LW)", me(),
                   my_group(), me()));
    ASSERT(CloseHandle(fine));
    ASSERT(CloseHandle(existing));
    ASSERT(CloseHandle(again));
    LocalFree(other);
    LocalFree(good);
    free(bad);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * GetKernelObjectSecurity and SetKernelObjectSecurity
 * ------------------------------------------------------------------------------------------- */

/* A new DACL is what later opens are checked against; handles already open keep what they were
 * granted (Windows checks access only when a handle is made). */
TEST(security_set_dacl)
{
    FOR_EACH_KIND(k)
    {
        const char *name = uniq(k->tag);
        HANDLE h = create_with(k, name, NULL);
        HANDLE sync = open_ok(k, SYNCHRONIZE, name, SYNCHRONIZE);
        set_sd(h, DACL_SECURITY_INFORMATION, fmt("D:(D;;0x100000;;;%s)(A;;GA;;;%s)", me(), me()));
        expect_str(sddl_of(h, OGD), fmt("O:%sG:%sD:(D;;0x100000;;;%s)(A;;GA;;;%s)", me(), my_group(), me(), me()));
        open_fails(k, SYNCHRONIZE, name, ERROR_ACCESS_DENIED);
        CloseHandle(open_ok(k, k->modify, name, k->modify));
        ASSERT_EQ_U(access_of(sync), SYNCHRONIZE);
        DWORD r = WaitForSingleObject(sync, 0); /* still allowed to wait */
        ASSERT(r == WAIT_OBJECT_0 || r == WAIT_TIMEOUT);
        if (r == WAIT_OBJECT_0 && k == &mutex) ASSERT(ReleaseMutex(sync));

        /* a descriptor without a DACL leaves the object none: no protection at all */
        set_sd(h, DACL_SECURITY_INFORMATION, "O:SY");
        expect_str(sddl_of(h, DACL_SECURITY_INFORMATION), "");
        CloseHandle(open_ok(k, SYNCHRONIZE, name, SYNCHRONIZE));
        /* only the DACL changed: owner and group are the creator's still */
        expect_str(sddl_of(h, OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION),
                   fmt("O:%sG:%s", me(), my_group()));
        /* the control bits of the DACL come with it */
        set_sd(h, DACL_SECURITY_INFORMATION, "D:PAI(A;;GA;;;WD)");
        expect_str(sddl_of(h, DACL_SECURITY_INFORMATION), "D:PAI(A;;GA;;;WD)");
        ASSERT(CloseHandle(sync));
        ASSERT(CloseHandle(h));
    }
    return 0;
}

/* The owner always keeps READ_CONTROL and WRITE_DAC, so it can mend a DACL that shuts it out. */
TEST(security_owner_mends_dacl)
{
    const char *name = uniq("mend");
    HANDLE h = create_with(&semaphore, name, fmt("D:(D;;GA;;;%s)", me()));
    open_fails(&semaphore, SYNCHRONIZE, name, ERROR_ACCESS_DENIED);
    HANDLE w = open_ok(&semaphore, WRITE_DAC | READ_CONTROL, name, WRITE_DAC | READ_CONTROL);
    set_sd(w, DACL_SECURITY_INFORMATION, fmt("D:(A;;GA;;;%s)", me()));
    CloseHandle(open_ok(&semaphore, SYNCHRONIZE, name, SYNCHRONIZE));
    /* ... unless an OWNER RIGHTS ACE says otherwise */
    set_sd(w, DACL_SECURITY_INFORMATION, fmt("D:(A;;0x1;;;OW)(A;;GA;;;S-1-22-1-4242)"));
    CloseHandle(open_ok(&semaphore, MAXIMUM_ALLOWED, name, SEMAPHORE_QUERY_STATE));
    open_fails(&semaphore, WRITE_DAC, name, ERROR_ACCESS_DENIED);
    ASSERT(CloseHandle(w));
    ASSERT(CloseHandle(h));
    return 0;
}

/* The rights each part needs, and Windows' error codes; nothing changes on failure. */
TEST(security_get_set_errors)
{
    const char *name = uniq("errors");
    HANDLE h = create_with(&event, name, NULL);
    HANDLE weak = open_ok(&event, SYNCHRONIZE, name, SYNCHRONIZE);
    DWORD needed = POISON;
    unsigned char buf[512];

    /* Get: the length pointer first, then the handle, then the access */
    SetLastError(POISON);
    ASSERT(!GetKernelObjectSecurity(h, OGD, buf, sizeof buf, NULL));
    ASSERT_GLE(ERROR_NOACCESS);
    SetLastError(POISON);
    ASSERT(!GetKernelObjectSecurity(h, OGD, NULL, 16, &needed));
    ASSERT_GLE(ERROR_NOACCESS);
    HANDLE bad_handles[] = {NULL, (HANDLE)(uintptr_t)0xdeadbee0u, GetCurrentProcess(), GetCurrentThread()};
    for (int i = 0; i < 4; i++) {
        needed = POISON;
        SetLastError(POISON);
        ASSERT(!GetKernelObjectSecurity(bad_handles[i], OGD, buf, sizeof buf, &needed));
        ASSERT_GLE(ERROR_INVALID_HANDLE);
        ASSERT_EQ_U(needed, POISON);
    }
    static const SECURITY_INFORMATION need_read_control[] = {
        OWNER_SECURITY_INFORMATION, GROUP_SECURITY_INFORMATION, DACL_SECURITY_INFORMATION,
        LABEL_SECURITY_INFORMATION};
    for (int i = 0; i < 4; i++) {
        SetLastError(POISON);
        ASSERT(!GetKernelObjectSecurity(weak, need_read_control[i], buf, sizeof buf, &needed));
        ASSERT_GLE(ERROR_ACCESS_DENIED);
    }
    SetLastError(POISON);
    ASSERT(!GetKernelObjectSecurity(h, SACL_SECURITY_INFORMATION, buf, sizeof buf, &needed));
    ASSERT_GLE(ERROR_ACCESS_DENIED); /* no handle has ACCESS_SYSTEM_SECURITY */
    /* too small: the length, nothing copied */
    memset(buf, 0xcc, sizeof buf);
    needed = POISON;
    SetLastError(POISON);
    ASSERT(!GetKernelObjectSecurity(h, OGD, buf, 20, &needed));
    ASSERT_GLE(ERROR_INSUFFICIENT_BUFFER);
    ASSERT_EQ_U(needed, 104); /* 20 + DACL 52 + owner 16 + group 16 */
    ASSERT_EQ(buf[0], 0xcc);
    /* no part asked for: the bare header */
    expect_str(sddl_of(h, 0), "");
    expect_str(sddl_of(h, 0x10000), ""); /* bits nsem does not know are ignored */
    /* reading needs nothing but READ_CONTROL */
    HANDLE reader = open_ok(&event, READ_CONTROL, name, READ_CONTROL);
    expect_str(sddl_of(reader, OGD), default_sddl());

    /* Set: the descriptor pointer first, then the handle, then the access, then the descriptor */
    SetLastError(POISON);
    ASSERT(!SetKernelObjectSecurity(bad_handles[1], DACL_SECURITY_INFORMATION, NULL));
    ASSERT_GLE(ERROR_NOACCESS);
    PSECURITY_DESCRIPTOR sd = sd_of("D:(A;;GA;;;WD)");
    for (int i = 0; i < 4; i++) {
        SetLastError(POISON);
        ASSERT(!SetKernelObjectSecurity(bad_handles[i], DACL_SECURITY_INFORMATION, sd));
        ASSERT_GLE(ERROR_INVALID_HANDLE);
    }
    set_sd_fails(reader, DACL_SECURITY_INFORMATION, "D:(A;;GA;;;WD)", ERROR_ACCESS_DENIED); /* WRITE_DAC */
    set_sd_fails(reader, OWNER_SECURITY_INFORMATION, fmt("O:%s", me()), ERROR_ACCESS_DENIED); /* WRITE_OWNER */
    set_sd_fails(reader, GROUP_SECURITY_INFORMATION, "G:SY", ERROR_ACCESS_DENIED);
    set_sd_fails(reader, LABEL_SECURITY_INFORMATION, "S:(ML;;NW;;;LW)", ERROR_ACCESS_DENIED);
    set_sd_fails(h, SACL_SECURITY_INFORMATION, "S:", ERROR_ACCESS_DENIED); /* ACCESS_SYSTEM_SECURITY */
    unsigned char *bad = malloc(GetSecurityDescriptorLength(sd));
    memcpy(bad, sd, GetSecurityDescriptorLength(sd));
    bad[3] = 0; /* not self-relative */
    SetLastError(POISON);
    ASSERT(!SetKernelObjectSecurity(reader, DACL_SECURITY_INFORMATION, bad));
    ASSERT_GLE(ERROR_ACCESS_DENIED); /* the access before the descriptor */
    SetLastError(POISON);
    ASSERT(!SetKernelObjectSecurity(h, DACL_SECURITY_INFORMATION, bad));
    ASSERT_GLE(ERROR_INVALID_SECURITY_DESCR);
    memcpy(bad, sd, GetSecurityDescriptorLength(sd));
    bad[20] = 1; /* ACL revision 1 */
    SetLastError(POISON);
    ASSERT(!SetKernelObjectSecurity(h, DACL_SECURITY_INFORMATION, bad));
    ASSERT_GLE(ERROR_INVALID_ACL);
    set_sd_fails(h, OWNER_SECURITY_INFORMATION, "D:(A;;GA;;;WD)", ERROR_INVALID_SECURITY_DESCR); /* no owner */
    set_sd_fails(h, GROUP_SECURITY_INFORMATION, "O:SY", ERROR_INVALID_SECURITY_DESCR);       /* no group */
    set_sd_fails(h, OWNER_SECURITY_INFORMATION, "O:S-1-22-1-4242", ERROR_INVALID_OWNER);
    set_sd_fails(h, OWNER_SECURITY_INFORMATION, "O:SY", ERROR_INVALID_OWNER);
    set_sd_fails(h, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, "O:BAD:", ERROR_INVALID_OWNER);
    set_sd_fails(h, SACL_SECURITY_INFORMATION, "S:(AU;SA;GA;;;WD)", ERROR_ACCESS_DENIED);
    /* nothing changed by any of them */
    expect_str(sddl_of(h, OGD | LABEL_SECURITY_INFORMATION), default_sddl());
    CloseHandle(open_ok(&event, SYNCHRONIZE, name, SYNCHRONIZE));

    /* what may change: the owner to the caller itself, the group to anyone */
    set_sd(h, OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION, fmt("O:%sG:SY", me()));
    expect_str(sddl_of(h, OGD), fmt("O:%sG:SYD:(A;;GA;;;%s)(A;;GA;;;SY)", me(), me()));
    set_sd(h, 0, "D:"); /* nothing selected: nothing changes */
    expect_str(sddl_of(h, OGD), fmt("O:%sG:SYD:(A;;GA;;;%s)(A;;GA;;;SY)", me(), me()));
    LocalFree(sd);
    free(bad);
    HANDLE all[] = {h, weak, reader};
    for (int i = 0; i < 3; i++) ASSERT(CloseHandle(all[i]));
    return 0;
}

/* Mandatory labels (Wine's test_AddMandatoryAce): LABEL_SECURITY_INFORMATION reads and replaces
 * the labels of the SACL only, with WRITE_OWNER, and no privilege. */
TEST(security_labels)
{
    HANDLE h = create_with(&event, uniq("label"), "");
    expect_str(sddl_of(h, LABEL_SECURITY_INFORMATION), ""); /* no SACL at all */
    set_sd(h, LABEL_SECURITY_INFORMATION, "S:(ML;;NW;;;LW)");
    expect_str(sddl_of(h, LABEL_SECURITY_INFORMATION), "S:(ML;;NW;;;LW)");
    set_sd(h, LABEL_SECURITY_INFORMATION, "S:(ML;;NW;;;LW)(ML;;NX;;;ME)");
    expect_str(sddl_of(h, LABEL_SECURITY_INFORMATION), "S:(ML;;NW;;;LW)(ML;;NX;;;ME)");
    /* a descriptor without a SACL removes the labels: an empty SACL is left */
    set_sd(h, LABEL_SECURITY_INFORMATION, "D:");
    expect_str(sddl_of(h, LABEL_SECURITY_INFORMATION), "S:");
    /* only the labels of the new SACL are taken */
    set_sd(h, LABEL_SECURITY_INFORMATION, "S:(AU;SA;GA;;;WD)");
    expect_str(sddl_of(h, LABEL_SECURITY_INFORMATION), "S:");
    /* and the DACL is untouched by all of it */
    expect_str(sddl_of(h, OGD), default_sddl());
    /* an object created with a label keeps it */
    HANDLE l = create_with(&mutex, uniq("labelled"), "S:(ML;;NWNR;;;HI)");
    expect_str(sddl_of(l, LABEL_SECURITY_INFORMATION), "S:(ML;;NWNR;;;HI)");
    ASSERT(CloseHandle(h));
    ASSERT(CloseHandle(l));
    return 0;
}

/* GetSecurityInfo and SetSecurityInfo, over Get/SetKernelObjectSecurity: pointers into one
 * descriptor, a NULL pDacl as a NULL DACL, PROTECTED_DACL_SECURITY_INFORMATION; error codes are
 * returned, GetLastError() is left alone. */
TEST(security_get_set_security_info)
{
    const char *name = uniq("info");
    HANDLE h = create_with(&mutex, name, NULL);
    PSID owner = (PSID)1, group = (PSID)1;
    PACL dacl = (PACL)1, sacl = (PACL)1;
    PSECURITY_DESCRIPTOR sd = NULL;
    SetLastError(POISON);
    ASSERT_EQ_U(GetSecurityInfo(h, SE_KERNEL_OBJECT, OGD, &owner, &group, &dacl, &sacl, &sd), ERROR_SUCCESS);
    ASSERT_GLE(POISON);
    ASSERT_NOT_NULL(sd);
    SECURITY_DESCRIPTOR_RELATIVE hdr;
    memcpy(&hdr, sd, sizeof hdr);
    ASSERT_EQ((char *)owner - (char *)sd, hdr.Owner);
    ASSERT_EQ((char *)group - (char *)sd, hdr.Group);
    ASSERT_EQ((char *)dacl - (char *)sd, hdr.Dacl);
    ASSERT_NULL(sacl); /* not asked for */
    char *s;
    ASSERT(ConvertSidToStringSidA(owner, &s));
    expect_str(s, me());
    LocalFree(s);
    ASSERT_EQ(dacl->AceCount, 2);
    LocalFree(sd);

    /* a NULL DACL through a NULL pDacl, then a protected one through its flag */
    SetLastError(POISON);
    ASSERT_EQ_U(SetSecurityInfo(h, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, NULL, NULL), 0);
    ASSERT_GLE(POISON);
    expect_str(sddl_of(h, DACL_SECURITY_INFORMATION), "D:NO_ACCESS_CONTROL");
    PSECURITY_DESCRIPTOR everyone = sd_of("D:(A;;GA;;;WD)");
    PACL acl = (PACL)((char *)everyone + 20);
    ASSERT_EQ_U(SetSecurityInfo(h, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                                NULL, NULL, acl, NULL),
                0);
    expect_str(sddl_of(h, DACL_SECURITY_INFORMATION), "D:P(A;;GA;;;WD)");
    /* a label through pSacl */
    PSECURITY_DESCRIPTOR label = sd_of("S:(ML;;NW;;;LW)");
    ASSERT_EQ_U(SetSecurityInfo(h, SE_KERNEL_OBJECT, LABEL_SECURITY_INFORMATION, NULL, NULL, NULL,
                                (PACL)((char *)label + 20)),
                0);
    expect_str(sddl_of(h, LABEL_SECURITY_INFORMATION), "S:(ML;;NW;;;LW)");

    /* errors, returned with GetLastError() untouched, and nothing changed */
    SetLastError(POISON);
    ASSERT_EQ_U(GetSecurityInfo(h, SE_FILE_OBJECT, OGD, NULL, NULL, NULL, NULL, &sd), ERROR_INVALID_PARAMETER);
    ASSERT_EQ_U(GetSecurityInfo(h, SE_KERNEL_OBJECT, OGD, NULL, NULL, NULL, NULL, NULL), ERROR_INVALID_PARAMETER);
    ASSERT_EQ_U(GetSecurityInfo(h, SE_KERNEL_OBJECT, OGD, &owner, NULL, &dacl, NULL, NULL), ERROR_INVALID_PARAMETER);
    ASSERT_EQ_U(GetSecurityInfo(NULL, SE_KERNEL_OBJECT, OGD, NULL, NULL, NULL, NULL, &sd), ERROR_INVALID_HANDLE);
    ASSERT_EQ_U(SetSecurityInfo(h, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, acl, NULL),
                ERROR_INVALID_PARAMETER);
    ASSERT_EQ_U(SetSecurityInfo(h, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION, NULL, NULL, NULL, NULL),
                ERROR_INVALID_SECURITY_DESCR);
    PSID stranger;
    ASSERT(ConvertStringSidToSidA("S-1-22-1-4242", &stranger));
    ASSERT_EQ_U(SetSecurityInfo(h, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION, stranger, NULL, NULL, NULL),
                ERROR_INVALID_OWNER);
    unsigned char bad_acl[8] = {1, 0, 8, 0, 0, 0, 0, 0}; /* revision 1 */
    ASSERT_EQ_U(SetSecurityInfo(h, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, (PACL)bad_acl, NULL),
                ERROR_INVALID_ACL);
    ASSERT_EQ_U(SetSecurityInfo(NULL, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, acl, NULL),
                ERROR_INVALID_HANDLE);
    ASSERT_GLE(POISON);
    expect_str(sddl_of(h, OGD), fmt("O:%sG:%sD:P(A;;GA;;;WD)", me(), my_group()));
    /* the pointers alone, without the descriptor (which the caller can then not free, as on
     * Windows; here the test knows the owner is right after the 20-byte header) */
    owner = NULL;
    ASSERT_EQ_U(GetSecurityInfo(h, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION, &owner, NULL, NULL, NULL, NULL), 0);
    ASSERT(IsValidSid(owner));
    LocalFree((char *)owner - sizeof(SECURITY_DESCRIPTOR_RELATIVE));
    LocalFree(stranger);
    LocalFree(everyone);
    LocalFree(label);
    ASSERT(CloseHandle(h));
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * DuplicateHandle (SPEC §2 duplicate_handle, 93, 99)
 * ------------------------------------------------------------------------------------------- */

static HANDLE dup_at(int line, HANDLE h, DWORD access, DWORD options, DWORD error)
{
    HANDLE out = (HANDLE)(uintptr_t)0x1234;
    SetLastError(POISON);
    BOOL ok = DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &out, access, FALSE, options);
    CHECK_EQ_AT(line, "DuplicateHandle", ok, error == 0);
    CHECK_EQ_AT(line, "GetLastError() after DuplicateHandle", GetLastError(), error ? error : POISON);
    if (!ok) CHECK_EQ_AT(line, "the handle of a failed duplication", (uintptr_t)out, 0);
    return ok ? out : NULL;
}
#define dup_h(h, access, options, error) dup_at(__LINE__, (h), (access), (options), (error))

/* Less than (or as much as) the source has needs no check; more is checked against the
 * descriptor for the caller; rights the type cannot have are refused outright. */
TEST(security_duplicate_access)
{
    const char *name = uniq("dup");
    HANDLE h = create_with(&semaphore, name, fmt("D:(D;;0x2;;;%s)(A;;GA;;;%s)", me(), me()));
    /* The creator's handle has SEMAPHORE_MODIFY_STATE (no check on creation): it may give it on. */
    HANDLE d = dup_h(h, SEMAPHORE_MODIFY_STATE, 0, 0);
    ASSERT_EQ_U(access_of(d), SEMAPHORE_MODIFY_STATE);
    ASSERT(CloseHandle(d));
    HANDLE sync = open_ok(&semaphore, SYNCHRONIZE, name, SYNCHRONIZE);
    /* asking more than the source: the descriptor decides */
    d = dup_h(sync, SYNCHRONIZE | SEMAPHORE_QUERY_STATE, 0, 0);
    ASSERT_EQ_U(access_of(d), SYNCHRONIZE | SEMAPHORE_QUERY_STATE);
    ASSERT(CloseHandle(d));
    dup_h(sync, SEMAPHORE_MODIFY_STATE, 0, ERROR_ACCESS_DENIED);
    d = dup_h(sync, MAXIMUM_ALLOWED, 0, 0);
    ASSERT_EQ_U(access_of(d), SEMAPHORE_ALL_ACCESS & ~SEMAPHORE_MODIFY_STATE);
    ASSERT(CloseHandle(d));
    d = dup_h(sync, GENERIC_ALL, DUPLICATE_SAME_ACCESS, 0); /* the same access: no check */
    ASSERT_EQ_U(access_of(d), SYNCHRONIZE);
    ASSERT(CloseHandle(d));
    d = dup_h(sync, 0, 0, 0); /* none at all: allowed (SPEC 93) */
    ASSERT_EQ_U(access_of(d), 0);
    ASSERT(CloseHandle(d));
    dup_h(sync, ~0u, 0, ERROR_ACCESS_DENIED);                    /* SPEC 99 */
    dup_h(sync, SEMAPHORE_ALL_ACCESS | 0x4, 0, ERROR_ACCESS_DENIED); /* a right the type lacks */
    dup_h(sync, ACCESS_SYSTEM_SECURITY, 0, ERROR_PRIVILEGE_NOT_HELD);
    /* the default descriptor grants the creator everything: any duplicate may have it */
    HANDLE plain = create_with(&event, NULL, NULL);
    HANDLE weak = dup_h(plain, SYNCHRONIZE, 0, 0);
    d = dup_h(weak, EVENT_ALL_ACCESS, 0, 0);
    ASSERT_EQ_U(access_of(d), EVENT_ALL_ACCESS);
    HANDLE all[] = {h, sync, plain, weak, d};
    for (int i = 0; i < 5; i++) ASSERT(CloseHandle(all[i]));
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Process objects
 * ------------------------------------------------------------------------------------------- */

/* A process object has Windows' default descriptor of a process (its user's), checked at
 * OpenProcess; it can be read and changed like any other while a handle keeps the object. */
TEST(security_process_object)
{
    DWORD pid = GetCurrentProcessId();
    HANDLE p = OpenProcess(READ_CONTROL | WRITE_DAC | SYNCHRONIZE, FALSE, pid);
    ASSERT_NOT_NULL(p);
    ASSERT_EQ_U(access_of(p), READ_CONTROL | WRITE_DAC | SYNCHRONIZE);
    expect_str(sddl_of(p, OGD), default_sddl());
    set_sd(p, DACL_SECURITY_INFORMATION, fmt("D:(D;;0x40;;;%s)(A;;GA;;;%s)", me(), me()));
    SetLastError(POISON);
    ASSERT_NULL(OpenProcess(PROCESS_DUP_HANDLE, FALSE, pid));
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    HANDLE q = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    ASSERT_NOT_NULL(q);
    SetLastError(POISON);
    ASSERT_NULL(OpenProcess(0, FALSE, pid));
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    ASSERT(CloseHandle(q));
    ASSERT(CloseHandle(p));
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * The token is the kernel's: groups the process is in, not the user database's
 * ------------------------------------------------------------------------------------------- */

/* Changes its groups as told, then opens the semaphore argv[0] with SYNCHRONIZE and says the
 * outcome: "ok" or the error code. argv[1]: the primary gid; argv[2...]: supplementary gids. */
HELPER(security_open_as)
{
    gid_t groups[16];
    int n = 0;
    for (int i = 2; i < argc && n < 16; i++) groups[n++] = (gid_t)strtoul(argv[i], NULL, 10);
    if (setgroups((size_t)n, groups) != 0 || setgid((gid_t)strtoul(argv[1], NULL, 10)) != 0) {
        say("setgroups: %s", strerror(errno));
        return 1;
    }
    HANDLE h = OpenSemaphoreA(SYNCHRONIZE, FALSE, argv[0]);
    if (h) say("ok");
    else say("%u", GetLastError());
    return 0;
}

static void open_as_at(int line, const char *name, const char *expected, const char *gid, const char *extra)
{
    int fd;
    pid_t pid = spawn_helper("security_open_as", &fd, name, gid, extra, NULL);
    expect_line_at(__FILE__, line, fd, expected);
    CHECK_EQ_AT(line, "helper exit", wait_child(pid, 10000), 0);
    close(fd);
}
#define open_as(name, expected, gid, extra) open_as_at(__LINE__, (name), (expected), (gid), (extra))

TEST(security_token_groups_from_the_kernel)
{
    if (geteuid() != 0) {
        printf("skipped: changing groups needs root\n");
        return TEST_SKIP;
    }
    /* granted to one supplementary group only */
    const char *by_group = uniq("by-group");
    HANDLE g = create_with(&semaphore, by_group, "D:(A;;GA;;;S-1-22-2-4242)");
    open_fails(&semaphore, SYNCHRONIZE, by_group, ERROR_ACCESS_DENIED); /* we are not in it */
    open_as(by_group, "ok", "0", "4242");
    open_as(by_group, "5", "0", "4243");
    /* granted to a primary group */
    const char *by_primary = uniq("by-primary");
    HANDLE p = create_with(&semaphore, by_primary, "D:(A;;0x100000;;;S-1-22-2-4244)");
    open_as(by_primary, "ok", "4244", NULL);
    /* root's groups as the user database has them do not count once the process has left them */
    const char *root_group = uniq("root-group");
    HANDLE r = create_with(&semaphore, root_group, "D:(A;;GA;;;S-1-22-2-0)");
    CloseHandle(open_ok(&semaphore, SYNCHRONIZE, root_group, SYNCHRONIZE));
    open_as(root_group, "5", "4245", NULL);
    /* and a deny to a group is one to each member */
    const char *denied = uniq("denied");
    HANDLE d = create_with(&semaphore, denied, "D:(D;;GA;;;S-1-22-2-4246)(A;;GA;;;WD)");
    open_as(denied, "ok", "0", "4247");
    open_as(denied, "5", "0", "4246");
    HANDLE all[] = {g, p, r, d};
    for (int i = 0; i < 4; i++) ASSERT(CloseHandle(all[i]));
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * The protocol: raw frames
 * ------------------------------------------------------------------------------------------- */

/* A raw connection, greeted, that gives up a read after 5 s. */
static int raw_greeted(void)
{
    int fd = raw_connect();
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    raw_hello(fd, 1);
    return fd;
}

/* Sends a frame: the fixed part, then a tail. */
static void send_frame(int fd, void *req, uint32_t size, const void *tail, uint32_t tail_len)
{
    ((struct nsem_req_hdr *)req)->len = size + tail_len;
    ASSERT_EQ(send(fd, req, size, MSG_NOSIGNAL), (ssize_t)size);
    if (tail_len) ASSERT_EQ(send(fd, tail, tail_len, MSG_NOSIGNAL), (ssize_t)tail_len);
}

/* Reads one reply into buf; returns its error. */
static DWORD recv_reply(int fd, void *buf, size_t cap)
{
    struct nsem_rep_hdr h;
    ASSERT_EQ(recv(fd, &h, sizeof h, MSG_WAITALL), (ssize_t)sizeof h);
    ASSERT(h.len >= sizeof h && h.len <= cap);
    memcpy(buf, &h, sizeof h);
    if (h.len > sizeof h)
        ASSERT_EQ(recv(fd, (char *)buf + sizeof h, h.len - sizeof h, MSG_WAITALL), (ssize_t)(h.len - sizeof h));
    return h.error;
}

static bool closed_by_server(int fd)
{
    char b[256];
    ssize_t n;
    while ((n = recv(fd, b, sizeof b, 0)) > 0) {
    }
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

static DWORD raw_create(int fd, const char *name, const void *sd, uint32_t sd_len, uint32_t *handle)
{
    struct nsem_req_create c;
    memset(&c, 0, sizeof c);
    c.hdr.op = NSEM_OP_CREATE;
    c.type = NSEM_TYPE_SEMAPHORE;
    c.access = SEMAPHORE_ALL_ACCESS;
    c.max = 1;
    c.name_len = (uint32_t)strlen(name);
    c.sd_len = sd_len;
    char tail[512];
    memcpy(tail, name, c.name_len);
    memcpy(tail + c.name_len, sd, sd_len);
    send_frame(fd, &c, sizeof c, tail, c.name_len + sd_len);
    struct nsem_rep_handle rep;
    DWORD e = recv_reply(fd, &rep, sizeof rep);
    if (handle) *handle = e ? 0 : rep.handle;
    return e;
}

/* CREATE's descriptor and GET/SET_SECURITY in frames: a malformed descriptor gets its code and
 * the connection stays; a frame whose lengths disagree is closed; whoever the frame says nothing
 * of: the server knows who is asking from the kernel. */
TEST(security_raw_frames)
{
    int fd = raw_greeted();
    PSECURITY_DESCRIPTOR good = sd_of("D:(A;;GA;;;WD)");
    uint32_t len = GetSecurityDescriptorLength(good);
    unsigned char bytes[256];
    memcpy(bytes, good, len);
    const char *name = uniq("raw");
    /* the length is the frame's: a descriptor cut short is malformed (its DACL runs past it) */
    ASSERT_EQ_U(raw_create(fd, name, bytes, len - 4, NULL), ERROR_INVALID_ACL);
    ASSERT_EQ_U(raw_create(fd, name, bytes, 12, NULL), ERROR_INVALID_SECURITY_DESCR);
    bytes[0] = 9;
    ASSERT_EQ_U(raw_create(fd, name, bytes, len, NULL), ERROR_INVALID_SECURITY_DESCR);
    bytes[0] = 1;
    PSECURITY_DESCRIPTOR foreign = sd_of("O:S-1-22-1-4242");
    ASSERT_EQ_U(raw_create(fd, name, foreign, GetSecurityDescriptorLength(foreign), NULL), ERROR_INVALID_OWNER);
    open_fails(&semaphore, SYNCHRONIZE, name, ERROR_FILE_NOT_FOUND); /* none of them made it */
    /* bytes after the descriptor are allowed, as Windows' validator allows them */
    uint32_t handle;
    memset(bytes + len, 0xee, 8);
    ASSERT_EQ_U(raw_create(fd, name, bytes, len + 8, &handle), 0);
    ASSERT(handle != 0);
    const DWORD mine_access = SYNCHRONIZE | READ_CONTROL | SEMAPHORE_QUERY_STATE;
    HANDLE mine = open_ok(&semaphore, mine_access, name, mine_access);
    expect_str(sddl_of(mine, OGD), fmt("O:%sG:%sD:(A;;GA;;;WD)", me(), my_group()));

    /* GET_SECURITY: the reply carries the descriptor */
    struct nsem_req_get_security g = {{0, NSEM_OP_GET_SECURITY}, handle, DACL_SECURITY_INFORMATION};
    send_frame(fd, &g, sizeof g, NULL, 0);
    unsigned char reply[sizeof(struct nsem_rep_security) + 256];
    ASSERT_EQ_U(recv_reply(fd, reply, sizeof reply), 0);
    struct nsem_rep_security rs;
    memcpy(&rs, reply, sizeof rs);
    ASSERT_EQ_U(rs.hdr.len, sizeof rs + rs.sd_len);
    ASSERT_EQ_U(rs.sd_len, 20 + 28);
    char *s;
    ASSERT(ConvertSecurityDescriptorToStringSecurityDescriptorA(reply + sizeof rs, SDDL_REVISION_1,
                                                                DACL_SECURITY_INFORMATION, &s, NULL));
    expect_str(s, "D:(A;;GA;;;WD)");
    LocalFree(s);
    g.handle = 0x7ffc;
    send_frame(fd, &g, sizeof g, NULL, 0);
    ASSERT_EQ_U(recv_reply(fd, reply, sizeof reply), ERROR_INVALID_HANDLE);

    /* SET_SECURITY: errors, then a change the other handle's next open sees */
    PSECURITY_DESCRIPTOR deny = sd_of(fmt("D:(D;;0x100000;;;%s)(A;;GA;;;%s)", me(), me()));
    uint32_t deny_len = GetSecurityDescriptorLength(deny);
    struct nsem_req_set_security st = {{0, NSEM_OP_SET_SECURITY}, 0x7ffc, DACL_SECURITY_INFORMATION, deny_len, 0};
    send_frame(fd, &st, sizeof st, deny, deny_len);
    ASSERT_EQ_U(recv_reply(fd, reply, sizeof reply), ERROR_INVALID_HANDLE);
    st.handle = handle;
    st.sd_len = 10;
    send_frame(fd, &st, sizeof st, deny, 10);
    ASSERT_EQ_U(recv_reply(fd, reply, sizeof reply), ERROR_INVALID_SECURITY_DESCR);
    st.sd_len = deny_len;
    send_frame(fd, &st, sizeof st, deny, deny_len);
    ASSERT_EQ_U(recv_reply(fd, reply, sizeof reply), 0);
    open_fails(&semaphore, SYNCHRONIZE, name, ERROR_ACCESS_DENIED);
    ASSERT_EQ_U(access_of(mine), mine_access);
    close(fd); /* the object lives on by our handle */

    /* frames whose descriptor lengths are wrong close the connection */
    struct {
        const char *what;
        uint32_t op, sd_len, extra, pad;
    } bad[] = {
        {"CREATE sd_len over the maximum", NSEM_OP_CREATE, NSEM_SD_MAX_BYTES + 1, 0, 0},
        {"CREATE sd_len past the frame", NSEM_OP_CREATE, 64, 0, 0},
        {"CREATE sd_len short of the frame", NSEM_OP_CREATE, 4, 8, 0},
        {"SET_SECURITY sd_len over the maximum", NSEM_OP_SET_SECURITY, 0xFFFFFFFFu, 0, 0},
        {"SET_SECURITY sd_len past the frame", NSEM_OP_SET_SECURITY, 64, 0, 0},
        {"SET_SECURITY pad", NSEM_OP_SET_SECURITY, 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fd = raw_greeted();
        unsigned char frame[128] = {0};
        uint32_t size;
        if (bad[i].op == NSEM_OP_CREATE) {
            struct nsem_req_create c = {.hdr = {0, NSEM_OP_CREATE}, .type = NSEM_TYPE_SEMAPHORE, .max = 1,
                                        .sd_len = bad[i].sd_len};
            size = sizeof c;
            memcpy(frame, &c, size);
        } else {
            struct nsem_req_set_security c = {{0, NSEM_OP_SET_SECURITY}, 4, DACL_SECURITY_INFORMATION, bad[i].sd_len,
                                              bad[i].pad};
            size = sizeof c;
            memcpy(frame, &c, size);
        }
        send_frame(fd, frame, size, bytes, bad[i].extra + (bad[i].sd_len <= 8 ? bad[i].sd_len : 0));
        if (!closed_by_server(fd)) {
            fprintf(stderr, "case \"%s\": connection not closed\n", bad[i].what);
            ASSERT(0);
        }
        close(fd);
    }
    check_handles(mine, 1); /* the server carries on */
    ASSERT(CloseHandle(mine));
    LocalFree(good);
    LocalFree(foreign);
    LocalFree(deny);
    return 0;
}

/*
 * test-sddl.c — SIDs, self-relative security descriptors and SDDL (nsem.h "Security";
 * docs/security.md): ConvertStringSidToSid/ConvertSidToStringSid, IsValidSid, GetLengthSid,
 * EqualSid, ConvertStringSecurityDescriptorToSecurityDescriptor and back, IsValidSecurityDescriptor,
 * GetSecurityDescriptorLength, LocalFree, and the binary validator (src/common/secdesc.c) against
 * corrupted descriptors.
 *
 * Windows' facts come from Wine's advapi32 tests (dlls/advapi32/tests/security.c:
 * test_ConvertStringSidToSid, test_ConvertStringSecurityDescriptor,
 * test_ConvertSecurityDescriptorToString), which pass on Windows, and from Windows' validators
 * (RtlValidRelativeSecurityDescriptor, RtlValidAcl). No server is needed: nothing here opens an
 * object.
 */
#include "harness.h"

#include <stdarg.h>
#include <string.h>
#include <wchar.h>

#include "common/lebytes.h"
#include "common/secdesc.h"
#include "common/sid.h"

#define POISON_PTR ((void *)(uintptr_t)0xdeadbeef)

/* ---------------------------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------------------------- */

static void failf(const char *file, int line, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), noreturn));
static void failf(const char *file, int line, const char *what, const char *fmt, ...)
{
    char d[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, sizeof d, fmt, ap);
    va_end(ap);
    harness_fail(file, line, what, d);
}

/* s converts (SDDL_REVISION_1) to a descriptor; returns it (LocalFree it) and its size. */
static PSECURITY_DESCRIPTOR from_sddl_at(const char *file, int line, const char *s, ULONG *size)
{
    PSECURITY_DESCRIPTOR sd = POISON_PTR;
    ULONG n = POISON;
    SetLastError(POISON);
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(s, SDDL_REVISION_1, &sd, &n))
        failf(file, line, "from_sddl", "\"%s\" failed with %u", s, (unsigned)GetLastError());
    if (GetLastError() != POISON) failf(file, line, "from_sddl", "\"%s\": success changed the last error", s);
    if (!IsValidSecurityDescriptor(sd)) failf(file, line, "from_sddl", "\"%s\" gave an invalid descriptor", s);
    if (n != GetSecurityDescriptorLength(sd))
        failf(file, line, "from_sddl", "\"%s\": size %u but GetSecurityDescriptorLength %u", s, (unsigned)n,
              (unsigned)GetSecurityDescriptorLength(sd));
    if (size) *size = n;
    return sd;
}
#define from_sddl(s, size) from_sddl_at(__FILE__, __LINE__, (s), (size))

/* The SDDL of the parts of sd that info selects; the caller LocalFrees it. */
static char *to_sddl_at(const char *file, int line, PSECURITY_DESCRIPTOR sd, SECURITY_INFORMATION info)
{
    char *s = POISON_PTR;
    ULONG len = POISON;
    SetLastError(POISON);
    if (!ConvertSecurityDescriptorToStringSecurityDescriptorA(sd, SDDL_REVISION_1, info, &s, &len))
        failf(file, line, "to_sddl", "failed with %u", (unsigned)GetLastError());
    if (len != strlen(s) + 1) failf(file, line, "to_sddl", "\"%s\": length %u", s, (unsigned)len);
    return s;
}
#define to_sddl(sd, info) to_sddl_at(__FILE__, __LINE__, (sd), (info))

#define ALL_INFO (OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION | \
                  SACL_SECURITY_INFORMATION)

/* s converts to a descriptor that converts back to exactly `want` (Windows' canonical form), and
 * `want` converts to the same bytes. */
static void check_round_trip_at(const char *file, int line, const char *s, const char *want)
{
    ULONG size1, size2;
    PSECURITY_DESCRIPTOR sd = from_sddl_at(file, line, s, &size1);
    char *got = to_sddl_at(file, line, sd, ALL_INFO);
    if (strcmp(got, want) != 0)
        failf(file, line, "round trip", "\"%s\" came back as \"%s\", expected \"%s\"", s, got, want);
    PSECURITY_DESCRIPTOR sd2 = from_sddl_at(file, line, want, &size2);
    if (size1 != size2 || memcmp(sd, sd2, size1) != 0)
        failf(file, line, "round trip", "\"%s\" and \"%s\" give different descriptors", s, want);
    LocalFree(got);
    LocalFree(sd);
    LocalFree(sd2);
}
#define check_round_trip(s, want) check_round_trip_at(__FILE__, __LINE__, (s), (want))

/* s fails to convert with exactly `error`, and leaves the outputs alone. */
static void check_sddl_error_at(const char *file, int line, const char *s, DWORD error)
{
    PSECURITY_DESCRIPTOR sd = POISON_PTR;
    ULONG size = POISON;
    SetLastError(POISON);
    BOOL ok = ConvertStringSecurityDescriptorToSecurityDescriptorA(s, SDDL_REVISION_1, &sd, &size);
    DWORD err = GetLastError();
    if (ok) failf(file, line, "sddl error", "\"%s\" converted; expected error %u", s, (unsigned)error);
    if (err != error)
        failf(file, line, "sddl error", "\"%s\" failed with %u, expected %u", s, (unsigned)err, (unsigned)error);
    if (sd != POISON_PTR || size != POISON) failf(file, line, "sddl error", "\"%s\": outputs written on failure", s);
}
#define check_sddl_error(s, error) check_sddl_error_at(__FILE__, __LINE__, (s), (error))

/* ConvertStringSidToSidA(s) gives a SID whose string is `want`. */
static void check_sid_string_at(const char *file, int line, const char *s, const char *want)
{
    PSID sid = POISON_PTR;
    char *got = POISON_PTR;
    SetLastError(POISON);
    if (!ConvertStringSidToSidA(s, &sid))
        failf(file, line, "sid string", "\"%s\" failed with %u", s, (unsigned)GetLastError());
    if (!IsValidSid(sid)) failf(file, line, "sid string", "\"%s\" gave an invalid SID", s);
    if (!ConvertSidToStringSidA(sid, &got)) failf(file, line, "sid string", "\"%s\": back to string failed", s);
    if (strcmp(got, want) != 0) failf(file, line, "sid string", "\"%s\" gave \"%s\", expected \"%s\"", s, got, want);
    if (GetLastError() != POISON) failf(file, line, "sid string", "\"%s\": success changed the last error", s);
    LocalFree(got);
    LocalFree(sid);
}
#define check_sid_string(s, want) check_sid_string_at(__FILE__, __LINE__, (s), (want))

static void check_sid_error_at(const char *file, int line, const char *s, DWORD error)
{
    PSID sid = POISON_PTR;
    SetLastError(POISON);
    BOOL ok = ConvertStringSidToSidA(s, &sid);
    DWORD err = GetLastError();
    if (ok || err != error || sid != POISON_PTR)
        failf(file, line, "sid error", "\"%s\": got %d, error %u, sid %s; expected FALSE, %u", s, ok, (unsigned)err,
              sid == POISON_PTR ? "untouched" : "written", (unsigned)error);
}
#define check_sid_error(s, error) check_sid_error_at(__FILE__, __LINE__, (s), (error))

/* A binary SID (revision 1) with the given authority bytes and sub-authorities. */
static size_t make_sid(unsigned char *out, const unsigned char auth[6], unsigned count, const uint32_t *subs)
{
    out[0] = 1;
    out[1] = (unsigned char)count;
    memcpy(out + 2, auth, 6);
    for (unsigned i = 0; i < count; i++) nsem__wr32(out + 8 + 4 * i, subs[i]);
    return 8 + 4u * count;
}

/* ---------------------------------------------------------------------------------------------
 * SIDs: ConvertStringSidToSid, ConvertSidToStringSid (Wine test_ConvertStringSidToSid)
 * ------------------------------------------------------------------------------------------- */

TEST(sddl_sid_null_arguments)
{
    PSID sid = POISON_PTR;
    char *s = POISON_PTR;
    SetLastError(POISON);
    ASSERT_EQ(ConvertStringSidToSidA(NULL, NULL), FALSE);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_EQ(ConvertStringSidToSidA("S-1-860116326-1", NULL), FALSE);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_EQ(ConvertStringSidToSidA(NULL, &sid), FALSE);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    ASSERT(sid == POISON_PTR);
    SetLastError(POISON);
    ASSERT_EQ(ConvertStringSidToSidW(NULL, &sid), FALSE);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_EQ(ConvertSidToStringSidA(NULL, &s), FALSE);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    ASSERT(s == POISON_PTR);

    ASSERT_EQ(ConvertStringSidToSidA("S-1-1-0", &sid), TRUE);
    SetLastError(POISON);
    ASSERT_EQ(ConvertSidToStringSidA(sid, NULL), FALSE);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_EQ(ConvertSidToStringSidW(sid, NULL), FALSE);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    LocalFree(sid);
    return 0;
}

/* Wine: "S-1-5" fails (no sub-authority), "WDandmorecharacters" and "WD)" fail, ERROR_INVALID_SID. */
TEST(sddl_sid_malformed)
{
    static const char *const bad[] = {
        "S-1-5", "WDandmorecharacters", "WD)", "", "S", "S-", "S-1", "S-1-", "S-1-5-", "S-2-5-1", "S-0-5-1",
        "S-1-5--1", "S-1-5-x", "S-1-5-4294967296", "S-1-281474976710656-1", "S-1-0x1000000000000-1",
        "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", "S-1-5-1 ", " S-1-5-1", "S-1-5-1-", "S-1-0x-1",
        "S-1-5-0x", "X-1-5-1", "S+1-5-1", "W", "WDX", "??", "S-",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) check_sid_error(bad[i], ERROR_INVALID_SID);
    return 0;
}

TEST(sddl_sid_sub_authorities)
{
    PSID sid = NULL;
    ASSERT_EQ(ConvertStringSidToSidA("S-1-5-21-93476-23408-4576", &sid), TRUE);
    unsigned char b[SECURITY_MAX_SID_SIZE];
    memcpy(b, sid, GetLengthSid(sid));
    ASSERT_EQ(b[0], 1);
    ASSERT_EQ(b[1], 4);
    ASSERT_EQ_U(nsem__rd32(b + 8), 21);
    ASSERT_EQ_U(nsem__rd32(b + 20), 4576);
    ASSERT_EQ_U(GetLengthSid(sid), 24);
    LocalFree(sid);

    /* 15 sub-authorities, the most a SID has, each up to 2^32 - 1. */
    check_sid_string("S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-4294967295",
                     "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-4294967295");
    return 0;
}

/* Wine's table of authorities: the 6 big-endian bytes to the decimal string and back. */
TEST(sddl_sid_authorities)
{
    static const struct {
        unsigned char auth[6];
        const char *str;
    } refs[] = {
        {{0x00, 0x00, 0x33, 0x44, 0x55, 0x66}, "S-1-860116326-1"},
        {{0x00, 0x00, 0x01, 0x02, 0x03, 0x04}, "S-1-16909060-1"},
        {{0x00, 0x00, 0x00, 0x01, 0x02, 0x03}, "S-1-66051-1"},
        {{0x00, 0x00, 0x00, 0x00, 0x01, 0x02}, "S-1-258-1"},
        {{0x00, 0x00, 0x00, 0x00, 0x00, 0x02}, "S-1-2-1"},
        {{0x00, 0x00, 0x00, 0x00, 0x00, 0x0c}, "S-1-12-1"},
        /* From 2^32 on, "0x" and 12 lowercase hex digits (MS-DTYP 2.4.2.1, RtlConvertSidToUnicodeString). */
        {{0x00, 0x01, 0x00, 0x00, 0x00, 0x00}, "S-1-0x000100000000-1"},
        {{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc}, "S-1-0x123456789abc-1"},
        {{0x00, 0x00, 0xff, 0xff, 0xff, 0xff}, "S-1-4294967295-1"},
    };
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        unsigned char b[SECURITY_MAX_SID_SIZE];
        uint32_t one = 1;
        make_sid(b, refs[i].auth, 1, &one);
        char *s = NULL;
        SetLastError(POISON);
        ASSERT_EQ(ConvertSidToStringSidA(b, &s), TRUE);
        ASSERT_GLE(POISON);
        if (strcmp(s, refs[i].str) != 0) failf(__FILE__, __LINE__, "authority", "got %s, expected %s", s, refs[i].str);
        LocalFree(s);

        PSID sid = NULL;
        ASSERT_EQ(ConvertStringSidToSidA(refs[i].str, &sid), TRUE);
        ASSERT_EQ(memcmp(sid, b, 12), 0);
        LocalFree(sid);
    }
    /* A large authority may also be read in decimal, or in hex in either case. */
    check_sid_string("S-1-20015998343868-1", "S-1-0x123456789abc-1");
    check_sid_string("S-1-0X123456789ABC-1", "S-1-0x123456789abc-1");
    return 0;
}

/* Wine's str_to_sid_tests: the aliases (any case) and the "s-" and hex forms; Windows always
 * writes the numeric form. */
TEST(sddl_sid_aliases)
{
    static const struct {
        const char *in, *out;
    } t[] = {
        {"WD", "S-1-1-0"},       {"wD", "S-1-1-0"},       {"CO", "S-1-3-0"},       {"CG", "S-1-3-1"},
        {"OW", "S-1-3-4"},       {"NU", "S-1-5-2"},       {"IU", "S-1-5-4"},       {"SU", "S-1-5-6"},
        {"AN", "S-1-5-7"},       {"ED", "S-1-5-9"},       {"PS", "S-1-5-10"},      {"AU", "S-1-5-11"},
        {"RC", "S-1-5-12"},      {"SY", "S-1-5-18"},      {"LS", "S-1-5-19"},      {"NS", "S-1-5-20"},
        {"BO", "S-1-5-32-551"},  {"BA", "S-1-5-32-544"},  {"BU", "S-1-5-32-545"},  {"BG", "S-1-5-32-546"},
        {"PU", "S-1-5-32-547"},  {"AO", "S-1-5-32-548"},  {"SO", "S-1-5-32-549"},  {"PO", "S-1-5-32-550"},
        {"RE", "S-1-5-32-552"},  {"RU", "S-1-5-32-554"},  {"RD", "S-1-5-32-555"},  {"NO", "S-1-5-32-556"},
        {"AC", "S-1-15-2-1"},    {"LW", "S-1-16-4096"},   {"ME", "S-1-16-8192"},   {"HI", "S-1-16-12288"},
        {"SI", "S-1-16-16384"},  {"sy", "S-1-5-18"},      {"Ba", "S-1-5-32-544"},
        {"s-1-12-1", "S-1-12-1"}, {"S-0x1-0XC-0x1a", "S-1-12-26"}, {"S-1-5-032", "S-1-5-32"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) check_sid_string(t[i].in, t[i].out);
    return 0;
}

/* Aliases Windows resolves against a domain or the machine: nsem has none (docs/security.md). */
TEST(sddl_sid_domain_aliases)
{
    static const char *const domain[] = {"LA", "LG", "DA", "DU", "DG", "DC", "DD", "CA", "SA", "EA", "PA", "RS", "la"};
    for (size_t i = 0; i < sizeof domain / sizeof domain[0]; i++) check_sid_error(domain[i], ERROR_NONE_MAPPED);
    return 0;
}

TEST(sddl_sid_wide)
{
    PSID sid = NULL;
    wchar_t *w = NULL;
    SetLastError(POISON);
    ASSERT_EQ(ConvertStringSidToSidW(L"S-1-22-1-1000", &sid), TRUE);
    ASSERT_EQ(ConvertSidToStringSidW(sid, &w), TRUE);
    ASSERT(wcscmp(w, L"S-1-22-1-1000") == 0);
    ASSERT_GLE(POISON);
    LocalFree(w);
    LocalFree(sid);

    ASSERT_EQ(ConvertStringSidToSidW(L"bA", &sid), TRUE);
    ASSERT_EQ(ConvertSidToStringSidW(sid, &w), TRUE);
    ASSERT(wcscmp(w, L"S-1-5-32-544") == 0);
    LocalFree(w);
    LocalFree(sid);

    /* A character outside ASCII is wrong wherever it stands. */
    sid = POISON_PTR;
    SetLastError(POISON);
    ASSERT_EQ(ConvertStringSidToSidW(L"S-1-5-\u00e9", &sid), FALSE);
    ASSERT_GLE(ERROR_INVALID_SID);
    SetLastError(POISON);
    ASSERT_EQ(ConvertStringSidToSidW(L"W\u0144", &sid), FALSE);
    ASSERT_GLE(ERROR_INVALID_SID);
    /* WCHAR is wchar_t: a character past 16 bits is one character, still not ASCII. */
    SetLastError(POISON);
    ASSERT_EQ(ConvertStringSidToSidW(L"S-1-5-1\U0001F600", &sid), FALSE);
    ASSERT_GLE(ERROR_INVALID_SID);
    ASSERT(sid == POISON_PTR);
    return 0;
}

TEST(sddl_sid_validity)
{
    unsigned char b[SECURITY_MAX_SID_SIZE + 8];
    static const unsigned char nt[6] = {0, 0, 0, 0, 0, 5};
    uint32_t subs[16] = {32, 544};
    make_sid(b, nt, 2, subs);
    SetLastError(POISON);
    ASSERT_EQ(IsValidSid(b), TRUE);
    ASSERT_EQ_U(GetLengthSid(b), 16);
    /* No sub-authority is a valid binary SID (NT Authority, S-1-5), though not a valid string. */
    make_sid(b, nt, 0, subs);
    ASSERT_EQ(IsValidSid(b), TRUE);
    ASSERT_EQ_U(GetLengthSid(b), 8);
    char *s = NULL;
    ASSERT_EQ(ConvertSidToStringSidA(b, &s), TRUE);
    ASSERT(strcmp(s, "S-1-5") == 0);
    LocalFree(s);
    make_sid(b, nt, 15, subs);
    ASSERT_EQ(IsValidSid(b), TRUE);
    ASSERT_EQ_U(GetLengthSid(b), 68);
    ASSERT_GLE(POISON); /* none of them touches the last error */

    b[1] = 16;
    ASSERT_EQ(IsValidSid(b), FALSE);
    ASSERT_EQ_U(GetLengthSid(b), 0);
    b[1] = 2;
    b[0] = 2;
    ASSERT_EQ(IsValidSid(b), FALSE);
    ASSERT_EQ(IsValidSid(NULL), FALSE);
    ASSERT_GLE(POISON);

    s = POISON_PTR;
    ASSERT_EQ(ConvertSidToStringSidA(b, &s), FALSE);
    ASSERT_GLE(ERROR_INVALID_SID);
    ASSERT(s == POISON_PTR);
    return 0;
}

/* Windows' EqualSid sets the last error to 0 whatever the answer (Wine's kernelbase does as well). */
TEST(sddl_sid_equal)
{
    PSID a = NULL, b = NULL, c = NULL;
    ASSERT_EQ(ConvertStringSidToSidA("S-1-5-32-544", &a), TRUE);
    ASSERT_EQ(ConvertStringSidToSidA("BA", &b), TRUE);
    ASSERT_EQ(ConvertStringSidToSidA("S-1-5-32-545", &c), TRUE);
    SetLastError(POISON);
    ASSERT_EQ(EqualSid(a, b), TRUE);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    ASSERT_EQ(EqualSid(a, c), FALSE);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    ASSERT_EQ(EqualSid(a, NULL), FALSE);
    ASSERT_GLE(ERROR_INVALID_SID);
    unsigned char bad[12] = {2, 1, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0};
    SetLastError(POISON);
    ASSERT_EQ(EqualSid(bad, a), FALSE);
    ASSERT_GLE(ERROR_INVALID_SID);
    LocalFree(a);
    LocalFree(b);
    LocalFree(c);
    return 0;
}

/* Samba's mapping of Unix users and groups (docs/security.md). */
TEST(sddl_sid_unix_mapping)
{
    struct nsem_sid s;
    char buf[NSEM_SID_STRING_MAX];
    uint32_t id = 7;
    nsem__sid_from_uid(&s, 1000);
    nsem__sid_format(s.b, buf);
    ASSERT(strcmp(buf, "S-1-22-1-1000") == 0);
    ASSERT(nsem__sid_to_uid(s.b, &id));
    ASSERT_EQ_U(id, 1000);
    ASSERT(!nsem__sid_to_gid(s.b, &id));
    nsem__sid_from_gid(&s, 4294967294u);
    nsem__sid_format(s.b, buf);
    ASSERT(strcmp(buf, "S-1-22-2-4294967294") == 0);
    ASSERT(nsem__sid_to_gid(s.b, &id));
    ASSERT_EQ_U(id, 4294967294u);
    ASSERT(!nsem__sid_to_uid(s.b, &id));
    ASSERT_NULL(nsem__sid_alias(s.b));
    /* A SID of another authority, or with another shape, is neither. */
    ASSERT_EQ(nsem__sid_parse("S-1-22-1-5-6", 12, &s), 0);
    ASSERT(!nsem__sid_to_uid(s.b, &id));
    ASSERT_EQ(nsem__sid_parse("S-1-5-1-1000", 12, &s), 0);
    ASSERT(!nsem__sid_to_uid(s.b, &id));
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * SDDL to descriptor (Wine test_ConvertStringSecurityDescriptor)
 * ------------------------------------------------------------------------------------------- */

/* The ACE mask of a descriptor whose first part is a DACL with one ACE (Wine's check). */
static DWORD first_ace_mask(PSECURITY_DESCRIPTOR sd)
{
    const unsigned char *p = sd;
    const unsigned char *acl = p + sizeof(SECURITY_DESCRIPTOR_RELATIVE);
    ASSERT_EQ(acl[0], ACL_REVISION);
    return nsem__rd32(acl + sizeof(ACL) + sizeof(ACE_HEADER));
}

TEST(sddl_wine_table)
{
    static const struct {
        const char *s;
        DWORD mask; /* 0: not checked */
    } ok[] = {
        {"D:(A;;GA;;;WD)", GENERIC_ALL},
        {"D:(D;;GA;;;WD)", GENERIC_ALL},
        {" D:(D;;GA;;;WD)", 0},
        {"D: (D;;GA;;;WD)", 0},
        {"D:( D;;GA;;;WD)", 0},
        {"D:(D; ;GA;;;WD)", 0},
        {"D:(D;; GA;;;WD)", 0},
        {"D:(D;;GA; ;;WD)", 0},
        {"D:(D;;GA;; ;WD)", 0},
        {"D:(D;;GA;;; WD)", 0},
        {"D:(D;;GA;;;WD )", 0},
        {"D:(A;;1;;;WD)", 1},
        {"D:(A;;020000000000;;;WD)", GENERIC_READ},
        {"D:(A;;0X40000000;;;WD)", GENERIC_WRITE},
        {"D:(A;;GRGWGX;;;WD)", GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE},
        {"D:(A;;RCSDWDWO;;;WD)", READ_CONTROL | DELETE | WRITE_DAC | WRITE_OWNER},
        {"D:(A;;RPWPCCDCLCSWLODTCR;;;WD)", 0x1FF},
        {"D:(A;;FAFRFWFX;;;WD)", 0x1F01FF},
        {"D:(A;;KAKRKWKX;;;WD)", 0xF003F},
        {"D:(A;;0xFFFFFFFF;;;WD)", 0xFFFFFFFF},
        {"S:(AU;;0xFFFFFFFF;;;WD)", 0},
        {"S:(AU;;0xDeAdBeEf;;;WD)", 0},
        {"S:(AU;;GR0xFFFFFFFF;;;WD)", 0},
        {"S:(AU;;0xFFFFFFFFGR;;;WD)", 0},
        {"S:(AU;;0xFFFFFGR;;;WD)", 0},
        {"", 0},
        {"D:(D;;GA;;;S-1-0-0)", 0},
        {"D:P(A;;GRGW;;;BA)(A;;GRGW;;;S-1-5-21-0-0-0-1000)S:(ML;;NWNR;;;S-1-16-12288)", 0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        PSECURITY_DESCRIPTOR sd = from_sddl(ok[i].s, NULL);
        if (ok[i].mask && first_ace_mask(sd) != ok[i].mask)
            failf(__FILE__, __LINE__, "mask", "\"%s\": mask 0x%x, expected 0x%x", ok[i].s, (unsigned)first_ace_mask(sd),
                  (unsigned)ok[i].mask);
        LocalFree(sd);
    }
    /* The mixed forms combine: "0xFFFFFGR" is 0xFFFFF | GENERIC_READ. */
    PSECURITY_DESCRIPTOR sd = from_sddl("D:(A;;0xFFFFFGR;;;WD)", NULL);
    ASSERT_EQ_U(first_ace_mask(sd), 0x800FFFFFu);
    LocalFree(sd);

    check_sddl_error("ERROR:(D;;GA;;;WD)", ERROR_INVALID_PARAMETER);
    check_sddl_error("D:(D ;;GA;;;WD)", ERROR_INVALID_ACL); /* Vista+; XP gave RPC_S_INVALID_STRING_UUID */
    check_sddl_error("D:(D;;GA ;;;WD)", ERROR_INVALID_ACL);
    check_sddl_error("D:(A;;ROB;;;WD)", ERROR_INVALID_ACL);
    check_sddl_error("D:(D;;GA;;;WDANDSUCH)", ERROR_INVALID_ACL);
    check_sddl_error("D:(D;;GA;;;Nonexistent account)", ERROR_INVALID_ACL);
    return 0;
}

/* Wine: NULL string or output ERROR_INVALID_PARAMETER, checked before the revision; then the
 * revision (ERROR_UNKNOWN_REVISION); "" and L"" are an empty descriptor. */
TEST(sddl_arguments)
{
    PSECURITY_DESCRIPTOR sd = POISON_PTR;
    ULONG size = POISON;
    SetLastError(POISON);
    ASSERT_EQ(ConvertStringSecurityDescriptorToSecurityDescriptorA(NULL, 0xdeadbeef, &sd, NULL), FALSE);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_EQ(ConvertStringSecurityDescriptorToSecurityDescriptorW(NULL, 0xdeadbeef, &sd, NULL), FALSE);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_EQ(ConvertStringSecurityDescriptorToSecurityDescriptorA("D:(A;;ROB;;;WD)", 0xdeadbeef, NULL, NULL), FALSE);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_EQ(ConvertStringSecurityDescriptorToSecurityDescriptorA("D:(A;;ROB;;;WD)", SDDL_REVISION_1, NULL, NULL),
              FALSE);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_EQ(ConvertStringSecurityDescriptorToSecurityDescriptorA("D:(A;;GA;;;WD)", 0xdeadbeef, &sd, &size), FALSE);
    ASSERT_GLE(ERROR_UNKNOWN_REVISION);
    SetLastError(POISON);
    ASSERT_EQ(ConvertStringSecurityDescriptorToSecurityDescriptorA("D:(A;;GA;;;WD)", 2, &sd, &size), FALSE);
    ASSERT_GLE(ERROR_UNKNOWN_REVISION);
    ASSERT(sd == POISON_PTR);
    ASSERT_EQ_U(size, POISON);

    /* The empty string: a header and nothing else (control SE_SELF_RELATIVE alone). */
    SetLastError(POISON);
    ASSERT_EQ(ConvertStringSecurityDescriptorToSecurityDescriptorW(L"", SDDL_REVISION_1, &sd, &size), TRUE);
    ASSERT_GLE(POISON);
    ASSERT_EQ_U(size, sizeof(SECURITY_DESCRIPTOR_RELATIVE));
    SECURITY_DESCRIPTOR_RELATIVE h;
    memcpy(&h, sd, sizeof h);
    ASSERT_EQ(h.Revision, SECURITY_DESCRIPTOR_REVISION);
    ASSERT_EQ_U(h.Control, SE_SELF_RELATIVE);
    ASSERT_EQ_U(h.Owner | h.Group | h.Sacl | h.Dacl, 0);
    LocalFree(sd);
    return 0;
}

/* Wine: "D:" and "S:" are an empty ACL right after the header: 20 + 8 bytes. */
TEST(sddl_empty_acls)
{
    static const char *const strings[] = {"D:", "S:"};
    for (int i = 0; i < 2; i++) {
        ULONG size = 0;
        PSECURITY_DESCRIPTOR sd = from_sddl(strings[i], &size);
        ASSERT_EQ_U(size, sizeof(SECURITY_DESCRIPTOR_RELATIVE) + sizeof(ACL));
        ACL acl;
        memcpy(&acl, (unsigned char *)sd + sizeof(SECURITY_DESCRIPTOR_RELATIVE), sizeof acl);
        ASSERT_EQ(acl.AclRevision, ACL_REVISION);
        ASSERT_EQ(acl.Sbz1, 0);
        ASSERT_EQ(acl.AclSize, sizeof(ACL));
        ASSERT_EQ(acl.AceCount, 0);
        ASSERT_EQ(acl.Sbz2, 0);
        SECURITY_DESCRIPTOR_RELATIVE h;
        memcpy(&h, sd, sizeof h);
        ASSERT_EQ_U(h.Control, SE_SELF_RELATIVE | (i == 0 ? SE_DACL_PRESENT : SE_SACL_PRESENT));
        ASSERT_EQ_U(i == 0 ? h.Dacl : h.Sacl, sizeof(SECURITY_DESCRIPTOR_RELATIVE));
        LocalFree(sd);
    }
    return 0;
}

/* Wine test_PrivateObjectSecurity: control 0x8014 for O, G, D and S; and the layout nsem (and
 * Windows' self-relative form) uses: SACL, DACL, owner, group. */
TEST(sddl_layout)
{
    ULONG size = 0;
    PSECURITY_DESCRIPTOR sd = from_sddl("O:SYG:BAD:(A;;GA;;;WD)S:(AU;SA;GA;;;WD)", &size);
    SECURITY_DESCRIPTOR_RELATIVE h;
    memcpy(&h, sd, sizeof h);
    ASSERT_EQ_U(h.Control, 0x8014);
    ASSERT_EQ_U(h.Sacl, 20);  /* 8 + one 20-byte ACE */
    ASSERT_EQ_U(h.Dacl, 48);
    ASSERT_EQ_U(h.Owner, 76); /* S-1-5-18: 12 bytes */
    ASSERT_EQ_U(h.Group, 88); /* S-1-5-32-544: 16 bytes */
    ASSERT_EQ_U(size, 104);
    ASSERT_EQ_U(GetSecurityDescriptorLength(sd), 104);
    ACCESS_ALLOWED_ACE ace;
    memcpy(&ace, (unsigned char *)sd + h.Dacl + sizeof(ACL), sizeof ace);
    ASSERT_EQ(ace.Header.AceType, ACCESS_ALLOWED_ACE_TYPE);
    ASSERT_EQ(ace.Header.AceFlags, 0);
    ASSERT_EQ(ace.Header.AceSize, 20);
    ASSERT_EQ_U(ace.Mask, GENERIC_ALL);
    memcpy(&ace, (unsigned char *)sd + h.Sacl + sizeof(ACL), sizeof ace);
    ASSERT_EQ(ace.Header.AceType, SYSTEM_AUDIT_ACE_TYPE);
    ASSERT_EQ(ace.Header.AceFlags, SUCCESSFUL_ACCESS_ACE_FLAG);
    LocalFree(sd);

    /* "D:P" is SE_DACL_PROTECTED, "S:P" SE_SACL_PROTECTED; AR and AI likewise. */
    sd = from_sddl("D:PARAIS:PARAI", NULL);
    memcpy(&h, sd, sizeof h);
    ASSERT_EQ_U(h.Control, SE_SELF_RELATIVE | SE_DACL_PRESENT | SE_SACL_PRESENT | SE_DACL_PROTECTED |
                               SE_SACL_PROTECTED | SE_DACL_AUTO_INHERIT_REQ | SE_SACL_AUTO_INHERIT_REQ |
                               SE_DACL_AUTO_INHERITED | SE_SACL_AUTO_INHERITED);
    LocalFree(sd);

    /* NO_ACCESS_CONTROL: present, but a NULL ACL (offset 0). */
    sd = from_sddl("D:NO_ACCESS_CONTROL", &size);
    memcpy(&h, sd, sizeof h);
    ASSERT_EQ_U(h.Control, SE_SELF_RELATIVE | SE_DACL_PRESENT);
    ASSERT_EQ_U(h.Dacl, 0);
    ASSERT_EQ_U(size, 20);
    LocalFree(sd);
    return 0;
}

/* What Windows writes back: the expected strings of Wine's test_ConvertSecurityDescriptorToString
 * and test_PrivateObjectSecurity, and more of the same rules. */
TEST(sddl_round_trips)
{
    static const struct {
        const char *in, *out;
    } t[] = {
        {"O:SYG:S-1-5-21-93476-23408-4576D:(A;NP;GAGXGWGR;;;SU)(A;IOID;CCDC;;;SU)"
         "(D;OICI;0xffffffff;;;S-1-5-21-93476-23408-4576)"
         "S:(AU;OICINPIOIDSAFA;CCDCLCSWRPRC;;;SU)(AU;NPSA;0x12019f;;;SU)",
         "O:SYG:S-1-5-21-93476-23408-4576D:(A;NP;GAGXGWGR;;;SU)(A;IOID;CCDC;;;SU)"
         "(D;OICI;0xffffffff;;;S-1-5-21-93476-23408-4576)"
         "S:(AU;OICINPIOIDSAFA;CCDCLCSWRPRC;;;SU)(AU;NPSA;0x12019f;;;SU)"},
        {"O:S-1-2-0", "O:S-1-2-0"},
        {"O:SY", "O:SY"},
        {"O:S-1-5-18", "O:SY"},
        {"O:sy", "O:SY"},
        {"G:S-1-5-21-93476-23408-4576", "G:S-1-5-21-93476-23408-4576"},
        {"O:SYG:S-1-5-21-93476-23408-4576D:", "O:SYG:S-1-5-21-93476-23408-4576D:"},
        {"O:SYG:S-1-5-21-93476-23408-4576D:S:", "O:SYG:S-1-5-21-93476-23408-4576D:S:"},
        {"D:NO_ACCESS_CONTROLS:(AU;OICINPIOIDSAFA;CCDCLCSWRPRC;;;SU)",
         "D:NO_ACCESS_CONTROLS:(AU;OICINPIOIDSAFA;CCDCLCSWRPRC;;;SU)"},
        {"", ""},
        /* Parts in any order come out O, G, D, S. */
        {"S:(AU;SA;GA;;;WD)D:(A;;GA;;;WD)G:BAO:SY", "O:SYG:BAD:(A;;GA;;;WD)S:(AU;SA;GA;;;WD)"},
        /* Spaces go. */
        {" O: SY G: BA D: P ( A; OI; GA; ; ; WD ) (D;;SD;;; BU ) ", "O:SYG:BAD:P(A;OI;GA;;;WD)(D;;SD;;;BU)"},
        /* A code that names the whole mask, else the bits' names from bit 0 up, else hex. */
        {"D:(A;;GRGWGX;;;WD)", "D:(A;;GXGWGR;;;WD)"},
        {"D:(A;;0xf0000000;;;WD)", "D:(A;;GAGXGWGR;;;WD)"},
        {"D:(A;;RCSDWDWO;;;WD)", "D:(A;;SDRCWDWO;;;WD)"},
        {"D:(A;;3;;;WD)", "D:(A;;CCDC;;;WD)"},
        {"D:(A;;GR0x1;;;WD)", "D:(A;;CCGR;;;WD)"},
        {"D:(A;;0x1f01ff;;;SY)", "D:(A;;FA;;;SY)"},
        {"D:(A;;0x120089;;;WD)", "D:(A;;FR;;;WD)"},
        {"D:(A;;FW;;;WD)", "D:(A;;FW;;;WD)"},
        {"D:(A;;FX;;;WD)", "D:(A;;FX;;;WD)"},
        {"D:(A;;KA;;;BA)", "D:(A;;KA;;;BA)"},
        {"D:(A;;KX;;;BU)", "D:(A;;KR;;;BU)"}, /* KEY_EXECUTE is KEY_READ: the first code wins */
        {"D:(A;;KW;;;BU)", "D:(A;;KW;;;BU)"},
        {"D:(A;;0x1f0003;;;BA)", "D:(A;;0x1f0003;;;BA)"}, /* SEMAPHORE_ALL_ACCESS: SYNCHRONIZE has no code */
        {"D:(A;;0x100000;;;WD)", "D:(A;;0x100000;;;WD)"},
        {"D:(A;;0x20001;;;WD)", "D:(A;;CCRC;;;WD)"},
        {"D:(A;;0X40000000;;;WD)", "D:(A;;GW;;;WD)"},
        {"D:(A;;020000000000;;;WD)", "D:(A;;GR;;;WD)"},
        {"D:(A;;;;;WD)", "D:(A;;;;;WD)"}, /* no right at all */
        {"D:(A;;0x1FF;;;WD)", "D:(A;;CCDCLCSWRPWPDTLOCR;;;WD)"},
        /* ACL flags: P, AR, AI in that order; NO_ACCESS_CONTROL last. */
        {"D:AIP(A;;GA;;;WD)", "D:PAI(A;;GA;;;WD)"},
        {"D:AIARP", "D:PARAI"},
        {"D:PNO_ACCESS_CONTROL", "D:PNO_ACCESS_CONTROL"},
        {"S:P(AU;FA;GA;;;WD)", "S:P(AU;FA;GA;;;WD)"},
        /* ACE flags in bit order. */
        {"D:(A;FASAIDIONPCIOI;GA;;;WD)", "D:(A;OICINPIOIDSAFA;GA;;;WD)"},
        /* The other ACE types; a label's policy has its own names. */
        {"S:(AL;SA;GA;;;WD)", "S:(AL;SA;GA;;;WD)"},
        {"S:(ML;;NW;;;LW)", "S:(ML;;NW;;;LW)"},
        {"S:(ML;;NWNRNX;;;HI)", "S:(ML;;NWNRNX;;;HI)"},
        {"S:(ML;;0x1;;;ME)", "S:(ML;;NW;;;ME)"},
        {"S:(ML;;GA;;;SI)", "S:(ML;;GA;;;SI)"},
        /* SIDs: aliases where Windows has one; the Unix mapping; a large authority in hex. */
        {"O:S-1-22-1-1000G:S-1-22-2-1000D:(A;;GA;;;S-1-22-1-1000)(D;OICI;0x1f0003;;;S-1-22-2-100)",
         "O:S-1-22-1-1000G:S-1-22-2-1000D:(A;;GA;;;S-1-22-1-1000)(D;OICI;0x1f0003;;;S-1-22-2-100)"},
        {"D:(A;;GA;;;S-1-1-0)(A;;GA;;;s-1-3-4)(A;;GA;;;S-1-5-32-544)", "D:(A;;GA;;;WD)(A;;GA;;;OW)(A;;GA;;;BA)"},
        {"D:(A;;GA;;;co)(A;;GA;;;Cg)(A;;GA;;;AN)(A;;GA;;;AU)", "D:(A;;GA;;;CO)(A;;GA;;;CG)(A;;GA;;;AN)(A;;GA;;;AU)"},
        {"O:S-1-0x123456789abc-1", "O:S-1-0x123456789abc-1"},
        {"O:S-1-20015998343868-1-2", "O:S-1-0x123456789abc-1-2"},
        {"O:S-1-5-21-1-2-3-4-5-6-7-8-9-10-11-12-13-14", "O:S-1-5-21-1-2-3-4-5-6-7-8-9-10-11-12-13-14"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) check_round_trip(t[i].in, t[i].out);
    return 0;
}

/* SecurityInformation picks the parts; other bits are ignored; nothing selected is "". */
TEST(sddl_security_information)
{
    PSECURITY_DESCRIPTOR sd = from_sddl("O:SYG:BAD:P(A;;GA;;;WD)S:(AU;SA;GA;;;WD)", NULL);
    static const struct {
        SECURITY_INFORMATION info;
        const char *want;
    } t[] = {
        {0, ""},
        {OWNER_SECURITY_INFORMATION, "O:SY"},
        {GROUP_SECURITY_INFORMATION, "G:BA"},
        {DACL_SECURITY_INFORMATION, "D:P(A;;GA;;;WD)"},
        {SACL_SECURITY_INFORMATION, "S:(AU;SA;GA;;;WD)"},
        {GROUP_SECURITY_INFORMATION | SACL_SECURITY_INFORMATION, "G:BAS:(AU;SA;GA;;;WD)"},
        {ALL_INFO, "O:SYG:BAD:P(A;;GA;;;WD)S:(AU;SA;GA;;;WD)"},
        {ALL_INFO | LABEL_SECURITY_INFORMATION | 0xFFFF0000u, "O:SYG:BAD:P(A;;GA;;;WD)S:(AU;SA;GA;;;WD)"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *s = to_sddl(sd, t[i].info);
        if (strcmp(s, t[i].want) != 0)
            failf(__FILE__, __LINE__, "info", "0x%x gave \"%s\", expected \"%s\"", (unsigned)t[i].info, s, t[i].want);
        LocalFree(s);
    }
    LocalFree(sd);

    /* A part asked for but absent is not written. */
    sd = from_sddl("D:(A;;GA;;;WD)", NULL);
    char *s = to_sddl(sd, ALL_INFO);
    ASSERT(strcmp(s, "D:(A;;GA;;;WD)") == 0);
    LocalFree(s);
    LocalFree(sd);
    return 0;
}

TEST(sddl_to_string_arguments)
{
    PSECURITY_DESCRIPTOR sd = from_sddl("O:SYD:(A;;GA;;;WD)", NULL);
    char *s = POISON_PTR;
    wchar_t *w = POISON_PTR;
    ULONG len = POISON;
    SetLastError(POISON);
    ASSERT_EQ(ConvertSecurityDescriptorToStringSecurityDescriptorA(NULL, SDDL_REVISION_1, ALL_INFO, &s, &len), FALSE);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_EQ(ConvertSecurityDescriptorToStringSecurityDescriptorA(sd, SDDL_REVISION_1, ALL_INFO, NULL, &len), FALSE);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_EQ(ConvertSecurityDescriptorToStringSecurityDescriptorA(sd, 2, ALL_INFO, &s, &len), FALSE);
    ASSERT_GLE(ERROR_UNKNOWN_REVISION);
    SetLastError(POISON);
    ASSERT_EQ(ConvertSecurityDescriptorToStringSecurityDescriptorW(sd, 0, ALL_INFO, &w, &len), FALSE);
    ASSERT_GLE(ERROR_UNKNOWN_REVISION);
    ASSERT(s == POISON_PTR && w == POISON_PTR);
    ASSERT_EQ_U(len, POISON);

    /* The W form: the same string, its length with the NUL; the length is optional. */
    SetLastError(POISON);
    ASSERT_EQ(ConvertSecurityDescriptorToStringSecurityDescriptorW(sd, SDDL_REVISION_1, ALL_INFO, &w, &len), TRUE);
    ASSERT_GLE(POISON);
    ASSERT(wcscmp(w, L"O:SYD:(A;;GA;;;WD)") == 0);
    ASSERT_EQ_U(len, wcslen(w) + 1);
    LocalFree(w);
    ASSERT_EQ(ConvertSecurityDescriptorToStringSecurityDescriptorA(sd, SDDL_REVISION_1, ALL_INFO, &s, NULL), TRUE);
    ASSERT(strcmp(s, "O:SYD:(A;;GA;;;WD)") == 0);
    LocalFree(s);
    LocalFree(sd);

    /* The W parser reads the same language. */
    ULONG size;
    ASSERT_EQ(ConvertStringSecurityDescriptorToSecurityDescriptorW(L"O:SYD:(A;;GA;;;WD)", SDDL_REVISION_1, &sd, &size),
              TRUE);
    ASSERT_EQ(ConvertSecurityDescriptorToStringSecurityDescriptorA(sd, SDDL_REVISION_1, ALL_INFO, &s, NULL), TRUE);
    ASSERT(strcmp(s, "O:SYD:(A;;GA;;;WD)") == 0);
    LocalFree(s);
    LocalFree(sd);
    sd = POISON_PTR;
    SetLastError(POISON);
    ASSERT_EQ(ConvertStringSecurityDescriptorToSecurityDescriptorW(L"D:(A;;GA;;;W\u00c9)", SDDL_REVISION_1, &sd, NULL),
              FALSE);
    ASSERT_GLE(ERROR_INVALID_ACL);
    ASSERT(sd == POISON_PTR);
    return 0;
}

/* Every malformed string fails with its exact error and writes nothing (docs/security.md). */
TEST(sddl_malformed)
{
    static const struct {
        const char *s;
        DWORD error;
    } t[] = {
        /* Parts. */
        {"ERROR:(D;;GA;;;WD)", ERROR_INVALID_PARAMETER},
        {"X:", ERROR_INVALID_PARAMETER},
        {"O", ERROR_INVALID_PARAMETER},
        {"O;SY", ERROR_INVALID_PARAMETER},
        {":", ERROR_INVALID_PARAMETER},
        {"d:(A;;GA;;;WD)", ERROR_INVALID_PARAMETER},
        {"O:SYO:BA", ERROR_INVALID_PARAMETER},
        {"D:D:", ERROR_INVALID_PARAMETER},
        {"D:(A;;GA;;;WD)X:", ERROR_INVALID_PARAMETER},
        /* Owner and group. */
        {"O:", ERROR_INVALID_SID},
        {"O: ", ERROR_INVALID_SID},
        {"G:XX", ERROR_INVALID_SID},
        {"O:S-1-5", ERROR_INVALID_SID},
        {"O:S-1-5-18 x", ERROR_INVALID_SID},
        {"O:WDG:BAX", ERROR_INVALID_SID},
        {"O:S-2-5-18", ERROR_INVALID_SID},
        {"O:SY:", ERROR_INVALID_SID}, /* the owner's text ends before the letter of a next part: "S" */
        {"O:DA", ERROR_NONE_MAPPED},
        {"G:LA", ERROR_NONE_MAPPED},
        /* ACL flags. */
        {"D:Q(A;;GA;;;WD)", ERROR_INVALID_ACL},
        {"D:NO_ACCESS(A;;GA;;;WD)", ERROR_INVALID_ACL},
        {"D:NO_ACCESS_CONTROL(A;;GA;;;WD)", ERROR_INVALID_ACL},
        {"D:(A;;GA;;;WD)P", ERROR_INVALID_ACL},
        /* ACEs. */
        {"D:(X;;GA;;;WD)", ERROR_INVALID_ACL},
        {"D:(;;GA;;;WD)", ERROR_INVALID_ACL},
        {"D:(a;;GA;;;WD)", ERROR_INVALID_ACL},
        {"D:(OA;;GA;;;WD)", ERROR_INVALID_ACL},
        {"D:(XA;;GA;;;WD)", ERROR_INVALID_ACL},
        {"D:(A;XX;GA;;;WD)", ERROR_INVALID_ACL},
        {"D:(A;O;GA;;;WD)", ERROR_INVALID_ACL},
        {"D:(A;OI ;GA;;;WD)", ERROR_INVALID_ACL},
        {"D:(A;oi;GA;;;WD)", ERROR_INVALID_ACL},
        {"D:(A;;ga;;;WD)", ERROR_INVALID_ACL},
        {"D:(A;;G;;;WD)", ERROR_INVALID_ACL},
        {"D:(A;;-1;;;WD)", ERROR_INVALID_ACL},
        {"D:(A;;0x100000000;;;WD)", ERROR_INVALID_ACL},
        {"D:(A;;4294967296;;;WD)", ERROR_INVALID_ACL},
        {"D:(A;;0x;;;WD)", ERROR_INVALID_ACL},
        {"D:(A;;GA;f;;WD)", ERROR_INVALID_ACL},
        {"D:(A;;GA;;f;WD)", ERROR_INVALID_ACL},
        {"D:(A;;GA;;;)", ERROR_INVALID_ACL},
        {"D:(A;;GA;;;S-1-5)", ERROR_INVALID_ACL},
        {"D:(A;;GA;;;DA)", ERROR_INVALID_ACL},
        {"D:(A;;GA;;WD)", ERROR_INVALID_ACL},
        {"D:(A;GA;;;WD)", ERROR_INVALID_ACL},
        {"D:(A;;GA;;;WD", ERROR_INVALID_ACL},
        {"D:(A;;GA;;;WD;)", ERROR_INVALID_ACL},
        {"D:(A;;GA;;;WD)(", ERROR_INVALID_ACL},
        {"D:(A;;GA;;;WD)junk", ERROR_INVALID_ACL},
        {"D:(A;;GA;;;WD)(A;;GA;;;WD)O", ERROR_INVALID_ACL},
        {"D:(A;;GA;;;W D)", ERROR_INVALID_ACL},
        {"D:((A;;GA;;;WD))", ERROR_INVALID_ACL},
        {"S:(AU;;GA;;;WD)(ML;;NW;;;)", ERROR_INVALID_ACL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) check_sddl_error(t[i].s, t[i].error);
    return 0;
}

/* An ACL is at most 65535 bytes (AclSize is 16 bits): 862 ACEs of a 15-sub-authority SID (76
 * bytes each) fit, 863 do not. */
TEST(sddl_acl_size_limit)
{
    static const char ace[] = "(A;;GA;;;S-1-5-21-1-2-3-4-5-6-7-8-9-10-11-12-13-14)";
    size_t n = 863;
    char *s = malloc(2 + n * (sizeof ace - 1) + 1);
    ASSERT_NOT_NULL(s);
    strcpy(s, "D:");
    for (size_t i = 0; i < n; i++) strcat(s, ace);
    check_sddl_error(s, ERROR_INVALID_ACL);

    s[2 + (n - 1) * (sizeof ace - 1)] = 0; /* 862 */
    ULONG size;
    PSECURITY_DESCRIPTOR sd = from_sddl(s, &size);
    ACL acl;
    memcpy(&acl, (unsigned char *)sd + 20, sizeof acl);
    ASSERT_EQ(acl.AclSize, 8 + 862 * 76);
    ASSERT_EQ(acl.AceCount, 862);
    ASSERT_EQ_U(size, 20 + 8 + 862 * 76);
    LocalFree(sd);
    free(s);
    return 0;
}

TEST(sddl_local_free)
{
    SetLastError(POISON);
    ASSERT_NULL(LocalFree(NULL));
    PSID sid = NULL;
    ASSERT_EQ(ConvertStringSidToSidA("WD", &sid), TRUE);
    ASSERT_NULL(LocalFree(sid));
    ASSERT_GLE(POISON);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Binary descriptors: the validator against corruptions (Windows' RtlValidRelativeSecurityDescriptor
 * and RtlValidAcl rules)
 * ------------------------------------------------------------------------------------------- */

/* A fresh copy (exactly `size` bytes, so ASan sees any read past it) of the descriptor of
 * "O:SYG:BAD:(A;;GA;;;WD)S:(AU;SA;GA;;;WD)": SACL at 20, DACL at 48, owner at 76, group at 88,
 * 104 bytes (sddl_layout). */
#define BASE_SIZE 104
#define SACL_AT 20
#define DACL_AT 48
#define OWNER_AT 76
#define GROUP_AT 88
static unsigned char *base_sd(void)
{
    ULONG size;
    PSECURITY_DESCRIPTOR sd = from_sddl("O:SYG:BAD:(A;;GA;;;WD)S:(AU;SA;GA;;;WD)", &size);
    ASSERT_EQ_U(size, BASE_SIZE);
    unsigned char *b = malloc(size);
    ASSERT_NOT_NULL(b);
    memcpy(b, sd, size);
    LocalFree(sd);
    return b;
}

/* The descriptor b (len bytes) is rejected with exactly `error` by the validator, and with
 * ERROR_INVALID_SECURITY_DESCR by IsValidSecurityDescriptor (which has no length, so only for
 * corruptions it can see without one: public != 0). */
static void check_invalid_at(const char *file, int line, const unsigned char *b, size_t len, DWORD error, int public)
{
    struct nsem_sd parts;
    DWORD e = nsem__sd_check(b, len, &parts);
    if (e != error) failf(file, line, "invalid", "nsem__sd_check gave %u, expected %u", (unsigned)e, (unsigned)error);
    if (!public) return;
    SetLastError(POISON);
    if (IsValidSecurityDescriptor((void *)b) || GetLastError() != ERROR_INVALID_SECURITY_DESCR)
        failf(file, line, "invalid", "IsValidSecurityDescriptor accepted it or gave %u", (unsigned)GetLastError());
    if (GetSecurityDescriptorLength((void *)b) != 0) failf(file, line, "invalid", "it has a length");
    char *s = POISON_PTR;
    SetLastError(POISON);
    if (ConvertSecurityDescriptorToStringSecurityDescriptorA((void *)b, SDDL_REVISION_1, ALL_INFO, &s, NULL) ||
        GetLastError() != error || s != POISON_PTR)
        failf(file, line, "invalid", "ConvertSecurityDescriptorToString: error %u, expected %u",
              (unsigned)GetLastError(), (unsigned)error);
}
#define check_invalid(b, len, error, public) check_invalid_at(__FILE__, __LINE__, (b), (len), (error), (public))

static void check_valid_at(const char *file, int line, const unsigned char *b, size_t len)
{
    struct nsem_sd parts;
    DWORD e = nsem__sd_check(b, len, &parts);
    if (e) failf(file, line, "valid", "nsem__sd_check gave %u", (unsigned)e);
    SetLastError(POISON);
    if (!IsValidSecurityDescriptor((void *)b) || GetLastError() != POISON)
        failf(file, line, "valid", "IsValidSecurityDescriptor refused it (%u)", (unsigned)GetLastError());
}
#define check_valid(b, len) check_valid_at(__FILE__, __LINE__, (b), (len))

TEST(sddl_binary_header)
{
    unsigned char *b = base_sd();
    check_valid(b, BASE_SIZE);
    check_invalid(b, 19, ERROR_INVALID_SECURITY_DESCR, 0);
    check_invalid(b, 0, ERROR_INVALID_SECURITY_DESCR, 0);
    b[0] = 2;
    check_invalid(b, BASE_SIZE, ERROR_INVALID_SECURITY_DESCR, 1);
    b[0] = 0;
    check_invalid(b, BASE_SIZE, ERROR_INVALID_SECURITY_DESCR, 1);
    free(b);

    /* An absolute descriptor (no SE_SELF_RELATIVE): nsem has none. */
    b = base_sd();
    nsem__wr16(b + 2, nsem__rd16(b + 2) & ~SE_SELF_RELATIVE);
    check_invalid(b, BASE_SIZE, ERROR_INVALID_SECURITY_DESCR, 1);
    free(b);

    SetLastError(POISON);
    ASSERT_EQ(IsValidSecurityDescriptor(NULL), FALSE);
    ASSERT_GLE(ERROR_INVALID_SECURITY_DESCR);
    ASSERT_EQ_U(GetSecurityDescriptorLength(NULL), 0);
    return 0;
}

/* An offset below the header, not a multiple of 4, at or past the end, or leaving less room than
 * its part's header (12 for a SID, 8 for an ACL): ERROR_INVALID_SECURITY_DESCR. */
TEST(sddl_binary_offsets)
{
    static const int fields[] = {4, 8, 12, 16}; /* owner, group, SACL, DACL */
    for (int f = 0; f < 4; f++) {
        uint32_t bad[] = {4, 19, OWNER_AT + 1, OWNER_AT + 2, BASE_SIZE, BASE_SIZE + 4, 0x7FFFFFFC, 0xFFFFFFFC};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            unsigned char *b = base_sd();
            nsem__wr32(b + fields[f], bad[i]);
            /* Past the end is visible only with a length. */
            check_invalid(b, BASE_SIZE, ERROR_INVALID_SECURITY_DESCR, bad[i] < BASE_SIZE);
            free(b);
        }
        unsigned char *b = base_sd();
        nsem__wr32(b + fields[f], BASE_SIZE - (f < 2 ? 8 : 4)); /* room 8 < 12 for a SID, 4 < 8 for an ACL */
        check_invalid(b, BASE_SIZE, ERROR_INVALID_SECURITY_DESCR, 0);
        free(b);
    }
    return 0;
}

TEST(sddl_binary_sids)
{
    unsigned char *b = base_sd();
    b[OWNER_AT] = 2; /* revision */
    check_invalid(b, BASE_SIZE, ERROR_INVALID_SID, 1);
    free(b);
    b = base_sd();
    b[GROUP_AT + 1] = 16; /* more than 15 sub-authorities */
    check_invalid(b, BASE_SIZE, ERROR_INVALID_SID, 1);
    free(b);
    b = base_sd();
    b[GROUP_AT + 1] = 5; /* 28 bytes from offset 88: past the end */
    check_invalid(b, BASE_SIZE, ERROR_INVALID_SID, 0);
    free(b);
    /* The owner may run over the group: Windows checks only that it fits in the descriptor. */
    b = base_sd();
    b[OWNER_AT + 1] = 5; /* 28 bytes from 76: exactly to the end */
    check_valid(b, BASE_SIZE);
    b[OWNER_AT + 1] = 6;
    check_invalid(b, BASE_SIZE, ERROR_INVALID_SID, 0);
    free(b);
    /* No owner, no group: valid (AccessCheck refuses it, test-access.c). */
    b = base_sd();
    nsem__wr32(b + 4, 0);
    nsem__wr32(b + 8, 0);
    check_valid(b, BASE_SIZE);
    free(b);
    return 0;
}

TEST(sddl_binary_acls)
{
    /* Each corruption of the DACL (at 48: header, then one ACE of 20 bytes: type, flags, size,
     * mask, SID S-1-1-0), or the same of the SACL (at 20). */
    for (int which = 0; which < 2; which++) {
        size_t acl = which ? SACL_AT : DACL_AT;
        size_t ace = acl + 8;
        struct {
            size_t at;
            int width; /* 1, 2 or 4 bytes */
            uint32_t value;
        } bad[] = {
            {acl, 1, 1},              /* revision 1 */
            {acl, 1, 5},              /* revision 5 */
            {acl + 2, 2, 7},          /* AclSize below the header */
            {acl + 2, 2, 27},         /* AclSize cuts the ACE */
            {acl + 2, 2, 0xFFFF},     /* AclSize past the end */
            {acl + 4, 2, 2},          /* two ACEs, room for one */
            {ace + 2, 2, 0},          /* AceSize 0 */
            {ace + 2, 2, 18},         /* not a multiple of 4 */
            {ace + 2, 2, 12},         /* below header + mask + SID header */
            {ace + 2, 2, 24},         /* past AclSize */
            {ace + 8, 1, 2},          /* the SID's revision */
            {ace + 9, 1, 16},         /* 16 sub-authorities */
            {ace + 9, 1, 2},          /* a SID larger than the ACE */
            {ace, 1, 5},              /* an object ACE in a revision-2 ACL */
            {ace, 1, 4},              /* a compound ACE in a revision-2 ACL */
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            unsigned char *b = base_sd();
            if (bad[i].width == 1)
                b[bad[i].at] = (unsigned char)bad[i].value;
            else if (bad[i].width == 2)
                nsem__wr16(b + bad[i].at, (uint16_t)bad[i].value);
            else
                nsem__wr32(b + bad[i].at, bad[i].value);
            /* AclSize past the end is seen only with a length. */
            int public = !(bad[i].at == acl + 2 && bad[i].value == 0xFFFF);
            if (!public) {
                check_invalid(b, BASE_SIZE, ERROR_INVALID_ACL, 0);
            } else {
                check_invalid(b, BASE_SIZE, ERROR_INVALID_ACL, 1);
            }
            free(b);
        }
    }
    return 0;
}

/* What Windows' validator accepts, nsem accepts (and keeps). */
TEST(sddl_binary_accepted)
{
    /* A DACL offset without SE_DACL_PRESENT is ignored, however bad. */
    unsigned char *b = base_sd();
    nsem__wr16(b + 2, nsem__rd16(b + 2) & ~SE_DACL_PRESENT);
    nsem__wr32(b + 16, 3);
    check_valid(b, BASE_SIZE);
    char *s = to_sddl(b, ALL_INFO);
    ASSERT(strcmp(s, "O:SYG:BAS:(AU;SA;GA;;;WD)") == 0);
    LocalFree(s);
    /* SE_DACL_PRESENT with offset 0: a NULL DACL. */
    nsem__wr16(b + 2, nsem__rd16(b + 2) | SE_DACL_PRESENT);
    nsem__wr32(b + 16, 0);
    check_valid(b, BASE_SIZE);
    s = to_sddl(b, DACL_SECURITY_INFORMATION);
    ASSERT(strcmp(s, "D:NO_ACCESS_CONTROL") == 0);
    LocalFree(s);
    free(b);

    /* Room after the ACEs inside AclSize; the ACL revisions 3 and 4. */
    b = base_sd();
    b[DACL_AT] = 4;
    check_valid(b, BASE_SIZE);
    nsem__wr16(b + SACL_AT + 2, 28); /* the SACL's AclSize is already all of its room: shrink the count */
    nsem__wr16(b + SACL_AT + 4, 0);  /* an ACL of 28 bytes with no ACE */
    check_valid(b, BASE_SIZE);
    s = to_sddl(b, SACL_SECURITY_INFORMATION);
    ASSERT(strcmp(s, "S:") == 0);
    LocalFree(s);
    free(b);

    /* A type Windows does not know: only its size (at least 4) is checked. It cannot be written as
     * SDDL (ERROR_INVALID_ACL), which only knows A, D, AU, AL, ML. */
    b = base_sd();
    b[DACL_AT + 8] = 0x55;
    check_valid(b, BASE_SIZE);
    s = POISON_PTR;
    SetLastError(POISON);
    ASSERT_EQ(ConvertSecurityDescriptorToStringSecurityDescriptorA(b, SDDL_REVISION_1, ALL_INFO, &s, NULL), FALSE);
    ASSERT_GLE(ERROR_INVALID_ACL);
    nsem__wr16(b + DACL_AT + 10, 2);
    check_invalid(b, BASE_SIZE, ERROR_INVALID_ACL, 1);
    free(b);

    /* An object ACE (ACCESS_ALLOWED_OBJECT_ACE_TYPE, 5) in a revision-4 ACL: Mask, Flags 0, SID. */
    static const unsigned char object_sd[] = {
        1, 0, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, /* header: DACL at 20 */
        4, 0, 32, 0, 1, 0, 0, 0,                                            /* ACL: revision 4, 32 bytes, 1 ACE */
        5, 0, 24, 0, 0, 0, 0, 0x10, 0, 0, 0, 0,                             /* ACE, GENERIC_ALL, Flags 0 */
        1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0,                                 /* S-1-1-0 */
    };
    check_valid(object_sd, sizeof object_sd);
    unsigned char copy[sizeof object_sd];
    memcpy(copy, object_sd, sizeof copy);
    copy[20] = 2; /* an object ACE needs revision 4 */
    check_invalid(copy, sizeof copy, ERROR_INVALID_ACL, 1);
    memcpy(copy, object_sd, sizeof copy);
    copy[36] = 1; /* Flags: an ObjectType GUID would follow, so the SID no longer fits */
    check_invalid(copy, sizeof copy, ERROR_INVALID_ACL, 1);
    return 0;
}

/* Random corruptions of valid descriptors, at random lengths: the validator never reads outside
 * the buffer (ASan) and never accepts what the string conversion then cannot handle safely. */
TEST(sddl_binary_fuzz)
{
    static const char *const seeds[] = {
        "O:SYG:BAD:(A;;GA;;;WD)S:(AU;SA;GA;;;WD)",
        "O:S-1-22-1-1000D:P(D;OICI;0x1f0003;;;S-1-22-2-100)(A;;GA;;;S-1-5-21-1-2-3-4-5-6-7-8-9-10-11-12-13-14)",
        "D:NO_ACCESS_CONTROLS:(ML;;NW;;;LW)",
    };
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
        ULONG size;
        PSECURITY_DESCRIPTOR sd = from_sddl(seeds[k], &size);
        for (int round = 0; round < 20000; round++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* Mostly the true length, so that many corruptions pass the header checks. */
            size_t len = (x & 3) ? size : (size_t)((x >> 2) % (size + 8));
            unsigned char *b = malloc(len ? len : 1);
            ASSERT_NOT_NULL(b);
            memcpy(b, sd, len < size ? len : size);
            for (size_t i = size; i < len; i++) b[i] = (unsigned char)(x >> (i % 56));
            for (int flips = (int)(x >> 60); flips > 0 && len; flips--) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                b[x % len] ^= (unsigned char)(1u << (x >> 61));
            }
            struct nsem_sd parts;
            if (nsem__sd_check(b, len, &parts) == 0) {
                /* A descriptor valid within len converts (or refuses an ACE type) within len. */
                ASSERT(nsem__sd_length(&parts) >= 20);
                char *s = NULL;
                BOOL ok = ConvertSecurityDescriptorToStringSecurityDescriptorA(b, SDDL_REVISION_1, ALL_INFO, &s, NULL);
                if (ok) {
                    PSECURITY_DESCRIPTOR back = NULL;
                    SetLastError(POISON);
                    BOOL parsed = ConvertStringSecurityDescriptorToSecurityDescriptorA(s, SDDL_REVISION_1, &back, NULL);
                    if (parsed) LocalFree(back);
                    LocalFree(s);
                } else {
                    ASSERT_GLE(ERROR_INVALID_ACL);
                }
            }
            free(b);
        }
        LocalFree(sd);
    }
    return 0;
}

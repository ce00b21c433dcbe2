/*
 * sid.c — SIDs: the binary layout, the "S-1-..." string form, the SDDL aliases and the Unix mapping.
 */
#include "common/sid.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/lebytes.h"

#define UNIX_USERS_AUTHORITY 22 /* Samba's S-1-22-1-<uid> and S-1-22-2-<gid> */
#define UNIX_USER_RID 1
#define UNIX_GROUP_RID 2

/* ---- binary form -------------------------------------------------------------------------- */

size_t nsem__sid_size(const unsigned char *sid)
{
    return NSEM_SID_HEADER + 4u * sid[1];
}

bool nsem__sid_valid(const unsigned char *sid, size_t avail)
{
    return avail >= NSEM_SID_HEADER && sid[0] == NSEM_SID_REVISION && sid[1] <= NSEM_SID_MAX_SUBS &&
           avail >= nsem__sid_size(sid);
}

bool nsem__sid_equal(const unsigned char *a, const unsigned char *b)
{
    size_t n = nsem__sid_size(a);
    return n == nsem__sid_size(b) && memcmp(a, b, n) == 0;
}

uint64_t nsem__sid_authority(const unsigned char *sid)
{
    uint64_t v = 0;
    for (int i = 2; i < NSEM_SID_HEADER; i++) v = v << 8 | sid[i];
    return v;
}

uint32_t nsem__sid_sub(const unsigned char *sid, unsigned index)
{
    return nsem__rd32(sid + NSEM_SID_HEADER + 4 * index);
}

size_t nsem__sid_init(struct nsem_sid *out, uint64_t authority, unsigned count, const uint32_t *subs)
{
    assert(count <= NSEM_SID_MAX_SUBS && authority <= NSEM_SID_AUTHORITY_MAX);
    out->b[0] = NSEM_SID_REVISION;
    out->b[1] = (unsigned char)count;
    for (int i = 0; i < 6; i++) out->b[2 + i] = (unsigned char)(authority >> (40 - 8 * i));
    for (unsigned i = 0; i < count; i++) nsem__wr32(out->b + NSEM_SID_HEADER + 4 * i, subs[i]);
    return NSEM_SID_HEADER + 4u * count;
}

/* ---- aliases ------------------------------------------------------------------------------ */

/* The SDDL SID strings of Windows' sddl.h that name a SID without a domain. */
static const struct sid_alias {
    char name[3];
    uint8_t authority;
    uint8_t count;
    uint32_t subs[6];
} aliases[] = {
    {"AA", 5, 2, {32, 579}},        /* Access Control Assistance Operators */
    {"AC", 15, 2, {2, 1}},          /* All application packages */
    {"AN", 5, 1, {7}},              /* Anonymous logon */
    {"AO", 5, 2, {32, 548}},        /* Account Operators */
    {"AU", 5, 1, {11}},             /* Authenticated Users */
    {"BA", 5, 2, {32, 544}},        /* Administrators */
    {"BG", 5, 2, {32, 546}},        /* Guests */
    {"BO", 5, 2, {32, 551}},        /* Backup Operators */
    {"BU", 5, 2, {32, 545}},        /* Users */
    {"CD", 5, 2, {32, 574}},        /* Certificate Service DCOM Access */
    {"CG", 3, 1, {1}},              /* Creator Group */
    {"CO", 3, 1, {0}},              /* Creator Owner */
    {"CY", 5, 2, {32, 569}},        /* Cryptographic Operators */
    {"ED", 5, 1, {9}},              /* Enterprise Domain Controllers */
    {"ER", 5, 2, {32, 573}},        /* Event Log Readers */
    {"ES", 5, 2, {32, 576}},        /* RDS Endpoint Servers */
    {"HA", 5, 2, {32, 578}},        /* Hyper-V Administrators */
    {"HI", 16, 1, {12288}},         /* High integrity level */
    {"IS", 5, 2, {32, 568}},        /* IIS_IUSRS */
    {"IU", 5, 1, {4}},              /* Interactive */
    {"LS", 5, 1, {19}},             /* Local Service */
    {"LU", 5, 2, {32, 559}},        /* Performance Log Users */
    {"LW", 16, 1, {4096}},          /* Low integrity level */
    {"ME", 16, 1, {8192}},          /* Medium integrity level */
    {"MP", 16, 1, {8448}},          /* Medium Plus integrity level */
    {"MU", 5, 2, {32, 558}},        /* Performance Monitor Users */
    {"NO", 5, 2, {32, 556}},        /* Network Configuration Operators */
    {"NS", 5, 1, {20}},             /* Network Service */
    {"NU", 5, 1, {2}},              /* Network */
    {"OW", 3, 1, {4}},              /* Owner Rights */
    {"PO", 5, 2, {32, 550}},        /* Print Operators */
    {"PS", 5, 1, {10}},             /* Principal Self */
    {"PU", 5, 2, {32, 547}},        /* Power Users */
    {"RA", 5, 2, {32, 575}},        /* RDS Remote Access Servers */
    {"RC", 5, 1, {12}},             /* Restricted Code */
    {"RD", 5, 2, {32, 555}},        /* Remote Desktop Users */
    {"RE", 5, 2, {32, 552}},        /* Replicator */
    {"RU", 5, 2, {32, 554}},        /* Pre-Windows 2000 Compatible Access */
    {"SI", 16, 1, {16384}},         /* System integrity level */
    {"SO", 5, 2, {32, 549}},        /* Server Operators */
    {"SS", 18, 1, {2}},             /* Service asserted identity */
    {"SU", 5, 1, {6}},              /* Service */
    {"SY", 5, 1, {18}},             /* Local System */
    {"UD", 5, 6, {84, 0, 0, 0, 0, 0}}, /* User-mode drivers */
    {"WD", 1, 1, {0}},              /* Everyone */
    {"WR", 5, 1, {33}},             /* Write Restricted Code */
};

/* Aliases Windows resolves against the machine's or the domain's SID; nsem has neither. */
static const char domain_aliases[][3] = {
    "AP", "CA", "CN", "DA", "DC", "DD", "DG", "DU", "EA", "EK", "KA", "LA", "LG", "PA", "RO", "RS", "SA",
};

static bool alias_is(const char *name, const char *s)
{
    for (int i = 0; i < 2; i++) {
        char c = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 'a' + 'A') : s[i];
        if (c != name[i]) return false;
    }
    return true;
}

static const struct sid_alias *find_alias(const char *s)
{
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (alias_is(aliases[i].name, s)) return &aliases[i];
    return NULL;
}

void nsem__sid_from_alias(struct nsem_sid *out, const char *alias)
{
    const struct sid_alias *a = find_alias(alias);
    assert(a != NULL && alias[2] == '\0');
    nsem__sid_init(out, a->authority, a->count, a->subs);
}

const char *nsem__sid_alias(const unsigned char *sid)
{
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        const struct sid_alias *a = &aliases[i];
        if (sid[1] != a->count || nsem__sid_authority(sid) != a->authority) continue;
        unsigned k = 0;
        while (k < a->count && nsem__sid_sub(sid, k) == a->subs[k]) k++;
        if (k == a->count) return a->name;
    }
    return NULL;
}

/* ---- string form -------------------------------------------------------------------------- */

static int digit_value(char c, unsigned base)
{
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : 99;
    return d < (int)base ? d : -1;
}

/* One number of a SID string at *p (decimal, or hex after "0x"/"0X"), at most max; advances *p. */
static bool parse_number(const char **p, const char *end, uint64_t max, uint64_t *out)
{
    const char *s = *p;
    unsigned base = 10;
    if (end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    const char *first = s;
    uint64_t v = 0;
    for (int d; s < end && (d = digit_value(*s, base)) >= 0; s++) {
        if (v > (max - (uint64_t)d) / base) return false; /* would pass max: no silent wrap */
        v = v * base + (uint64_t)d;
    }
    if (s == first) return false;
    *p = s;
    *out = v;
    return true;
}

static DWORD parse_numeric(const char *s, const char *end, struct nsem_sid *out)
{
    uint64_t revision, authority, sub;
    uint32_t subs[NSEM_SID_MAX_SUBS];
    unsigned count = 0;
    s += 2; /* "S-" */
    if (!parse_number(&s, end, UINT8_MAX, &revision) || revision != NSEM_SID_REVISION) return ERROR_INVALID_SID;
    if (s == end || *s++ != '-' || !parse_number(&s, end, NSEM_SID_AUTHORITY_MAX, &authority)) return ERROR_INVALID_SID;
    while (s < end) {
        if (*s++ != '-' || count == NSEM_SID_MAX_SUBS || !parse_number(&s, end, UINT32_MAX, &sub))
            return ERROR_INVALID_SID;
        subs[count++] = (uint32_t)sub;
    }
    if (count == 0) return ERROR_INVALID_SID; /* "S-1-5": Windows wants a sub-authority */
    nsem__sid_init(out, authority, count, subs);
    return 0;
}

DWORD nsem__sid_parse(const char *s, size_t len, struct nsem_sid *out)
{
    if (len >= 2 && (s[0] == 'S' || s[0] == 's') && s[1] == '-') return parse_numeric(s, s + len, out);
    if (len != 2) return ERROR_INVALID_SID;
    const struct sid_alias *a = find_alias(s);
    if (a) {
        nsem__sid_init(out, a->authority, a->count, a->subs);
        return 0;
    }
    for (size_t i = 0; i < sizeof domain_aliases / sizeof domain_aliases[0]; i++)
        if (alias_is(domain_aliases[i], s)) return ERROR_NONE_MAPPED;
    return ERROR_INVALID_SID;
}

size_t nsem__sid_format(const unsigned char *sid, char out[NSEM_SID_STRING_MAX])
{
    uint64_t authority = nsem__sid_authority(sid);
    int n = authority > UINT32_MAX ? snprintf(out, NSEM_SID_STRING_MAX, "S-%u-0x%012" PRIx64, sid[0], authority)
                                   : snprintf(out, NSEM_SID_STRING_MAX, "S-%u-%" PRIu64, sid[0], authority);
    for (unsigned i = 0; i < sid[1]; i++)
        n += snprintf(out + n, NSEM_SID_STRING_MAX - (size_t)n, "-%" PRIu32, nsem__sid_sub(sid, i));
    return (size_t)n;
}

/* ---- Unix mapping ------------------------------------------------------------------------- */

void nsem__sid_from_uid(struct nsem_sid *out, uint32_t uid)
{
    uint32_t subs[2] = {UNIX_USER_RID, uid};
    nsem__sid_init(out, UNIX_USERS_AUTHORITY, 2, subs);
}

void nsem__sid_from_gid(struct nsem_sid *out, uint32_t gid)
{
    uint32_t subs[2] = {UNIX_GROUP_RID, gid};
    nsem__sid_init(out, UNIX_USERS_AUTHORITY, 2, subs);
}

static bool unix_id(const unsigned char *sid, uint32_t rid, uint32_t *id)
{
    if (sid[1] != 2 || nsem__sid_authority(sid) != UNIX_USERS_AUTHORITY || nsem__sid_sub(sid, 0) != rid) return false;
    *id = nsem__sid_sub(sid, 1);
    return true;
}

bool nsem__sid_to_uid(const unsigned char *sid, uint32_t *uid)
{
    return unix_id(sid, UNIX_USER_RID, uid);
}

bool nsem__sid_to_gid(const unsigned char *sid, uint32_t *gid)
{
    return unix_id(sid, UNIX_GROUP_RID, gid);
}

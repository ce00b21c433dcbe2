/*
 * sddl.c — SDDL strings to security descriptors and back (sddl.h has the grammar).
 */
#include "common/sddl.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/acl.h"
#include "common/secdesc.h"
#include "common/sid.h"

#define NO_ACCESS_CONTROL "NO_ACCESS_CONTROL"

/* ---- vocabulary --------------------------------------------------------------------------- */

static const struct {
    char name[3];
    uint8_t type;
} ace_types[] = {
    {"A", ACCESS_ALLOWED_ACE_TYPE}, {"D", ACCESS_DENIED_ACE_TYPE},           {"AU", SYSTEM_AUDIT_ACE_TYPE},
    {"AL", SYSTEM_ALARM_ACE_TYPE},  {"ML", SYSTEM_MANDATORY_LABEL_ACE_TYPE},
};

/* In the order Windows writes them (the order of their bits). */
static const struct {
    char name[3];
    uint8_t flag;
} ace_flags[] = {
    {"OI", OBJECT_INHERIT_ACE}, {"CI", CONTAINER_INHERIT_ACE},      {"NP", NO_PROPAGATE_INHERIT_ACE},
    {"IO", INHERIT_ONLY_ACE},   {"ID", INHERITED_ACE},              {"SA", SUCCESSFUL_ACCESS_ACE_FLAG},
    {"FA", FAILED_ACCESS_ACE_FLAG},
};

/* The rights' letter codes, in the order Windows tries them against a whole mask on output.
 * The directory-service codes name bits 0-8; FA..KX are the file and registry key composites. */
static const struct {
    char name[3];
    uint32_t mask;
} rights[] = {
    {"GA", GENERIC_ALL},  {"GR", GENERIC_READ},  {"GW", GENERIC_WRITE}, {"GX", GENERIC_EXECUTE},
    {"RC", READ_CONTROL}, {"SD", DELETE},        {"WD", WRITE_DAC},     {"WO", WRITE_OWNER},
    {"RP", 0x10},         {"WP", 0x20},          {"CC", 0x1},           {"DC", 0x2},
    {"LC", 0x4},          {"SW", 0x8},           {"LO", 0x80},          {"DT", 0x40},
    {"CR", 0x100},        {"FA", 0x1F01FF},      {"FR", 0x120089},      {"FW", 0x120116},
    {"FX", 0x1200A0},     {"KA", 0xF003F},       {"KR", 0x20019},       {"KW", 0x20006},
    {"KX", 0x20019},      {"NR", SYSTEM_MANDATORY_LABEL_NO_READ_UP},
    {"NW", SYSTEM_MANDATORY_LABEL_NO_WRITE_UP},  {"NX", SYSTEM_MANDATORY_LABEL_NO_EXECUTE_UP},
};

/* The name of each bit when a mask is written bit by bit (NULL: the bit has none). */
static const char *const bit_names[32] = {
    [0] = "CC",  [1] = "DC",  [2] = "LC",  [3] = "SW",  [4] = "RP",  [5] = "WP",  [6] = "DT",  [7] = "LO",
    [8] = "CR",  [16] = "SD", [17] = "RC", [18] = "WD", [19] = "WO", [28] = "GA", [29] = "GX", [30] = "GW",
    [31] = "GR",
};
/* A mandatory label's mask: its policy bits. */
static const char *const label_bit_names[3] = {"NW", "NR", "NX"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- string to descriptor ----------------------------------------------------------------- */

/* The text of one part or field: s[i..end). */
struct cursor {
    const char *s;
    size_t i, end;
};

static void skip_spaces(struct cursor *c)
{
    while (c->i < c->end && c->s[c->i] == ' ') c->i++;
}

static bool at(const struct cursor *c, char ch)
{
    return c->i < c->end && c->s[c->i] == ch;
}

static bool take(struct cursor *c, char ch)
{
    if (!at(c, ch)) return false;
    c->i++;
    return true;
}

static bool take_word(struct cursor *c, const char *word)
{
    size_t n = strlen(word);
    if (c->end - c->i < n || memcmp(c->s + c->i, word, n) != 0) return false;
    c->i += n;
    return true;
}

static unsigned digit_value(char ch)
{
    return ch >= '0' && ch <= '9' ? (unsigned)(ch - '0')
           : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
           : ch >= 'A' && ch <= 'F' ? (unsigned)(ch - 'A' + 10)
                                    : 99;
}

/* A number of a rights field, as strtoul with base 0 reads it: "0x"/"0X" then hex, "0" then
 * octal, else decimal. Fails past 32 bits (Windows' wcstoul would clamp: nsem refuses). */
static bool take_number(struct cursor *c, uint32_t *out)
{
    unsigned base = 10;
    if (at(c, '0')) {
        base = 8;
        if (c->end - c->i > 2 && (c->s[c->i + 1] == 'x' || c->s[c->i + 1] == 'X') && digit_value(c->s[c->i + 2]) < 16) {
            base = 16;
            c->i += 2;
        }
    }
    uint64_t v = 0;
    for (unsigned d; c->i < c->end && (d = digit_value(c->s[c->i])) < base; c->i++) {
        v = v * base + d;
        if (v > UINT32_MAX) return false;
    }
    *out = (uint32_t)v;
    return true;
}

static bool take_rights(struct cursor *c, uint32_t *mask)
{
    *mask = 0;
    while (c->i < c->end && c->s[c->i] != ';') {
        uint32_t part = 0;
        char ch = c->s[c->i];
        if (ch >= '0' && ch <= '9') {
            if (!take_number(c, &part)) return false;
        } else {
            size_t k = 0;
            while (k < COUNT(rights) && !(c->end - c->i >= 2 && memcmp(c->s + c->i, rights[k].name, 2) == 0)) k++;
            if (k == COUNT(rights)) return false;
            part = rights[k].mask;
            c->i += 2;
        }
        *mask |= part;
    }
    return true;
}

static bool take_flags(struct cursor *c, uint8_t *flags)
{
    *flags = 0;
    while (c->i < c->end && c->s[c->i] != ';') {
        size_t k = 0;
        while (k < COUNT(ace_flags) && !(c->end - c->i >= 2 && memcmp(c->s + c->i, ace_flags[k].name, 2) == 0)) k++;
        if (k == COUNT(ace_flags)) return false;
        *flags |= ace_flags[k].flag;
        c->i += 2;
    }
    return true;
}

/* The type, exactly: "D " is not "D" (Windows fails it). */
static bool take_type(struct cursor *c, uint8_t *type)
{
    size_t j = c->i;
    while (j < c->end && c->s[j] != ';') j++;
    for (size_t k = 0; k < COUNT(ace_types); k++) {
        if (strlen(ace_types[k].name) == j - c->i && memcmp(c->s + c->i, ace_types[k].name, j - c->i) == 0) {
            *type = ace_types[k].type;
            c->i = j;
            return true;
        }
    }
    return false;
}

/* One "(type;flags;rights;;;sid)" at the cursor's '(' into the builder; false if malformed. */
static bool take_ace(struct cursor *c, struct nsem_acl_builder *b)
{
    uint8_t type, flags;
    uint32_t mask;
    struct nsem_sid sid;
    if (!take(c, '(')) return false;
    skip_spaces(c);
    if (!take_type(c, &type) || !take(c, ';')) return false;
    skip_spaces(c);
    if (!take_flags(c, &flags) || !take(c, ';')) return false;
    skip_spaces(c);
    if (!take_rights(c, &mask) || !take(c, ';')) return false;
    /* The object type and inherited object type GUIDs: nsem has no object ACEs. */
    for (int guid = 0; guid < 2; guid++) {
        skip_spaces(c);
        if (!take(c, ';')) return false;
    }
    skip_spaces(c);
    size_t start = c->i;
    while (c->i < c->end && c->s[c->i] != ')' && c->s[c->i] != ' ') c->i++;
    if (nsem__sid_parse(c->s + start, c->i - start, &sid) != 0) return false;
    skip_spaces(c);
    if (!take(c, ')')) return false;
    nsem__acl_add(b, type, flags, mask, sid.b);
    return true;
}

/* The text of a "D:" or "S:" part: its flags (as the DACL's SE_* bits) and its ACL, or a NULL ACL. */
static DWORD parse_acl(struct cursor *c, uint16_t *flags, unsigned char **acl, size_t *size)
{
    bool null_acl = false;
    *flags = 0;
    *acl = NULL;
    skip_spaces(c);
    while (c->i < c->end && !at(c, '(')) {
        if (take(c, ' '))
            continue;
        else if (take(c, 'P'))
            *flags |= SE_DACL_PROTECTED;
        else if (take_word(c, "AR"))
            *flags |= SE_DACL_AUTO_INHERIT_REQ;
        else if (take_word(c, "AI"))
            *flags |= SE_DACL_AUTO_INHERITED;
        else if (take_word(c, NO_ACCESS_CONTROL))
            null_acl = true;
        else
            return ERROR_INVALID_ACL;
    }
    struct nsem_acl_builder b;
    nsem__acl_builder_init(&b);
    bool ok = true;
    while (ok && c->i < c->end) {
        if (take(c, ' ')) continue;
        ok = take_ace(c, &b);
    }
    if (!ok || (null_acl && b.count)) b.error = ERROR_INVALID_ACL; /* NO_ACCESS_CONTROL has no ACEs */
    DWORD e = nsem__acl_finish(&b, acl, size);
    if (!e && null_acl) {
        free(*acl);
        *acl = NULL;
    }
    return e;
}

/* The text of an "O:" or "G:" part: one SID, spaces around it. */
static DWORD parse_sid_part(struct cursor *c, struct nsem_sid *sid)
{
    skip_spaces(c);
    size_t end = c->end;
    while (end > c->i && c->s[end - 1] == ' ') end--;
    return nsem__sid_parse(c->s + c->i, end - c->i, sid);
}

/* Where the text of the part starting at `start` ends: before the letter of the next "X:". */
static size_t part_end(const char *s, size_t start, size_t n)
{
    const char *colon = memchr(s + start, ':', n - start);
    if (!colon) return n;
    size_t at_colon = (size_t)(colon - s);
    return at_colon > start ? at_colon - 1 : start;
}

DWORD nsem__sddl_to_sd(const char *s, unsigned char **out, size_t *out_len)
{
    static const char kinds[] = "OGDS";
    size_t n = strlen(s);
    struct nsem_sid owner, group;
    unsigned char *dacl = NULL, *sacl = NULL;
    struct nsem_sd p = {0};
    bool seen[4] = {false, false, false, false};
    DWORD e = 0;
    struct cursor c = {s, 0, n};
    skip_spaces(&c);
    while (!e && c.i < n) {
        const char *kind = strchr(kinds, s[c.i]);
        if (!kind || c.i + 1 >= n || s[c.i + 1] != ':' || seen[kind - kinds]) {
            e = ERROR_INVALID_PARAMETER;
            break;
        }
        seen[kind - kinds] = true;
        size_t start = c.i + 2;
        struct cursor part = {s, start, part_end(s, start, n)};
        uint16_t flags;
        size_t size;
        switch (*kind) {
        case 'O':
            if (!(e = parse_sid_part(&part, &owner))) p.owner = owner.b;
            break;
        case 'G':
            if (!(e = parse_sid_part(&part, &group))) p.group = group.b;
            break;
        case 'D':
            if (!(e = parse_acl(&part, &flags, &dacl, &size))) {
                p.dacl_present = true;
                p.dacl = dacl;
                p.control |= flags;
            }
            break;
        default: /* 'S': the same flags, in the SACL's bits */
            if (!(e = parse_acl(&part, &flags, &sacl, &size))) {
                p.sacl_present = true;
                p.sacl = sacl;
                if (flags & SE_DACL_PROTECTED) p.control |= SE_SACL_PROTECTED;
                if (flags & SE_DACL_AUTO_INHERIT_REQ) p.control |= SE_SACL_AUTO_INHERIT_REQ;
                if (flags & SE_DACL_AUTO_INHERITED) p.control |= SE_SACL_AUTO_INHERITED;
            }
            break;
        }
        c.i = part.end;
    }
    if (!e) e = nsem__sd_build(&p, out, out_len);
    free(dacl);
    free(sacl);
    return e;
}

/* ---- descriptor to string ----------------------------------------------------------------- */

struct out {
    char *p;
    size_t len, cap;
    bool oom;
};

static void put(struct out *o, const char *s)
{
    size_t n = strlen(s);
    if (o->oom) return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 128;
        while (cap < o->len + n + 1) cap *= 2;
        char *p = realloc(o->p, cap);
        if (!p) {
            o->oom = true;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n + 1);
    o->len += n;
}

static void put_sid(struct out *o, const unsigned char *sid)
{
    char buf[NSEM_SID_STRING_MAX];
    const char *alias = nsem__sid_alias(sid);
    if (alias) {
        put(o, alias);
        return;
    }
    nsem__sid_format(sid, buf);
    put(o, buf);
}

/* A mask as Windows writes it: a code naming the whole mask; else the names of its bits if every
 * bit has one; else hex. A mandatory label's policy has its own names. */
static void put_rights(struct out *o, uint8_t type, uint32_t mask)
{
    char hex[16];
    if (mask == 0) return;
    if (type == SYSTEM_MANDATORY_LABEL_ACE_TYPE && mask <= 7) {
        for (int bit = 0; bit < 3; bit++)
            if (mask >> bit & 1) put(o, label_bit_names[bit]);
        return;
    }
    for (size_t k = 0; k < COUNT(rights); k++) {
        if (rights[k].mask == mask) {
            put(o, rights[k].name);
            return;
        }
    }
    uint32_t named = 0;
    for (int bit = 0; bit < 32; bit++)
        if (bit_names[bit]) named |= UINT32_C(1) << bit;
    if (mask & ~named) {
        snprintf(hex, sizeof hex, "0x%x", (unsigned)mask);
        put(o, hex);
        return;
    }
    for (int bit = 0; bit < 32; bit++)
        if (mask >> bit & 1) put(o, bit_names[bit]);
}

static DWORD put_ace(struct out *o, const struct nsem_ace *ace)
{
    size_t k = 0;
    while (k < COUNT(ace_types) && ace_types[k].type != ace->type) k++;
    if (k == COUNT(ace_types)) return ERROR_INVALID_ACL;
    put(o, "(");
    put(o, ace_types[k].name);
    put(o, ";");
    for (size_t f = 0; f < COUNT(ace_flags); f++)
        if (ace->flags & ace_flags[f].flag) put(o, ace_flags[f].name);
    put(o, ";");
    put_rights(o, ace->type, ace->mask);
    put(o, ";;;");
    put_sid(o, ace->sid);
    put(o, ")");
    return 0;
}

/* "D:" or "S:" with its flags (the control bits given) and ACEs, or NO_ACCESS_CONTROL. */
static DWORD put_acl(struct out *o, const char *prefix, const unsigned char *acl, uint16_t control,
                     uint16_t protected_bit, uint16_t auto_req_bit, uint16_t auto_bit)
{
    put(o, prefix);
    if (control & protected_bit) put(o, "P");
    if (control & auto_req_bit) put(o, "AR");
    if (control & auto_bit) put(o, "AI");
    if (!acl) {
        put(o, NO_ACCESS_CONTROL);
        return 0;
    }
    struct nsem_ace_iter it;
    struct nsem_ace ace;
    nsem__ace_iter_init(&it, acl);
    while (nsem__ace_iter_next(&it, &ace)) {
        DWORD e = put_ace(o, &ace);
        if (e) return e;
    }
    return 0;
}

DWORD nsem__sd_to_sddl(const void *sd, size_t sd_len, uint32_t info, char **out, size_t *len)
{
    struct nsem_sd p;
    DWORD e = nsem__sd_check(sd, sd_len, &p);
    if (e) return e;
    struct out o = {NULL, 0, 0, false};
    put(&o, ""); /* an empty selection is "", not NULL */
    if ((info & OWNER_SECURITY_INFORMATION) && p.owner) {
        put(&o, "O:");
        put_sid(&o, p.owner);
    }
    if ((info & GROUP_SECURITY_INFORMATION) && p.group) {
        put(&o, "G:");
        put_sid(&o, p.group);
    }
    if ((info & DACL_SECURITY_INFORMATION) && p.dacl_present)
        e = put_acl(&o, "D:", p.dacl, p.control, SE_DACL_PROTECTED, SE_DACL_AUTO_INHERIT_REQ, SE_DACL_AUTO_INHERITED);
    if (!e && (info & SACL_SECURITY_INFORMATION) && p.sacl_present)
        e = put_acl(&o, "S:", p.sacl, p.control, SE_SACL_PROTECTED, SE_SACL_AUTO_INHERIT_REQ, SE_SACL_AUTO_INHERITED);
    if (!e && o.oom) e = ERROR_NOT_ENOUGH_MEMORY;
    if (e) {
        free(o.p);
        return e;
    }
    *out = o.p;
    *len = o.len;
    return 0;
}

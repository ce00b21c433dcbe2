/*
 * names.c — fuzz-names: object names, from the library's conversion (src/lib/names.c) to the
 * server's resolver (nsem__resolve_name, src/server/namespace.c), checked against what they promise.
 *
 * Input: byte 0 chooses how the name is given to the library's W conversion (% 4: as UTF-16 units,
 * as raw 32-bit values, as the UTF-8 of the rest decoded, or, when byte 0 is 0xF3, as UTF-16 units
 * repeated past Windows' cap: slow, so rare);
 * byte 1 is the caller's session (% 8); byte 2 says which of the sessions 0..7 exist; the rest is
 * the name.
 *
 * The resolver: a leaf is the input's last element (within it, no '\', not a link); errors are the
 * five Windows ones; and the links behave as links: "Local\" + n resolves as n, "Global\" + n as n
 * from session 0, "Session\<s>\" + n as n from session s (when s exists).
 * The conversions: W output decodes back to exactly the input, cut at 32766 UTF-16 units, and fits
 * a frame; valid UTF-8 goes to wchar_t and back unchanged; an A name of at most 260 bytes is taken.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "fuzz/check.h"
#include "lib/client.h"
#include "server/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t session_mask;

static bool session_exists(uint32_t session)
{
    return session < 8 && (session_mask >> session & 1u);
}

/* ---- the resolver ------------------------------------------------------------------------- */

struct outcome {
    DWORD error;
    uint32_t session;
    const char *leaf;
    uint32_t leaf_len;
};

static bool is_link(const char *e, uint32_t len)
{
    return (len == 6 && memcmp(e, "Global", 6) == 0) || (len == 5 && memcmp(e, "Local", 5) == 0) ||
           (len == 7 && memcmp(e, "Session", 7) == 0);
}

static struct outcome resolve(const char *name, uint32_t len, uint32_t caller)
{
    struct nsem_resolved r = {0xdeadbeefu, NULL, 0xdeadbeefu};
    struct outcome o = {nsem__resolve_name(name, len, caller, session_exists, &r), 0, NULL, 0};
    if (o.error) {
        CHECK(o.error == ERROR_INVALID_NAME || o.error == ERROR_BAD_PATHNAME || o.error == ERROR_PATH_NOT_FOUND ||
              o.error == ERROR_FILE_NOT_FOUND || o.error == ERROR_INVALID_HANDLE);
        return o;
    }
    /* The leaf is the last element of the input, not empty, and not a link. */
    CHECK(len > 0 && name[0] != '\\');
    CHECK(r.leaf >= name && r.leaf_len > 0 && r.leaf + r.leaf_len == name + len);
    CHECK(memchr(r.leaf, '\\', r.leaf_len) == NULL && !is_link(r.leaf, r.leaf_len));
    CHECK(r.leaf == name || r.leaf[-1] == '\\');
    CHECK(r.session == caller || r.session == 0 || session_exists(r.session));
    o.session = r.session;
    o.leaf = r.leaf;
    o.leaf_len = r.leaf_len;
    return o;
}

static void check_same(struct outcome a, struct outcome b)
{
    CHECK(a.error == b.error);
    if (a.error) return;
    CHECK(a.session == b.session && a.leaf_len == b.leaf_len && memcmp(a.leaf, b.leaf, a.leaf_len) == 0);
}

/* Resolves prefix + name from `caller`. */
static struct outcome resolve_prefixed(char *buf, const char *prefix, const char *name, uint32_t len, uint32_t caller)
{
    size_t p = strlen(prefix);
    memcpy(buf, prefix, p);
    memcpy(buf + p, name, len);
    return resolve(buf, (uint32_t)(p + len), caller);
}

static void fuzz_resolver(const char *name, uint32_t len, uint32_t caller)
{
    struct outcome o = resolve(name, len, caller);
    check_same(o, resolve(name, len, caller)); /* pure: the same answer again */
    if (len > 0 && name[0] == '\\') {
        CHECK(o.error == ERROR_BAD_PATHNAME);
        return;
    }
    char *buf = malloc(len + 32);
    CHECK(buf);
    check_same(resolve_prefixed(buf, "Local\\", name, len, caller), o);
    check_same(resolve_prefixed(buf, "Global\\", name, len, caller), resolve(name, len, 0));
    for (uint32_t s = 0; s < 8; s++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "Session\\%u\\", s);
        struct outcome via = resolve_prefixed(buf, prefix, name, len, caller);
        if (session_exists(s)) check_same(via, resolve(name, len, s));
        else CHECK(via.error == ERROR_PATH_NOT_FOUND);
    }
    free(buf);
}

/* ---- the conversions ---------------------------------------------------------------------- */

/* Decodes WTF-8 (UTF-8 that may encode surrogates), strictly; false on anything else. */
static bool decode_wtf8(const unsigned char *s, size_t len, uint32_t *out, size_t *n, size_t cap,
                        bool allow_surrogates)
{
    size_t k = 0;
    for (size_t i = 0; i < len;) {
        if (k == cap) return false;
        uint32_t c = s[i], need, min;
        if (c < 0x80) need = 0, min = 0;
        else if ((c >> 5) == 6) need = 1, min = 0x80, c &= 0x1F;
        else if ((c >> 4) == 14) need = 2, min = 0x800, c &= 0x0F;
        else if ((c >> 3) == 30) need = 3, min = 0x10000, c &= 0x07;
        else return false;
        if (len - i - 1 < need) return false;
        for (uint32_t j = 1; j <= need; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return false;
            c = c << 6 | (s[i + j] & 0x3Fu);
        }
        if (c < min || c > 0x10FFFF || (!allow_surrogates && c >= 0xD800 && c <= 0xDFFF)) return false;
        out[k++] = c;
        i += need + 1;
    }
    *n = k;
    return true;
}

/* nsem__name_w of w[0..n) (no 0 inside): the input cut at Windows' cap, as WTF-8. */
static void check_name_w(const wchar_t *w, size_t n)
{
    char *out = NULL;
    uint32_t len = 0xdeadbeefu;
    DWORD e = nsem__name_w(w, &out, &len);
    /* What it must do: take characters while they fit 32766 units; fail on a non-character. */
    size_t fit = 0, units = 0;
    bool bad = false;
    for (; fit < n; fit++) {
        uint32_t c = (uint32_t)w[fit], u = c > 0xFFFF ? 2 : 1;
        if (c > 0x10FFFF) {
            bad = true;
            break;
        }
        if (units + u > NSEM_NAME_MAX_UNITS) break;
        units += u;
    }
    if (bad) {
        CHECK(e == ERROR_INVALID_NAME);
        return;
    }
    CHECK(e == 0);
    CHECK(len <= NSEM_NAME_MAX_BYTES && memchr(out, 0, len) == NULL); /* a frame takes it */
    uint32_t *cp = malloc((fit + 1) * sizeof *cp);
    size_t m = 0;
    CHECK(cp && decode_wtf8((const unsigned char *)out, len, cp, &m, fit + 1, true));
    CHECK(m == fit);
    for (size_t i = 0; i < m; i++) CHECK(cp[i] == (uint32_t)w[i]);
    free(cp);
    fuzz_resolver(out, len, 0);
    free(out);
}

/* Valid UTF-8 to wchar_t and back through nsem__name_w: the same bytes. And nsem__name_a. */
static void check_utf8(const char *s, size_t len)
{
    const char *a_out = NULL;
    uint32_t a_len = 0;
    DWORD e = nsem__name_a(s, &a_out, &a_len);
    CHECK(e == 0 || e == ERROR_FILENAME_EXCED_RANGE);
    if (e == 0) CHECK(a_out == s && a_len == len);
    if (len <= MAX_PATH) CHECK(e == 0); /* a unit takes at least a byte */

    uint32_t *cp = malloc((len + 1) * sizeof *cp);
    size_t n = 0;
    CHECK(cp);
    if (decode_wtf8((const unsigned char *)s, len, cp, &n, len + 1, false)) {
        size_t units = 0;
        wchar_t *w = malloc((n + 1) * sizeof *w);
        CHECK(w);
        for (size_t i = 0; i < n; i++) {
            w[i] = (wchar_t)cp[i];
            units += cp[i] > 0xFFFF ? 2 : 1;
        }
        w[n] = 0;
        CHECK((e == 0) == (units <= MAX_PATH && len <= 4 * MAX_PATH)); /* A names: MAX_PATH units */
        char *out = NULL;
        uint32_t out_len = 0;
        CHECK(nsem__name_w(w, &out, &out_len) == 0);
        if (units <= NSEM_NAME_MAX_UNITS) CHECK(out_len == len && memcmp(out, s, len) == 0);
        free(out);
        free(w);
    }
    free(cp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    unsigned mode = data[0] == 0xF3 ? 3u : data[0] % 3u;
    uint32_t caller = data[1] % 8u;
    session_mask = data[2];
    const char *name = (const char *)data + 3;
    size_t len = size - 3;

    fuzz_resolver(name, (uint32_t)len, caller);

    /* The library's forms stop at the first NUL, as C strings do. */
    size_t n;
    wchar_t *w;
    switch (mode) {
    case 0:   /* UTF-16 units */
    case 3: { /* the same, repeated past 32766 units */
        size_t units = len / 2, total = mode == 3 && units ? NSEM_NAME_MAX_UNITS + 2 + data[1] : units;
        w = malloc((total + 1) * sizeof *w);
        CHECK(w);
        for (size_t i = 0; i < total; i++)
            w[i] = (wchar_t)(data[3 + 2 * (i % units)] | data[4 + 2 * (i % units)] << 8);
        n = total;
        break;
    }
    case 1: /* raw values */
        n = len / 4;
        w = malloc((n + 1) * sizeof *w);
        CHECK(w);
        for (size_t i = 0; i < n; i++) memcpy(&w[i], data + 3 + 4 * i, sizeof w[i]);
        break;
    default: { /* UTF-8 */
        char *s = malloc(len + 1);
        CHECK(s);
        memcpy(s, name, len);
        s[len] = 0;
        check_utf8(s, strlen(s));
        free(s);
        return 0;
    }
    }
    w[n] = 0;
    check_name_w(w, wcslen(w));
    free(w);
    return 0;
}

/*
 * names.c — object names from the A (UTF-8) and W (wchar_t) forms to the UTF-8 bytes of the
 * protocol, with Windows' length rules:
 *   A: converted into a MAX_PATH buffer, so more than 260 UTF-16 units -> ERROR_FILENAME_EXCED_RANGE;
 *   W: RtlInitUnicodeString caps a name at 32766 UTF-16 units; longer names are truncated.
 * Lone surrogates in a W name are kept (encoded as three bytes, as WTF-8), so every W name maps to
 * one byte string and back.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/client.h"

/* UTF-16 units of a UTF-8 string; a byte that starts no valid sequence counts as one unit. */
static uint32_t utf16_units(const unsigned char *s, size_t len)
{
    uint32_t units = 0;
    for (size_t i = 0; i < len;) {
        unsigned c = s[i];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
        if (i + n > len) n = 1;
        units += n == 4 ? 2 : 1;
        i += n;
    }
    return units;
}

DWORD nsem__name_a(const char *a, const char **out, uint32_t *len)
{
    size_t n = strlen(a);
    if (n > 4 * MAX_PATH || utf16_units((const unsigned char *)a, n) > MAX_PATH) return ERROR_FILENAME_EXCED_RANGE;
    *out = a;
    *len = (uint32_t)n;
    return 0;
}

DWORD nsem__name_w(const wchar_t *w, char **out, uint32_t *len)
{
    size_t chars = wcslen(w);
    size_t cap = (chars < NSEM_NAME_MAX_UNITS ? chars : NSEM_NAME_MAX_UNITS) * 4 + 1;
    unsigned char *buf = malloc(cap);
    if (!buf) return ERROR_NOT_ENOUGH_MEMORY;
    size_t o = 0;
    uint32_t units = 0;
    for (size_t i = 0; i < chars; i++) {
        uint32_t c = (uint32_t)w[i];
        if (c > 0x10FFFF) {
            free(buf);
            return ERROR_INVALID_NAME;
        }
        uint32_t u = c > 0xFFFF ? 2 : 1;
        if (units + u > NSEM_NAME_MAX_UNITS) break; /* Windows' silent truncation */
        units += u;
        if (c < 0x80) {
            buf[o++] = (unsigned char)c;
        } else if (c < 0x800) {
            buf[o++] = (unsigned char)(0xC0 | (c >> 6));
            buf[o++] = (unsigned char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            buf[o++] = (unsigned char)(0xE0 | (c >> 12));
            buf[o++] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            buf[o++] = (unsigned char)(0x80 | (c & 0x3F));
        } else {
            buf[o++] = (unsigned char)(0xF0 | (c >> 18));
            buf[o++] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
            buf[o++] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            buf[o++] = (unsigned char)(0x80 | (c & 0x3F));
        }
    }
    *out = (char *)buf;
    *len = (uint32_t)o;
    return 0;
}

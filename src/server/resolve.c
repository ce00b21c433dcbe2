/*
 * resolve.c — resolution of a Win32 object name to a namespace and a leaf (pure: unit-tested
 * alone).
 *
 * The namespaces are Windows' \BaseNamedObjects (session 0, "Global") and one per session
 * (\Sessions\<n>\BaseNamedObjects, "Local"). Inside every namespace three links exist, matched
 * case-sensitively: "Global" (to session 0's), "Local" (to itself) and "Session" (to the
 * directory of sessions, whose entries are "<n>"). Resolution errors are Windows':
 *   leading '\'                               ERROR_BAD_PATHNAME    (OBJECT_PATH_SYNTAX_BAD)
 *   empty element ("Global\", "Global\\x")    ERROR_INVALID_NAME    (OBJECT_NAME_INVALID)
 *   '\' after an element that is not a link  ERROR_PATH_NOT_FOUND  (OBJECT_PATH_NOT_FOUND)
 *   the name is a link itself ("Local")       ERROR_INVALID_HANDLE  (OBJECT_TYPE_MISMATCH)
 */
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

enum dir_kind { DIR_NAMESPACE, DIR_SESSIONS };

static bool element_is(const char *e, uint32_t len, const char *word)
{
    return strlen(word) == len && memcmp(e, word, len) == 0;
}

/* A session number as Windows writes it: decimal, no sign, no leading zero. */
static bool parse_session(const char *e, uint32_t len, uint32_t *out)
{
    if (len == 0 || len > 10 || (len > 1 && e[0] == '0')) return false;
    uint64_t n = 0;
    for (uint32_t i = 0; i < len; i++) {
        if (e[i] < '0' || e[i] > '9') return false;
        n = n * 10 + (uint64_t)(e[i] - '0');
    }
    if (n > UINT32_MAX) return false;
    *out = (uint32_t)n;
    return true;
}

DWORD nsem__resolve_name(const char *name, uint32_t len, uint32_t caller_session,
                         bool (*session_exists)(uint32_t session), struct nsem_resolved *out)
{
    if (len == 0) return ERROR_INVALID_NAME;
    if (name[0] == '\\') return ERROR_BAD_PATHNAME;
    enum dir_kind kind = DIR_NAMESPACE;
    uint32_t session = caller_session;
    uint32_t pos = 0;
    for (;;) {
        const char *e = name + pos;
        const char *slash = memchr(e, '\\', len - pos);
        uint32_t elen = slash ? (uint32_t)(slash - e) : len - pos;
        bool last = slash == NULL;
        if (elen == 0) return ERROR_INVALID_NAME;
        if (kind == DIR_NAMESPACE) {
            if (element_is(e, elen, "Global")) {
                session = 0;
            } else if (element_is(e, elen, "Local")) {
                /* stays in this namespace */
            } else if (element_is(e, elen, "Session")) {
                kind = DIR_SESSIONS;
            } else {
                if (!last) return ERROR_PATH_NOT_FOUND;
                out->session = session;
                out->leaf = e;
                out->leaf_len = elen;
                return 0;
            }
        } else {
            uint32_t n;
            if (!parse_session(e, elen, &n) || !session_exists(n)) return last ? ERROR_FILE_NOT_FOUND : ERROR_PATH_NOT_FOUND;
            kind = DIR_NAMESPACE;
            session = n;
        }
        if (last) return ERROR_INVALID_HANDLE; /* the name is a link to a directory */
        pos += elen + 1;
    }
}

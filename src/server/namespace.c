/*
 * namespace.c — object names: resolution of a Win32 name to a namespace and a leaf, and the
 * table of named objects.
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

/* ---- the table of named objects ---------------------------------------------------------- */

static struct nsem_obj **buckets;
static uint32_t nbuckets; /* a power of two */
static uint32_t nnamed;

static uint32_t name_hash(uint32_t session, const char *s, uint32_t len)
{
    uint32_t h = 2166136261u ^ session; /* FNV-1a */
    for (uint32_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

struct nsem_obj *nsem__ns_lookup(uint32_t session, const char *leaf, uint32_t leaf_len)
{
    if (!nbuckets) return NULL;
    for (struct nsem_obj *o = buckets[name_hash(session, leaf, leaf_len) & (nbuckets - 1)]; o; o = o->hash_next)
        if (o->session == session && o->name_len == leaf_len && memcmp(o->name, leaf, leaf_len) == 0) return o;
    return NULL;
}

static int grow(void)
{
    uint32_t n = nbuckets ? nbuckets * 2 : 1024;
    struct nsem_obj **b = calloc(n, sizeof *b);
    if (!b) return -1;
    for (uint32_t i = 0; i < nbuckets; i++) {
        struct nsem_obj *o = buckets[i];
        while (o) {
            struct nsem_obj *next = o->hash_next;
            uint32_t k = name_hash(o->session, o->name, o->name_len) & (n - 1);
            o->hash_next = b[k];
            b[k] = o;
            o = next;
        }
    }
    free(buckets);
    buckets = b;
    nbuckets = n;
    return 0;
}

int nsem__ns_link(struct nsem_obj *obj, uint32_t session, const char *leaf, uint32_t leaf_len)
{
    if (nnamed >= nbuckets && grow() != 0 && !nbuckets) return -1;
    char *copy = malloc(leaf_len ? leaf_len : 1);
    if (!copy) return -1;
    memcpy(copy, leaf, leaf_len);
    obj->name = copy;
    obj->name_len = leaf_len;
    obj->session = session;
    uint32_t k = name_hash(session, leaf, leaf_len) & (nbuckets - 1);
    obj->hash_next = buckets[k];
    buckets[k] = obj;
    nnamed++;
    nsem__session_ref(session);
    return 0;
}

void nsem__ns_unlink(struct nsem_obj *obj)
{
    struct nsem_obj **p = &buckets[name_hash(obj->session, obj->name, obj->name_len) & (nbuckets - 1)];
    while (*p != obj) p = &(*p)->hash_next;
    *p = obj->hash_next;
    nnamed--;
    nsem__session_unref(obj->session);
    free(obj->name);
    obj->name = NULL;
    obj->hash_next = NULL;
}

/* ---- sessions: one exists while a client or a named object is in it ---------------------- */

struct session_ref {
    uint32_t id, refs;
};
static struct session_ref *sessions;
static uint32_t nsessions, sessions_cap;

void nsem__session_ref(uint32_t session)
{
    for (uint32_t i = 0; i < nsessions; i++)
        if (sessions[i].id == session) {
            sessions[i].refs++;
            return;
        }
    if (nsessions == sessions_cap) {
        uint32_t cap = sessions_cap ? sessions_cap * 2 : 8;
        struct session_ref *n = realloc(sessions, cap * sizeof *n);
        if (!n) return; /* the session merely looks absent to "Session\<n>" */
        sessions = n;
        sessions_cap = cap;
    }
    sessions[nsessions++] = (struct session_ref){session, 1};
}

void nsem__session_unref(uint32_t session)
{
    for (uint32_t i = 0; i < nsessions; i++)
        if (sessions[i].id == session) {
            if (--sessions[i].refs == 0) sessions[i] = sessions[--nsessions];
            return;
        }
}

bool nsem__session_exists(uint32_t session)
{
    if (session == 0) return true;
    for (uint32_t i = 0; i < nsessions; i++)
        if (sessions[i].id == session) return true;
    return false;
}

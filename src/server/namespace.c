/*
 * namespace.c — the table of named objects (by namespace and leaf, resolve.c gives both) and the
 * sessions that exist.
 */
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

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

static void hash_in(struct nsem_obj *obj)
{
    uint32_t k = name_hash(obj->session, obj->name, obj->name_len) & (nbuckets - 1);
    obj->hash_next = buckets[k];
    buckets[k] = obj;
    nnamed++;
    nsem__session_ref(obj->session);
}

int nsem__ns_adopt(struct nsem_obj *obj, char *name, uint32_t len, uint32_t session)
{
    if (nnamed >= nbuckets && grow() != 0 && !nbuckets) return -1;
    obj->name = name;
    obj->name_len = len;
    obj->session = session;
    hash_in(obj);
    return 0;
}

int nsem__ns_link(struct nsem_obj *obj, uint32_t session, const char *leaf, uint32_t leaf_len)
{
    if (nnamed >= nbuckets && grow() != 0 && !nbuckets) return -1;
    /* Without room for it in the arena, the name lives but a restart would not find it. */
    struct nsem_slot *s = nsem__obj_slot(obj);
    s->name_slot = nsem__blob_write(NSEM_TYPE_NAME_CHUNK, obj->slot, leaf, leaf_len);
    s->session = session;
    char *name = nsem__blob_inline(NSEM_TYPE_NAME_CHUNK, s->name_slot, obj->slot, leaf_len);
    if (!name && (name = malloc(leaf_len ? leaf_len : 1))) memcpy(name, leaf, leaf_len);
    if (!name) {
        nsem__blob_free(NSEM_TYPE_NAME_CHUNK, s->name_slot, obj->slot);
        s->name_slot = 0;
        return -1;
    }
    obj->name = name;
    obj->name_len = leaf_len;
    obj->session = session;
    hash_in(obj);
    return 0;
}

/* The link to obj in its bucket; NULL if not there. */
static struct nsem_obj **link_in(uint32_t bucket, const struct nsem_obj *obj)
{
    struct nsem_obj **p = &buckets[bucket];
    while (*p && *p != obj) p = &(*p)->hash_next;
    return *p ? p : NULL;
}

void nsem__ns_unlink(struct nsem_obj *obj)
{
    struct nsem_obj **p = link_in(name_hash(obj->session, obj->name, obj->name_len) & (nbuckets - 1), obj);
    /* A name in the arena that a client scribbled over hashes elsewhere: look everywhere. */
    for (uint32_t b = 0; !p && b < nbuckets; b++) p = link_in(b, obj);
    if (p) *p = obj->hash_next;
    nnamed--;
    nsem__session_unref(obj->session);
    if (!nsem__arena_contains(obj->name)) free(obj->name);
    struct nsem_slot *s = nsem__obj_slot(obj);
    nsem__blob_free(NSEM_TYPE_NAME_CHUNK, s->name_slot, obj->slot);
    s->name_slot = 0;
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
    if (session >= NSEM_PRIVATE_NS_FIRST) return false; /* only an alias enters a private namespace */
    for (uint32_t i = 0; i < nsessions; i++)
        if (sessions[i].id == session) return true;
    return false;
}

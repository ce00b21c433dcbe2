/*
 * privns.c — private namespaces (CreatePrivateNamespace, OpenPrivateNamespace): a namespace of
 * object names found by its *boundary* — a name and a set of SIDs, all of which the caller must
 * have — rather than by a name of its own, and entered only through an *alias* that each process
 * gives it: "alias\name" names the object "name" in it, for that process only.
 *
 * A namespace is an object (type NSEM_TYPE_NAMESPACE, not waitable) held by its handles; while it
 * lives and is not destroyed, its boundary finds it. Object names in it are kept in the table of
 * names under a key of the private range (NSEM_PRIVATE_NS_FIRST and up), which no "Session\<n>"
 * reaches. An alias lives as long as the handle it came with.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/sid.h"
#include "common/token.h"
#include "server/server.h"

struct privns {
    struct nsem_obj *obj;
    uint32_t key;            /* its names' namespace key */
    bool findable;           /* not destroyed: its boundary finds it */
    char *boundary;          /* the boundary's name */
    uint32_t boundary_len;
    struct nsem_sid *sids;   /* sorted, so that equal sets compare equal */
    uint32_t nsids;
    struct privns *next;
};
static struct privns *all;
static uint32_t next_key = NSEM_PRIVATE_NS_FIRST;

struct nsem_alias {
    char *alias;
    uint32_t alias_len;
    uint32_t handle; /* the namespace handle it came with */
    struct nsem_obj *ns;
    struct nsem_alias *next;
};

static struct privns *priv_of(const struct nsem_obj *obj)
{
    return obj->priv;
}

static DWORD ns_check_params(const struct nsem_create_params *p)
{
    return 0;
}

static void ns_init(struct nsem_slot *slot, const struct nsem_create_params *p)
{
    atomic_store(&slot->state, nsem_word(0, 0)); /* seq_cst, as every state store; never changes */
}

static bool ns_client_gone(struct nsem_obj *obj, uint32_t client_id, pid_t pid)
{
    return true; /* nothing is owned in a namespace */
}

static void ns_query(const struct nsem_obj *obj, struct nsem_obj_state *rep)
{
    rep->count = 0;
    rep->max = 0;
}

static void ns_destroy(struct nsem_obj *obj)
{
    struct privns *n = priv_of(obj);
    for (struct privns **p = &all; *p; p = &(*p)->next)
        if (*p == n) {
            *p = n->next;
            break;
        }
    free(n->boundary);
    free(n->sids);
    free(n);
}

const struct nsem_obj_ops nsem__namespace_ops = {
    .type = NSEM_TYPE_NAMESPACE,
    .type_name = "Directory",
    .valid_access = DIRECTORY_ALL_ACCESS,
    .mapping = {.read = STANDARD_RIGHTS_READ | DIRECTORY_QUERY | DIRECTORY_TRAVERSE,
                .write = STANDARD_RIGHTS_WRITE | DIRECTORY_CREATE_OBJECT | DIRECTORY_CREATE_SUBDIRECTORY,
                .execute = STANDARD_RIGHTS_EXECUTE | DIRECTORY_QUERY | DIRECTORY_TRAVERSE,
                .all = DIRECTORY_ALL_ACCESS},
    .check_params = ns_check_params,
    .init = ns_init,
    .client_gone = ns_client_gone,
    .query = ns_query,
    .destroy = ns_destroy,
};

/* ---- boundaries ---------------------------------------------------------------------------- */

static int sid_order(const void *a, const void *b)
{
    const struct nsem_sid *x = a, *y = b;
    size_t lx = nsem__sid_size(x->b), ly = nsem__sid_size(y->b);
    int c = memcmp(x->b, y->b, lx < ly ? lx : ly);
    return c ? c : (lx > ly) - (lx < ly);
}

/* Parses "S-1-...;" strings; 0, ERROR_INVALID_PARAMETER (none, or malformed). */
static DWORD parse_sids(const char *s, uint32_t len, struct nsem_sid **out, uint32_t *count)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < len; i++) n += s[i] == ';';
    if (n == 0 || n > 64 || s[len - 1] != ';') return ERROR_INVALID_PARAMETER;
    struct nsem_sid *v = calloc(n, sizeof *v);
    if (!v) return ERROR_NOT_ENOUGH_MEMORY;
    const char *p = s;
    for (uint32_t k = 0; k < n; k++) {
        const char *semi = memchr(p, ';', (size_t)(s + len - p));
        if (nsem__sid_parse(p, (size_t)(semi - p), &v[k]) != 0) {
            free(v);
            return ERROR_INVALID_PARAMETER;
        }
        p = semi + 1;
    }
    qsort(v, n, sizeof *v, sid_order);
    *out = v;
    *count = n;
    return 0;
}

static struct privns *find(const char *boundary, uint32_t len, const struct nsem_sid *sids, uint32_t n)
{
    for (struct privns *p = all; p; p = p->next) {
        if (!p->findable || p->boundary_len != len || memcmp(p->boundary, boundary, len) || p->nsids != n) continue;
        bool same = true;
        for (uint32_t i = 0; i < n && same; i++) same = sid_order(&p->sids[i], &sids[i]) == 0;
        if (same) return p;
    }
    return NULL;
}

/* ---- aliases -------------------------------------------------------------------------------- */

/* The namespace an alias of c names now, NULL if none (or its handle has been closed). */
static struct nsem_obj *alias_target(struct nsem_client *c, const char *alias, uint32_t len)
{
    for (struct nsem_alias **a = &c->aliases; *a;) {
        struct nsem_handle_entry *e = nsem__handle_get(&c->handles, (*a)->handle);
        if (!e || e->obj != (*a)->ns) { /* its handle was closed: the alias went with it */
            struct nsem_alias *gone = *a;
            *a = gone->next;
            free(gone->alias);
            free(gone);
            continue;
        }
        if ((*a)->alias_len == len && memcmp((*a)->alias, alias, len) == 0) return (*a)->ns;
        a = &(*a)->next;
    }
    return NULL;
}

void nsem__aliases_destroy(struct nsem_client *c)
{
    while (c->aliases) {
        struct nsem_alias *a = c->aliases;
        c->aliases = a->next;
        free(a->alias);
        free(a);
    }
}

static bool is_builtin(const char *e, uint32_t len)
{
    return (len == 6 && memcmp(e, "Global", 6) == 0) || (len == 5 && memcmp(e, "Local", 5) == 0) ||
           (len == 7 && memcmp(e, "Session", 7) == 0);
}

bool nsem__privns_resolve(struct nsem_client *c, const char *name, uint32_t len, DWORD *error,
                          struct nsem_resolved *out)
{
    const char *slash = memchr(name, '\\', len);
    if (!c->aliases || !slash) return false;
    uint32_t alias_len = (uint32_t)(slash - name);
    if (is_builtin(name, alias_len)) return false;
    struct nsem_obj *ns = alias_target(c, name, alias_len);
    if (!ns) return false;
    const char *leaf = slash + 1;
    uint32_t leaf_len = len - alias_len - 1;
    /* A private namespace holds objects, not directories. */
    *error = leaf_len == 0 ? ERROR_INVALID_NAME : memchr(leaf, '\\', leaf_len) ? ERROR_PATH_NOT_FOUND : 0;
    *out = (struct nsem_resolved){priv_of(ns)->key, leaf, leaf_len};
    return true;
}

/* ---- the request ---------------------------------------------------------------------------- */

static DWORD check_alias(struct nsem_client *c, const char *alias, uint32_t len)
{
    if (len == 0) return ERROR_INVALID_PARAMETER;
    if (memchr(alias, '\\', len) || is_builtin(alias, len)) return ERROR_INVALID_NAME;
    return alias_target(c, alias, len) ? ERROR_DUP_NAME : 0;
}

/* The caller must have every SID of the boundary ("be within" it): its token, from the kernel. */
static DWORD check_within(const struct nsem_client *c, const struct nsem_sid *sids, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (!nsem__token_has_sid(&c->token, sids[i].b)) return ERROR_ACCESS_DENIED;
    return 0;
}

static struct privns *make(const struct nsem_client *c, const char *boundary, uint32_t len, struct nsem_sid *sids,
                           uint32_t n)
{
    struct nsem_create_params p = {0};
    struct privns *ns = calloc(1, sizeof *ns);
    char *copy = malloc(len ? len : 1);
    /* The creator's default descriptor (lpPrivateNamespaceAttributes' descriptor is not used). */
    struct nsem_sd_entry *sd = ns && copy ? nsem__sd_default_entry(&c->token) : NULL;
    struct nsem_obj *obj = sd ? nsem__obj_create(&nsem__namespace_ops, &p, sd, c->domain) : NULL;
    if (!obj) { /* nsem__obj_create released sd */
        free(ns);
        free(copy);
        return NULL;
    }
    memcpy(copy, boundary, len);
    *ns = (struct privns){obj, next_key++, true, copy, len, sids, n, all};
    if (next_key < NSEM_PRIVATE_NS_FIRST) next_key = NSEM_PRIVATE_NS_FIRST; /* wrapped: 2^31 namespaces later */
    all = ns;
    obj->priv = ns;
    return ns;
}

DWORD nsem__privns_request(struct nsem_client *c, const struct nsem_req_namespace *r, const char *tail,
                           uint32_t *handle)
{
    if (r->action == NSEM_NAMESPACE_DESTROY) {
        struct nsem_handle_entry *e = nsem__handle_get(&c->handles, r->handle);
        if (!e || e->obj->ops != &nsem__namespace_ops) return ERROR_INVALID_HANDLE;
        priv_of(e->obj)->findable = false;
        return 0;
    }
    if ((r->action != NSEM_NAMESPACE_CREATE && r->action != NSEM_NAMESPACE_OPEN) || (r->attributes & ~NSEM_ATTR_ALL) ||
        (uint64_t)r->alias_len + r->boundary_len > r->name_len)
        return ERROR_INVALID_PARAMETER;
    const char *alias = tail, *boundary = tail + r->alias_len;
    DWORD e = check_alias(c, alias, r->alias_len);
    if (e) return e;
    struct nsem_sid *sids;
    uint32_t n;
    uint32_t sids_len = r->name_len - r->alias_len - r->boundary_len;
    e = sids_len ? parse_sids(boundary + r->boundary_len, sids_len, &sids, &n) : ERROR_INVALID_PARAMETER;
    if (e) return e;
    e = check_within(c, sids, n);
    struct privns *ns = e ? NULL : find(boundary, r->boundary_len, sids, n);
    if (!e && r->action == NSEM_NAMESPACE_CREATE && ns) e = ERROR_ALREADY_EXISTS;
    if (!e && r->action == NSEM_NAMESPACE_OPEN && !ns) e = ERROR_PATH_NOT_FOUND;
    if (!e && !ns && !(ns = make(c, boundary, r->boundary_len, sids, n))) e = ERROR_NOT_ENOUGH_MEMORY;
    if (e || ns->sids != sids) free(sids); /* the namespace keeps the set it was made with */
    if (e) return e;
    struct nsem_alias *a = calloc(1, sizeof *a);
    char *copy = a ? malloc(r->alias_len) : NULL;
    nsem__obj_add_pin(ns->obj); /* a new namespace lives through the handing out */
    *handle = copy ? nsem__handle_alloc(&c->handles, ns->obj, DIRECTORY_ALL_ACCESS,
                                        (r->attributes & NSEM_ATTR_INHERIT) ? HANDLE_FLAG_INHERIT : 0)
                   : 0;
    nsem__obj_remove_pin(ns->obj);
    if (!*handle) {
        free(a);
        free(copy);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    memcpy(copy, alias, r->alias_len);
    *a = (struct nsem_alias){copy, r->alias_len, *handle, ns->obj, c->aliases};
    c->aliases = a;
    return 0;
}

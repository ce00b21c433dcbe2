/*
 * requests.c — the handlers of client requests, dispatched by a bounded table.
 *
 * nsem__dispatch checks the frame's structure first (size, padding, name length): a violation
 * returns 0 and the connection is closed. A handler then validates values and returns a Windows
 * error in the reply header; no state is touched before every check of the request has passed.
 */
#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/access_check.h"
#include "common/object_sd.h"
#include "common/secdesc.h"
#include "server/server.h"

/* ---- access ------------------------------------------------------------------------------ */

/* A newly created object: its descriptor is not checked (SPEC 11); the handle gets the mapped rights
 * that the type has. ACCESS_SYSTEM_SECURITY still takes the privilege, as Windows asks it even of
 * a new object's handle. */
static DWORD grant_create_access(const struct nsem_token *t, const struct nsem_obj_ops *ops, uint32_t requested,
                                 uint32_t *granted)
{
    if ((requested & ACCESS_SYSTEM_SECURITY) && !t->privileged) return ERROR_PRIVILEGE_NOT_HELD;
    *granted = nsem__map_access(ops, requested) & (ops->valid_access | ACCESS_SYSTEM_SECURITY);
    return 0;
}

static uint32_t attr_flags(uint32_t attributes)
{
    return (attributes & NSEM_ATTR_INHERIT) ? HANDLE_FLAG_INHERIT : 0;
}

/* ---- replies ----------------------------------------------------------------------------- */

/* The slot of obj as client c may see it: within c's arena, or 0 for an object of another user's
 * (a brokered handle: every operation on it is a request, brokered.c). */
static uint32_t client_slot(const struct nsem_client *c, const struct nsem_obj *obj)
{
    return nsem_slot_domain(obj->slot) == c->domain ? nsem_slot_local(obj->slot) : 0;
}

static uint32_t reply_status(unsigned char *out, DWORD error)
{
    struct nsem_rep_status *rep = (struct nsem_rep_status *)out;
    rep->hdr = (struct nsem_rep_hdr){sizeof *rep, error};
    return sizeof *rep;
}

static uint32_t reply_handle(unsigned char *out, DWORD error, struct nsem_client *c, uint32_t handle)
{
    struct nsem_rep_handle *rep = (struct nsem_rep_handle *)out;
    memset(rep, 0, sizeof *rep);
    rep->hdr = (struct nsem_rep_hdr){sizeof *rep, error};
    struct nsem_handle_entry *e = nsem__handle_get(&c->handles, handle);
    uint32_t undo = nsem__is_undo(e->obj) ? nsem__undo_record_for(c, e->obj) : 0; /* brokered too: the server counts */
    rep->undo_slot = client_slot(c, e->obj) ? nsem_slot_local(undo) : 0;
    if (nsem__is_undo(e->obj) && !undo) {
        /* Why, asked before the free: it may destroy the object and give its slot back. */
        DWORD why = nsem__arena_full(c->domain) ? ERROR_NO_SYSTEM_RESOURCES : ERROR_NOT_ENOUGH_MEMORY;
        nsem__handle_free(&c->handles, handle);
        return reply_status(out, why);
    }
    rep->handle = handle;
    rep->slot = client_slot(c, e->obj);
    rep->access = e->access;
    rep->type = e->obj->ops->type;
    rep->handle_flags = e->flags;
    return sizeof *rep;
}

/* ---- handlers ---------------------------------------------------------------------------- */

static uint32_t do_hello(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    const struct nsem_req_hello *r = req;
    if (r->version != NSEM_PROTOCOL_VERSION) return reply_status(out, ERROR_CALL_NOT_IMPLEMENTED);
    if (r->handle_floor >= NSEM_HANDLE_MAX_ENTRIES || r->session >= NSEM_PRIVATE_NS_FIRST)
        return reply_status(out, ERROR_INVALID_PARAMETER);
    DWORD e = nsem__peer_token(c->fd, c->pid, &c->token);
    if (e) return reply_status(out, e);
    uint64_t ticket = (uint64_t)r->ticket_hi << 32 | r->ticket_lo;
    c->session = r->session;
    c->greeted = true;
    nsem__session_ref(c->session);
    /* A process of the crashed server takes its record over (recover.c). Else a fork child adopts
     * its parent's handles; an exec'd image takes over its former one's. An unknown ticket
     * (expired) leaves a fork child with none. */
    bool recovered = r->recover_id && nsem__client_take_over(c, r->recover_id);
    if (!recovered && (!ticket || !nsem__ticket_adopt(ticket, c))) nsem__client_adopt_inherited(c);
    if (c->handles.floor < r->handle_floor) c->handles.floor = r->handle_floor;
    struct nsem_rep_hello *rep = (struct nsem_rep_hello *)out;
    memset(rep, 0, sizeof *rep);
    rep->hdr = (struct nsem_rep_hdr){sizeof *rep, 0};
    rep->client_id = c->id;
    rep->server_pid = (uint32_t)getpid();
    rep->arena_slots = NSEM_ARENA_SLOTS;
    rep->handles = c->handles.used;
    rep->recovered = recovered;
    *pass_fd = nsem__arena_fd(c->domain);
    return sizeof *rep;
}

/* Where a name of the client's resolves: one of its private namespaces' aliases first (privns.c),
 * else the session and global namespaces. */
static DWORD resolve(struct nsem_client *c, const char *name, uint32_t len, struct nsem_resolved *where)
{
    DWORD e;
    if (nsem__privns_resolve(c, name, len, &e, where)) return e;
    return nsem__resolve_name(name, len, c->session, nsem__session_exists, where);
}

/* Opens `obj` (found by name) for the client: the type first (SPEC 22), then Windows' access check
 * of the caller's token over the object's descriptor (object.c). */
static uint32_t open_existing(struct nsem_client *c, struct nsem_obj *obj, const struct nsem_obj_ops *ops,
                              uint32_t access, uint32_t attributes, DWORD success, unsigned char *out)
{
    if (obj->ops != ops) return reply_status(out, ERROR_INVALID_HANDLE);
    uint32_t granted;
    DWORD e = nsem__obj_access_check(&c->token, obj, access, &granted);
    if (!e) e = nsem__quota_handles(&c->handles, 1);
    if (e) return reply_status(out, e);
    uint32_t h = nsem__handle_alloc(&c->handles, obj, granted, attr_flags(attributes));
    if (!h) return reply_status(out, ERROR_NOT_ENOUGH_MEMORY);
    return reply_handle(out, success, c, h);
}

/* The descriptor of a new object: the creator's (sd_len bytes at sd; 0: none), completed from
 * its token and checked again (the client's check is a courtesy), or the default one. */
static DWORD new_object_sd(struct nsem_client *c, const unsigned char *sd, uint32_t sd_len,
                           struct nsem_sd_entry **entry)
{
    if (!sd_len) {
        *entry = nsem__sd_default_entry(&c->token);
        return *entry ? 0 : ERROR_NOT_ENOUGH_MEMORY;
    }
    unsigned char *full;
    size_t len;
    DWORD e = nsem__sd_for_new_object(&c->token, sd, sd_len, &full, &len);
    if (e) return e;
    *entry = nsem__sd_intern(full, (uint32_t)len);
    free(full);
    return *entry ? 0 : ERROR_NOT_ENOUGH_MEMORY;
}

static uint32_t do_create(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    const struct nsem_req_create *r = req;
    const char *name = (const char *)(r + 1);
    const unsigned char *sd = (const unsigned char *)name + r->name_len;
    const struct nsem_obj_ops *ops = nsem__ops_for_type(r->type);
    if (!ops || (r->attributes & ~NSEM_ATTR_ALL)) return reply_status(out, ERROR_INVALID_PARAMETER);
    struct nsem_create_params p = {r->type_flags, r->initial, r->max, r->owner_token, (uint32_t)c->pid, r->owner_tid};
    if (p.owner_token && NSEM_TOKEN_CLIENT(p.owner_token) != c->id) return reply_status(out, ERROR_INVALID_PARAMETER);
    DWORD e = ops->check_params(&p);
    if (e) return reply_status(out, e);
    /* Windows captures the descriptor before it looks the name up, so a malformed one fails even
     * where the name exists (and it is then ignored). */
    struct nsem_sd parts;
    if (r->sd_len && (e = nsem__sd_check(sd, r->sd_len, &parts)) != 0) return reply_status(out, e);

    struct nsem_resolved where = {0};
    if (r->name_len) {
        e = resolve(c, name, r->name_len, &where);
        if (e) return reply_status(out, e);
        struct nsem_obj *existing = nsem__ns_lookup(where.session, where.leaf, where.leaf_len);
        if (existing) return open_existing(c, existing, ops, r->access, r->attributes, ERROR_ALREADY_EXISTS, out);
    }
    uint32_t granted;
    struct nsem_sd_entry *entry;
    e = grant_create_access(&c->token, ops, r->access, &granted);
    /* A new object and its first handle: both must fit the limits before anything is made. */
    if (!e) e = nsem__quota_objects(c->domain);
    if (!e) e = nsem__quota_handles(&c->handles, 1);
    if (!e) e = new_object_sd(c, sd, r->sd_len, &entry);
    if (e) return reply_status(out, e);
    struct nsem_obj *obj = nsem__obj_create(ops, &p, entry, c->domain);
    if (!obj) return reply_status(out, ERROR_NOT_ENOUGH_MEMORY);
    nsem__obj_add_pin(obj); /* holds the new object while it is being linked and handed out */
    uint32_t h = 0;
    if (!r->name_len || nsem__ns_link(obj, where.session, where.leaf, where.leaf_len) == 0)
        h = nsem__handle_alloc(&c->handles, obj, granted, attr_flags(r->attributes));
    if (!h && obj->name) nsem__ns_unlink(obj);
    nsem__obj_remove_pin(obj);
    if (!h) return reply_status(out, ERROR_NOT_ENOUGH_MEMORY);
    return reply_handle(out, 0, c, h);
}

static uint32_t do_open(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    const struct nsem_req_open *r = req;
    const char *name = (const char *)(r + 1);
    const struct nsem_obj_ops *ops = nsem__ops_for_type(r->type);
    if (!ops || (r->attributes & ~NSEM_ATTR_ALL)) return reply_status(out, ERROR_INVALID_PARAMETER);
    /* "" names the namespace directory itself: not an object of the type. */
    if (r->name_len == 0) return reply_status(out, ERROR_INVALID_HANDLE);
    struct nsem_resolved where;
    DWORD e = resolve(c, name, r->name_len, &where);
    if (e) return reply_status(out, e);
    struct nsem_obj *obj = nsem__ns_lookup(where.session, where.leaf, where.leaf_len);
    if (!obj) return reply_status(out, ERROR_FILE_NOT_FOUND);
    return open_existing(c, obj, ops, r->access, r->attributes, 0, out);
}

static struct nsem_pin *find_pin(struct nsem_client *c, struct nsem_obj *obj, struct nsem_pin ***link)
{
    for (struct nsem_pin **p = &c->pins; *p; p = &(*p)->next)
        if ((*p)->obj == obj) {
            if (link) *link = p;
            return *p;
        }
    return NULL;
}

static uint32_t do_close(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    const struct nsem_req_close *r = req;
    return reply_status(out, nsem__client_close(c, r->handle, r->flags)); /* closering.c, with the rings' */
}

static uint32_t do_unpin(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    const struct nsem_req_unpin *r = req;
    struct nsem_obj *obj = r->slot < NSEM_ARENA_SLOTS ? nsem__obj_by_slot(nsem_slot_index(c->domain, r->slot)) : NULL;
    struct nsem_pin **link;
    struct nsem_pin *pin = obj ? find_pin(c, obj, &link) : NULL;
    if (!pin) return reply_status(out, ERROR_INVALID_HANDLE);
    *link = pin->next;
    free(pin);
    nsem__obj_remove_pin(obj);
    return reply_status(out, 0);
}

/* The client behind a process handle of c (NSEM_SELF: c). With make, a process that is not a
 * client yet gets a record that holds handles for it until it connects or exits. */
static DWORD process_client(struct nsem_client *c, uint32_t process, bool make, struct nsem_client **out)
{
    if (process == NSEM_SELF) {
        *out = c;
        return 0;
    }
    struct nsem_handle_entry *e = nsem__handle_get(&c->handles, process);
    if (!e || e->obj->ops != &nsem__process_ops) return ERROR_INVALID_HANDLE;
    if (!(e->access & PROCESS_DUP_HANDLE)) return ERROR_ACCESS_DENIED;
    pid_t pid = nsem__process_pid(e->obj);
    *out = nsem__client_of_pid(pid);
    if (*out) return 0;
    if (!make) return ERROR_INVALID_HANDLE; /* a process without nsem has no handle to duplicate */
    int pidfd = nsem__exec_pidfd(pid);
    struct nsem_handle_table none = {0};
    *out = pidfd >= 0 ? nsem__client_orphan(pid, c->uid, &none, pidfd) : NULL;
    if (!*out && pidfd >= 0) close(pidfd);
    if (!*out) return ERROR_INVALID_HANDLE; /* it has ended */
    (*out)->provisional = true; /* what it inherits, if anything, joins it later */
    return 0;
}

/* DUPLICATE_CLOSE_SOURCE. Closed by another process, the handle may be one a thread of `from` is
 * using right now, in a wait-all holding the object's lock or as its owner: then `from` keeps a
 * pin, so that its death, which visits its handles and pins, still frees what it held there. */
static void close_source(struct nsem_client *c, struct nsem_client *from, uint32_t handle)
{
    struct nsem_obj *obj = nsem__handle_get(&from->handles, handle)->obj;
    if (from != c && nsem__obj_held_by(obj, from->id) && !find_pin(from, obj, NULL)) {
        struct nsem_pin *pin = malloc(sizeof *pin);
        if (pin) {
            *pin = (struct nsem_pin){obj, from->pins};
            from->pins = pin;
            nsem__obj_add_pin(obj);
        }
    }
    nsem__handle_free(&from->handles, handle);
}

/* DuplicateHandle without DUPLICATE_SAME_ACCESS: the access asked for, generic rights mapped. Rights
 * the source handle has are given as they are (even none: SPEC 93); asking for more takes Windows'
 * access check over the object's descriptor, for the caller and for the target process (SPEC §2,
 * duplicate_handle): a record that has not connected yet has no token, and is not checked. A
 * right the type cannot have is refused first (SPEC 99: ~0u is ERROR_ACCESS_DENIED). */
static DWORD dup_access(struct nsem_client *c, struct nsem_client *to, const struct nsem_obj *obj,
                        const struct nsem_obj_ops *ops, uint32_t src_access, uint32_t requested, uint32_t *access)
{
    GENERIC_MAPPING mapping = nsem__generic_mapping(ops);
    uint32_t want = nsem__map_generic(requested, &mapping);
    if (!(want & ~src_access)) {
        *access = want;
        return 0;
    }
    if (want & ~(ops->valid_access | ACCESS_SYSTEM_SECURITY | MAXIMUM_ALLOWED)) return ERROR_ACCESS_DENIED;
    DWORD e = nsem__obj_access_check(&c->token, obj, want, access);
    if (!e && to != c && to->token.groups) e = nsem__obj_access_check(&to->token, obj, *access, access);
    return e;
}

static uint32_t do_dup(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    const struct nsem_req_dup *r = req;
    const uint32_t known = DUPLICATE_CLOSE_SOURCE | DUPLICATE_SAME_ACCESS | DUPLICATE_SAME_ATTRIBUTES;
    struct nsem_client *from, *to;
    DWORD e = process_client(c, r->src_process, false, &from);
    if (!e) e = process_client(c, r->dst_process, true, &to);
    if (e) return reply_status(out, e);
    /* The source: a handle of `from`, or its own GetCurrentProcess() (all rights, no flags; its
     * object is made once the request's parameters have passed their checks). */
    struct nsem_handle_entry pseudo = {NULL, PROCESS_ALL_ACCESS, 0}, *src = &pseudo;
    bool is_pseudo = r->handle == NSEM_PSEUDO_PROCESS_HANDLE;
    if (!is_pseudo && !(src = nsem__handle_get(&from->handles, r->handle))) return reply_status(out, ERROR_INVALID_HANDLE);
    const struct nsem_obj_ops *ops = is_pseudo ? &nsem__process_ops : src->obj->ops;
    bool closing = !is_pseudo && (r->options & DUPLICATE_CLOSE_SOURCE) && !(src->flags & HANDLE_FLAG_PROTECT_FROM_CLOSE);
    uint32_t access = src->access;
    if ((r->options & ~known) || (r->attributes & ~NSEM_ATTR_ALL)) e = ERROR_INVALID_PARAMETER;
    if (!e && is_pseudo) e = nsem__process_object(from->pid, c->uid, &pseudo.obj);
    struct nsem_obj *obj = e ? NULL : src->obj;
    if (obj) nsem__obj_add_pin(obj); /* neither closing the source nor a failure may free it meanwhile */
    if (!e && !(r->options & DUPLICATE_SAME_ACCESS)) e = dup_access(c, to, obj, ops, src->access, r->access, &access);
    uint32_t h = 0;
    if (e) {
        /* Windows closes the source whatever happened to the duplicate. */
        if (closing) close_source(c, from, r->handle & ~3u);
    } else {
        uint32_t flags = (r->options & DUPLICATE_SAME_ATTRIBUTES) ? src->flags : attr_flags(r->attributes);
        if (closing && from == to) {
            /* Closing the source and making the duplicate in one step keeps the handle value. */
            src->access = access;
            src->flags = flags;
            h = r->handle & ~3u;
        } else {
            if (closing) close_source(c, from, r->handle & ~3u);
            /* After the close: a handle moved between processes does not add to the total. */
            e = nsem__quota_handles(&to->handles, 1);
            /* Into a process that has not connected: above what it may still inherit (its values). */
            uint32_t base = nsem__client_unborn(to) ? nsem__inheritance_bound(to) : 0;
            if (!e) h = nsem__handle_alloc_from(&to->handles, base, obj, access, flags);
            if (!e && !h) e = ERROR_NOT_ENOUGH_MEMORY;
        }
    }
    if (obj) nsem__obj_remove_pin(obj);
    if (e) return reply_status(out, e);
    return reply_handle(out, 0, to, h);
}

static uint32_t do_open_process(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    const struct nsem_req_open_process *r = req;
    if (r->attributes & ~NSEM_ATTR_ALL) return reply_status(out, ERROR_INVALID_PARAMETER);
    /* The process, then the limits, as Windows: neither makes anything; then the access check over
     * the process object's descriptor. */
    DWORD e = nsem__process_check((pid_t)r->pid, c->uid);
    uint32_t asked = nsem__map_access(&nsem__process_ops, r->access);
    if (!e && (!asked || (asked & ~(nsem__process_ops.valid_access | ACCESS_SYSTEM_SECURITY))))
        e = ERROR_ACCESS_DENIED; /* before the limits */
    if (!e) e = nsem__quota_handles(&c->handles, 1);
    struct nsem_obj *obj;
    if (!e) e = nsem__process_object((pid_t)r->pid, c->uid, &obj);
    if (e) return reply_status(out, e);
    nsem__obj_add_pin(obj); /* a new process object lives by its handles: hold it until one exists */
    uint32_t granted;
    e = nsem__obj_access_check(&c->token, obj, r->access, &granted);
    uint32_t h = e ? 0 : nsem__handle_alloc(&c->handles, obj, granted, attr_flags(r->attributes));
    nsem__obj_remove_pin(obj);
    if (e) return reply_status(out, e);
    if (!h) return reply_status(out, ERROR_NOT_ENOUGH_MEMORY);
    return reply_handle(out, 0, c, h);
}

static uint32_t do_set_handle_info(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    const struct nsem_req_set_handle_info *r = req;
    const uint32_t known = HANDLE_FLAG_INHERIT | HANDLE_FLAG_PROTECT_FROM_CLOSE;
    struct nsem_handle_entry *e = nsem__handle_get(&c->handles, r->handle);
    if (!e) return reply_status(out, ERROR_INVALID_HANDLE);
    e->flags = (e->flags & ~(r->mask & known)) | (r->flags & r->mask & known);
    struct nsem_rep_handle_info *rep = (struct nsem_rep_handle_info *)out;
    memset(rep, 0, sizeof *rep);
    rep->hdr = (struct nsem_rep_hdr){sizeof *rep, 0};
    rep->flags = e->flags;
    return sizeof *rep;
}

/* The QUERY_STATE right has the value 1 for every type. */
#define QUERY_STATE_RIGHT 0x0001u

static void fill_state(const struct nsem_obj *obj, struct nsem_obj_state *st)
{
    memset(st, 0, sizeof *st);
    st->type = obj->ops->type;
    st->handle_count = obj->handle_count;
    st->waiter_count = nsem_waiting_count(atomic_load(&nsem__obj_slot(obj)->waiting)); /* seq_cst */
    obj->ops->query(obj, st);
}

/* The entry of a handle that has its type's QUERY_STATE right: 0, or the error to answer. */
static DWORD queryable(struct nsem_client *c, uint32_t handle, struct nsem_handle_entry **out)
{
    *out = nsem__handle_get(&c->handles, handle);
    if (!*out) return ERROR_INVALID_HANDLE;
    return ((*out)->access & QUERY_STATE_RIGHT) ? 0 : ERROR_ACCESS_DENIED;
}

static uint32_t do_query(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    const struct nsem_req_query *r = req;
    struct nsem_handle_entry *e;
    DWORD err = queryable(c, r->handle, &e);
    if (err) return reply_status(out, err);
    struct nsem_rep_query *rep = (struct nsem_rep_query *)out;
    rep->hdr = (struct nsem_rep_hdr){sizeof *rep, 0};
    fill_state(e->obj, &rep->state);
    return sizeof *rep;
}

/* Every object of the server (one user's): named ones with their namespace and leaf. A system
 * server lists the caller's user's objects: another's state is its own (QUERY_STATE). */
static uint32_t do_list(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    const struct nsem_req_list *r = req;
    struct nsem_rep_list *rep = (struct nsem_rep_list *)out;
    uint32_t len = sizeof *rep, count = 0, cursor = r->cursor;
    if (nsem_slot_domain(cursor) != c->domain) cursor = nsem_slot_index(c->domain, 0);
    for (;;) {
        uint32_t at = cursor;
        struct nsem_obj *obj = nsem__obj_next(&cursor);
        if (!obj || nsem_slot_domain(obj->slot) != c->domain) {
            cursor = 0; /* the end */
            break;
        }
        uint32_t elen = (uint32_t)sizeof(struct nsem_list_entry) + ((obj->name_len + 3u) & ~3u);
        if (len + elen > NSEM_MSG_MAX) { /* the next reply starts with it; one always fits */
            cursor = at;
            break;
        }
        struct nsem_list_entry *e = (struct nsem_list_entry *)(out + len);
        memset(e, 0, elen);
        e->len = elen;
        e->session = obj->session;
        e->named = obj->name != NULL;
        e->name_len = obj->name ? obj->name_len : 0;
        fill_state(obj, &e->state);
        if (obj->name) memcpy(e + 1, obj->name, obj->name_len);
        len += elen;
        count++;
    }
    rep->hdr = (struct nsem_rep_hdr){len, 0};
    rep->next_cursor = cursor;
    rep->count = count;
    return len;
}

static uint32_t do_holders(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    const struct nsem_req_holders *r = req;
    struct nsem_handle_entry *e;
    DWORD err = queryable(c, r->handle, &e);
    if (err) return reply_status(out, err);
    struct nsem_rep_holders *rep = (struct nsem_rep_holders *)out;
    uint32_t *pids = (uint32_t *)(rep + 1);
    rep->total = nsem__clients_holding(e->obj, pids, NSEM_HOLDERS_MAX);
    rep->count = rep->total < NSEM_HOLDERS_MAX ? rep->total : NSEM_HOLDERS_MAX;
    uint32_t len = (uint32_t)sizeof *rep + rep->count * 4u;
    rep->hdr = (struct nsem_rep_hdr){len, 0};
    return len;
}

static uint32_t do_fork(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    uint64_t key; /* the request has nothing but a pad, checked by the dispatcher */
    DWORD e = nsem__ticket_make(c, false, &key);
    if (e) return reply_status(out, e);
    struct nsem_rep_fork *rep = (struct nsem_rep_fork *)out;
    rep->hdr = (struct nsem_rep_hdr){sizeof *rep, 0};
    rep->ticket_lo = (uint32_t)key;
    rep->ticket_hi = (uint32_t)(key >> 32);
    return sizeof *rep;
}

static uint32_t do_spawn(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    const struct nsem_req_spawn *r = req;
    uint64_t key = (uint64_t)r->ticket_hi << 32 | r->ticket_lo;
    if (r->action == NSEM_SPAWN_PREPARE) {
        DWORD e = nsem__ticket_make(c, true, &key);
        if (e) return reply_status(out, e);
        struct nsem_rep_fork *rep = (struct nsem_rep_fork *)out;
        rep->hdr = (struct nsem_rep_hdr){sizeof *rep, 0};
        rep->ticket_lo = (uint32_t)key;
        rep->ticket_hi = (uint32_t)(key >> 32);
        return sizeof *rep;
    }
    if (r->action == NSEM_SPAWN_BIND) return reply_status(out, nsem__spawn_bind(c, key, (pid_t)r->pid));
    if (r->action == NSEM_SPAWN_CANCEL) return reply_status(out, nsem__spawn_cancel(c, key));
    return reply_status(out, ERROR_INVALID_PARAMETER);
}

/* The caller's handles, for a process that got them by inheritance rather than by requests. */
static uint32_t do_handles(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    const struct nsem_req_handles *r = req;
    struct nsem_rep_handles *rep = (struct nsem_rep_handles *)out;
    struct nsem_handle_desc *d = (struct nsem_handle_desc *)(rep + 1);
    uint32_t n = 0, i = r->cursor;
    for (; i < c->handles.size && n < NSEM_HANDLES_PER_REPLY; i++) {
        struct nsem_handle_entry *e = &c->handles.entries[i];
        if (!e->obj) continue;
        uint32_t slot = client_slot(c, e->obj);
        uint32_t undo = nsem__is_undo(e->obj) ? nsem__undo_record_for(c, e->obj) : 0;
        if (nsem__is_undo(e->obj) && !undo)
            return reply_status(out, nsem__arena_full(c->domain) ? ERROR_NO_SYSTEM_RESOURCES : ERROR_NOT_ENOUGH_MEMORY);
        d[n++] = (struct nsem_handle_desc){(i + 1) << 2, slot, e->access, e->obj->ops->type, e->flags,
                                           slot ? nsem_slot_local(undo) : 0};
    }
    rep->next_cursor = i < c->handles.size ? i : 0;
    rep->count = n;
    uint32_t len = (uint32_t)sizeof *rep + n * (uint32_t)sizeof *d;
    rep->hdr = (struct nsem_rep_hdr){len, 0};
    return len;
}

static uint32_t do_stats(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    struct nsem_rep_stats *rep = (struct nsem_rep_stats *)out;
    memset(rep, 0, sizeof *rep);
    rep->hdr = (struct nsem_rep_hdr){sizeof *rep, 0};
    struct nsem_server_stats *st = &rep->stats;
    st->server_pid = (uint32_t)getpid();
    st->objects = nsem__obj_count();
    st->tickets = nsem__ticket_count();
    st->arena_slots = nsem__arena_in_use() - nsem__closering_slots(); /* the clients' rings are not objects' */
    nsem__clients_stats(st);
    struct mallinfo2 mi = mallinfo2();
    st->heap_bytes = mi.uordblks + mi.hblkhd;
    return sizeof *rep;
}

static uint32_t do_recover(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    const struct nsem_req_recover *r = req;
    if (!c->recovering || (r->flags & ~NSEM_RECOVER_DONE)) return reply_status(out, ERROR_INVALID_PARAMETER);
    struct nsem_recover_entry e[NSEM_RECOVER_MAX_ENTRIES];
    memcpy(e, r + 1, r->count * sizeof *e); /* the frame is byte-aligned; entries are read aligned */
    struct nsem_rep_recover *rep = (struct nsem_rep_recover *)out;
    uint32_t *refused = (uint32_t *)(rep + 1);
    rep->refused = nsem__recover_entries(c, e, r->count, refused);
    rep->pad = 0;
    if (r->flags & NSEM_RECOVER_DONE) nsem__recover_client_done(c);
    uint32_t len = (uint32_t)sizeof *rep + rep->refused * 4u;
    rep->hdr = (struct nsem_rep_hdr){len, 0};
    return len;
}

static uint32_t do_namespace(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    const struct nsem_req_namespace *r = req;
    uint32_t h = 0;
    DWORD e = nsem__privns_request(c, r, (const char *)(r + 1), &h);
    if (e || !h) return reply_status(out, e);
    return reply_handle(out, 0, c, h);
}

/* GetKernelObjectSecurity: the handle needs READ_CONTROL for owner, group, DACL and label, and
 * ACCESS_SYSTEM_SECURITY for the SACL. */
static uint32_t do_get_security(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    const struct nsem_req_get_security *r = req;
    struct nsem_handle_entry *h = nsem__handle_get(&c->handles, r->handle);
    if (!h) return reply_status(out, ERROR_INVALID_HANDLE);
    uint32_t need = nsem__sd_read_access(r->info);
    if ((h->access & need) != need) return reply_status(out, ERROR_ACCESS_DENIED);
    unsigned char *sd;
    size_t len;
    DWORD e = nsem__sd_query(h->obj->sd->bytes, h->obj->sd->len, r->info, &sd, &len);
    if (e) return reply_status(out, e);
    struct nsem_rep_security *rep = (struct nsem_rep_security *)out;
    memset(rep, 0, sizeof *rep);
    rep->hdr = (struct nsem_rep_hdr){(uint32_t)(sizeof *rep + len), 0};
    rep->sd_len = (uint32_t)len;
    memcpy(rep + 1, sd, len); /* a part of an object's descriptor is no larger than the whole */
    free(sd);
    return rep->hdr.len;
}

/* SetKernelObjectSecurity: the handle needs WRITE_DAC for the DACL, WRITE_OWNER for owner, group
 * and label, ACCESS_SYSTEM_SECURITY for the SACL; then the descriptor is checked (the handle
 * first, as Windows). Opens from now on are checked against the new descriptor; handles already
 * open keep what they were granted. */
static uint32_t do_set_security(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    const struct nsem_req_set_security *r = req;
    struct nsem_handle_entry *h = nsem__handle_get(&c->handles, r->handle);
    if (!h) return reply_status(out, ERROR_INVALID_HANDLE);
    uint32_t need = nsem__sd_write_access(r->info);
    if ((h->access & need) != need) return reply_status(out, ERROR_ACCESS_DENIED);
    struct nsem_obj *obj = h->obj;
    unsigned char *sd;
    size_t len;
    DWORD e = nsem__sd_set(&c->token, obj->sd->bytes, obj->sd->len, r->info, r + 1, r->sd_len, &sd, &len);
    if (e) return reply_status(out, e);
    struct nsem_sd_entry *entry = nsem__sd_intern(sd, (uint32_t)len);
    free(sd);
    if (!entry) return reply_status(out, ERROR_NOT_ENOUGH_MEMORY);
    nsem__obj_set_sd(obj, entry);
    return reply_status(out, 0);
}

/* ---- dispatch ---------------------------------------------------------------------------- */

struct request_kind {
    uint32_t size;            /* exact size of the fixed part */
    uint32_t name_len_offset; /* offset of name_len, or 0 when no name follows */
    uint32_t sd_len_offset;   /* offset of sd_len, or 0 when no security descriptor follows (the name) */
    uint32_t pad_offset;      /* where its pad field is, and how long (0: none) */
    uint32_t pad_bytes;
    uint32_t (*handler)(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd);
    uint32_t count_offset; /* fixed-size entries follow: where their count is (0: none) */
    uint32_t entry_size, max_entries;
};

/* What follows the fixed part: nothing, a name, a name and a descriptor, a descriptor. */
#define NO_NAME 0, 0
#define NAME(type) offsetof(type, name_len), 0
#define NAME_SD(type) offsetof(type, name_len), offsetof(type, sd_len)
#define SD(type) 0, offsetof(type, sd_len)
#define NO_PAD 0, 0
#define PAD(type) offsetof(type, pad), sizeof(((type *)0)->pad)
#define NO_ENTRIES 0, 0, 0

static const struct request_kind kinds[NSEM_OP_COUNT] = {
    [NSEM_OP_HELLO] = {sizeof(struct nsem_req_hello), NO_NAME, NO_PAD, do_hello, NO_ENTRIES},
    [NSEM_OP_CREATE] = {sizeof(struct nsem_req_create), NAME_SD(struct nsem_req_create), NO_PAD, do_create, NO_ENTRIES},
    [NSEM_OP_OPEN] = {sizeof(struct nsem_req_open), NAME(struct nsem_req_open), NO_PAD, do_open, NO_ENTRIES},
    [NSEM_OP_CLOSE] = {sizeof(struct nsem_req_close), NO_NAME, NO_PAD, do_close, NO_ENTRIES},
    [NSEM_OP_UNPIN] = {sizeof(struct nsem_req_unpin), NO_NAME, PAD(struct nsem_req_unpin), do_unpin, NO_ENTRIES},
    [NSEM_OP_DUP] = {sizeof(struct nsem_req_dup), NO_NAME, NO_PAD, do_dup, NO_ENTRIES},
    [NSEM_OP_SET_HANDLE_INFO] = {sizeof(struct nsem_req_set_handle_info), NO_NAME,
                                 PAD(struct nsem_req_set_handle_info), do_set_handle_info, NO_ENTRIES},
    [NSEM_OP_QUERY] = {sizeof(struct nsem_req_query), NO_NAME, PAD(struct nsem_req_query), do_query, NO_ENTRIES},
    [NSEM_OP_LIST] = {sizeof(struct nsem_req_list), NO_NAME, PAD(struct nsem_req_list), do_list, NO_ENTRIES},
    [NSEM_OP_HOLDERS] = {sizeof(struct nsem_req_holders), NO_NAME, PAD(struct nsem_req_holders), do_holders, NO_ENTRIES},
    [NSEM_OP_FORK] = {sizeof(struct nsem_req_fork), NO_NAME, PAD(struct nsem_req_fork), do_fork, NO_ENTRIES},
    [NSEM_OP_HANDLES] = {sizeof(struct nsem_req_handles), NO_NAME, PAD(struct nsem_req_handles), do_handles, NO_ENTRIES},
    [NSEM_OP_SPAWN] = {sizeof(struct nsem_req_spawn), NO_NAME, NO_PAD, do_spawn, NO_ENTRIES},
    [NSEM_OP_OPEN_PROCESS] = {sizeof(struct nsem_req_open_process), NO_NAME, PAD(struct nsem_req_open_process),
                              do_open_process, NO_ENTRIES},
    [NSEM_OP_STATS] = {sizeof(struct nsem_req_stats), NO_NAME, PAD(struct nsem_req_stats), do_stats, NO_ENTRIES},
    [NSEM_OP_NAMESPACE] = {sizeof(struct nsem_req_namespace), NAME(struct nsem_req_namespace), NO_PAD,
                           do_namespace, NO_ENTRIES},
    [NSEM_OP_RECOVER] = {sizeof(struct nsem_req_recover), NO_NAME, NO_PAD, do_recover,
                         offsetof(struct nsem_req_recover, count), sizeof(struct nsem_recover_entry),
                         NSEM_RECOVER_MAX_ENTRIES},
    [NSEM_OP_GET_SECURITY] = {sizeof(struct nsem_req_get_security), NO_NAME, NO_PAD, do_get_security, NO_ENTRIES},
    [NSEM_OP_SET_SECURITY] = {sizeof(struct nsem_req_set_security), SD(struct nsem_req_set_security),
                              PAD(struct nsem_req_set_security), do_set_security, NO_ENTRIES},
    [NSEM_OP_SIGNAL] = {sizeof(struct nsem_req_signal), NO_NAME, NO_PAD, nsem__do_signal, NO_ENTRIES},
    [NSEM_OP_TRY_WAIT] = {sizeof(struct nsem_req_try_wait), NO_NAME, NO_PAD, nsem__do_try_wait, NO_ENTRIES},
    [NSEM_OP_CLOSE_RING] = {sizeof(struct nsem_req_close_ring), NO_NAME, PAD(struct nsem_req_close_ring),
                            nsem__closering_request, NO_ENTRIES},
};

/* Every pad field must be zero, so that it can carry meaning in a later version. */
static bool pads_are_zero(const struct request_kind *k, const unsigned char *req)
{
    for (uint32_t i = 0; i < k->pad_bytes; i++)
        if (req[k->pad_offset + i]) return false;
    return true;
}

uint32_t nsem__dispatch(struct nsem_client *c, const unsigned char *req, uint32_t len, unsigned char *rep,
                        int *pass_fd)
{
    struct nsem_req_hdr hdr;
    if (len < sizeof hdr) return 0;
    memcpy(&hdr, req, sizeof hdr);
    if (hdr.op == 0 || hdr.op >= NSEM_OP_COUNT || hdr.len != len) return 0;
    const struct request_kind *k = &kinds[hdr.op];
    if (!k->handler || len < k->size) return 0;
    uint32_t name_len = 0;
    if (k->name_len_offset) memcpy(&name_len, req + k->name_len_offset, sizeof name_len);
    uint32_t tail = name_len;
    if (k->sd_len_offset) {
        uint32_t sd_len;
        memcpy(&sd_len, req + k->sd_len_offset, sizeof sd_len);
        if (sd_len > NSEM_SD_MAX_BYTES) return 0;
        tail += sd_len;
    }
    if (k->count_offset) {
        uint32_t count;
        memcpy(&count, req + k->count_offset, sizeof count);
        if (count > k->max_entries) return 0;
        tail = count * k->entry_size;
    }
    /* The length first: the name is scanned only within the frame. */
    if (name_len > NSEM_NAME_MAX_BYTES || len != k->size + tail) return 0;
    if (memchr(req + k->size, 0, name_len) || !pads_are_zero(k, req)) return 0;
    if ((hdr.op == NSEM_OP_HELLO) == c->greeted) return 0; /* HELLO first, and only first */
    return k->handler(c, req, rep, pass_fd);
}

/*
 * server.h — nsemd's internal interfaces.
 *
 * nsemd is single-threaded: one epoll loop serves every client, so no server structure needs a
 * lock. The server is the one authority for names, handles, access and lifetime; the state of an
 * object lives in its arena slot (common/shm.h), which clients change directly.
 *
 * Lifetime: an object is referenced by handles (in client handle tables) and by pins (a client
 * that closed its last handle while one of its waits or owned mutexes still uses the object).
 * `handle_count` and `pin_count` are kept apart: the name goes when handle_count reaches 0 (as
 * Windows), the object and its slot when both are 0.
 */
#ifndef NSEM_SERVER_SERVER_H
#define NSEM_SERVER_SERVER_H

#include <nsem.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/protocol.h"
#include "common/shm.h"
#include "common/exclq.h"
#include "common/objstate.h"
#include "common/slot.h"
#include "common/token.h"

struct nsem_obj;
struct nsem_client;

/* Anything the epoll loop watches (a client, a process): data.ptr points at it. */
struct nsem_loop_item {
    void (*on_event)(struct nsem_loop_item *item, uint32_t events);
};

/* ---- arena (arena.c) ---------------------------------------------------------------------- */

/* Whether this is the system server (nsemd --system, shared by users): main.c. */
extern bool nsem__system;
/* Reserves room for max_domains arenas (1: a per-user server, whose arena is the file at path,
 * kept if a dead server left it; NULL: an anonymous memfd made by the first nsem__arena_domain).
 * 0 or -errno. */
int nsem__arena_init(const char *path, uint32_t max_domains);
/* The domain (arena) of a user's objects, made on first use; -1 when no more can be made. */
int nsem__arena_domain(uid_t uid);
uint32_t nsem__arena_domains(void);     /* made so far */
void nsem__arena_set_awake(bool awake); /* the server_awake hint of every arena's header */
bool nsem__arena_recovered(void);        /* domain 0's file was left by a server that died */
uint32_t nsem__arena_high_water(void);   /* domain 0's: slots at or above it were never used */
/* For recover.c: a slot found in use, or found free (it joins the free list). */
void nsem__arena_mark_used(uint32_t index);
void nsem__arena_mark_free(uint32_t index);
/* The record of client id's process in its domain's client table (shm.h). */
struct nsem_client_entry *nsem__arena_client_entry(uint32_t domain, uint32_t id);
int nsem__arena_fd(uint32_t domain); /* -1: no such domain */
struct nsem_slot *nsem__arena_slot(uint32_t index);
uint32_t nsem__arena_index_of(const struct nsem_slot *s);
uint32_t nsem__arena_alloc(uint32_t domain); /* a zeroed slot index, 0 when the arena is full */
void nsem__arena_free(uint32_t index);
uint32_t nsem__arena_in_use(void);           /* in every domain */
bool nsem__arena_full(uint32_t domain);      /* the next nsem__arena_alloc would return 0 */
uint32_t nsem__arena_free_slots(uint32_t domain); /* how many more nsem__arena_alloc(domain) may give */
/* Whether `local`, read from a client-writable arena, may name a slot the server gave out there. */
bool nsem__arena_local_ok(uint32_t domain, uint32_t local);
/* Publishes the server's liveness word in a domain's arena header (liveness.c); 0 or -errno. */
int nsem__liveness_publish(uint32_t domain, uint32_t max_domains);

/* ---- object types (semaphore.c, mutex.c, event.c) ----------------------------------------- */

struct nsem_generic_mapping {
    uint32_t read, write, execute, all;
};

struct nsem_create_params {
    uint32_t type_flags; /* NSEM_CREATE_* */
    int32_t initial, max;
    uint32_t owner_token, owner_pid, owner_tid;
};

/* Every slot is set for every type; no slot is NULL. */
struct nsem_obj_ops {
    uint32_t type;                       /* NSEM_TYPE_* */
    const char *type_name;               /* "Semaphore", as Windows' object type names */
    uint32_t valid_access;               /* every right the type has */
    struct nsem_generic_mapping mapping; /* GENERIC_* to specific rights */
    /* Checks the type's creation parameters: 0 or a Windows error. */
    DWORD (*check_params)(const struct nsem_create_params *p);
    /* Writes the initial state of a new object into its slot. */
    void (*init)(struct nsem_slot *slot, const struct nsem_create_params *p);
    /* A client died: free what its threads held (mutex ownership). Returns false when a live
     * wait-all has the object locked just now: the caller retries a moment later. */
    bool (*client_gone)(struct nsem_obj *obj, uint32_t client_id, pid_t pid);
    /* Fills the type-specific part of a state report from the slot. */
    void (*query)(const struct nsem_obj *obj, struct nsem_obj_state *rep);
    /* Frees what the object has besides its slot (an exclusive semaphore's waiter queue). */
    void (*destroy)(struct nsem_obj *obj);
};

/* The token the server locks a state word with: client 0 is never a client's. */
#define NSEM_SERVER_TOKEN NSEM_MAKE_TOKEN(0, 1)

extern const struct nsem_obj_ops nsem__semaphore_ops;
extern const struct nsem_obj_ops nsem__mutex_ops;
extern const struct nsem_obj_ops nsem__event_ops;
extern const struct nsem_obj_ops nsem__process_ops;
/* The process object of pid (one per process, made on first use): 0 or ERROR_INVALID_PARAMETER (no
 * such process), ERROR_ACCESS_DENIED (another user's), nsem__quota_objects' errors,
 * ERROR_NOT_ENOUGH_MEMORY. */
DWORD nsem__process_object(pid_t pid, uid_t uid, struct nsem_obj **out);
/* The checks of nsem__process_object that do not depend on making the object: 0 when pid names a
 * process of uid, else its error. */
DWORD nsem__process_check(pid_t pid, uid_t uid);
pid_t nsem__process_pid(const struct nsem_obj *obj);
const struct nsem_obj_ops *nsem__ops_for_type(uint32_t type); /* NULL for an unknown type */

/* ---- objects (object.c) ------------------------------------------------------------------- */

struct nsem_obj {
    const struct nsem_obj_ops *ops;
    uint32_t slot;
    uint32_t handle_count; /* handles in all clients */
    uint32_t pin_count;    /* pins of clients without a handle */
    uint32_t mark;         /* cleanup pass that last visited it (see client.c) */
    void *priv;            /* the type's own data (a process's pid and pidfd), freed by destroy */
    struct nsem_sd_entry *sd; /* its security descriptor (a reference), which opens are checked against */
    /* name: in the namespace hash table while linked (name != NULL) */
    uint32_t session; /* namespace: 0 global, else the session */
    uint32_t name_len;
    char *name;
    struct nsem_obj *hash_next;
};

/* A new object with the descriptor sd, whose reference it takes over (also when it fails: NULL). */
struct nsem_obj *nsem__obj_create(const struct nsem_obj_ops *ops, const struct nsem_create_params *p,
                                  struct nsem_sd_entry *sd, uint32_t domain);
/* An object for a slot that already holds one (recover.c): no reference yet; NULL out of memory.
 * It takes over the reference to sd (also when it fails). */
struct nsem_obj *nsem__obj_adopt(const struct nsem_obj_ops *ops, uint32_t slot, struct nsem_sd_entry *sd);
/* Gives obj the descriptor sd (taking over the reference) in place of its own. */
void nsem__obj_set_sd(struct nsem_obj *obj, struct nsem_sd_entry *sd);
/* The rights token t gets by opening obj with `desired`: Windows' access check over obj's
 * descriptor with the type's generic mapping; the rights the type does not have are dropped from
 * what is granted. 0, or ERROR_ACCESS_DENIED (a desired right refused, or nothing asked for and
 * so nothing granted: an open gives no handle without a right), ERROR_PRIVILEGE_NOT_HELD. */
DWORD nsem__obj_access_check(const struct nsem_token *t, const struct nsem_obj *obj, uint32_t desired,
                             uint32_t *granted);
struct nsem_slot *nsem__obj_slot(const struct nsem_obj *obj);
void nsem__obj_add_handle(struct nsem_obj *obj);
void nsem__obj_remove_handle(struct nsem_obj *obj);
void nsem__obj_add_pin(struct nsem_obj *obj);
void nsem__obj_remove_pin(struct nsem_obj *obj);
struct nsem_obj *nsem__obj_by_slot(uint32_t slot); /* NULL if no live object there */
/* The live object with the lowest slot >= *cursor (NULL: none); *cursor moves past it. */
struct nsem_obj *nsem__obj_next(uint32_t *cursor);
uint32_t nsem__obj_count(void);
/* The objects the limit on objects counts for a new object in domain: its user's. */
uint32_t nsem__obj_count_in(uint32_t domain);
/* Maps generic rights and MAXIMUM_ALLOWED (to GENERIC_ALL); keeps other bits as they are. */
uint32_t nsem__map_access(const struct nsem_obj_ops *ops, uint32_t access);
/* The type's generic mapping, as the access check takes it. */
GENERIC_MAPPING nsem__generic_mapping(const struct nsem_obj_ops *ops);
/* The initial state of a mutex or exclusive semaphore: owned by the creating thread, or free. */
void nsem__slot_init_owner(struct nsem_slot *slot, const struct nsem_create_params *p, bool owned);
/* A mutex or exclusive semaphore owned by a thread of a dead client: abandoned, waiters woken.
 * Returns false when a live wait-all has it locked just now (retry later). */
bool nsem__obj_abandon_owned(struct nsem_obj *obj, uint32_t client_id, pid_t pid);
/* Whether a thread of the client holds the object's wait-all lock, or owns it (mutex, exclusive). */
bool nsem__obj_held_by(const struct nsem_obj *obj, uint32_t client_id);
/* A dead client's wait-all lock on the object: released, the object unchanged. Returns whether
 * the dead client held it. */
bool nsem__obj_unlock_dead(struct nsem_obj *obj, uint32_t client_id);

/* ---- names (resolve.c, namespace.c) -------------------------------------------------------- */

/* Where a name resolves: the namespace (session) and the leaf, or a Windows error. */
struct nsem_resolved {
    uint32_t session;
    const char *leaf;
    uint32_t leaf_len;
};
/* Pure: resolves `name` (UTF-8, len bytes, not empty) relative to the caller's session namespace.
 * session_exists says whether "Session\<n>" may be entered. */
DWORD nsem__resolve_name(const char *name, uint32_t len, uint32_t caller_session,
                         bool (*session_exists)(uint32_t session), struct nsem_resolved *out);
struct nsem_obj *nsem__ns_lookup(uint32_t session, const char *leaf, uint32_t leaf_len);
int nsem__ns_link(struct nsem_obj *obj, uint32_t session, const char *leaf, uint32_t leaf_len); /* 0/-ENOMEM */
void nsem__ns_unlink(struct nsem_obj *obj);
/* A recovered object's name (recover.c): `name` (malloc'd) is the object's from now on. 0/-1. */
int nsem__ns_adopt(struct nsem_obj *obj, char *name, uint32_t len, uint32_t session);
bool nsem__arena_contains(const void *p); /* p points into the arena mapping */
void nsem__session_ref(uint32_t session);
void nsem__session_unref(uint32_t session);
bool nsem__session_exists(uint32_t session);

/* ---- blobs in the arena (blobstore.c) ----------------------------------------------------- */

/* A chain of chunks of `type` (NSEM_TYPE_NAME_CHUNK, NSEM_TYPE_SD_CHUNK) holding len bytes, each
 * chunk naming `owner` (0: the blob owns itself, its first chunk's slot). Returns the first chunk's
 * slot, 0 when the arena is full. */
uint32_t nsem__blob_write(uint32_t type, uint32_t owner, const void *bytes, uint32_t len);
/* Frees the chunks of the chain from `first` that are of that type and owner. */
void nsem__blob_free(uint32_t type, uint32_t first, uint32_t owner);
/* A malloc'd copy of the blob (*len bytes), or NULL with errno EINVAL when the chain is not a
 * sound one of that type and owner, or holds more than max bytes, ENOMEM when out of memory
 * (recover.c: only the first is a reason to forget the blob). */
void *nsem__blob_read(uint32_t type, uint32_t first, uint32_t owner, uint32_t max, uint32_t *len);
/* The blob's bytes in its one chunk, when one chunk holds it all; else NULL. */
char *nsem__blob_inline(uint32_t type, uint32_t first, uint32_t owner, uint32_t len);
uint32_t nsem__blob_next(uint32_t chunk); /* the chunk after this one of a sound chain, 0 at the end */

/* ---- security descriptors of objects (sdstore.c, identity.c) ----------------------------- */

/* A security descriptor some objects have (valid, complete and canonical: object_sd.h), kept once
 * however many have it, and in the arena for a restarted server. */
struct nsem_sd_entry {
    struct nsem_sd_entry *hash_next;
    uint32_t refs; /* objects with it, and holders of a reference for a moment */
    uint32_t hash;
    uint32_t blob; /* its copy in the arena (first chunk), 0: none (the arena was full) */
    uint32_t len;
    unsigned char bytes[];
};
/* The entry of a descriptor (len bytes, checked by the caller), with a reference for the caller:
 * the existing one if an object already has the same, else a new one, written to the arena.
 * NULL when out of memory. */
struct nsem_sd_entry *nsem__sd_intern(const unsigned char *sd, uint32_t len);
/* The entry of the default descriptor of an object made by t, with a reference; NULL when out of
 * memory. */
struct nsem_sd_entry *nsem__sd_default_entry(const struct nsem_token *t);
void nsem__sd_release(struct nsem_sd_entry *e);
/* recover.c: the descriptor at `blob` in the arena, with a reference, adopting that copy if no
 * entry has one yet; *adopted says whether it did (its chunks are then kept). NULL with errno
 * EINVAL when the chain or the descriptor in it is not sound (or blob is 0), ENOMEM when out of
 * memory. */
struct nsem_sd_entry *nsem__sd_recover(uint32_t blob, bool *adopted);
uint32_t nsem__sd_count(void); /* distinct descriptors held */

/* The token of the process at the other end of a connection, from the kernel: SO_PEERCRED's uid
 * and gid, and the process's supplementary groups (SO_PEERGROUPS, else /proc/<pid>/status), with
 * its privileges disabled. 0 or ERROR_NOT_ENOUGH_MEMORY, ERROR_ACCESS_DENIED (no credentials). */
DWORD nsem__peer_token(int fd, pid_t pid, struct nsem_token *t);

/* ---- handles (handle.c) ------------------------------------------------------------------- */

/* Handle values are (index + 1) << 2: never 0, multiples of 4; the low 2 bits are ignored. */
struct nsem_handle_entry {
    struct nsem_obj *obj; /* NULL: free */
    uint32_t access;
    uint32_t flags; /* HANDLE_FLAG_* */
};

struct nsem_handle_table {
    struct nsem_handle_entry *entries;
    uint32_t size;       /* allocated entries */
    uint32_t used;       /* entries with an object */
    uint32_t first_free; /* no free entry from the floor up to this index */
    uint32_t floor;      /* no new handle below this index (see HELLO's handle_floor) */
};

#define NSEM_HANDLE_MAX_ENTRIES (1u << 20) /* per client; the client's local table has the same bound */
/* Allocates the lowest free handle at or above the floor; 0 when out of memory or entries. Takes a
 * handle reference on obj. */
uint32_t nsem__handle_alloc(struct nsem_handle_table *t, struct nsem_obj *obj, uint32_t access, uint32_t flags);
/* Installs a handle at the given value (a recovering client's); false if taken or out of memory. */
bool nsem__handle_install_at(struct nsem_handle_table *t, uint32_t handle, struct nsem_obj *obj, uint32_t access,
                             uint32_t flags);
/* The same, at index min_index or above. */
uint32_t nsem__handle_alloc_from(struct nsem_handle_table *t, uint32_t min_index, struct nsem_obj *obj, uint32_t access,
                                 uint32_t flags);
/* The entry of a handle value, or NULL when invalid. */
struct nsem_handle_entry *nsem__handle_get(struct nsem_handle_table *t, uint32_t handle);
/* Frees the entry and drops its handle reference. */
void nsem__handle_free(struct nsem_handle_table *t, uint32_t handle);
/* Handles in every table (clients, records, tickets): what the limit on handles counts. */
uint32_t nsem__handle_total(void);
/* The handles of t, or its inheritable ones: how many a copy of it would make. */
uint32_t nsem__handle_table_count(const struct nsem_handle_table *t, bool inheritable_only);
/* Whether t has no handle value left to give (see NSEM_HANDLE_MAX_ENTRIES and the floor). */
bool nsem__handle_table_full(const struct nsem_handle_table *t);
void nsem__handle_table_destroy(struct nsem_handle_table *t);
/* A copy of src (or of its inheritable handles) with the same values; 0, or -1 out of memory. The
 * caller has checked nsem__quota_handles for the copy's handles. */
int nsem__handle_table_copy(struct nsem_handle_table *dst, const struct nsem_handle_table *src, bool inheritable_only);
/* Closes every handle without HANDLE_FLAG_INHERIT (what exec does). */
void nsem__handle_table_keep_inheritable(struct nsem_handle_table *t);
/* Moves every handle of src into dst with the same value, or, where dst already has that value,
 * the lowest free one; src is left empty. (A handle that cannot be moved, out of memory, is
 * closed.) */
void nsem__handle_table_merge(struct nsem_handle_table *dst, struct nsem_handle_table *src);

/* ---- limits (limits.c) ------------------------------------------------------------------- */

/* The defaults: room for bench/scale.c (a million objects and a million handles in one process)
 * and twice that, within the arena and the handle table's own bounds. See docs/reliability.md. */
#define NSEM_DEFAULT_MAX_OBJECTS (1u << 21)
#define NSEM_DEFAULT_MAX_HANDLES_PER_PROCESS NSEM_HANDLE_MAX_ENTRIES
#define NSEM_DEFAULT_MAX_HANDLES (1u << 22)

struct nsem_limits {
    uint32_t max_objects;             /* live objects, process objects included */
    uint32_t max_handles_per_process; /* in one client's or record's table */
    uint32_t max_handles;             /* in all tables, tickets included */
};
extern struct nsem_limits nsem__limits; /* set by main.c before the loop starts */
/* Parses a limit: a decimal number from 1 to max, nothing else. */
bool nsem__limit_parse(const char *text, uint32_t max, uint32_t *out);
/* Room for one more object: 0, ERROR_NOT_ENOUGH_QUOTA (the limit) or ERROR_NO_SYSTEM_RESOURCES
 * (the arena is full). */
DWORD nsem__quota_objects(uint32_t domain);
/* Room for n more handles in table t (NULL: a new table, such as a ticket's) and in all: 0,
 * ERROR_NOT_ENOUGH_QUOTA, or ERROR_NO_SYSTEM_RESOURCES (t has no value left). */
DWORD nsem__quota_handles(const struct nsem_handle_table *t, uint32_t n);

/* ---- clients (client.c) ------------------------------------------------------------------- */

struct nsem_pin {
    struct nsem_obj *obj;
    struct nsem_pin *next;
};

struct nsem_undo;
struct nsem_ring;

struct nsem_client {
    struct nsem_loop_item item; /* first: the loop's data.ptr */
    int fd;
    uint32_t id; /* 1..NSEM_TOKEN_MAX_CLIENTS */
    pid_t pid;
    uid_t uid;
    uint32_t domain; /* the arena of its user's objects, the only one it maps */
    uint32_t session;
    bool greeted;
    struct nsem_token token; /* who it is (identity.c), from its HELLO on; a record has none */
    bool pending;     /* whole frames wait in `in` for the next turn */
    bool provisional; /* a record made only to hold handles duplicated into a process that has not
                         connected yet: what it inherits (a ticket, an ancestor's) is still to come */
    bool dropped;     /* the server ends the connection (a malformed frame, replies left unread): the
                         process is not taken to have exec'd, and loses every handle */
    uint64_t turn;    /* the loop's turn in which it last had frames handled: one turn a loop each */
    uint32_t proxy_slot; /* its proxy word's slot, 0 until a brokered wait needs one (brokered.c) */
    int pidfd;    /* an exec'd client (fd -1): its process, watched for its exit; else -1 */
    bool recovering; /* a client of the crashed server whose handles are not known yet (recover.c) */
    struct nsem_alias *aliases; /* its private namespaces' aliases (privns.c) */
    struct nsem_client *pid_next; /* client.c's table by pid */
    struct nsem_handle_table handles;
    struct nsem_pin *pins;
    struct nsem_undo *undos; /* undo.c */
    struct nsem_ring *ring;  /* its close ring (closering.c), NULL: none */
    /* input: one frame at a time */
    unsigned char *in;
    uint32_t in_len, in_cap;
    /* output not yet taken by the socket */
    unsigned char *out;
    uint32_t out_len, out_off;
    bool watch_out; /* its socket is watched for EPOLLOUT too (replies wait for room) */
};

void nsem__client_init(void);
/* A new process's first connection: takes over its former image's remaining (inheritable) handles
 * and undo records if it exec'd; else copies the inheritable handles of its nearest known
 * ancestor (see inherit.c). */
void nsem__client_adopt_inherited(struct nsem_client *c);
/* The client of a process, NULL if none. */
struct nsem_client *nsem__client_of_pid(pid_t pid);
/* Whether c's process has not said HELLO yet (a connection not yet greeted, or a provisional
 * record): what it will inherit is not attached yet. */
bool nsem__client_unborn(const struct nsem_client *c);
/* The lowest handle index that what an unborn c may still inherit cannot hold: a handle duplicated
 * into c goes at or above it, so that its value stays valid when the inheritance is merged in. */
uint32_t nsem__inheritance_bound(const struct nsem_client *c);
/* c (just greeted) takes over the handles and undo records of a provisional record of its pid. */
void nsem__client_take_provisional(struct nsem_client *c);
/* A record for a process with no connection yet: it holds `handles` (taken over) until the process
 * exits (pidfd) or connects. NULL if it cannot be made. */
struct nsem_client *nsem__client_orphan(pid_t pid, uid_t uid, struct nsem_handle_table *handles, int pidfd);
void nsem__client_accept(int listen_fd);
/* Fairness: clients with frames left after their turn, served on the next turns. */
bool nsem__clients_pending(void);
void nsem__clients_run_pending(void);
void nsem__client_event(struct nsem_client *c, uint32_t events);
uint32_t nsem__client_count(void);
void nsem__clients_destroy_all(void);
/* The pids of clients with a handle or pin on obj: stores at most max, returns how many in all. */
uint32_t nsem__clients_holding(const struct nsem_obj *obj, uint32_t *pids, uint32_t max);
/* Adds the clients' part of the server's statistics (clients, records, handles, pins, undo
 * records, pending cleanups). */
void nsem__clients_stats(struct nsem_server_stats *st);
/* Retries the cleanups of dead clients that had to wait; returns whether some still wait. */
int nsem__retry_pending(void);

uint32_t nsem__process_start_time(pid_t pid);

/* A pending record of a crashed server's client that still lives (recover.c); NULL if it cannot be
 * made. */
struct nsem_client *nsem__client_pending(uint32_t id, pid_t pid, uid_t uid, int pidfd);
struct nsem_client *nsem__client_by_id(uint32_t id); /* NULL if none */
/* HELLO of a recovering process: c (just connected) takes over the pending record `id` of its
 * process, id included. False if there is no such record of c's process. */
bool nsem__client_take_over(struct nsem_client *c, uint32_t id);

/* ---- recovery after a crash (recover.c) --------------------------------------------------- */

/* At startup, when the arena was left by a server that died: rebuilds what it held. */
void nsem__recover(void);
/* A recovering client (pending or uploading) died: what it held is settled. */
void nsem__recover_client_gone(struct nsem_client *c);
/* A recovering client has sent all its handles. */
void nsem__recover_client_done(struct nsem_client *c);
/* RECOVER's entries: installs handles and pins of a recovering client; stores the values refused
 * into `refused` (at most count); returns how many. */
uint32_t nsem__recover_entries(struct nsem_client *c, const struct nsem_recover_entry *e, uint32_t count,
                               uint32_t *refused);

/* ---- close rings (closering.c) ------------------------------------------------------------ */

/* CLOSE of c's handle with NSEM_CLOSE_* flags, from a request or from c's close ring: 0 or
 * ERROR_INVALID_PARAMETER (flags), ERROR_INVALID_HANDLE (no such handle, or protected from close),
 * ERROR_NOT_ENOUGH_MEMORY (no pin could be made). Nothing is changed when it fails. A brokered
 * handle to an object c's process holds (owns, or has locked) leaves c a pin, with or without
 * NSEM_CLOSE_PIN. */
DWORD nsem__client_close(struct nsem_client *c, uint32_t handle, uint32_t flags);
/* The CLOSE_RING request's handler (SETUP makes the connection's ring; FLUSH does nothing). */
uint32_t nsem__closering_request(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd);
/* Takes the closes of every ring that may hold some (each arena's close_dirty says which): before
 * any request is handled. */
void nsem__closering_drain_all(void);
/* Takes the closes of c's ring: when its connection ends, before its handles are torn down. */
void nsem__closering_drain_client(struct nsem_client *c);
/* Frees c's ring (its process is gone, or has connected again as another client). */
void nsem__closering_destroy(struct nsem_client *c);
/* recover.c: the ring at slot with those chunks (checked by the caller; slots of c's domain) was
 * c's, whose process may still write to it until it reconnects: c keeps it, its entries dropped.
 * False out of memory. */
bool nsem__closering_adopt(struct nsem_client *c, uint32_t slot, const uint32_t chunks[NSEM_CLOSE_RING_CHUNKS]);
/* HELLO of a recovering process: c takes over the ring of its pending record `from`. */
void nsem__closering_take_over(struct nsem_client *c, struct nsem_client *from);
uint32_t nsem__closering_slots(void); /* arena slots the rings hold (not counted in STATS) */
/* main.c: the loop's epoll timeout (ms, -1 none), shortened so that rings are taken soon after
 * the last event; and, after each epoll_wait, takes the rings and marks the server idle when
 * nothing has happened for a while (shm.h's close_idle). */
int nsem__closering_timeout(int timeout, uint64_t now_ms);
void nsem__closering_after_wait(bool activity, uint64_t now_ms);

/* ---- private namespaces (privns.c) ----------------------------------------------------------- */

extern const struct nsem_obj_ops nsem__namespace_ops;
/* NAMESPACE: create or open (*handle: the new handle), or destroy. 0 or a Windows error. */
DWORD nsem__privns_request(struct nsem_client *c, const struct nsem_req_namespace *r, const char *tail,
                           uint32_t *handle);
/* Whether `name` starts with an alias of c's: then *error and *out say where it resolves. */
bool nsem__privns_resolve(struct nsem_client *c, const char *name, uint32_t len, DWORD *error,
                          struct nsem_resolved *out);
void nsem__aliases_destroy(struct nsem_client *c);

/* ---- brokered handles: another user's objects in a system server (brokered.c) -------------- */

int nsem__broker_init(void); /* starts the watcher thread; 0 or -errno */
/* c is closing a handle to obj: at its last to another user's exclusive semaphore, what its
 * process owns of it is abandoned (as the library does for its own). */
void nsem__broker_closing(struct nsem_client *c, struct nsem_obj *obj);
uint32_t nsem__do_signal(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd);
uint32_t nsem__do_try_wait(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd);
/* The client ends: its watches and proxy word go. */
void nsem__broker_client_gone(struct nsem_client *c);

/* ---- inheritance (inherit.c) ------------------------------------------------------------- */

/* FORK: a ticket holding a copy of every handle of c, for its child to adopt at HELLO; or, with
 * spawn, of its inheritable handles, held by c until bound or cancelled. 0, ERROR_NOT_ENOUGH_QUOTA
 * (the copies would pass the limit on handles) or ERROR_NOT_ENOUGH_MEMORY. */
DWORD nsem__ticket_make(struct nsem_client *c, bool spawn, uint64_t *key);
/* SPAWN BIND: the spawn ticket goes to the child pid (a record, as an exec'd image's). */
DWORD nsem__spawn_bind(struct nsem_client *c, uint64_t key, pid_t pid);
DWORD nsem__spawn_cancel(struct nsem_client *c, uint64_t key);
uint32_t nsem__ticket_count(void);
/* The FORK reply that gave this ticket's key was lost (never queued): no child can adopt it. */
void nsem__ticket_drop(uint64_t key);
/* A client is gone: its spawn tickets go too. */
void nsem__tickets_client_gone(uint32_t client_id);
/* Moves the ticket's handles into c (a fork child), with any duplicated into it before; false if
 * there is no such ticket. */
bool nsem__ticket_adopt(uint64_t key, struct nsem_client *c);
/* The size of the largest handle table a pending ticket holds. */
uint32_t nsem__tickets_bound(void);
/* Drops tickets no child adopted in time; returns the ms until the next one expires (-1: none). */
int nsem__tickets_expire(void);
/* Drops every ticket (the server's exit): their handles go. */
void nsem__tickets_destroy_all(void);
/* Whether a client whose connection ended has exec'd: its process lives on. Returns a pidfd of it
 * (the caller watches it) or -1 when it is dead or dying. */
int nsem__exec_pidfd(pid_t pid);
/* The parent of a process (from /proc), 0 if unknown. */
pid_t nsem__parent_pid(pid_t pid);

/* ---- undo records (undo.c) -------------------------------------------------------------- */

bool nsem__is_undo(const struct nsem_obj *obj);
/* The client's undo record of an undo semaphore, made on first use; 0 when out of memory. */
uint32_t nsem__undo_record_for(struct nsem_client *c, struct nsem_obj *obj);
/* Gives n permits back (up to the maximum); false when a live wait-all has it locked now. */
bool nsem__undo_give_back(struct nsem_obj *obj, uint32_t n);
/* The client's image ended (exec or death): makes each undo record's `taken` true from its journal
 * and whether the image still held the lock. Must come before anything unlocks its objects. */
void nsem__undo_settle(struct nsem_client *c);
uint32_t nsem__undo_count(const struct nsem_client *c); /* its undo records */
/* Gives c the undo record at slot, of obj (recover.c); false out of memory. */
bool nsem__undo_attach(struct nsem_client *c, uint32_t slot, struct nsem_obj *obj);
/* The client closed a handle to obj: if it has no other and its undo record holds no permit and no
 * change in flight, the record goes (so that opening and closing undo semaphores leaks nothing). */
void nsem__undo_drop_if_idle(struct nsem_client *c, struct nsem_obj *obj);
/* nsem__undo_drop_if_idle for each of its records (a recovered client, once its handles are known). */
void nsem__undo_drop_all_idle(struct nsem_client *c);
/* The client died: gives back what each of its undo records holds, and frees them. */
void nsem__undo_client_gone(struct nsem_client *c);
/* `to` takes over the undo records of `from` (another record of the same process); where both have
 * one for an object, one record holds what both did. */
void nsem__undo_take_over(struct nsem_client *to, struct nsem_client *from);
/* Queues a cleanup that must wait for a live wait-all's lock: undo n permits, or (n == 0)
 * abandon what the dead client owned in obj. */
void nsem__retry_add(struct nsem_obj *obj, uint32_t client_id, pid_t pid, uint32_t undo);

/* ---- requests (requests.c) ---------------------------------------------------------------- */

/* Handles one validated frame. Returns the reply length written into `rep` (at least a header),
 * or 0 when the frame is malformed and the connection must be closed. */
uint32_t nsem__dispatch(struct nsem_client *c, const unsigned char *req, uint32_t len, unsigned char *rep,
                        int *pass_fd);

/* ---- main loop (main.c) ------------------------------------------------------------------- */

int nsem__loop_add(int fd, void *ptr, uint32_t events);
int nsem__loop_mod(int fd, void *ptr, uint32_t events);
/* Stops watching fd, registered for ptr; ptr gets none of the events of the current loop turn
 * that it has not had yet (it may be freed next). */
void nsem__loop_del(int fd, void *ptr);
void nsem__log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

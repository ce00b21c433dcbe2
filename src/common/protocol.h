/*
 * protocol.h — the client-server protocol, declared in one place.
 *
 * A connection is a Unix stream socket. The client sends one request and reads one reply, in
 * turn. Every message is a fixed-width, explicitly padded struct starting with a header whose `len`
 * is the whole message; CREATE and OPEN are followed by `name_len` bytes of UTF-8 name (no NUL),
 * CREATE then by `sd_len` bytes of self-relative security descriptor, SET_SECURITY by those alone.
 * The server checks, before touching any state: len is exactly the struct size plus name_len and
 * sd_len, the op is known, every pad field is 0, name_len is at most NSEM_NAME_MAX_BYTES and sd_len
 * at most NSEM_SD_MAX_BYTES. A message that breaks any of these closes the connection. Values that
 * are merely wrong (an unknown type, flag bits, counts, handles, a malformed descriptor) get a reply
 * with the Windows error code in `error`.
 * HELLO must be the first request, and only the first; its reply carries the arena memfd in
 * SCM_RIGHTS.
 */
#ifndef NSEM_COMMON_PROTOCOL_H
#define NSEM_COMMON_PROTOCOL_H

#include <stdint.h>

#include "common/shm.h" /* NSEM_CLOSE_RING_CHUNKS */

#define NSEM_PROTOCOL_VERSION 4u /* 2: the arena slot's `waiting` word (common/shm.h), descriptors;
                                    3: brokered handles (SIGNAL, TRY_WAIT), local slot indexes;
                                    4: close rings (CLOSE_RING) */
#define NSEM_NAME_MAX_UNITS 32766u                    /* UTF-16 units, as Windows' UNICODE_STRING */
#define NSEM_NAME_MAX_BYTES (NSEM_NAME_MAX_UNITS * 3u) /* UTF-8 of that many units */
/* The largest canonical self-relative descriptor: the header, two ACLs of at most 65535 bytes (each
 * rounded up to 4) and two SIDs of at most 68. */
#define NSEM_SD_MAX_BYTES (20u + 2u * 65536u + 2u * 68u)
#define NSEM_MSG_MAX (4096u + NSEM_NAME_MAX_BYTES + NSEM_SD_MAX_BYTES) /* requests and replies */

enum nsem_op {
    NSEM_OP_HELLO = 1,
    NSEM_OP_CREATE,
    NSEM_OP_OPEN,
    NSEM_OP_CLOSE,
    NSEM_OP_UNPIN,
    NSEM_OP_DUP,
    NSEM_OP_SET_HANDLE_INFO,
    NSEM_OP_QUERY,
    NSEM_OP_LIST,
    NSEM_OP_HOLDERS,
    NSEM_OP_FORK,
    NSEM_OP_HANDLES,
    NSEM_OP_SPAWN,
    NSEM_OP_OPEN_PROCESS,
    NSEM_OP_STATS,
    NSEM_OP_RECOVER,
    NSEM_OP_NAMESPACE,
    NSEM_OP_GET_SECURITY,
    NSEM_OP_SET_SECURITY,
    NSEM_OP_SIGNAL,
    NSEM_OP_TRY_WAIT,
    NSEM_OP_CLOSE_RING,
    NSEM_OP_COUNT
};

struct nsem_req_hdr {
    uint32_t len;
    uint32_t op;
};

struct nsem_rep_hdr {
    uint32_t len;
    uint32_t error; /* a Windows error code; ERROR_ALREADY_EXISTS is a success of CREATE */
};

/* HELLO: a fork child gives the ticket its parent got from FORK, and adopts a copy of the parent's
 * handles. A process that has exec'd finds the inheritable handles of its former image, by pid.
 * Either way `handles` says how many it has; it reads them with HANDLES. */
struct nsem_req_hello {
    struct nsem_req_hdr hdr;
    uint32_t version;
    uint32_t session;
    uint32_t ticket_lo; /* 0, 0: no ticket */
    uint32_t ticket_hi;
    uint32_t handle_floor; /* no new handle of this connection has an index below: the values of a
                              dead server that the process may still hold are never reused */
    uint32_t recover_id;   /* after a crash: the client id the process had (0: none); see RECOVER */
};
struct nsem_rep_hello {
    struct nsem_rep_hdr hdr;
    uint32_t client_id; /* the client part of this connection's thread tokens */
    uint32_t server_pid;
    uint32_t arena_slots;
    uint32_t handles;   /* handles this process already has (inherited or adopted) */
    uint32_t recovered; /* 1: the server recovered the crashed one's arena and kept recover_id for
                           this process, which now sends its handles with RECOVER */
    uint32_t pad;
};

/* RECOVER, after a HELLO that recovered: the process's handles and pins, in batches; the last has
 * NSEM_RECOVER_DONE. The reply lists the handle values refused (an object that did not survive,
 * a process handle): the process forgets them. */
#define NSEM_RECOVER_HANDLE 1u
#define NSEM_RECOVER_PIN 2u
#define NSEM_RECOVER_DONE 0x1u
#define NSEM_RECOVER_MAX_ENTRIES 2048u
struct nsem_recover_entry {
    uint32_t kind;  /* NSEM_RECOVER_HANDLE or NSEM_RECOVER_PIN */
    uint32_t value; /* handle value */
    uint32_t slot;
    uint32_t type;
    uint32_t access;
    uint32_t flags; /* HANDLE_FLAG_* */
};
struct nsem_req_recover {
    struct nsem_req_hdr hdr;
    uint32_t count; /* entries that follow */
    uint32_t flags; /* NSEM_RECOVER_DONE */
    /* struct nsem_recover_entry entries[count] */
};
struct nsem_rep_recover {
    struct nsem_rep_hdr hdr;
    uint32_t refused; /* values that follow */
    uint32_t pad;
    /* uint32_t values[refused] */
};

/* FORK (sent just before fork()): a ticket for the child, holding a copy of every handle of the
 * caller with the same values until the child adopts it (or it expires). */
struct nsem_req_fork {
    struct nsem_req_hdr hdr;
    uint32_t pad[2];
};
struct nsem_rep_fork {
    struct nsem_rep_hdr hdr;
    uint32_t ticket_lo;
    uint32_t ticket_hi;
};

/* SPAWN, around posix_spawn and system(), which run no atfork handler: PREPARE makes a ticket with
 * a copy of the caller's inheritable handles, held by the caller's connection (reply as FORK's);
 * BIND gives it to the child's pid, which holds it until it exits or its first connection takes
 * it over; CANCEL drops it. */
#define NSEM_SPAWN_PREPARE 1u
#define NSEM_SPAWN_BIND 2u
#define NSEM_SPAWN_CANCEL 3u
struct nsem_req_spawn {
    struct nsem_req_hdr hdr;
    uint32_t action;
    uint32_t pid; /* BIND */
    uint32_t ticket_lo;
    uint32_t ticket_hi;
};

/* HANDLES: the caller's handles from index `cursor` on; next_cursor 0 at the end. */
struct nsem_req_handles {
    struct nsem_req_hdr hdr;
    uint32_t cursor;
    uint32_t pad;
};
struct nsem_handle_desc {
    uint32_t handle;
    uint32_t slot;
    uint32_t access;
    uint32_t type;
    uint32_t handle_flags;
    uint32_t undo_slot;
};
#define NSEM_HANDLES_PER_REPLY 1024u
struct nsem_rep_handles {
    struct nsem_rep_hdr hdr;
    uint32_t next_cursor;
    uint32_t count;
    /* struct nsem_handle_desc entries[count] */
};

/* attributes (CREATE, OPEN, DUP's inherit bit) */
#define NSEM_ATTR_INHERIT 0x1u
#define NSEM_ATTR_ALL NSEM_ATTR_INHERIT

/* type_flags of CREATE */
#define NSEM_CREATE_MUTEX_OWNED 0x1u  /* the creating thread (owner_token) owns a new mutex */
#define NSEM_CREATE_EVENT_MANUAL 0x1u /* manual-reset event */
#define NSEM_CREATE_EVENT_SET 0x2u    /* initially set */
#define NSEM_CREATE_SEM_EXCLUSIVE 0x1u /* exclusive semaphore; initial 0: owned by owner_token */
#define NSEM_CREATE_SEM_UNDO 0x2u      /* undo semaphore (shm.h's undo records) */

struct nsem_req_create {
    struct nsem_req_hdr hdr;
    uint32_t type; /* NSEM_TYPE_* */
    uint32_t access;
    uint32_t attributes;
    uint32_t type_flags;
    int32_t initial; /* semaphore */
    int32_t max;     /* semaphore */
    uint32_t owner_token; /* mutex created owned: the calling thread's token */
    uint32_t owner_tid;
    uint32_t name_len;
    uint32_t sd_len; /* 0: the default descriptor (the creator's) */
    /* char name[name_len], then the new object's self-relative descriptor, sd_len bytes (ignored
     * when the name exists, as Windows ignores it) */
};

struct nsem_req_open {
    struct nsem_req_hdr hdr;
    uint32_t type;
    uint32_t access;
    uint32_t attributes;
    uint32_t name_len;
    /* char name[name_len] */
};

/* The reply of CREATE, OPEN and DUP: a new handle. */
struct nsem_rep_handle {
    struct nsem_rep_hdr hdr;
    uint32_t handle;
    uint32_t slot;
    uint32_t access;
    uint32_t type;
    uint32_t handle_flags; /* HANDLE_FLAG_* */
    uint32_t undo_slot;    /* an undo semaphore: this process's undo record; else 0 */
};

#define NSEM_CLOSE_PIN 0x1u /* keep the object alive for this client until UNPIN (a wait or an owned
                               mutex of this client still uses it) */
struct nsem_req_close {
    struct nsem_req_hdr hdr;
    uint32_t handle;
    uint32_t flags;
};

/* CLOSE_RING (common/shm.h's close rings): SETUP gives the caller its ring (made on the first
 * SETUP of the connection; the reply's ring 0: none, the arena is short of slots: close with
 * CLOSE). FLUSH does nothing but what precedes every request, taking every ring's closes: a client
 * sends it when it has posted a close while the server went idle (shm.h's close_idle). */
#define NSEM_CLOSE_RING_SETUP 1u
#define NSEM_CLOSE_RING_FLUSH 2u
struct nsem_req_close_ring {
    struct nsem_req_hdr hdr;
    uint32_t action;
    uint32_t pad;
};
struct nsem_rep_close_ring {
    struct nsem_rep_hdr hdr;
    uint32_t ring;     /* the header slot, 0: none */
    uint32_t capacity; /* NSEM_CLOSE_RING_CAP */
    uint32_t chunks[NSEM_CLOSE_RING_CHUNKS];
    uint32_t head;     /* where the client writes next (the ring is empty) */
};

struct nsem_req_unpin {
    struct nsem_req_hdr hdr;
    uint32_t slot;
    uint32_t pad;
};

/* DUP: src_process and dst_process are process handles of the caller, or NSEM_SELF for the caller;
 * handle is a handle of the source process, or NSEM_PSEUDO_PROCESS_HANDLE (the source's own
 * GetCurrentProcess()). The reply's handle is valid in the target process. */
#define NSEM_SELF 0u
#define NSEM_PSEUDO_PROCESS_HANDLE 0xFFFFFFFFu
struct nsem_req_dup {
    struct nsem_req_hdr hdr;
    uint32_t handle;
    uint32_t access;
    uint32_t options; /* DUPLICATE_* */
    uint32_t attributes;
    uint32_t src_process;
    uint32_t dst_process;
};

/* OPEN_PROCESS: a handle to the process pid. */
struct nsem_req_open_process {
    struct nsem_req_hdr hdr;
    uint32_t pid;
    uint32_t access;
    uint32_t attributes;
    uint32_t pad;
};

struct nsem_req_set_handle_info {
    struct nsem_req_hdr hdr;
    uint32_t handle;
    uint32_t mask;
    uint32_t flags;
    uint32_t pad;
};
struct nsem_rep_handle_info {
    struct nsem_rep_hdr hdr;
    uint32_t flags;
    uint32_t pad;
};

struct nsem_req_query {
    struct nsem_req_hdr hdr;
    uint32_t handle;
    uint32_t pad;
};
/* What an object is and who holds it (QUERY, LIST). */
struct nsem_obj_state {
    uint32_t type;
    uint32_t flags; /* NSEM_INFO_* */
    int32_t count;
    int32_t max;
    uint32_t owner_pid;
    uint32_t owner_tid;
    uint32_t recursion;
    uint32_t abandoned;
    uint32_t last_owner_pid;
    uint32_t handle_count;
    uint32_t waiter_count;
    uint32_t pad;
};
struct nsem_rep_query {
    struct nsem_rep_hdr hdr;
    struct nsem_obj_state state;
};

/* LIST: the objects from slot `cursor` on, as many as fit one reply; next_cursor 0 at the end. */
struct nsem_req_list {
    struct nsem_req_hdr hdr;
    uint32_t cursor;
    uint32_t pad;
};
struct nsem_rep_list {
    struct nsem_rep_hdr hdr;
    uint32_t next_cursor;
    uint32_t count;
    /* count entries follow, each padded to 4 bytes */
};
struct nsem_list_entry {
    uint32_t len;     /* of the entry with its name and padding */
    uint32_t session; /* namespace of a named object: 0 global, else the session */
    uint32_t named;
    uint32_t name_len;
    struct nsem_obj_state state;
    /* char name[name_len] */
};

/* HOLDERS: the processes with a handle (or a pin) on the object of `handle`. */
#define NSEM_HOLDERS_MAX 1024u
struct nsem_req_holders {
    struct nsem_req_hdr hdr;
    uint32_t handle;
    uint32_t pad;
};
struct nsem_rep_holders {
    struct nsem_rep_hdr hdr;
    uint32_t count; /* pids that follow (at most NSEM_HOLDERS_MAX) */
    uint32_t total; /* holders in all */
    /* uint32_t pids[count] */
};

/* STATS: what the server holds, for tests and `nsem stats` (is anything leaked?). */
struct nsem_req_stats {
    struct nsem_req_hdr hdr;
    uint32_t pad[2];
};
struct nsem_server_stats {
    uint32_t server_pid;
    uint32_t objects;      /* live objects, named or not, process objects included */
    uint32_t handles;      /* in every client and record */
    uint32_t pins;         /* pins of clients (not the server's own) */
    uint32_t clients;      /* connected clients */
    uint32_t records;      /* processes without a connection holding handles (exec'd, spawned) */
    uint32_t undo_records; /* per-process undo records */
    uint32_t tickets;      /* fork and spawn tickets not yet adopted */
    uint32_t cleanups;     /* cleanups of dead clients waiting for a wait-all's lock */
    uint32_t arena_slots;  /* arena slots in use (objects, undo records, waiter queues) */
    uint64_t heap_bytes;   /* the server's malloc'd bytes in use */
};
struct nsem_rep_stats {
    struct nsem_rep_hdr hdr;
    struct nsem_server_stats stats;
};

/* NAMESPACE: CreatePrivateNamespace / OpenPrivateNamespace (reply: a handle, as CREATE's), or
 * the DESTROY of a namespace handle's boundary (PRIVATE_NAMESPACE_FLAG_DESTROY; reply: status).
 * The tail (name_len bytes, no NUL) is the alias, then the boundary's name, then its SIDs as
 * "S-1-..." strings, each followed by ';'. */
#define NSEM_PRIVATE_NS_FIRST 0x80000000u /* namespace keys from here on are private namespaces':
                                            no session has one */
#define NSEM_NAMESPACE_CREATE 1u
#define NSEM_NAMESPACE_OPEN 2u
#define NSEM_NAMESPACE_DESTROY 3u
struct nsem_req_namespace {
    struct nsem_req_hdr hdr;
    uint32_t action;
    uint32_t attributes;   /* NSEM_ATTR_INHERIT */
    uint32_t handle;       /* DESTROY */
    uint32_t alias_len;    /* CREATE, OPEN */
    uint32_t boundary_len; /* CREATE, OPEN: the boundary's name */
    uint32_t name_len;     /* the whole tail */
};

/* GET_SECURITY: the parts of the descriptor of the object behind `handle` that `info` (a
 * SECURITY_INFORMATION) selects, as a canonical self-relative descriptor. */
struct nsem_req_get_security {
    struct nsem_req_hdr hdr;
    uint32_t handle;
    uint32_t info;
};
struct nsem_rep_security {
    struct nsem_rep_hdr hdr;
    uint32_t sd_len; /* bytes that follow */
    uint32_t pad;
    /* the descriptor */
};

/* SET_SECURITY: the parts `info` selects of the object's descriptor are taken from the
 * self-relative descriptor that follows (sd_len bytes). Reply: status. */
struct nsem_req_set_security {
    struct nsem_req_hdr hdr;
    uint32_t handle;
    uint32_t info;
    uint32_t sd_len;
    uint32_t pad;
    /* the descriptor */
};

/* Brokered handles (server/brokered.c). A system server's handle to another user's object has slot
 * 0 in its reply: the object is in an arena the caller does not map, and each operation on it is
 * a request, checked against the handle's access and applied by the server. `token` is the calling
 * thread's (its client part must be the caller's). */
#define NSEM_SIGNAL_RELEASE_SEMAPHORE 1u /* count: the release; reply: the previous count */
#define NSEM_SIGNAL_RELEASE_MUTEX 2u
#define NSEM_SIGNAL_SET_EVENT 3u
#define NSEM_SIGNAL_RESET_EVENT 4u
#define NSEM_SIGNAL_PULSE_EVENT 5u
#define NSEM_SIGNAL_THREAD_EXIT 6u /* handle 0: abandons the brokered mutexes `token` owns */
struct nsem_req_signal {
    struct nsem_req_hdr hdr;
    uint32_t handle;
    uint32_t action; /* NSEM_SIGNAL_* */
    int32_t count;
    uint32_t token;
};
struct nsem_rep_signal {
    struct nsem_rep_hdr hdr; /* ERROR_RETRY: a wait-all has the object locked; ask again */
    int32_t previous;
    uint32_t pad;
};
/* TRY_WAIT: one attempt of a wait that involves a brokered handle, made by the server over every
 * object of the wait (wait-any in order, or wait-all at once). When it fails, the server watches
 * the brokered objects and advances the caller's proxy word (the seq of slot proxy_slot of its own
 * arena, read before the attempt: proxy_seq) when one changes; the caller sleeps on it and on its
 * own objects' words, then asks again with ARMED and the pulse numbers the last reply gave. */
#define NSEM_TRY_WAIT_ALL 0x1u
#define NSEM_TRY_WAIT_ARMED 0x2u
#define NSEM_TRY_WAIT_LAST 0x4u /* the wait's last attempt (its timeout): it leaves the queues it joined */
#define NSEM_TRY_WAIT_GOT 0u
#define NSEM_TRY_WAIT_NOT_YET 1u
struct nsem_req_try_wait {
    struct nsem_req_hdr hdr;
    uint32_t count; /* 1..64 */
    uint32_t flags; /* NSEM_TRY_WAIT_* */
    uint32_t token;
    uint32_t tid;
    uint32_t handles[64];
    uint32_t pulses[64]; /* ARMED: each manual event's pulse number when the wait began */
};
struct nsem_rep_try_wait {
    struct nsem_rep_hdr hdr;
    uint32_t status;  /* NSEM_TRY_WAIT_GOT or NSEM_TRY_WAIT_NOT_YET */
    uint32_t result;  /* GOT: WAIT_OBJECT_0 + i or WAIT_ABANDONED_0 + i */
    uint32_t proxy_slot;
    uint32_t proxy_seq;
    uint64_t acquired; /* GOT: bit i, a mutex or exclusive semaphore of the caller's own arena it now
                          owns (not a recursion) */
    uint32_t owner_elsewhere; /* object 0 is an exclusive semaphore another process owns */
    uint32_t pad;
    uint32_t pulses[64];
};
#define NSEM_TYPE_PROXY 0x104u /* an arena slot whose seq is a client's proxy word */
_Static_assert(NSEM_TYPE_PROXY != NSEM_TYPE_CLOSE_RING && NSEM_TYPE_PROXY != NSEM_TYPE_CLOSE_CHUNK,
               "a slot's type says what it is");

/* A reply that carries nothing but the error. */
struct nsem_rep_status {
    struct nsem_rep_hdr hdr;
};

#endif

/*
 * requests.c — fuzz-requests: the server's request handling with real state behind it.
 *
 * The input (requests_input.h) is cut into request frames, as client.c cuts a connection's bytes,
 * and each frame goes to nsem__dispatch for one of three clients; between frames, clients' threads
 * act on the arena as libnsem does (take, release, a wait-all's lock), and clients end — their
 * connection (an exec) or their process (death, at any instruction) — so that client.c's cleanup,
 * undo.c's settlement and the retries run on fuzzed state. Every reply is checked against the
 * protocol, and so is the state a death leaves. After each input the whole server is taken down
 * (nsem__clients_destroy_all, as nsemd's exit) and must be empty: no object, no arena slot, no
 * watched descriptor, no open descriptor more than before, so that inputs are independent.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/exclq.h"
#include "fuzz/check.h"
#include "fuzz/requests_input.h"
#include "fuzz/server_env.h"
#include "server/server.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the state of one input --------------------------------------------------------------- */

static struct nsem_client *conn[FUZZ_CLIENTS]; /* a live connection, or NULL */
static bool exited[FUZZ_CLIENTS];              /* its process has ended (for this input) */
static uint32_t slots_seen[256], nslots;       /* slots of this input's replies (UNPIN's mapping) */
static uint64_t tickets_seen[64], ntickets;    /* tickets of this input's replies */
static struct nsem_rep_close_ring rings[FUZZ_CLIENTS]; /* the CLOSE_RING SETUP reply of ring_id */
static uint32_t ring_id[FUZZ_CLIENTS];                 /* the client id it was for, 0: none */
static uint32_t sessions_seen[64], nsessions;  /* sessions of this input's HELLOs */

/* Wait-all locks held across one step (FUZZ_OP_HOLD_LOCK): taken in one step, released at the
 * start of the step after the next, if their thread's client still lives. */
struct held {
    int client;
    uint32_t id, slot, token;
};
static struct held held_now[8], held_prev[8];
static int nheld_now, nheld_prev;

static unsigned char *rep;   /* the reply buffer: exactly NSEM_MSG_MAX, as the server's */
static bool trace;           /* NSEM_FUZZ_TRACE: each step on stderr, to read what an input does */
static int baseline_fds;
static unsigned long inputs;

static void remember_slot(uint32_t slot)
{
    if (nslots < sizeof slots_seen / sizeof slots_seen[0]) slots_seen[nslots++] = slot;
}

/* ---- run-dependent values, mapped (requests_input.h) ------------------------------------- */

static pid_t map_pid(uint32_t v)
{
    switch (v % FUZZ_PID_CHOICES) {
    case 0:
    case 1:
    case 2:
        return fuzz_env_peer_pid((int)(v % FUZZ_PID_CHOICES));
    case 3:
        return getpid();
    case 4:
        return 0;
    default:
        return 0x3FFFFFF0; /* above any pid_max: no such process */
    }
}

static uint32_t map_token(const struct nsem_client *c, uint32_t token)
{
    uint32_t x = NSEM_TOKEN_CLIENT(token), id;
    if (x == 0) return token;
    if (x <= FUZZ_CLIENTS && conn[x - 1]) id = conn[x - 1]->id;
    else id = c->id % NSEM_TOKEN_MAX_CLIENTS + 1; /* any id but the caller's is refused alike */
    return (token & ~(NSEM_TOKEN_MASK & ~NSEM_TOKEN_MAX_THREADS)) | (id << NSEM_TOKEN_THREAD_BITS);
}

static void map_ticket(uint32_t *lo, uint32_t *hi)
{
    if (*hi != 0 || *lo == 0 || *lo > 255 || ntickets == 0) return;
    uint64_t t = tickets_seen[(*lo - 1) % ntickets];
    *lo = (uint32_t)t;
    *hi = (uint32_t)(t >> 32);
}

/* Rewrites the run-dependent fields of a frame in place (its length is not trusted yet). */
static void map_frame(const struct nsem_client *c, unsigned char *req, uint32_t len)
{
    struct nsem_req_hdr h;
    memcpy(&h, req, sizeof h);
#define AS(type) (len >= sizeof(type) ? (type *)(void *)req : NULL)
    if (h.op == NSEM_OP_CREATE && AS(struct nsem_req_create)) {
        struct nsem_req_create *r = AS(struct nsem_req_create);
        r->owner_token = map_token(c, r->owner_token);
    } else if (h.op == NSEM_OP_SIGNAL && AS(struct nsem_req_signal)) {
        struct nsem_req_signal *r = AS(struct nsem_req_signal);
        r->token = map_token(c, r->token);
    } else if (h.op == NSEM_OP_TRY_WAIT && AS(struct nsem_req_try_wait)) {
        struct nsem_req_try_wait *r = AS(struct nsem_req_try_wait);
        r->token = map_token(c, r->token);
    } else if (h.op == NSEM_OP_OPEN_PROCESS && AS(struct nsem_req_open_process)) {
        struct nsem_req_open_process *r = AS(struct nsem_req_open_process);
        r->pid = (uint32_t)map_pid(r->pid);
    } else if (h.op == NSEM_OP_SPAWN && AS(struct nsem_req_spawn)) {
        struct nsem_req_spawn *r = AS(struct nsem_req_spawn);
        r->pid = (uint32_t)map_pid(r->pid);
        map_ticket(&r->ticket_lo, &r->ticket_hi);
    } else if (h.op == NSEM_OP_HELLO && AS(struct nsem_req_hello)) {
        struct nsem_req_hello *r = AS(struct nsem_req_hello);
        map_ticket(&r->ticket_lo, &r->ticket_hi);
    } else if (h.op == NSEM_OP_UNPIN && AS(struct nsem_req_unpin)) {
        struct nsem_req_unpin *r = AS(struct nsem_req_unpin);
        r->slot = r->slot == 0 || nslots == 0 ? 0 : slots_seen[(r->slot - 1) % nslots];
    }
#undef AS
}

/* ---- checks of replies -------------------------------------------------------------------- */

/* A handle a reply gave: it is in the table of its client, as the reply says. */
static void check_handle(struct nsem_client *to, const struct nsem_rep_handle *r)
{
    struct nsem_obj *obj = nsem__obj_by_slot(r->slot);
    CHECK(obj && obj->ops->type == r->type);
    CHECK(r->handle != 0 && (r->handle & 3u) == 0);
    CHECK((r->undo_slot != 0) == nsem__is_undo(obj));
    if (!to) return;
    struct nsem_handle_entry *e = nsem__handle_get(&to->handles, r->handle);
    CHECK(e && e->obj == obj && e->access == r->access && e->flags == r->handle_flags);
}

static void check_list(const unsigned char *out, uint32_t len)
{
    struct nsem_rep_list l;
    memcpy(&l, out, sizeof l);
    uint32_t off = sizeof l;
    for (uint32_t i = 0; i < l.count; i++) {
        struct nsem_list_entry e;
        CHECK(len - off >= sizeof e);
        memcpy(&e, out + off, sizeof e);
        CHECK(e.len >= sizeof e && e.len % 4 == 0 && e.len <= len - off);
        CHECK(e.name_len <= e.len - sizeof e && (e.named || e.name_len == 0));
        CHECK(nsem__ops_for_type(e.state.type) != NULL);
        off += e.len;
    }
    CHECK(off == len);
}

static void check_handles(struct nsem_client *c, const unsigned char *out, uint32_t len)
{
    struct nsem_rep_handles h;
    memcpy(&h, out, sizeof h);
    CHECK(h.count <= NSEM_HANDLES_PER_REPLY && len == sizeof h + h.count * sizeof(struct nsem_handle_desc));
    for (uint32_t i = 0; i < h.count; i++) {
        struct nsem_handle_desc d;
        memcpy(&d, out + sizeof h + i * sizeof d, sizeof d);
        struct nsem_handle_entry *e = nsem__handle_get(&c->handles, d.handle);
        CHECK(e && e->obj->slot == d.slot && e->obj->ops->type == d.type && e->access == d.access);
        CHECK(e->flags == d.handle_flags && (d.undo_slot != 0) == nsem__is_undo(e->obj));
    }
}

/* Every reply: a whole message of the protocol, of the size its op and error call for. */
static void check_reply(struct nsem_client *c, const unsigned char *req, uint32_t rlen, int pass_fd)
{
    struct nsem_req_hdr q;
    struct nsem_rep_hdr h;
    memcpy(&q, req, sizeof q);
    CHECK(rlen >= sizeof h && rlen <= NSEM_MSG_MAX);
    memcpy(&h, rep, sizeof h);
    CHECK(h.len == rlen);
    CHECK(nsem__error_name(h.error) != NULL); /* a code of errors.h's table */
    /* Only HELLO passes a descriptor: the arena, which the server keeps (it is sent as a copy). */
    CHECK(pass_fd == ((q.op == NSEM_OP_HELLO && h.error == 0) ? nsem__arena_fd(0) : -1));
    bool handle_reply = q.op == NSEM_OP_CREATE || q.op == NSEM_OP_OPEN || q.op == NSEM_OP_DUP ||
                        q.op == NSEM_OP_OPEN_PROCESS;
    if (h.error != 0 && !(q.op == NSEM_OP_CREATE && h.error == ERROR_ALREADY_EXISTS)) {
        CHECK(rlen == sizeof(struct nsem_rep_status)); /* a failure says nothing more */
        return;
    }
    if (handle_reply) {
        struct nsem_rep_handle r;
        CHECK(rlen == sizeof r);
        memcpy(&r, rep, sizeof r);
        struct nsem_req_dup d;
        memcpy(&d, req, q.op == NSEM_OP_DUP ? sizeof d : sizeof q);
        check_handle(q.op != NSEM_OP_DUP || d.dst_process == NSEM_SELF ? c : NULL, &r);
        remember_slot(r.slot);
        return;
    }
    switch (q.op) {
    case NSEM_OP_HELLO: {
        struct nsem_rep_hello r;
        CHECK(rlen == sizeof r);
        memcpy(&r, rep, sizeof r);
        CHECK(r.client_id == c->id && r.arena_slots == NSEM_ARENA_SLOTS && r.handles == c->handles.used);
        if (nsessions < sizeof sessions_seen / sizeof sessions_seen[0]) sessions_seen[nsessions++] = c->session;
        break;
    }
    case NSEM_OP_CLOSE:
    case NSEM_OP_UNPIN:
        CHECK(rlen == sizeof(struct nsem_rep_status));
        break;
    case NSEM_OP_SET_HANDLE_INFO:
        CHECK(rlen == sizeof(struct nsem_rep_handle_info));
        break;
    case NSEM_OP_QUERY: {
        struct nsem_rep_query r;
        CHECK(rlen == sizeof r);
        memcpy(&r, rep, sizeof r);
        CHECK(nsem__ops_for_type(r.state.type) != NULL && r.state.handle_count > 0);
        break;
    }
    case NSEM_OP_LIST:
        check_list(rep, rlen);
        break;
    case NSEM_OP_HOLDERS: {
        struct nsem_rep_holders r;
        memcpy(&r, rep, sizeof r);
        CHECK(r.count <= NSEM_HOLDERS_MAX && r.count <= r.total && r.total >= 1 && rlen == sizeof r + r.count * 4);
        break;
    }
    case NSEM_OP_FORK:
    case NSEM_OP_SPAWN: {
        struct nsem_req_spawn s;
        memcpy(&s, req, q.op == NSEM_OP_SPAWN ? sizeof s : sizeof q);
        if (q.op == NSEM_OP_SPAWN && s.action != NSEM_SPAWN_PREPARE) {
            CHECK(rlen == sizeof(struct nsem_rep_status));
            break;
        }
        struct nsem_rep_fork r;
        CHECK(rlen == sizeof r);
        memcpy(&r, rep, sizeof r);
        CHECK(r.ticket_lo || r.ticket_hi);
        if (ntickets < sizeof tickets_seen / sizeof tickets_seen[0])
            tickets_seen[ntickets++] = (uint64_t)r.ticket_hi << 32 | r.ticket_lo;
        break;
    }
    case NSEM_OP_HANDLES:
        check_handles(c, rep, rlen);
        break;
    case NSEM_OP_SIGNAL:
        CHECK(rlen == sizeof(struct nsem_rep_signal));
        break;
    case NSEM_OP_TRY_WAIT: {
        struct nsem_rep_try_wait r;
        CHECK(rlen == sizeof r);
        memcpy(&r, rep, sizeof r);
        CHECK(r.status <= NSEM_TRY_WAIT_NOT_YET && r.proxy_slot >= NSEM_ARENA_FIRST_SLOT && r.proxy_slot < NSEM_ARENA_SLOTS);
        CHECK(atomic_load_explicit(&nsem__arena_slot(nsem_slot_index(c->domain, r.proxy_slot))->type,
                                   memory_order_relaxed) == NSEM_TYPE_PROXY);
        CHECK(r.status == NSEM_TRY_WAIT_GOT || r.acquired == 0); /* nothing taken by a failed attempt */
        break;
    }
    case NSEM_OP_CLOSE_RING: {
        struct nsem_req_close_ring a;
        memcpy(&a, req, sizeof a);
        if (a.action != NSEM_CLOSE_RING_SETUP) {
            CHECK(rlen == sizeof(struct nsem_rep_status));
            break;
        }
        struct nsem_rep_close_ring r;
        CHECK(rlen == sizeof r);
        memcpy(&r, rep, sizeof r);
        CHECK(r.ring == 0 || (r.capacity == NSEM_CLOSE_RING_CAP && c->ring));
        /* Slots of the client's own arena, by their local indexes. */
        CHECK(r.ring == 0 || (r.ring < NSEM_ARENA_SLOTS &&
                              atomic_load_explicit(&nsem__arena_slot(nsem_slot_index(c->domain, r.ring))->type,
                                                   memory_order_relaxed) == NSEM_TYPE_CLOSE_RING));
        for (uint32_t k = 0; k < NSEM_CLOSE_RING_CHUNKS && r.ring; k++)
            CHECK(r.chunks[k] < NSEM_ARENA_SLOTS &&
                  atomic_load_explicit(&nsem__arena_slot(nsem_slot_index(c->domain, r.chunks[k]))->type,
                                       memory_order_relaxed) == NSEM_TYPE_CLOSE_CHUNK);
        for (int k = 0; k < FUZZ_CLIENTS; k++)
            if (conn[k] == c && r.ring) {
                rings[k] = r;
                ring_id[k] = c->id;
            }
        break;
    }
    default:
        CHECK(!"a reply to an unknown op");
    }
}

/* The server's handle table of a client is consistent. */
static void check_table(const struct nsem_handle_table *t)
{
    uint32_t used = 0;
    for (uint32_t i = 0; i < t->size; i++) {
        if (!t->entries[i].obj) continue;
        used++;
        CHECK(t->entries[i].obj->handle_count > 0);
    }
    CHECK(used == t->used && t->first_free <= t->size);
    for (uint32_t i = t->floor; i < t->first_free; i++) CHECK(t->entries[i].obj); /* none is given below the floor */
}

/* ---- clients' ends ---------------------------------------------------------------------- */

/* The connection ends and the process lives on (exec), or the server closed it. */
static void end_connection(int i)
{
    if (!conn[i]) return;
    struct nsem_client *c = conn[i];
    conn[i] = NULL;
    fuzz_env_disconnect(c);
    struct nsem_client *r = nsem__client_of_pid(fuzz_env_peer_pid(i));
    CHECK(!r || (r->fd < 0 && r->pidfd >= 0)); /* at most the record of its next image */
}

/* The process ends: as the loop would, the server hears it from every pidfd it watches for that
 * pid. (The peer process itself lives on, to serve the next inputs; for the rest of this input it
 * is dead: its frames are dropped.) */
static void process_exit(int i)
{
    end_connection(i);
    fuzz_env_report_exit(fuzz_env_peer_pid(i));
    CHECK(nsem__client_of_pid(fuzz_env_peer_pid(i)) == NULL);
    exited[i] = true;
}

/* ---- threads: what libnsem does in the arena ------------------------------------------- */

static bool lock_word(struct nsem_slot *s, uint32_t me, uint32_t *v)
{
    uint64_t w = atomic_load(&s->state);
    do {
        if (nsem_word_locker(w)) return false; /* a real thread would wait; this one gives up */
    } while (!atomic_compare_exchange_weak(&s->state, &w, nsem_word(nsem_word_value(w), me)));
    *v = nsem_word_value(w);
    return true;
}

static void unlock_word(struct nsem_slot *s, uint32_t v)
{
    atomic_store(&s->state, nsem_word(v, 0));
    nsem__slot_wake(s);
}

static void set_owner(struct nsem_slot *s, uint32_t recursion, pid_t pid)
{
    atomic_store_explicit(&s->recursion, recursion, memory_order_relaxed);
    atomic_store_explicit(&s->owner_pid, recursion ? (uint32_t)pid : 0, memory_order_relaxed);
    atomic_store_explicit(&s->owner_tid, recursion ? (uint32_t)pid : 0, memory_order_relaxed);
}

static struct nsem_excl_queue *queue_of(struct nsem_slot *s)
{
    uint32_t q = atomic_load_explicit(&s->aux, memory_order_relaxed);
    return q ? (struct nsem_excl_queue *)nsem__arena_slot(q) : NULL;
}

static bool excl_takeable(struct nsem_excl_queue *q, uint32_t v, uint32_t me)
{
    uint32_t owner = v & NSEM_TOKEN_MASK;
    if (owner) return owner == me;
    return !q || nsem_q_len(q) == 0 || nsem_q_at(q, 0) == me;
}

/* A wait that succeeds if the object is signalled for `me`; a blocked exclusive waiter queues. When
 * die_uncommitted, an undo take stops after its commit point, before its record says so. */
static void take(struct nsem_slot *s, uint32_t undo_slot, uint32_t me, pid_t pid, bool die_uncommitted)
{
    uint32_t type = atomic_load_explicit(&s->type, memory_order_relaxed);
    uint32_t flags = atomic_load_explicit(&s->flags, memory_order_relaxed);
    uint32_t v, nv;
    if (type == NSEM_TYPE_SEMAPHORE && (flags & NSEM_SLOT_EXCLUSIVE)) {
        struct nsem_excl_queue *q = queue_of(s);
        if (!lock_word(s, me, &v)) return;
        if (!excl_takeable(q, v, me)) {
            if (q && !nsem_q_contains(q, me)) nsem_q_push(q, me);
        } else if ((v & NSEM_TOKEN_MASK) == me && (v & NSEM_EXCL_HANDED)) {
            set_owner(s, 1, pid);
            v = me;
        } else {
            if (!(v & NSEM_TOKEN_MASK) && q && nsem_q_len(q) && nsem_q_at(q, 0) == me) nsem_q_pop(q);
            enum nsem_take r = nsem_state_take(NSEM_TYPE_SEMAPHORE, flags, v, me, &nv);
            uint32_t rec = atomic_load_explicit(&s->recursion, memory_order_relaxed);
            if (r == NSEM_TAKE_RECURSE && rec < NSEM_EXCL_MAX_RECURSION) {
                atomic_store_explicit(&s->recursion, rec + 1, memory_order_relaxed);
            } else if (r == NSEM_TAKE_OK || r == NSEM_TAKE_ABANDONED) {
                set_owner(s, 1, pid);
                v = nv;
            }
        }
        unlock_word(s, v);
        return;
    }
    if (undo_slot) {
        struct nsem_undo_record *u = (struct nsem_undo_record *)nsem__arena_slot(undo_slot);
        if (!lock_word(s, me, &v)) return;
        if (v == 0) {
            unlock_word(s, v);
            return;
        }
        uint32_t taken = atomic_load_explicit(&u->taken, memory_order_relaxed) + 1;
        atomic_store(&u->journal, NSEM_UNDO_JOURNAL | taken);
        unlock_word(s, v - 1); /* the commit point */
        if (die_uncommitted) return;
        atomic_store_explicit(&u->taken, taken, memory_order_relaxed);
        atomic_store(&u->journal, 0);
        return;
    }
    uint64_t w = atomic_load(&s->state);
    if (nsem_word_locker(w)) return;
    enum nsem_take r = nsem_state_take(type, flags, nsem_word_value(w), me, &nv);
    if (r == NSEM_TAKE_BUSY) return;
    if (r == NSEM_TAKE_RECURSE) {
        uint32_t rec = atomic_load_explicit(&s->recursion, memory_order_relaxed);
        if (rec < NSEM_MUTEX_MAX_RECURSION) atomic_store_explicit(&s->recursion, rec + 1, memory_order_relaxed);
        return;
    }
    if (!atomic_compare_exchange_strong(&s->state, &w, nsem_word(nv, 0))) return;
    if (type == NSEM_TYPE_MUTEX) set_owner(s, 1, pid);
}

/* ReleaseSemaphore(1), ReleaseMutex or SetEvent, when the caller may. */
static void release(struct nsem_slot *s, uint32_t undo_slot, uint32_t me)
{
    uint32_t type = atomic_load_explicit(&s->type, memory_order_relaxed);
    uint32_t flags = atomic_load_explicit(&s->flags, memory_order_relaxed);
    int32_t max = atomic_load_explicit(&s->max, memory_order_relaxed);
    uint32_t v, nv;
    if (type == NSEM_TYPE_SEMAPHORE && (flags & NSEM_SLOT_EXCLUSIVE)) {
        if (!lock_word(s, me, &v)) return;
        if (nsem_state_excl_check_release(v, NSEM_TOKEN_CLIENT(me)) == 0) {
            uint32_t rec = atomic_load_explicit(&s->recursion, memory_order_relaxed);
            if (rec > 1 && !(v & NSEM_EXCL_HANDED)) {
                atomic_store_explicit(&s->recursion, rec - 1, memory_order_relaxed);
            } else {
                set_owner(s, 0, 0);
                struct nsem_excl_queue *q = queue_of(s);
                uint32_t next = q ? nsem_q_pop(q) : 0;
                if (next) atomic_store_explicit(&s->recursion, 1, memory_order_relaxed);
                v = next ? next | NSEM_EXCL_HANDED : 0;
            }
        }
        unlock_word(s, v);
        return;
    }
    if (type == NSEM_TYPE_SEMAPHORE) {
        if (!lock_word(s, me, &v)) return;
        if (nsem_state_sem_release(v, max, 1, &nv) != 0) nv = v;
        else if (undo_slot) {
            struct nsem_undo_record *u = (struct nsem_undo_record *)nsem__arena_slot(undo_slot);
            uint32_t taken = atomic_load_explicit(&u->taken, memory_order_relaxed);
            taken = taken ? taken - 1 : 0;
            atomic_store(&u->journal, NSEM_UNDO_JOURNAL | taken);
            unlock_word(s, nv);
            atomic_store_explicit(&u->taken, taken, memory_order_relaxed);
            atomic_store(&u->journal, 0);
            return;
        }
        unlock_word(s, nv);
        return;
    }
    if (type == NSEM_TYPE_MUTEX) {
        uint64_t w = atomic_load(&s->state);
        if (nsem_word_locker(w) || nsem_state_mutex_check_owner(nsem_word_value(w), me)) return;
        uint32_t rec = atomic_load_explicit(&s->recursion, memory_order_relaxed);
        if (rec > 1) {
            atomic_store_explicit(&s->recursion, rec - 1, memory_order_relaxed);
            return;
        }
        set_owner(s, 0, 0);
        if (atomic_compare_exchange_strong(&s->state, &w, nsem_word(0, 0))) nsem__slot_wake(s);
        return;
    }
    if (type == NSEM_TYPE_EVENT && lock_word(s, me, &v)) unlock_word(s, nsem_state_event_set(v));
}

static void release_held(struct held *h)
{
    if (!conn[h->client] || conn[h->client]->id != h->id) {
        /* Its process ended while the lock was held: the server must have unlocked it. */
        CHECK(nsem_word_locker(atomic_load(&nsem__arena_slot(h->slot)->state)) != h->token);
        return;
    }
    struct nsem_slot *s = nsem__arena_slot(h->slot);
    uint64_t w = nsem_word(nsem_word_value(atomic_load(&s->state)), h->token);
    /* The object may have gone with the last handle meanwhile: its slot was then reset, or not. */
    if (atomic_compare_exchange_strong(&s->state, &w, nsem_word(nsem_word_value(w), 0))) nsem__slot_wake(s);
}

/* CloseHandle through the client's close ring, as lib/closering.c posts (or a scribbled head),
 * then what the server does before the next request: the close is done exactly when it is valid. */
static void ring_post(int i, unsigned thread, unsigned b)
{
    struct nsem_client *c = conn[i];
    if (ring_id[i] != c->id || !c->ring) return; /* no ring of this connection's */
    const struct nsem_rep_close_ring *r = &rings[i];
    struct nsem_close_ring *h = (struct nsem_close_ring *)(void *)nsem__arena_slot(nsem_slot_index(c->domain, r->ring));
    uint32_t value = (b + 1) << 2, flags = thread & 3u;
    struct nsem_handle_entry *e = nsem__handle_get(&c->handles, value);
    bool closes = e && !(e->flags & HANDLE_FLAG_PROTECT_FROM_CLOSE) && !(flags & ~NSEM_CLOSE_PIN);
    uint32_t head = atomic_load(&h->head), at = head % NSEM_CLOSE_RING_CAP;
    uint32_t chunk = nsem_slot_index(c->domain, r->chunks[at / NSEM_CLOSE_CHUNK_ENTRIES]);
    atomic_store_explicit(nsem_close_entry(nsem__arena_slot(chunk), at), value | flags, memory_order_relaxed);
    bool scribbled = thread & 4u;
    atomic_store(&h->head, head + 1 + (scribbled ? b << 8 : 0));
    struct nsem_arena_header *a = (struct nsem_arena_header *)(void *)nsem__arena_slot(nsem_slot_index(c->domain, 0));
    atomic_fetch_or(&a->close_dirty, 1ull << (c->id % 64));
    nsem__closering_drain_all();
    CHECK(atomic_load(&h->head) - atomic_load(&h->tail) == 0); /* all taken (or dropped) */
    if (!scribbled || b == 0) CHECK((nsem__handle_get(&c->handles, value) == NULL) == (closes || !e));
}

static void thread_op(int i, unsigned a, unsigned b)
{
    struct nsem_client *c = conn[i];
    if (!c || !c->greeted) return; /* threads act once the library has said HELLO */
    if (((a >> 2) & 7) % FUZZ_THREAD_OPS == FUZZ_OP_RING_POST) {
        ring_post(i, a >> 5, b);
        return;
    }
    struct nsem_handle_entry *e = nsem__handle_get(&c->handles, (b + 1) << 2);
    if (!e) return;
    struct nsem_obj *obj = e->obj;
    struct nsem_slot *s = nsem__arena_slot(obj->slot);
    /* The library learns its undo record from the handle's reply (or HANDLES, which makes it). */
    uint32_t undo_slot = nsem__is_undo(obj) ? nsem__undo_record_for(c, obj) : 0;
    uint32_t me = NSEM_MAKE_TOKEN(c->id, 1 + (a >> 5));
    pid_t pid = c->pid;
    struct nsem_undo_record *u = undo_slot ? (struct nsem_undo_record *)nsem__arena_slot(undo_slot) : NULL;
    uint32_t taken = u ? atomic_load_explicit(&u->taken, memory_order_relaxed) : 0;
    uint32_t before = nsem_word_value(atomic_load(&s->state));
    int32_t max = atomic_load_explicit(&s->max, memory_order_relaxed);
    bool quiet = nheld_now == 0 && nheld_prev == 0; /* no live lock can delay the cleanup */
    uint32_t v;
    switch (((a >> 2) & 7) % FUZZ_THREAD_OPS) {
    case FUZZ_OP_TAKE:
        take(s, undo_slot, me, pid, false);
        return;
    case FUZZ_OP_RELEASE:
        release(s, undo_slot, me);
        return;
    case FUZZ_OP_HOLD_LOCK:
        if (nheld_now < 8 && lock_word(s, me, &v)) held_now[nheld_now++] = (struct held){i, c->id, obj->slot, me};
        return;
    case FUZZ_OP_LOCK_AND_DIE:
        if (!lock_word(s, me, &v)) return;
        if (u) atomic_store(&u->journal, NSEM_UNDO_JOURNAL | (taken + 1)); /* a take, not stored */
        process_exit(i);
        CHECK(nsem_word_locker(atomic_load(&s->state)) != me);
        if (u && quiet) { /* what it held is back; what it had not stored, never went */
            uint64_t want = (uint64_t)before + taken;
            CHECK(nsem_word_value(atomic_load(&s->state)) == (want > (uint64_t)max ? (uint32_t)max : want));
        }
        return;
    case FUZZ_OP_TAKE_AND_DIE: {
        uint32_t type = atomic_load_explicit(&s->type, memory_order_relaxed);
        uint32_t flags = atomic_load_explicit(&s->flags, memory_order_relaxed);
        take(s, undo_slot, me, pid, true);
        uint32_t after = nsem_word_value(atomic_load(&s->state));
        process_exit(i);
        v = nsem_word_value(atomic_load(&s->state));
        CHECK(nsem_word_locker(atomic_load(&s->state)) == 0 || !quiet);
        if (!quiet) return;
        if (u) { /* the take it stored is given back with the others */
            uint64_t want = (uint64_t)before + taken;
            CHECK(v == (want > (uint64_t)max ? (uint32_t)max : want));
        } else if (type == NSEM_TYPE_MUTEX || (type == NSEM_TYPE_SEMAPHORE && (flags & NSEM_SLOT_EXCLUSIVE))) {
            /* Nothing of the dead client is owned any more, and what it owned is abandoned. */
            CHECK(NSEM_TOKEN_CLIENT(v & NSEM_TOKEN_MASK) != NSEM_TOKEN_CLIENT(me));
            if (NSEM_TOKEN_CLIENT(after & NSEM_TOKEN_MASK) == NSEM_TOKEN_CLIENT(me))
                CHECK(v == nsem_state_mutex_abandon());
            struct nsem_excl_queue *q = type == NSEM_TYPE_SEMAPHORE ? queue_of(s) : NULL;
            for (uint32_t k = 0; q && k < nsem_q_len(q); k++)
                CHECK(NSEM_TOKEN_CLIENT(nsem_q_at(q, k)) != NSEM_TOKEN_CLIENT(me));
        }
        return;
    }
    }
}

/* ---- one input ----------------------------------------------------------------------------- */

static void serve(int i, const uint8_t *frame, uint32_t len)
{
    if (exited[i]) return;
    if (!conn[i]) conn[i] = fuzz_env_connect(i);
    struct nsem_client *c = conn[i];
    /* A copy of exactly the frame's size, so that a read past it is caught. */
    unsigned char *req = malloc(len);
    CHECK(req);
    memcpy(req, frame, len);
    map_frame(c, req, len);
    int pass_fd = -1;
    uint32_t rlen = nsem__dispatch(c, req, len, rep, &pass_fd);
    if (trace) {
        struct nsem_rep_hdr h = {0, 0};
        if (rlen) memcpy(&h, rep, sizeof h);
        fprintf(stderr, "client %d (id %u): op %u, %u bytes -> %s\n", i, c->id, ((const struct nsem_req_hdr *)req)->op,
                len, rlen ? nsem__error_name(h.error) : "malformed: connection closed");
    }
    if (rlen == 0) {
        CHECK(pass_fd == -1);
        end_connection(i); /* a malformed frame: the server closes that connection */
    } else {
        check_reply(c, req, rlen, pass_fd);
    }
    free(req);
}

/* Takes the whole server down, as nsemd's exit does, and checks that nothing is left. */
static void reset(void)
{
    /* Wait-alls finish before their processes go (one that lost its handle to a remote
     * DUPLICATE_CLOSE_SOURCE could not otherwise be unlocked by anyone). */
    for (int k = 0; k < nheld_prev; k++) release_held(&held_prev[k]);
    for (int k = 0; k < nheld_now; k++) release_held(&held_now[k]);
    nsem__clients_destroy_all();
    nsem__tickets_destroy_all();
    CHECK(!nsem__retry_pending()); /* every locker is gone now */
    CHECK(nsem__client_count() == 0);
    CHECK(nsem__obj_count() == 0);
    CHECK(nsem__arena_in_use() == 0);
    CHECK(fuzz_env_watched() == 0);
    for (uint32_t k = 0; k < nsessions; k++) CHECK(sessions_seen[k] == 0 || !nsem__session_exists(sessions_seen[k]));
    if (inputs++ % 16 == 0 && fuzz_env_open_fds() != baseline_fds) {
        fuzz_env_print_fds();
        CHECK(fuzz_env_open_fds() == baseline_fds);
    }
    memset(conn, 0, sizeof conn);
    memset(exited, 0, sizeof exited);
    nslots = ntickets = nsessions = 0;
    memset(ring_id, 0, sizeof ring_id);
    nheld_now = nheld_prev = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        /* A lock held since the step before the last is released now (if its thread lives). */
        for (int k = 0; k < nheld_prev; k++) release_held(&held_prev[k]);
        memcpy(held_prev, held_now, sizeof held_now);
        nheld_prev = nheld_now;
        nheld_now = 0;

        uint8_t sel = data[off++];
        if (trace && (sel & 3u) == FUZZ_SEL_EVENT && size - off >= 2)
            fprintf(stderr, "event %u, a 0x%02x, b 0x%02x\n", (sel >> 2) % FUZZ_EV_COUNT, data[off], data[off + 1]);
        if ((sel & 3u) == FUZZ_SEL_EVENT) {
            if (size - off < 2) break;
            unsigned a = data[off], b = data[off + 1], i = (a & 3u) % FUZZ_CLIENTS;
            off += 2;
            switch ((sel >> 2) % FUZZ_EV_COUNT) {
            case FUZZ_EV_DISCONNECT:
                end_connection((int)i);
                break;
            case FUZZ_EV_EXIT:
                if (!exited[i]) process_exit((int)i);
                break;
            default:
                thread_op((int)i, a, b);
                break;
            }
        } else {
            /* As client.c: a length outside [header, NSEM_MSG_MAX] ends the connection; a frame
             * cut short is never served (the server waits for the rest). */
            if (size - off < sizeof(struct nsem_req_hdr)) break;
            uint32_t len;
            memcpy(&len, data + off, sizeof len);
            if (len < sizeof(struct nsem_req_hdr) || len > NSEM_MSG_MAX) {
                if (!exited[sel & 3u] && !conn[sel & 3u]) conn[sel & 3u] = fuzz_env_connect((int)(sel & 3u));
                end_connection((int)(sel & 3u));
                off += sizeof(struct nsem_req_hdr);
                continue;
            }
            if (size - off < len) break;
            serve((int)(sel & 3u), data + off, len);
            off += len;
        }
        nsem__retry_pending(); /* a turn of the loop */
        for (int k = 0; k < FUZZ_CLIENTS; k++)
            if (conn[k]) check_table(&conn[k]->handles);
    }
    reset();
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    CHECK(nsem__arena_init(NULL, 1) == 0);
    CHECK(nsem__arena_domain(geteuid()) == 0);
    nsem__client_init();
    fuzz_env_init(FUZZ_CLIENTS);
    rep = malloc(NSEM_MSG_MAX);
    CHECK(rep);
    trace = getenv("NSEM_FUZZ_TRACE") != NULL;
    baseline_fds = fuzz_env_open_fds();
    return 0;
}

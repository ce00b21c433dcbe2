/*
 * closering.c — close rings: CloseHandle without a round trip (common/shm.h's struct
 * nsem_close_ring; the client's side is lib/closering.c).
 *
 * A client's CloseHandle forgets the handle in its own table and appends the handle's value to its
 * ring in the arena, instead of sending CLOSE and waiting for the reply. The server takes the
 * closes (each exactly as a CLOSE request of that client, nsem__client_close):
 *   - before it handles any request of any client (client.c's process_input), so that everything
 *     that follows a CloseHandle in time — the process's own next request, or a request of another
 *     process it has told — finds the close done: a last close unlinks the name before anyone can
 *     ask for it again, and a handle value is never handed out while its close waits in a ring;
 *   - when the client's connection ends (exec, death), before its handles are torn down or kept;
 *   - at the latest IDLE_AFTER_MS after the last event of the loop (main.c's timeout), so that
 *     objects are freed even when nobody asks anything. The server then marks itself idle in the
 *     arena header (close_idle) and sleeps without a deadline; a client that posts a close while it
 *     is idle sends a request (its CLOSE, or a FLUSH if the server went idle during the post),
 *     which wakes it. A busy server is never idle, so a close costs no message at all there.
 *
 * Finding the rings to take costs no scan of the clients: a client that posts sets bit (id % 64)
 * of the header's close_dirty word; the server exchanges the word with 0 and takes the rings of
 * the clients of each group whose bit was set (a list per group, here). Both sides are seq_cst
 * (a Dekker pair): the client stores its head, then reads the word (setting its bit if clear); the
 * server clears the word, then reads the heads. Either the server sees the new head, or the client
 * sees its bit clear and sets it for the next pass.
 *
 * The ring is the client's memory and so untrusted: the server keeps its own tail and chunk list,
 * reads at most NSEM_CLOSE_RING_CAP entries a pass, and checks each as a CLOSE request of that
 * client, in that client's table only. A head more than CAP ahead of the tail drops what is there
 * (the client's own closes), logged once.
 *
 * A system server has an arena per user (arena.c): a ring is made in its client's own arena, its
 * indexes in the reply and in the ring header are local to that arena, and the header words
 * close_dirty and close_idle are each arena's. The groups are per domain too, so a bit a client
 * sets (or scribbles) in its own arena's close_dirty makes the server take only rings of that
 * arena, which are its own user's; and the server follows no index read from a ring (its own
 * chunk list says where the entries are). A user can thus make the server take, early or at
 * all, only closes its own processes posted, and each in its poster's table alone.
 */
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

#define GROUPS 64u            /* bits of close_dirty */
#define IDLE_AFTER_MS 20u     /* with no event for that long, the server takes the rings and sleeps */
#define RESERVE_SLOTS 4096u   /* a ring never takes the arena's last slots: objects need them more */
#define RING_SLOTS (1u + NSEM_CLOSE_RING_CHUNKS)

struct nsem_ring {
    struct nsem_client *c;
    uint32_t slot; /* the header, as the server indexes slots (c's domain's) */
    uint32_t chunks[NSEM_CLOSE_RING_CHUNKS];
    uint32_t tail;            /* entries taken: the server's own count, never read back */
    bool warned;              /* a broken head was logged */
    struct nsem_ring *next;   /* in the list of its group, id % GROUPS of its client's domain */
    struct nsem_ring **prev;
};

/* The rings of one domain (arena), by group; made with the domain's first ring. */
struct domain_rings {
    struct nsem_ring *groups[GROUPS];
    uint32_t count;
};

static struct domain_rings *rings_by_domain[NSEM_ARENA_MAX_DOMAINS];
static uint32_t nrings; /* in every domain */
static bool idle = true;        /* close_idle as the server last stored it: a dead server may have
                                   left it set, and the first event clears it */
static uint64_t last_activity;  /* ms: the loop's last event */

static struct nsem_arena_header *arena_header(uint32_t domain)
{
    return (struct nsem_arena_header *)(void *)nsem__arena_slot(nsem_slot_index(domain, 0));
}

static struct nsem_close_ring *ring_header(const struct nsem_ring *r)
{
    return (struct nsem_close_ring *)(void *)nsem__arena_slot(r->slot);
}

/* The rings of c's domain, made if needed; NULL out of memory. */
static struct domain_rings *rings_of(const struct nsem_client *c)
{
    if (!rings_by_domain[c->domain]) rings_by_domain[c->domain] = calloc(1, sizeof **rings_by_domain);
    return rings_by_domain[c->domain];
}

static void link_ring(struct nsem_ring *r)
{
    struct domain_rings *d = rings_by_domain[r->c->domain];
    struct nsem_ring **g = &d->groups[r->c->id % GROUPS];
    r->next = *g;
    if (r->next) r->next->prev = &r->next;
    r->prev = g;
    *g = r;
    d->count++;
    nrings++;
}

static void unlink_ring(struct nsem_ring *r)
{
    *r->prev = r->next;
    if (r->next) r->next->prev = r->prev;
    rings_by_domain[r->c->domain]->count--;
    nrings--;
}

/* ---- closing a handle ---------------------------------------------------------------------- */

static bool has_pin(const struct nsem_client *c, const struct nsem_obj *obj)
{
    for (const struct nsem_pin *p = c->pins; p; p = p->next)
        if (p->obj == obj) return true;
    return false;
}

DWORD nsem__client_close(struct nsem_client *c, uint32_t handle, uint32_t flags)
{
    if (flags & ~NSEM_CLOSE_PIN) return ERROR_INVALID_PARAMETER;
    struct nsem_handle_entry *e = nsem__handle_get(&c->handles, handle);
    if (!e || (e->flags & HANDLE_FLAG_PROTECT_FROM_CLOSE)) return ERROR_INVALID_HANDLE;
    /* A brokered handle's process cannot know what it holds (another user's object, not in its
     * arena; the library sends no PIN for it): a thread of it that owns the object keeps it
     * reachable, so that its death abandons it. */
    bool brokered = nsem_slot_domain(e->obj->slot) != c->domain;
    bool pinned = (flags & NSEM_CLOSE_PIN) || (brokered && nsem__obj_held_by(e->obj, c->id));
    if (pinned && !has_pin(c, e->obj)) {
        struct nsem_pin *pin = malloc(sizeof *pin);
        if (!pin) return ERROR_NOT_ENOUGH_MEMORY;
        pin->obj = e->obj;
        pin->next = c->pins;
        c->pins = pin;
        nsem__obj_add_pin(e->obj);
    }
    struct nsem_obj *obj = e->obj;
    bool keep_undo = !nsem__is_undo(obj) || pinned; /* a pin: a wait may still take */
    if (!keep_undo) nsem__obj_add_pin(obj); /* obj lives through the check */
    nsem__broker_closing(c, obj);
    nsem__handle_free(&c->handles, handle);
    if (!keep_undo) {
        nsem__undo_drop_if_idle(c, obj);
        nsem__obj_remove_pin(obj);
    }
    return 0;
}

/* ---- taking a ring's closes ---------------------------------------------------------------- */

static void drain(struct nsem_ring *r)
{
    struct nsem_close_ring *h = ring_header(r);
    uint32_t head = atomic_load(&h->head); /* seq_cst: Dekker pair with the client (see above) */
    uint32_t n = head - r->tail;
    if (n == 0) return;
    if (n > NSEM_CLOSE_RING_CAP) {
        if (!r->warned)
            nsem__log("client %u (pid %d): close ring head %u with tail %u: its closes there are dropped", r->c->id,
                      (int)r->c->pid, head, r->tail);
        r->warned = true;
        r->tail = head;
    }
    for (; r->tail != head; r->tail++) {
        uint32_t i = r->tail % NSEM_CLOSE_RING_CAP;
        struct nsem_slot *chunk = nsem__arena_slot(r->chunks[i / NSEM_CLOSE_CHUNK_ENTRIES]);
        /* relaxed: published by the head read above */
        uint32_t v = atomic_load_explicit(nsem_close_entry(chunk, i), memory_order_relaxed);
        nsem__client_close(r->c, v & ~3u, v & 3u); /* an entry that is not a close of c's is nothing */
    }
    /* release: our reads of the entries are done before the client may write them again */
    atomic_store_explicit(&h->tail, r->tail, memory_order_release);
}

/* Takes the rings of domain d whose group's bit is set in d's close_dirty. */
static void drain_domain(uint32_t d)
{
    struct domain_rings *dr = rings_by_domain[d];
    if (!dr || !dr->count) return; /* a bit set there is a scribble: no ring of that arena to take */
    _Atomic uint64_t *dirty = &arena_header(d)->close_dirty;
    if (!atomic_load(dirty)) return;            /* seq_cst: the usual case, one load */
    uint64_t bits = atomic_exchange(dirty, 0); /* seq_cst: Dekker pair with the rings' heads */
    while (bits) {
        unsigned g = (unsigned)__builtin_ctzll(bits);
        bits &= bits - 1;
        for (struct nsem_ring *r = dr->groups[g]; r; r = r->next) drain(r); /* rings of domain d only */
    }
}

void nsem__closering_drain_all(void)
{
    if (!nrings) return;
    for (uint32_t d = 0, n = nsem__arena_domains(); d < n; d++) drain_domain(d);
}

void nsem__closering_drain_client(struct nsem_client *c)
{
    if (c->ring) drain(c->ring);
}

/* ---- making and ending rings --------------------------------------------------------------- */

static void free_ring(struct nsem_ring *r)
{
    nsem__arena_free(r->slot);
    for (uint32_t k = 0; k < NSEM_CLOSE_RING_CHUNKS; k++)
        if (r->chunks[k]) nsem__arena_free(r->chunks[k]);
    free(r);
}

/* c takes ring r, which is in c's arena (c's domain has its rings made: rings_of). */
static void attach(struct nsem_client *c, struct nsem_ring *r)
{
    r->c = c;
    c->ring = r;
    ring_header(r)->client_id = c->id;
    link_ring(r);
}

/* A new ring of c in c's own arena, or NULL (that arena is short of slots, or memory). */
static struct nsem_ring *make_ring(struct nsem_client *c)
{
    if (nsem__arena_free_slots(c->domain) < RESERVE_SLOTS + RING_SLOTS || !rings_of(c)) return NULL;
    struct nsem_ring *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->slot = nsem__arena_alloc(c->domain);
    for (uint32_t k = 0; k < NSEM_CLOSE_RING_CHUNKS && r->slot; k++) {
        if (!(r->chunks[k] = nsem__arena_alloc(c->domain))) break;
        struct nsem_slot *chunk = nsem__arena_slot(r->chunks[k]);
        for (uint32_t i = 0; i < NSEM_CLOSE_CHUNK_ENTRIES; i++)
            atomic_store_explicit(nsem_close_entry(chunk, i), 0, memory_order_relaxed); /* before the reply */
        atomic_store_explicit(&chunk->type, NSEM_TYPE_CLOSE_CHUNK, memory_order_relaxed); /* for recover.c only */
    }
    if (!r->slot || !r->chunks[NSEM_CLOSE_RING_CHUNKS - 1]) {
        if (r->slot) free_ring(r);
        else free(r);
        return NULL;
    }
    struct nsem_close_ring *h = ring_header(r);
    memset((char *)h + offsetof(struct nsem_close_ring, client_id), 0,
           sizeof *h - offsetof(struct nsem_close_ring, client_id));
    atomic_store(&h->head, 0); /* seq_cst, as every access to head */
    atomic_store_explicit(&h->tail, 0, memory_order_release); /* as every store of tail; the reply publishes it */
    for (uint32_t k = 0; k < NSEM_CLOSE_RING_CHUNKS; k++)
        h->chunks[k] = nsem_slot_local(r->chunks[k]); /* local, as every index in an arena */
    atomic_store_explicit(&h->type, NSEM_TYPE_CLOSE_RING, memory_order_relaxed); /* for recover.c only */
    attach(c, r);
    return r;
}

void nsem__closering_destroy(struct nsem_client *c)
{
    struct nsem_ring *r = c->ring;
    if (!r) return;
    unlink_ring(r);
    c->ring = NULL;
    free_ring(r);
}

/* Drops what the ring holds: the closes of a process that is about to tell the server its handles
 * anew (recovery), and so knows them closed. */
static void discard(struct nsem_ring *r)
{
    struct nsem_close_ring *h = ring_header(r);
    r->tail = atomic_load(&h->head); /* seq_cst, as every access to head */
    atomic_store_explicit(&h->tail, r->tail, memory_order_release); /* release, as every store of tail */
}

bool nsem__closering_adopt(struct nsem_client *c, uint32_t slot, const uint32_t chunks[NSEM_CLOSE_RING_CHUNKS])
{
    bool fits = !c->ring && nsem_slot_domain(slot) == c->domain && rings_of(c);
    struct nsem_ring *r = fits ? calloc(1, sizeof *r) : NULL;
    if (!r) return false;
    r->slot = slot;
    memcpy(r->chunks, chunks, sizeof r->chunks);
    discard(r);
    attach(c, r);
    return true;
}

void nsem__closering_take_over(struct nsem_client *c, struct nsem_client *from)
{
    struct nsem_ring *r = from->ring;
    if (!r) return;
    unlink_ring(r);
    from->ring = NULL;
    /* Cannot happen: a connection gets its ring after its HELLO, and a process's records are all
     * of its user's domain. A ring is only ever its client's arena's. */
    if (c->ring || c->domain != from->domain || !rings_of(c)) {
        free_ring(r);
        return;
    }
    discard(r);
    attach(c, r);
}

uint32_t nsem__closering_slots(void)
{
    return nrings * RING_SLOTS;
}

/* ---- the request --------------------------------------------------------------------------- */

uint32_t nsem__closering_request(struct nsem_client *c, const void *req, unsigned char *out, int *pass_fd)
{
    const struct nsem_req_close_ring *q = req;
    struct nsem_rep_close_ring *rep = (struct nsem_rep_close_ring *)out;
    memset(rep, 0, sizeof *rep);
    rep->hdr = (struct nsem_rep_hdr){sizeof(struct nsem_rep_status), 0};
    if (q->action == NSEM_CLOSE_RING_FLUSH) return rep->hdr.len; /* done before every request */
    if (q->action != NSEM_CLOSE_RING_SETUP) {
        rep->hdr.error = ERROR_INVALID_PARAMETER;
        return rep->hdr.len;
    }
    struct nsem_ring *r = c->ring;
    if (r)
        drain(r); /* a ring the connection has (set up again after a recovery): empty from now on */
    else
        r = make_ring(c);
    rep->hdr.len = sizeof *rep;
    if (!r) return rep->hdr.len; /* ring 0: the client closes with CLOSE */
    rep->ring = nsem_slot_local(r->slot); /* in the client's arena, the only one it maps */
    rep->capacity = NSEM_CLOSE_RING_CAP;
    for (uint32_t k = 0; k < NSEM_CLOSE_RING_CHUNKS; k++) rep->chunks[k] = nsem_slot_local(r->chunks[k]);
    rep->head = r->tail;
    return rep->hdr.len;
}

/* ---- the loop ------------------------------------------------------------------------------ */

int nsem__closering_timeout(int timeout, uint64_t now_ms)
{
    if (idle || !nrings) return timeout;
    uint64_t due = last_activity + IDLE_AFTER_MS;
    int left = now_ms >= due ? 0 : (int)(due - now_ms);
    return timeout < 0 || left < timeout ? left : timeout;
}

/* Stores close_idle in every arena's header (a domain made later starts with 0: the server is busy
 * then, having just accepted its first client). */
static void set_idle(bool value)
{
    idle = value;
    for (uint32_t d = 0, n = nsem__arena_domains(); d < n; d++)
        atomic_store(&arena_header(d)->close_idle, value); /* seq_cst, as every access to close_idle */
}

void nsem__closering_after_wait(bool activity, uint64_t now_ms)
{
    if (activity) {
        last_activity = now_ms;
        if (idle) set_idle(false);
    }
    nsem__closering_drain_all();
    if (!activity && !idle && nrings && now_ms >= last_activity + IDLE_AFTER_MS) {
        set_idle(true); /* seq_cst: then read each close_dirty (Dekker pair with a poster) */
        nsem__closering_drain_all();
    }
}

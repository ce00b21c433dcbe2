/*
 * closering.c — CloseHandle without a round trip: the connection's close ring (common/shm.h; the
 * server's side is server/closering.c).
 *
 * CloseHandle has forgotten the handle, under the connection lock; nsem__closering_post then
 * writes the value into the ring the server gave this connection (CLOSE_RING SETUP, sent by the
 * first close) and returns. The server takes every ring's closes before it handles any request of
 * any process, when this process's connection ends, and soon after the loop goes quiet, so what
 * follows the CloseHandle in time — this process's next request, or another process's request
 * after we told it — finds the close done, as after a CLOSE request.
 *
 * A close is sent as a CLOSE request instead (nsem__closering_post returns false) when there is
 * no ring (the server gave none: its arena is short of slots), when the ring is full (the request
 * makes the server take the ring first, so the order holds), and when the server sleeps idle
 * (close_idle): the request wakes it, and a quiet server has time for it.
 *
 * The ring belongs to one connection of one process: after a fork (the child's handles are reset),
 * a new connection (another client id) or a new server (a recovery keeps the client id, not the
 * server's thread id), the next close asks for the ring again.
 */
#include <linux/futex.h>

#include "lib/client.h"

/* Under the connection lock. */
static struct {
    uint32_t ring; /* header slot, 0: none */
    uint32_t chunks[NSEM_CLOSE_RING_CHUNKS];
    uint32_t head;       /* the next entry to write */
    bool asked;          /* SETUP was answered for the connection below (ring 0: refused) */
    uint32_t client_id;  /* the connection it was answered for */
    uint32_t server_tid;
    uint32_t pid;
} st;

static struct nsem_arena_header *header(void)
{
    return (struct nsem_arena_header *)(void *)nsem__slot(0);
}

static uint32_t server_tid(void)
{
    /* relaxed: only compared, to notice another server (the word carries FUTEX_* bits too) */
    return atomic_load_explicit(nsem__server_word(), memory_order_relaxed) & FUTEX_TID_MASK;
}

void nsem__closering_reset(void)
{
    st.asked = false;
    st.ring = 0;
}

/* Whether the SETUP answered is this connection's. */
static bool current(void)
{
    return st.asked && st.client_id == nsem__client_id() && st.pid == nsem__pid() && st.server_tid == server_tid();
}

static void setup(void)
{
    struct nsem_req_close_ring req = {{0, NSEM_OP_CLOSE_RING}, NSEM_CLOSE_RING_SETUP, 0};
    struct nsem_rep_close_ring rep;
    nsem__closering_reset();
    DWORD e = nsem__request_locked(&req, sizeof req, NULL, 0, &rep, sizeof rep);
    if (e == ERROR_SERVICE_NOT_ACTIVE || e == ERROR_PROCESS_ABORTED) return; /* asked again next time */
    st.asked = true;
    st.client_id = nsem__client_id();
    st.pid = nsem__pid();
    st.server_tid = server_tid();
    bool sound = !e && rep.hdr.len == sizeof rep && rep.ring && rep.ring < NSEM_ARENA_SLOTS &&
                 rep.capacity == NSEM_CLOSE_RING_CAP;
    for (uint32_t k = 0; k < NSEM_CLOSE_RING_CHUNKS && sound; k++)
        sound = rep.chunks[k] && rep.chunks[k] < NSEM_ARENA_SLOTS;
    if (!sound) return; /* none for this connection: closes are requests */
    st.ring = rep.ring;
    for (uint32_t k = 0; k < NSEM_CLOSE_RING_CHUNKS; k++) st.chunks[k] = rep.chunks[k];
    st.head = rep.head;
}

/* The server went idle while we posted: it may not have seen the post, so it is woken. */
static void flush(void)
{
    struct nsem_req_close_ring req = {{0, NSEM_OP_CLOSE_RING}, NSEM_CLOSE_RING_FLUSH, 0};
    struct nsem_rep_status rep;
    nsem__request_locked(&req, sizeof req, NULL, 0, &rep, sizeof rep); /* a lost server took it with it */
}

bool nsem__closering_post(uint32_t value, uint32_t flags)
{
    struct nsem_arena_header *a = header();
    if (atomic_load(&a->close_idle)) return false; /* seq_cst, as every access to close_idle */
    if (!current()) setup();
    if (!st.ring) return false;
    struct nsem_close_ring *h = (struct nsem_close_ring *)(void *)nsem__slot(st.ring);
    /* acquire: the server has read the entries it took before we write one of them again */
    uint32_t used = st.head - atomic_load_explicit(&h->tail, memory_order_acquire);
    if (used > NSEM_CLOSE_RING_CAP) st.asked = false; /* not our ring any more: ask again next time */
    if (used >= NSEM_CLOSE_RING_CAP) return false;     /* full: the request empties it first */
    uint32_t i = st.head % NSEM_CLOSE_RING_CAP;
    /* relaxed: published by the head store */
    atomic_store_explicit(nsem_close_entry(nsem__slot(st.chunks[i / NSEM_CLOSE_CHUNK_ENTRIES]), i), value | flags,
                          memory_order_relaxed);
    atomic_store(&h->head, ++st.head); /* seq_cst: publishes the entry; Dekker pair with close_dirty */
    uint64_t bit = 1ull << (st.client_id % 64);
    if (!(atomic_load(&a->close_dirty) & bit)) atomic_fetch_or(&a->close_dirty, bit); /* seq_cst: Dekker pair */
    if (atomic_load(&a->close_idle)) flush(); /* seq_cst: Dekker pair with the server going idle */
    return true;
}

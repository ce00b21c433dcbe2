/*
 * shm.h — the object arena: the shared memory in which the state of every object lives.
 *
 * The server creates the arena (one memfd) and hands it to each client at HELLO; every client maps
 * it whole. An object is one 64-byte slot. The server writes a slot's description (type, flags,
 * maximum) before the first handle to it exists and rewrites it only after the last reference is
 * gone; clients change only `state`, `seq`, `waiting` and the owner fields, with the atomics below.
 *
 * state (64 bits, one CAS decides every change):
 *   low 32  "value", by type:
 *           semaphore  the count
 *           mutex      owner token (bits 0-29, 0 = free) | NSEM_MUTEX_ABANDONED (bit 30)
 *           exclusive semaphore: as a mutex
 *           event      bit 0 set | pulse counter (bits 1-31, bumped by PulseEvent on a manual event)
 *   high 32 token of the thread whose wait-all has the object locked, 0 if none. A locked object
 *           is seen by nobody else until the wait-all stores its final value and 0 here, so a
 *           wait-all acquires all its objects at once or none.
 * seq (32 bits) is the futex word: bit 0 NSEM_SEQ_SLEEPERS says a thread may sleep on it; any change
 *   of `state` that a sleeper may want is followed by nsem_slot_wake(), which, only when that bit
 *   is set, adds 2 (clearing bit 0) and wakes every sleeper. With no sleeper, a change costs one CAS
 *   and one load: no syscall.
 *
 * waiting (64 bits): the threads blocked on the object now (low 32) and the epoch of that count
 *   (high 32). A thread counts itself in the current epoch when it blocks and uncounts itself at
 *   the end only if the epoch is still the same. A process may die at any instruction, so when one
 *   dies the server, not knowing which of its threads were counted, starts a new epoch at 0 and
 *   wakes the sleepers; every live waiter, after arming, sees the new epoch and counts itself in
 *   it. So a killed waiter is never counted for good (common/slot.c).
 *
 * Memory order: every access to `state`, `seq` and `waiting` is seq_cst. The wake protocol is a
 * Dekker pair — a sleeper sets SLEEPERS then re-reads `state` (and `waiting`); a changer writes
 * `state` (or the server `waiting`) then reads `seq` — and only seq_cst on both sides guarantees
 * one of them sees the other. The descriptive fields use relaxed order: they are published by the
 * server before the handle reply (a syscall), or are informational (owner ids) and never decide a
 * state change.
 */
#ifndef NSEM_COMMON_SHM_H
#define NSEM_COMMON_SHM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define NSEM_ARENA_SLOT_BITS 22u
#define NSEM_ARENA_SLOTS (1u << NSEM_ARENA_SLOT_BITS) /* 4,194,304 objects; the file is sparse */
#define NSEM_SLOT_SIZE 64u
#define NSEM_ARENA_BYTES ((uint64_t)NSEM_ARENA_SLOTS * NSEM_SLOT_SIZE)

/* A system server has an arena per user (server/arena.c): in the server, slot index k << 22 | i is
 * slot i of domain k's arena. Indexes inside an arena, and those its clients see, are local (i). */
#define NSEM_ARENA_MAX_DOMAINS 1024u /* 32-bit indexes */
static inline uint32_t nsem_slot_domain(uint32_t index)
{
    return index >> NSEM_ARENA_SLOT_BITS;
}
static inline uint32_t nsem_slot_local(uint32_t index)
{
    return index & (NSEM_ARENA_SLOTS - 1u);
}
static inline uint32_t nsem_slot_index(uint32_t domain, uint32_t local)
{
    return domain << NSEM_ARENA_SLOT_BITS | local;
}
/* Thread tokens: (client id << 14) | thread index; both parts start at 1, so a token is never 0. */
#define NSEM_TOKEN_THREAD_BITS 14u
#define NSEM_TOKEN_MAX_THREADS ((1u << NSEM_TOKEN_THREAD_BITS) - 1u)
#define NSEM_TOKEN_MAX_CLIENTS 0xFFFFu
#define NSEM_TOKEN_MASK 0x3FFFFFFFu
#define NSEM_TOKEN_CLIENT(t) (((t) & NSEM_TOKEN_MASK) >> NSEM_TOKEN_THREAD_BITS)
#define NSEM_MAKE_TOKEN(client, thread) (((uint32_t)(client) << NSEM_TOKEN_THREAD_BITS) | (uint32_t)(thread))

#define NSEM_MUTEX_ABANDONED 0x40000000u
#define NSEM_EXCL_HANDED 0x80000000u /* exclusive: handed to the owner token by a release, not yet
                                        claimed by that waiter */
#define NSEM_MUTEX_MAX_RECURSION 0x7FFFFFFFu
#define NSEM_EVENT_SET 0x1u
#define NSEM_EVENT_PULSE_STEP 0x2u
#define NSEM_SEQ_SLEEPERS 0x1u

/* slot.flags */
#define NSEM_SLOT_MANUAL_RESET 0x1u /* event */
#define NSEM_SLOT_EXCLUSIVE 0x2u    /* semaphore: exclusive (owned, see EXCLUSIVE.md); its value is
                                       encoded as a mutex's: owner token | ABANDONED */
#define NSEM_SLOT_UNDO 0x4u         /* semaphore: a dead process's permits are given back */
#define NSEM_EXCL_MAX_RECURSION 65535u

struct nsem_slot {
    _Atomic uint64_t state;          /* seq_cst: see above */
    _Atomic uint32_t seq;            /* seq_cst: futex word */
    uint32_t name_slot;              /* the server's own, for a restarted server to find the name
                                        again (docs/reliability.md), never read by clients: the first
                                        chunk of its name (struct nsem_blob_chunk), 0: anonymous */
    _Atomic uint32_t type;           /* relaxed: NSEM_TYPE_*, 0 when free; published by the server */
    _Atomic uint32_t flags;          /* relaxed: NSEM_SLOT_* */
    _Atomic int32_t max;             /* relaxed: semaphore maximum */
    _Atomic uint32_t recursion;      /* relaxed: mutex: only the owner thread writes it; exclusive
                                        semaphore: written only under the state word's lock */
    _Atomic uint32_t owner_pid;      /* relaxed: informational, written by the owner after its CAS */
    _Atomic uint32_t owner_tid;      /* relaxed: informational */
    _Atomic uint32_t last_owner_pid; /* relaxed: the owner that abandoned it */
    _Atomic uint32_t aux;            /* relaxed: exclusive semaphore: its waiter queue's slot (set
                                        by the server before the first handle) */
    _Atomic uint64_t waiting;        /* seq_cst: blocked threads | epoch << 32 (see above) */
    uint32_t session;                /* the server's own (with name_slot): its namespace when named:
                                        0 Global, else the session */
    uint32_t sd_slot;                /* the server's own: the first chunk of its security descriptor,
                                        which objects with the same one share (server/sdstore.c); 0:
                                        not in the arena (it was full) */
};
_Static_assert(sizeof(struct nsem_slot) == NSEM_SLOT_SIZE, "a slot is one cache line");
_Static_assert(offsetof(struct nsem_slot, waiting) % 8 == 0, "waiting is one aligned 64-bit word");

/*
 * Slot 0 is the arena's header. `server` holds the server's thread id while it lives: the server
 * registers the word as a robust futex (set_robust_list), so however it dies the kernel sets
 * FUTEX_OWNER_DIED in it and wakes one sleeper. A blocked waiter sleeps on it too, with
 * FUTEX_WAITERS set; the first to see the server dead wakes the rest. So no wait outlives the
 * server that would have told it of an abandonment.
 *
 * The arena is a file next to the socket, so that a server started after a crash finds it and
 * recovers what live clients hold (server/recover.c). The rest of the header (but the close-ring
 * words) and the client table are for that server: written by the server only, never read by
 * clients.
 */
#define NSEM_ARENA_MAGIC 0x6e73656du /* "nsem" */
#define NSEM_ARENA_LAYOUT 3u         /* the version of everything in this file */
struct nsem_arena_header {
    _Atomic uint32_t server; /* relaxed: the kernel's robust-futex protocol; it publishes nothing else */
    uint32_t magic;
    uint32_t layout;
    uint32_t high_water;  /* slots at or above it have never been used */
    uint8_t boot_id[16];  /* of the boot that made the file: pids of another boot mean nothing */
    /* Close rings (below) of this arena's clients: written by them too. Bit (client id % 64) of
     * close_dirty says that a ring of a client of that group may hold closes; close_idle says the
     * server sleeps without a deadline, so a client that posts a close must wake it with a request.
     * A system server has these words in every arena, each for its own user's rings. */
    _Atomic uint64_t close_dirty; /* seq_cst: Dekker pair with each ring's head (closering.c) */
    _Atomic uint32_t close_idle;  /* seq_cst: Dekker pair with close_dirty */
    /* 1 while the server is awake (working or polling), 0 while it sleeps: a client polls for its
     * reply only when the server was awake as it sent (common/spin.h). */
    _Atomic uint32_t server_awake; /* relaxed: a hint, nothing is published by it */
    uint32_t reserved[4];
};
_Static_assert(sizeof(struct nsem_arena_header) == NSEM_SLOT_SIZE, "the header is slot 0");

/* The client table, slots [1, NSEM_ARENA_FIRST_SLOT): for each client id, the process it is, so
 * that a restarted server knows which ids belong to live processes. */
struct nsem_client_entry {
    uint32_t pid;        /* 0: no client */
    uint32_t start_time; /* of the process (clock ticks since boot, /proc/pid/stat), against pid reuse */
};
#define NSEM_CLIENT_TABLE_SLOTS (((NSEM_TOKEN_MAX_CLIENTS + 1u) * 8u) / NSEM_SLOT_SIZE)
#define NSEM_ARENA_FIRST_SLOT (1u + NSEM_CLIENT_TABLE_SLOTS)

/* A part of a blob the server keeps in the arena for its successor (server/blobstore.c): an
 * object's name (the chain starts at the object's name_slot) or a security descriptor (at the
 * sd_slot of each object that has it). */
#define NSEM_TYPE_NAME_CHUNK 0x102u
#define NSEM_TYPE_SD_CHUNK 0x103u
#define NSEM_BLOB_CHUNK_BYTES 44u
struct nsem_blob_chunk {
    uint32_t next;  /* the next chunk's slot, 0 at the end */
    uint32_t len;   /* bytes used in this chunk */
    uint32_t owner; /* a name's: the object's slot; a descriptor's (shared): its first chunk's slot */
    uint32_t reserved_head;
    _Atomic uint32_t type; /* NSEM_TYPE_NAME_CHUNK or NSEM_TYPE_SD_CHUNK; at the offset of nsem_slot.type */
    char bytes[NSEM_BLOB_CHUNK_BYTES];
};
_Static_assert(sizeof(struct nsem_blob_chunk) == NSEM_SLOT_SIZE, "a blob chunk is one slot");

/*
 * The waiter queue of an exclusive semaphore ("first come, first served"): tokens of the threads
 * blocked on it, oldest first. Changed only under the semaphore's state lock. A release hands the
 * semaphore to the oldest (owner = its token | NSEM_EXCL_HANDED); while waiters are queued, a
 * newcomer cannot take it, free as it may be.
 */
#define NSEM_TYPE_EXCL_QUEUE 0x101u
#define NSEM_EXCL_QUEUE_CAP 11u
struct nsem_excl_queue {
    _Atomic uint32_t head;   /* relaxed: under the semaphore's lock */
    _Atomic uint32_t len;    /* relaxed: under the semaphore's lock */
    uint32_t reserved_head[2];
    _Atomic uint32_t type;   /* NSEM_TYPE_EXCL_QUEUE; at the offset of nsem_slot.type */
    _Atomic uint32_t tokens[NSEM_EXCL_QUEUE_CAP]; /* relaxed: under the semaphore's lock */
};

/*
 * An undo record: the permits one process took from one undo semaphore and has not given back.
 * It lives in an arena slot of its own, made by the server when the process first gets a handle
 * to the semaphore. The process changes it only while it holds the semaphore's state lock:
 *   journal = NSEM_UNDO_JOURNAL | new taken;  store the state (unlocking: the commit);
 *   taken = new taken;  journal = 0.
 * When the process dies, the server gives back `taken` permits — or the journal's number if the
 * state was stored (the lock is no longer the dead process's) but taken was not yet updated.
 */
#define NSEM_TYPE_UNDO_RECORD 0x100u
#define NSEM_UNDO_JOURNAL 0x80000000u
struct nsem_undo_record {
    _Atomic uint32_t taken;   /* relaxed: written by its process under the semaphore's lock */
    _Atomic uint32_t journal; /* seq_cst: ordered against the state store (see above) */
    uint32_t reserved_head[2];
    _Atomic uint32_t type; /* NSEM_TYPE_UNDO_RECORD; at the offset of nsem_slot.type */
    uint32_t client_id;    /* whose record, and of which semaphore: for a restarted server */
    uint32_t sem_slot;
    uint32_t reserved[9];
};

/*
 * A close ring: the handles a client has closed and the server has not yet taken (CloseHandle
 * costs no round trip; server/closering.c, lib/closering.c). One header slot and
 * NSEM_CLOSE_RING_CHUNKS chunk slots of entries, allocated by the server for the client on its
 * CLOSE_RING SETUP request, in the client's own arena (every index here, and in the reply, is
 * local to it). An entry is a handle value with NSEM_CLOSE_* flags in its low two bits.
 * The client, one thread at a time (its connection lock), writes entry `head % CAP` and then
 * `head + 1`; the server, before it handles any request of any client, takes every entry up to
 * `head` as a CLOSE request of that client, then stores `tail`. Both counters run free modulo 2^32.
 * The ring is the client's memory: the server trusts nothing in it but checks each entry as it
 * checks a request, keeps its own tail and chunk list, and takes at most CAP entries a time.
 */
#define NSEM_TYPE_CLOSE_RING 0x105u /* 0x104 is protocol.h's NSEM_TYPE_PROXY */
#define NSEM_TYPE_CLOSE_CHUNK 0x106u
#define NSEM_CLOSE_RING_CHUNKS 5u
#define NSEM_CLOSE_CHUNK_ENTRIES 15u /* 16 words, less the one at the offset of nsem_slot.type */
#define NSEM_CLOSE_RING_CAP 64u      /* a power of 2, so that head % CAP survives the wrap of head */
struct nsem_close_ring {
    _Atomic uint32_t head; /* seq_cst: written by the client, after the entry (release) and before
                              it reads close_dirty (Dekker pair with the server's exchange) */
    _Atomic uint32_t tail; /* release by the server after it has read the entries; acquire by the
                              client before it overwrites one */
    uint32_t client_id;    /* the server's own: whose ring, for a restarted server */
    uint32_t reserved_head;
    _Atomic uint32_t type; /* NSEM_TYPE_CLOSE_RING; at the offset of nsem_slot.type */
    uint32_t chunks[NSEM_CLOSE_RING_CHUNKS]; /* the server's own: its chunks, for a restarted server */
    uint32_t reserved[6];
};
_Static_assert(NSEM_CLOSE_RING_CHUNKS * NSEM_CLOSE_CHUNK_ENTRIES >= NSEM_CLOSE_RING_CAP, "chunks hold the ring");
_Static_assert((NSEM_CLOSE_RING_CAP & (NSEM_CLOSE_RING_CAP - 1)) == 0, "the capacity is a power of 2");
_Static_assert(sizeof(struct nsem_close_ring) == NSEM_SLOT_SIZE, "a ring's header is one slot");
_Static_assert(offsetof(struct nsem_close_ring, type) == offsetof(struct nsem_slot, type), "type where a slot's is");

/* Entry i of a ring: word i of chunk i / 15, skipping the chunk's type word (word 4). Entries are
 * written relaxed by the client (published by head) and read relaxed by the server. */
static inline _Atomic uint32_t *nsem_close_entry(struct nsem_slot *chunk, uint32_t i)
{
    i %= NSEM_CLOSE_CHUNK_ENTRIES;
    return (_Atomic uint32_t *)(void *)chunk + i + (i >= 4);
}

_Static_assert(sizeof(struct nsem_undo_record) == NSEM_SLOT_SIZE, "an undo record is one slot");
_Static_assert(sizeof(struct nsem_excl_queue) == NSEM_SLOT_SIZE, "a waiter queue is one slot");
_Static_assert(offsetof(struct nsem_excl_queue, type) == offsetof(struct nsem_slot, type), "type where a slot's is");
_Static_assert(offsetof(struct nsem_undo_record, type) == offsetof(struct nsem_slot, type), "type where a slot's is");
_Static_assert(offsetof(struct nsem_blob_chunk, type) == offsetof(struct nsem_slot, type), "type where a slot's is");

static inline uint32_t nsem_waiting_count(uint64_t waiting)
{
    return (uint32_t)waiting;
}

static inline uint32_t nsem_word_value(uint64_t w)
{
    return (uint32_t)w;
}
static inline uint32_t nsem_word_locker(uint64_t w)
{
    return (uint32_t)(w >> 32);
}
static inline uint64_t nsem_word(uint32_t value, uint32_t locker)
{
    return ((uint64_t)locker << 32) | value;
}

#endif

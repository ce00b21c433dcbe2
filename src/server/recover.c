/*
 * recover.c — a server started after a crash takes over what its predecessor left in the arena
 * file (arena.c), so that the crash loses nothing live processes hold.
 *
 * The arena holds the state of every object, its name and its security descriptor (blobstore.c,
 * sdstore.c), the undo records with their owners, and the client table: which process each client
 * id was. From it, at startup:
 *   - every semaphore, mutex and event is rebuilt with its name and descriptor, and pinned for the
 *     recovery;
 *     process objects are not (their handles are refused: they name a pidfd that died);
 *   - a client id whose process still lives becomes a pending record, watched by a pidfd, holding
 *     its undo records. The process's library, at its next call, connects with HELLO naming that
 *     id (conn.c), takes the record over, keeps its id (its threads' tokens are in owner fields),
 *     and sends its handle table and pins (RECOVER);
 *   - a client id whose process died meanwhile is settled at once: its undo permits given back,
 *     the wait-all locks it held released, what it owned abandoned, its queue places dropped.
 * A pending record whose process then dies is settled the same way. When no record is pending,
 * the recovery pins go, and objects nobody holds go with them.
 *
 * Only what the arena shows is decided: a name, a descriptor or a process is given up only when the
 * arena says it is gone (or unsound), never because this server lacks the memory or descriptors to
 * read it. Then the recovery fails before it has changed anything that a later server would decide
 * otherwise, and the server exits (logged): the next one started tries again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "server/server.h"

enum { FREE, KEPT, SETTLED }; /* what becomes of each slot */
static struct nsem_obj **recovered; /* pinned until no record is pending */
static uint32_t nrecovered;
static uint32_t pending; /* clients whose handles are not known yet */

static bool in_range(uint32_t slot, uint32_t high)
{
    return slot >= NSEM_ARENA_FIRST_SLOT && slot < high;
}

/* The client ids that appear in an object's state: a wait-all lock, an owner, queued waiters. */
static uint32_t ids_in(struct nsem_obj *obj, uint32_t *ids)
{
    struct nsem_slot *s = nsem__obj_slot(obj);
    uint64_t w = atomic_load(&s->state); /* seq_cst, as every state access */
    uint32_t n = 0;
    if (nsem_word_locker(w)) ids[n++] = NSEM_TOKEN_CLIENT(nsem_word_locker(w));
    uint32_t flags = atomic_load_explicit(&s->flags, memory_order_relaxed);
    bool owned = obj->ops->type == NSEM_TYPE_MUTEX || (flags & NSEM_SLOT_EXCLUSIVE);
    if (owned && (nsem_word_value(w) & NSEM_TOKEN_MASK)) ids[n++] = NSEM_TOKEN_CLIENT(nsem_word_value(w));
    uint32_t qi = (flags & NSEM_SLOT_EXCLUSIVE) ? atomic_load_explicit(&s->aux, memory_order_relaxed) : 0;
    if (qi) {
        struct nsem_excl_queue *q = (struct nsem_excl_queue *)(void *)nsem__arena_slot(qi);
        for (uint32_t i = 0; i < NSEM_EXCL_QUEUE_CAP; i++) {
            uint32_t t = atomic_load_explicit(&q->tokens[i], memory_order_relaxed);
            if (t) ids[n++] = NSEM_TOKEN_CLIENT(t);
        }
    }
    return n;
}

/* Frees in every recovered object what a dead client id held there. */
static void settle(uint32_t id, pid_t pid)
{
    uint32_t ids[2 + NSEM_EXCL_QUEUE_CAP];
    for (uint32_t i = 0; i < nrecovered; i++) {
        struct nsem_obj *obj = recovered[i];
        uint32_t n = ids_in(obj, ids);
        bool holds = false;
        for (uint32_t k = 0; k < n; k++) holds |= ids[k] == id;
        if (!holds) continue;
        nsem__obj_unlock_dead(obj, id);
        if (!obj->ops->client_gone(obj, id, pid)) nsem__retry_add(obj, id, pid, 0);
    }
}

static void finish(void)
{
    for (uint32_t i = 0; i < nrecovered; i++) {
        /* Nobody came back with a handle to it (its last close was in a ring, or its holders
         * died): its name goes, as with a last close, before the object itself. */
        if (!recovered[i]->handle_count && recovered[i]->name) nsem__ns_unlink(recovered[i]);
        nsem__obj_remove_pin(recovered[i]);
    }
    free(recovered);
    recovered = NULL;
    nrecovered = 0;
    nsem__log("recovery complete");
}

void nsem__recover_client_gone(struct nsem_client *c)
{
    settle(c->id, c->pid);
    c->recovering = false;
    if (--pending == 0) finish();
}

void nsem__recover_client_done(struct nsem_client *c)
{
    nsem__undo_drop_all_idle(c); /* of semaphores it closed (a close in its ring) before it knew */
    c->recovering = false;
    if (--pending == 0) finish();
}

/* Marks the chunks of a sound chain kept. */
static void keep_chain(uint32_t first, uint8_t *kept)
{
    for (uint32_t c = first; c; c = nsem__blob_next(c)) kept[c] = KEPT;
}

/* The descriptor of a recovered object: the one in the arena, or — if a client scribbled over it,
 * or the arena had no room for it — the default one of the server's user, whose objects these are
 * (a server shared by users would have to refuse such an object instead). */
static struct nsem_sd_entry *recovered_sd(uint32_t blob, uint8_t *kept)
{
    bool adopted;
    struct nsem_sd_entry *e = nsem__sd_recover(blob, &adopted);
    if (e) {
        if (adopted) keep_chain(blob, kept);
        return e;
    }
    if (errno == ENOMEM) return NULL; /* not a reason to change the object's descriptor */
    static struct nsem_token server_user;
    if (!server_user.groups && nsem__token_init(&server_user, geteuid(), getegid(), NULL, 0) != 0) return NULL;
    return nsem__sd_default_entry(&server_user);
}

/* The close ring at `slot`, if it is a sound one of a pending client: the process may write to it
 * until it reconnects (lib/closering.c), so its slots are kept, with the client. */
static void keep_ring(uint32_t slot, uint32_t high, uint8_t *kept)
{
    struct nsem_close_ring *h = (struct nsem_close_ring *)(void *)nsem__arena_slot(slot);
    struct nsem_client *owner = h->client_id <= NSEM_TOKEN_MAX_CLIENTS ? nsem__client_by_id(h->client_id) : NULL;
    if (!owner || !owner->recovering || owner->ring) return;
    uint32_t chunks[NSEM_CLOSE_RING_CHUNKS], k;
    for (k = 0; k < NSEM_CLOSE_RING_CHUNKS; k++) {
        chunks[k] = h->chunks[k];
        if (!in_range(chunks[k], high) || kept[chunks[k]] != FREE ||
            atomic_load_explicit(&nsem__arena_slot(chunks[k])->type, memory_order_relaxed) != NSEM_TYPE_CLOSE_CHUNK)
            break;
        kept[chunks[k]] = KEPT; /* so that a chunk named twice is refused */
    }
    if (k == NSEM_CLOSE_RING_CHUNKS && nsem__closering_adopt(owner, slot, chunks)) {
        kept[slot] = KEPT;
        return;
    }
    while (k-- > 0) kept[chunks[k]] = FREE;
}

/* Rebuilds the objects: true for each slot kept, in `kept`. */
static bool rebuild_objects(uint32_t high, uint8_t *kept)
{
    for (uint32_t slot = NSEM_ARENA_FIRST_SLOT; slot < high; slot++) {
        struct nsem_slot *s = nsem__arena_slot(slot);
        const struct nsem_obj_ops *ops = nsem__ops_for_type(atomic_load_explicit(&s->type, memory_order_relaxed));
        if (!ops || ops == &nsem__process_ops) continue;
        struct nsem_sd_entry *sd = recovered_sd(in_range(s->sd_slot, high) ? s->sd_slot : 0, kept);
        struct nsem_obj *obj = sd ? nsem__obj_adopt(ops, slot, sd) : NULL;
        struct nsem_obj **grown = realloc(recovered, (nrecovered + 1) * sizeof *grown);
        if (grown) recovered = grown;
        if (!obj || !grown) return false;
        recovered[nrecovered++] = obj;
        nsem__obj_add_pin(obj);
        kept[slot] = KEPT;
        uint32_t qi = atomic_load_explicit(&s->aux, memory_order_relaxed);
        if ((atomic_load_explicit(&s->flags, memory_order_relaxed) & NSEM_SLOT_EXCLUSIVE) && in_range(qi, high) &&
            atomic_load_explicit(&nsem__arena_slot(qi)->type, memory_order_relaxed) == NSEM_TYPE_EXCL_QUEUE)
            kept[qi] = KEPT;
        else if (atomic_load_explicit(&s->flags, memory_order_relaxed) & NSEM_SLOT_EXCLUSIVE)
            atomic_store_explicit(&s->aux, 0, memory_order_relaxed); /* works on, in no particular order */
        if (!s->name_slot) continue;
        uint32_t len;
        char *name = nsem__blob_read(NSEM_TYPE_NAME_CHUNK, s->name_slot, slot, NSEM_NAME_MAX_BYTES, &len);
        if (!name && errno == ENOMEM) return false; /* not a reason to lose the name */
        char *in_arena = name ? nsem__blob_inline(NSEM_TYPE_NAME_CHUNK, s->name_slot, slot, len) : NULL;
        if (in_arena) { /* as ns_link keeps it */
            free(name);
            name = in_arena;
        }
        bool taken = name && nsem__ns_lookup(s->session, name, len); /* a scribbled arena's twin */
        if (name && !taken && nsem__ns_adopt(obj, name, len, s->session) != 0) {
            if (!in_arena) free(name);
            return false; /* out of memory */
        }
        if (name && !taken) {
            keep_chain(s->name_slot, kept);
        } else {
            if (!in_arena) free(name);
            s->name_slot = 0; /* anonymous from now on */
        }
    }
    return true;
}

/* Out of descriptors or memory: nothing can be told of the process then. */
static bool resource_error(int e)
{
    return e == EMFILE || e == ENFILE || e == ENOMEM || e == EAGAIN || e == EINTR || e == EIO;
}

/* Whether the process of a client entry lives: 1 (watched by *pidfd), 0 (gone: its pid may be
 * another process's now), -1 (cannot tell now). A start time of 0 was not known when it connected:
 * its pid is trusted then. */
static int process_is(pid_t pid, uint32_t start_time, int *pidfd)
{
    *pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (*pidfd < 0) return resource_error(errno) ? -1 : 0;
    errno = 0;
    uint32_t now = nsem__process_start_time(pid);
    if (now == start_time || !start_time) return 1;
    int e = errno;
    close(*pidfd);
    *pidfd = -1;
    return !now && resource_error(e) ? -1 : 0;
}

/* Out of memory or descriptors before anything was decided: a later server tries again (the
 * arena file stays, as this server found it). */
static void cannot_recover(void)
{
    nsem__log("cannot recover the arena now (out of memory or descriptors): exiting; the next server tries again");
    exit(1);
}

void nsem__recover(void)
{
    if (!nsem__arena_recovered()) return;
    uint32_t high = nsem__arena_high_water();
    uint8_t *kept = calloc(high, 1);
    pid_t *dead = calloc(NSEM_TOKEN_MAX_CLIENTS + 1, sizeof *dead);
    if (!kept || !dead || !rebuild_objects(high, kept)) cannot_recover();
    /* The clients: live ones wait as pending records, dead ones are settled below (their entries
     * are cleared there, after the last way out). */
    uid_t uid = geteuid();
    for (uint32_t id = 1; id <= NSEM_TOKEN_MAX_CLIENTS; id++) {
        struct nsem_client_entry *e = nsem__arena_client_entry(0, id);
        if (!e->pid) continue;
        pid_t pid = (pid_t)e->pid;
        int pidfd;
        int alive = process_is(pid, e->start_time, &pidfd);
        if (alive < 0 || (alive && !nsem__client_pending(id, pid, uid, pidfd))) cannot_recover();
        if (alive) {
            pending++;
        } else {
            dead[id] = pid;
        }
    }
    /* Undo records go to their pending owners, or give back what their dead owners took. */
    for (uint32_t slot = NSEM_ARENA_FIRST_SLOT; slot < high; slot++) {
        struct nsem_undo_record *r = (struct nsem_undo_record *)(void *)nsem__arena_slot(slot);
        if (atomic_load_explicit(&r->type, memory_order_relaxed) != NSEM_TYPE_UNDO_RECORD) continue;
        struct nsem_obj *obj = in_range(r->sem_slot, high) && kept[r->sem_slot] ? nsem__obj_by_slot(r->sem_slot) : NULL;
        uint32_t id = r->client_id;
        if (!obj || !nsem__is_undo(obj) || id == 0 || id > NSEM_TOKEN_MAX_CLIENTS) continue;
        struct nsem_client *owner = nsem__client_by_id(id);
        if (owner) {
            if (!nsem__undo_attach(owner, slot, obj)) cannot_recover(); /* out of memory */
            kept[slot] = KEPT;
        } else if (dead[id]) {
            /* Given back at once: a later server, should this one not finish, finds it freed. */
            struct nsem_client gone = {.id = id, .pid = dead[id]};
            if (!nsem__undo_attach(&gone, slot, obj)) cannot_recover();
            nsem__arena_mark_used(slot);
            nsem__undo_client_gone(&gone); /* gives back, and frees the record's slot */
            kept[slot] = SETTLED;
        }
    }
    for (uint32_t slot = NSEM_ARENA_FIRST_SLOT; slot < high; slot++)
        if (atomic_load_explicit(&nsem__arena_slot(slot)->type, memory_order_relaxed) == NSEM_TYPE_CLOSE_RING &&
            kept[slot] == FREE)
            keep_ring(slot, high, kept);
    for (uint32_t slot = NSEM_ARENA_FIRST_SLOT; slot < high; slot++) {
        if (kept[slot] == SETTLED) continue;
        if (kept[slot] == KEPT) {
            nsem__arena_mark_used(slot);
        } else {
            atomic_store_explicit(&nsem__arena_slot(slot)->type, 0, memory_order_relaxed);
            nsem__arena_mark_free(slot);
        }
    }
    for (uint32_t id = 1; id <= NSEM_TOKEN_MAX_CLIENTS; id++)
        if (dead[id]) {
            *nsem__arena_client_entry(0, id) = (struct nsem_client_entry){0, 0};
            settle(id, dead[id]);
        }
    nsem__log("recovered %u objects with %u security descriptors; %u processes to come back", nrecovered,
              nsem__sd_count(), pending);
    free(kept);
    free(dead);
    if (pending == 0) finish();
}

/* One of the recovered objects (they are in slot order), NULL if the slot is not one. */
static struct nsem_obj *recovered_at(uint32_t slot)
{
    uint32_t lo = 0, hi = nrecovered;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (recovered[mid]->slot == slot) return recovered[mid];
        if (recovered[mid]->slot < slot) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

static bool pin(struct nsem_client *c, struct nsem_obj *obj)
{
    for (struct nsem_pin *p = c->pins; p; p = p->next)
        if (p->obj == obj) return true;
    struct nsem_pin *p = malloc(sizeof *p);
    if (!p) return false;
    *p = (struct nsem_pin){obj, c->pins};
    c->pins = p;
    nsem__obj_add_pin(obj);
    return true;
}

uint32_t nsem__recover_entries(struct nsem_client *c, const struct nsem_recover_entry *e, uint32_t count,
                               uint32_t *refused)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < count; i++) {
        struct nsem_obj *obj = recovered_at(e[i].slot);
        if (e[i].kind == NSEM_RECOVER_PIN) {
            if (obj) pin(c, obj); /* a pin that cannot be kept: the object lives while recovery lasts */
            continue;
        }
        const uint32_t flag_bits = HANDLE_FLAG_INHERIT | HANDLE_FLAG_PROTECT_FROM_CLOSE;
        bool ok = e[i].kind == NSEM_RECOVER_HANDLE && obj && obj->ops->type == e[i].type &&
                  nsem__handle_install_at(&c->handles, e[i].value, obj, e[i].access & obj->ops->valid_access,
                                          e[i].flags & flag_bits);
        if (!ok && e[i].kind == NSEM_RECOVER_HANDLE) refused[n++] = e[i].value;
    }
    return n;
}

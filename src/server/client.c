/*
 * client.c — client connections: accept with SO_PEERCRED, framed input, replies, and the end of a
 * client, which is the end of its process (or of its connection).
 *
 * When a client goes, at once (its socket closed): every object it can reach — through its handles
 * and its pins — is visited once; wait-all locks its threads held are released, and mutexes its
 * threads owned are abandoned (waiters wake); then its handle table is destroyed, which drops its
 * handles, and its pins; an object goes with its last reference.
 * A mutex that a live wait-all has locked at that moment cannot be abandoned yet: it is kept
 * (pinned) on a retry list and tried again on the next turn of the loop, never spun on.
 *
 * Fairness: a client's frames are handled in turns of at most FRAMES_PER_TURN frames or TURN_NS of
 * work, one turn a pass of the loop, so a request waits for at most one turn of each busy client,
 * however many frames they pipeline and whatever their frames cost. A client that lets OUT_MAX of
 * replies pile up, or sends a malformed frame, is disconnected and destroyed as if its process had
 * ended: only a connection closed by its own process (an exec) leaves inheritable handles behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/server.h"

#define OUT_MAX (1u << 20) /* a client that lets this much of its replies pile up is dropped */
#define FRAMES_PER_TURN 64 /* then other clients get their turn: one client cannot starve the rest */
#define TURN_NS 100000     /* nor with costly frames (STATS, HOLDERS): a turn ends after 100 us of them */

static struct nsem_client *clients[NSEM_TOKEN_MAX_CLIENTS + 1]; /* by id; [0] unused */
static uint32_t nclients;
#define PID_BUCKETS 4096u
static struct nsem_client *by_pid[PID_BUCKETS]; /* the same clients, chained by pid */

/* The start time of a process (/proc/pid/stat's 22nd field, low 32 bits), 0 if unknown: with the
 * pid, it names one process, even across pid reuse. */
uint32_t nsem__process_start_time(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    const char *p = strrchr(buf, ')'); /* the command may hold spaces and parentheses */
    unsigned long long start = 0;
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                     &start) != 1)
        return 0;
    return (uint32_t)start;
}

static void add_client(struct nsem_client *c)
{
    clients[c->id] = c;
    *nsem__arena_client_entry(c->domain, c->id) =
        (struct nsem_client_entry){(uint32_t)c->pid, nsem__process_start_time(c->pid)};
    c->pid_next = by_pid[(uint32_t)c->pid % PID_BUCKETS];
    by_pid[(uint32_t)c->pid % PID_BUCKETS] = c;
    nclients++;
}

static void remove_client(struct nsem_client *c)
{
    clients[c->id] = NULL;
    *nsem__arena_client_entry(c->domain, c->id) = (struct nsem_client_entry){0, 0};
    struct nsem_client **p = &by_pid[(uint32_t)c->pid % PID_BUCKETS];
    while (*p != c) p = &(*p)->pid_next;
    *p = c->pid_next;
    nclients--;
}
static uint32_t next_id = 1;
static uint32_t mark_epoch;

struct retry {
    struct nsem_obj *obj; /* pinned by the retry */
    uint32_t client_id;
    pid_t pid;
    uint32_t undo; /* permits to give back, or 0: abandon what the client owned */
    struct retry *next;
};
static struct retry *retries;

uint32_t nsem__client_count(void)
{
    return nclients;
}

static void on_client_event(struct nsem_loop_item *item, uint32_t events)
{
    nsem__client_event((struct nsem_client *)item, events);
}

/* An id whose dead client still has a cleanup pending is not given out: the new client's tokens
 * would match the dead one's. */
static bool id_in_retries(uint32_t id)
{
    for (struct retry *r = retries; r; r = r->next)
        if (r->client_id == id) return true;
    return false;
}

static uint32_t alloc_id(void)
{
    for (uint32_t n = 0; n < NSEM_TOKEN_MAX_CLIENTS; n++) {
        uint32_t id = next_id;
        next_id = next_id % NSEM_TOKEN_MAX_CLIENTS + 1;
        if (!clients[id] && !id_in_retries(id)) return id;
    }
    return 0;
}

/* A descriptor kept in reserve: out of descriptors, the server closes it to accept and refuse the
 * waiting connection, instead of leaving it in the backlog, where the level-triggered listener would
 * wake the loop again and again. */
static int spare_fd = -1;

void nsem__client_init(void)
{
    spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void nsem__client_accept(int listen_fd)
{
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE) && spare_fd >= 0) {
        close(spare_fd);
        fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) close(fd);
        spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        nsem__log("out of file descriptors: refused a client");
        return;
    }
    if (fd < 0) return;
    struct ucred cred;
    socklen_t cl = sizeof cred;
    /* A per-user server serves its user only; the system server every user, each in its domain. */
    int domain = -1;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 || (!nsem__system && cred.uid != geteuid()) ||
        (domain = nsem__arena_domain(cred.uid)) < 0) {
        nsem__log("refused a client of uid %d", cl == sizeof cred ? (int)cred.uid : -1);
        close(fd);
        return;
    }
    uint32_t id = alloc_id();
    struct nsem_client *c = id ? calloc(1, sizeof *c) : NULL;
    if (!c) {
        close(fd);
        return;
    }
    c->item.on_event = on_client_event;
    c->fd = fd;
    c->pidfd = -1;
    c->id = id;
    c->pid = cred.pid;
    c->uid = cred.uid;
    c->domain = (uint32_t)domain;
    if (nsem__loop_add(fd, c, EPOLLIN) != 0) {
        close(fd);
        free(c);
        return;
    }
    add_client(c);
}

/* Abandons what a dead client held in one object; false if it must be retried. */
static bool release_dead_holds(struct nsem_obj *obj, uint32_t client_id, pid_t pid)
{
    nsem__obj_unlock_dead(obj, client_id);
    return obj->ops->client_gone(obj, client_id, pid);
}

void nsem__retry_add(struct nsem_obj *obj, uint32_t client_id, pid_t pid, uint32_t undo)
{
    struct retry *r = malloc(sizeof *r);
    if (!r) {
        nsem__log("out of memory: a cleanup of client %u is lost", client_id);
        return;
    }
    nsem__obj_add_pin(obj);
    *r = (struct retry){obj, client_id, pid, undo, retries};
    retries = r;
}

int nsem__retry_pending(void)
{
    struct retry **p = &retries;
    while (*p) {
        struct retry *r = *p;
        if (r->undo ? nsem__undo_give_back(r->obj, r->undo) : release_dead_holds(r->obj, r->client_id, r->pid)) {
            *p = r->next;
            nsem__obj_remove_pin(r->obj);
            free(r);
        } else {
            p = &r->next;
        }
    }
    return retries != NULL;
}

static void visit(struct nsem_obj *obj, struct nsem_client *c)
{
    if (obj->mark == mark_epoch) return;
    obj->mark = mark_epoch;
    if (!release_dead_holds(obj, c->id, c->pid)) nsem__retry_add(obj, c->id, c->pid, 0);
    nsem__slot_waiting_recount(nsem__obj_slot(obj)); /* its threads may have been counted as waiting */
}

static void set_pending(struct nsem_client *c, bool on);
static void client_ended(struct nsem_client *c);

/* The threads of the client's process image are gone: release what they held in every object the
 * client can reach, and its pins (their uses are over). */
static void end_of_threads(struct nsem_client *c)
{
    nsem__broker_client_gone(c);
    mark_epoch++;
    for (uint32_t i = 0; i < c->handles.size; i++)
        if (c->handles.entries[i].obj) visit(c->handles.entries[i].obj, c);
    for (struct nsem_pin *p = c->pins; p; p = p->next) visit(p->obj, c);
    while (c->pins) {
        struct nsem_pin *p = c->pins;
        c->pins = p->next;
        nsem__obj_remove_pin(p->obj);
        free(p);
    }
}

static void client_destroy(struct nsem_client *c)
{
    nsem__closering_drain_client(c); /* the closes its process posted, before anything else */
    /* Undo first: it must see whether the dead client still held a lock (see undo.c). */
    nsem__undo_client_gone(c);
    if (c->recovering) nsem__recover_client_gone(c); /* what it held that the server cannot see */
    nsem__aliases_destroy(c);
    nsem__tickets_client_gone(c->id);
    end_of_threads(c);
    nsem__handle_table_destroy(&c->handles);
    set_pending(c, false);
    if (c->greeted) nsem__session_unref(c->session);
    nsem__token_destroy(&c->token);
    if (c->pidfd >= 0) {
        nsem__loop_del(c->pidfd, c);
        close(c->pidfd);
    } else {
        nsem__loop_del(c->fd, c);
        close(c->fd);
    }
    remove_client(c);
    nsem__closering_destroy(c);
    free(c->in);
    free(c->out);
    free(c);
}

/* Every client, through the table by pid: a scan of its buckets, not of every possible id, which
 * costs HOLDERS and STATS tens of microseconds each. */
#define FOR_EACH_CLIENT(c) \
    for (uint32_t bucket_ = 0; bucket_ < PID_BUCKETS; bucket_++) \
        for (struct nsem_client *c = by_pid[bucket_]; c; c = c->pid_next)

uint32_t nsem__clients_holding(const struct nsem_obj *obj, uint32_t *pids, uint32_t max)
{
    uint32_t n = 0;
    FOR_EACH_CLIENT(c) {
        bool holds = false;
        for (uint32_t i = 0; i < c->handles.size && !holds; i++) holds = c->handles.entries[i].obj == obj;
        for (struct nsem_pin *p = c->pins; p && !holds; p = p->next) holds = p->obj == obj;
        if (!holds) continue;
        if (n < max) pids[n] = (uint32_t)c->pid;
        n++;
    }
    return n;
}

void nsem__clients_stats(struct nsem_server_stats *st)
{
    FOR_EACH_CLIENT(c) {
        if (c->fd >= 0)
            st->clients++;
        else
            st->records++;
        st->handles += c->handles.used;
        for (struct nsem_pin *p = c->pins; p; p = p->next) st->pins++;
        st->undo_records += nsem__undo_count(c);
    }
    for (struct retry *r = retries; r; r = r->next) st->cleanups++;
}

void nsem__clients_destroy_all(void)
{
    for (uint32_t i = 1; i <= NSEM_TOKEN_MAX_CLIENTS; i++)
        if (clients[i]) client_destroy(clients[i]);
}

/* Sends what is queued; false when the client must go. */
static bool flush_out(struct nsem_client *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            if (!c->watch_out) nsem__loop_mod(c->fd, c, EPOLLIN | EPOLLOUT);
            c->watch_out = true;
            return true;
        }
        if (n <= 0) return false;
        c->out_off += (uint32_t)n;
    }
    c->out_len = c->out_off = 0;
    if (c->watch_out) nsem__loop_mod(c->fd, c, EPOLLIN); /* a system call only when it changes */
    c->watch_out = false;
    return true;
}

static bool queue_reply(struct nsem_client *c, const unsigned char *rep, uint32_t len, int pass_fd)
{
    if (pass_fd >= 0) {
        /* The HELLO reply is the first thing on the connection, so the socket takes it whole. */
        char cbuf[CMSG_SPACE(sizeof(int))];
        memset(cbuf, 0, sizeof cbuf);
        struct iovec iov = {(void *)rep, len};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
        return c->out_len == 0 && sendmsg(c->fd, &msg, MSG_NOSIGNAL) == (ssize_t)len;
    }
    if (c->out_len + len > OUT_MAX) return false;
    unsigned char *n = realloc(c->out, c->out_len + len);
    if (!n) return false;
    c->out = n;
    memcpy(c->out + c->out_len, rep, len);
    c->out_len += len;
    return true; /* sent by process_input, once per turn */
}

/* Clients with whole frames left in their input buffer after their turn. */
static struct nsem_client *pending[NSEM_TOKEN_MAX_CLIENTS + 1];
static uint32_t npending;
/* One pass of the loop (its events, then the pending clients) is one turn: a client has frames
 * handled at most once in it, so that one pass costs at most a turn of each busy client. */
static uint64_t loop_turn = 1;

static void set_pending(struct nsem_client *c, bool on)
{
    if (on == c->pending) return;
    c->pending = on;
    if (on) {
        pending[npending++] = c;
        return;
    }
    for (uint32_t i = 0; i < npending; i++)
        if (pending[i] == c) {
            pending[i] = pending[--npending];
            return;
        }
}

/* The server ends a client's connection for what it did: the process lives on, but it has not
 * exec'd, so it keeps nothing (client_ended). Returns false, for process_input. */
static bool drop_client(struct nsem_client *c, const char *why)
{
    nsem__log("client %u (pid %d): %s: disconnected", c->id, (int)c->pid, why);
    c->dropped = true;
    return false;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A reply that cannot be queued never reaches its client: a FORK's ticket would wait TICKET_MS for
 * a child that cannot have its key (its parent is told the request failed), holding a copy of every
 * handle of the parent meanwhile. */
static void reply_lost(const unsigned char *req, const unsigned char *rep)
{
    struct nsem_req_hdr q;
    struct nsem_rep_fork r;
    memcpy(&q, req, sizeof q);
    if (q.op != NSEM_OP_FORK) return;
    memcpy(&r, rep, sizeof r);
    if (r.hdr.error == 0) nsem__ticket_drop((uint64_t)r.ticket_hi << 32 | r.ticket_lo);
}

/* Handles whole frames of the input buffer, up to FRAMES_PER_TURN or TURN_NS (at least one); false
 * when the client must go. */
static bool process_input(struct nsem_client *c)
{
    static _Alignas(8) unsigned char rep[NSEM_MSG_MAX];
    /* Frames follow each other at any offset (a name has any length): each is copied to an aligned
     * buffer before its fields are read as a struct. */
    static _Alignas(8) unsigned char req[NSEM_MSG_MAX];
    uint32_t off = 0, frames = 0;
    bool more = false;
    uint64_t turn_end = now_ns() + TURN_NS;
    c->turn = loop_turn;
    while (c->in_len - off >= sizeof(struct nsem_req_hdr)) {
        if (frames++ == FRAMES_PER_TURN || (frames > 1 && now_ns() >= turn_end)) {
            more = true;
            break;
        }
        uint32_t len;
        memcpy(&len, c->in + off, sizeof len);
        if (len < sizeof(struct nsem_req_hdr) || len > NSEM_MSG_MAX) return drop_client(c, "bad frame length");
        if (c->in_len - off < len) break;
        int pass_fd = -1;
        memcpy(req, c->in + off, len);
        nsem__closering_drain_all(); /* every close posted before this request is done first */
        uint32_t rlen = nsem__dispatch(c, req, len, rep, &pass_fd);
        if (rlen == 0) return drop_client(c, "malformed frame");
        if (!queue_reply(c, rep, rlen, pass_fd)) {
            reply_lost(req, rep);
            return drop_client(c, "replies left unread");
        }
        off += len;
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    set_pending(c, more);
    return flush_out(c); /* one send for the turn's replies */
}

bool nsem__clients_pending(void)
{
    return npending > 0;
}

void nsem__clients_run_pending(void)
{
    /* Every pending client gets one turn. By id, in a copy: a turn may end another client (a
     * request that finds a closed connection of its pid), whose id only an orphan record, never
     * pending, can take meanwhile. */
    static uint32_t turn[NSEM_TOKEN_MAX_CLIENTS + 1];
    uint32_t n = npending;
    for (uint32_t i = 0; i < n; i++) turn[i] = pending[i]->id;
    for (uint32_t i = 0; i < n; i++) {
        struct nsem_client *c = clients[turn[i]];
        if (c && c->pending && c->turn != loop_turn && !process_input(c)) client_ended(c);
    }
    loop_turn++;
}

/* Whether more than one frame waits: the library sends one request at a time, so a client with
 * more pipelines them, and is served in the pass's pending turns, after the others' requests. */
static bool pipelines(const struct nsem_client *c)
{
    uint32_t len;
    if (c->in_len < sizeof len) return false;
    memcpy(&len, c->in, sizeof len);
    return len >= sizeof(struct nsem_req_hdr) && len < c->in_len;
}

/* One read per readiness: the level-triggered loop comes back while there is more. */
static bool read_input(struct nsem_client *c)
{
    for (;;) {
        /* Its buffered frames are served first, and one turn a pass: the level-triggered loop
         * comes back for the rest. */
        if (c->pending || c->turn == loop_turn) return true;
        if (c->in_cap - c->in_len < 4096) {
            uint32_t cap = c->in_cap ? c->in_cap * 2 : 8192;
            if (cap > 2 * NSEM_MSG_MAX) cap = 2 * NSEM_MSG_MAX;
            if (cap <= c->in_cap) return false; /* cannot happen: frames are bounded */
            unsigned char *n = realloc(c->in, cap);
            if (!n) return false;
            c->in = n;
            c->in_cap = cap;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return true;
        if (n <= 0) return false;
        c->in_len += (uint32_t)n;
        if (pipelines(c)) { /* its turn comes after those of the clients with one request */
            set_pending(c, true);
            return true;
        }
        return process_input(c);
    }
}

/* The connection ended. If the process lives on, it exec'd (inherit.c): keep its inheritable
 * handles and undo records for its new image, and watch the process; else it is gone. */
static void client_ended(struct nsem_client *c)
{
    nsem__undo_settle(c); /* first: it must see which locks the ended image still held */
    /* Then the closes it posted: a handle it closed is not inherited. Its ring stays until the
     * process exits or connects again: a process whose connection ended without an exec still
     * writes there. */
    nsem__closering_drain_client(c);
    int pidfd = c->greeted && !c->dropped ? nsem__exec_pidfd(c->pid) : -1;
    if (pidfd < 0) {
        client_destroy(c);
        return;
    }
    end_of_threads(c);
    nsem__handle_table_keep_inheritable(&c->handles);
    if (c->handles.used == 0 && !c->undos) {
        close(pidfd);
        client_destroy(c);
        return;
    }
    set_pending(c, false);
    nsem__session_unref(c->session);
    c->greeted = false;
    nsem__token_destroy(&c->token); /* the new image may run as someone else: it says at its HELLO */
    nsem__loop_del(c->fd, c); /* an event of its socket later in this turn is not its process's end */
    close(c->fd);
    c->fd = -1;
    free(c->in);
    free(c->out);
    c->in = c->out = NULL;
    c->in_len = c->in_cap = c->out_len = c->out_off = 0;
    c->pidfd = pidfd;
    if (nsem__loop_add(pidfd, c, EPOLLIN) != 0) client_destroy(c);
}

/* The client of a process, other than c; NULL if none. */
static struct nsem_client *client_of_pid(pid_t pid, const struct nsem_client *c)
{
    for (struct nsem_client *o = by_pid[(uint32_t)pid % PID_BUCKETS]; o; o = o->pid_next)
        if (o != c && o->pid == pid) return o;
    return NULL;
}

/* The record of a process as it is now, other than `except`: a connection that has ended (an exec)
 * without the loop having seen it yet is seen to first, so that what is given to the process, or
 * taken over by its new image, is the record that outlives the old one. */
static struct nsem_client *current_record(pid_t pid, const struct nsem_client *except)
{
    struct nsem_client *c = client_of_pid(pid, except);
    char b;
    if (c && c->fd >= 0 && recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0) {
        client_ended(c);
        c = client_of_pid(pid, except);
    }
    return c;
}

struct nsem_client *nsem__client_of_pid(pid_t pid)
{
    return current_record(pid, NULL);
}

struct nsem_client *nsem__client_by_id(uint32_t id)
{
    return id && id <= NSEM_TOKEN_MAX_CLIENTS ? clients[id] : NULL;
}

/* A record (no connection) of process pid under id, watched through its pidfd; not yet added. */
static struct nsem_client *new_record(uint32_t id, pid_t pid, uid_t uid, int pidfd)
{
    int domain = nsem__arena_domain(uid);
    struct nsem_client *c = id && !clients[id] && domain >= 0 ? calloc(1, sizeof *c) : NULL;
    if (!c) return NULL;
    c->domain = (uint32_t)domain;
    c->item.on_event = on_client_event;
    c->fd = -1;
    c->pidfd = pidfd;
    c->id = id;
    c->pid = pid;
    c->uid = uid;
    if (nsem__loop_add(pidfd, c, EPOLLIN) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

struct nsem_client *nsem__client_pending(uint32_t id, pid_t pid, uid_t uid, int pidfd)
{
    struct nsem_client *c = new_record(id, pid, uid, pidfd);
    if (!c) return NULL;
    c->recovering = true;
    add_client(c);
    return c;
}

bool nsem__client_take_over(struct nsem_client *c, uint32_t id)
{
    struct nsem_client *o = nsem__client_by_id(id);
    if (!o || o == c || !o->recovering || o->fd >= 0 || o->pid != c->pid) return false;
    remove_client(c);
    remove_client(o);
    c->id = o->id;
    c->recovering = true;
    nsem__undo_take_over(c, o);
    nsem__closering_take_over(c, o);
    nsem__loop_del(o->pidfd, o);
    close(o->pidfd);
    free(o);
    add_client(c);
    return true;
}

struct nsem_client *nsem__client_orphan(pid_t pid, uid_t uid, struct nsem_handle_table *handles, int pidfd)
{
    struct nsem_client *c = new_record(alloc_id(), pid, uid, pidfd);
    if (!c) return NULL;
    c->handles = *handles;
    memset(handles, 0, sizeof *handles);
    add_client(c);
    return c;
}

/* The nearest ancestor of c that the server knows, NULL if none. */
static struct nsem_client *known_ancestor(const struct nsem_client *c)
{
    pid_t pid = c->pid;
    for (int depth = 0; depth < 16; depth++) {
        pid = nsem__parent_pid(pid);
        if (pid <= 1) return NULL;
        struct nsem_client *a = client_of_pid(pid, c);
        if (a) return a;
    }
    return NULL;
}

/* c's handles become `inherited`, with those duplicated into c before it connected (kept at their
 * values, which nsem__inheritance_bound put above the inherited ones). */
static void inherit(struct nsem_client *c, struct nsem_handle_table *inherited)
{
    struct nsem_handle_table duplicated = c->handles;
    c->handles = *inherited;
    memset(inherited, 0, sizeof *inherited);
    nsem__handle_table_merge(&c->handles, &duplicated);
}

/* Copies the inheritable handles of the nearest ancestor of c that the server knows. */
static void inherit_from_ancestor(struct nsem_client *c)
{
    struct nsem_client *a = known_ancestor(c);
    if (!a) return;
    /* Past the limit on handles the child starts without the copies: its connection cannot be
     * refused for it, as Windows would refuse to create the process. */
    if (nsem__quota_handles(NULL, nsem__handle_table_count(&a->handles, true))) {
        nsem__log("pid %d: no inherited handles: over the limit on handles", (int)c->pid);
        return;
    }
    struct nsem_handle_table copy;
    if (nsem__handle_table_copy(&copy, &a->handles, true) == 0) inherit(c, &copy);
}

void nsem__client_adopt_inherited(struct nsem_client *c)
{
    struct nsem_client *o = current_record(c->pid, c);
    if (!o || o->pidfd < 0 || o->provisional) { /* no former image left anything: an ancestor may have */
        inherit_from_ancestor(c);
        nsem__client_take_provisional(c);
        return;
    }
    inherit(c, &o->handles);
    nsem__undo_take_over(c, o);
    client_destroy(o);
}

void nsem__client_take_provisional(struct nsem_client *c)
{
    struct nsem_client *o = client_of_pid(c->pid, c);
    if (!o || !o->provisional) return;
    nsem__handle_table_merge(&c->handles, &o->handles);
    nsem__undo_take_over(c, o);
    client_destroy(o);
}

bool nsem__client_unborn(const struct nsem_client *c)
{
    return c->provisional || (c->fd >= 0 && !c->greeted);
}

uint32_t nsem__inheritance_bound(const struct nsem_client *c)
{
    /* a fork or spawn ticket (made before the child existed), an exec'd image's record, or the
     * copy of an ancestor's handles that a child with neither gets */
    uint32_t bound = nsem__tickets_bound();
    for (struct nsem_client *o = by_pid[(uint32_t)c->pid % PID_BUCKETS]; o; o = o->pid_next)
        if (o != c && o->pid == c->pid && o->handles.size > bound) bound = o->handles.size;
    struct nsem_client *a = known_ancestor(c);
    if (a && a->handles.size > bound) bound = a->handles.size;
    return bound;
}

void nsem__client_event(struct nsem_client *c, uint32_t events)
{
    if (c->pidfd >= 0) { /* an exec'd client's process has exited */
        client_destroy(c);
        return;
    }
    bool ok = true;
    if (events & EPOLLOUT) ok = flush_out(c);
    if (ok && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) ok = read_input(c);
    if (!ok) client_ended(c);
}

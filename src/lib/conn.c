/*
 * conn.c — the connection to nsemd: made on the first call that needs it (starting the server if
 * none runs), HELLO, the arena mapping, and one request/reply at a time under the connection lock.
 *
 * fork(): just before, the parent gets a ticket (FORK) holding a copy of its handles; the child's
 * atfork handler connects at once and adopts it, so the child has every handle of its parent, with
 * the same values, from its first instruction on (server/inherit.c). exec: the connection is
 * close-on-exec; the new image's first call connects and gets the inheritable handles its former
 * image left it. If the server goes away (a request finds the connection closed, or a blocked wait
 * sees liveness.c's word marked dead), the handles it knew are gone with it: the table is emptied
 * and the next call connects afresh. An old arena mapping is never unmapped, since another
 * thread may still be touching it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/paths.h"
#include "common/spin.h"
#include "lib/client.h"

static pthread_mutex_t conn_mutex = PTHREAD_MUTEX_INITIALIZER;
static int conn_fd = -1;
#include "lib/handle_table.h"
_Atomic(struct nsem_slot *) nsem__arena_base; /* acquire/release: published after the mmap */
#define arena nsem__arena_base
static _Atomic uint32_t client_id;        /* relaxed: read by token computation after connecting */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static struct nsem_spin spin; /* the polling for a reply (common/spin.h); under the lock */
static uint64_t fork_ticket;                              /* under the connection lock */
static dev_t arena_dev;                                   /* the mapped arena's memfd: under the lock */
static ino_t arena_ino;
static __thread bool holds_lock __attribute__((tls_model("initial-exec")));
static uint32_t recover_id;  /* under the lock: the id to ask a new server for after a crash */
static bool recovered_hello; /* under the lock: the last HELLO kept recover_id */

static DWORD connect_locked(void);
static DWORD request_fd(int fd, void *req, uint32_t req_len, void *rep, uint32_t rep_len);
static void recover_locked(void);

static void before_fork(void)
{
    nsem__conn_lock();
    fork_ticket = 0;
    if (conn_fd >= 0) {
        struct nsem_req_fork req = {{sizeof req, NSEM_OP_FORK}, {0, 0}};
        struct nsem_rep_fork rep;
        DWORD e = request_fd(conn_fd, &req, sizeof req, &rep, sizeof rep);
        if (e == 0) fork_ticket = (uint64_t)rep.ticket_hi << 32 | rep.ticket_lo;
        /* Cut off in the middle: the reply may still come, and be taken for the next request's. */
        if (e == ERROR_SERVICE_NOT_ACTIVE) recover_locked();
    }
}

static void after_fork_parent(void)
{
    fork_ticket = 0; /* the child has adopted it, or it expires */
    nsem__conn_unlock();
}

/* The child: a new process, with a copy of every handle of its parent (the ticket's). */
static void after_fork_child(void)
{
    pthread_mutex_init(&conn_mutex, NULL);
    holds_lock = false;
    if (conn_fd >= 0) close(conn_fd);
    conn_fd = -1;
    atomic_store_explicit(&client_id, 0, memory_order_relaxed);
    nsem__handles_reset();
    nsem__thread_after_fork();
    nsem__blocked_after_fork();
    if (fork_ticket) {
        nsem__conn_lock();
        connect_locked(); /* adopts the ticket: no window in which the handles are not counted */
        fork_ticket = 0;
        nsem__conn_unlock();
    }
}

static void init_process(void)
{
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    spin.window_ns = nsem__spin_window_ns(getenv("NSEM_SPIN_US"));
    if (spin.window_ns == UINT64_MAX) spin.window_ns = nsem__spin_window_ns(NULL); /* a bad value: as if unset */
}

void nsem__conn_lock(void)
{
    pthread_once(&init_once, init_process);
    pthread_mutex_lock(&conn_mutex);
    holds_lock = true;
}

void nsem__conn_unlock(void)
{
    holds_lock = false;
    pthread_mutex_unlock(&conn_mutex);
}

bool nsem__conn_lock_held(void)
{
    return holds_lock;
}

struct nsem_slot *nsem__slot(uint32_t index)
{
    return atomic_load_explicit(&arena, memory_order_acquire) + index;
}

uint32_t nsem__client_id(void)
{
    return atomic_load_explicit(&client_id, memory_order_relaxed);
}

/* The session of Local\ names: $NSEM_SESSION, else the login session, else 0. */
static uint32_t session_id(void)
{
    const char *s = getenv("NSEM_SESSION");
    if (s && *s) return (uint32_t)strtoul(s, NULL, 10);
    FILE *f = fopen("/proc/self/sessionid", "re");
    unsigned long id = 0;
    if (f) {
        if (fscanf(f, "%lu", &id) != 1) id = 0;
        fclose(f);
    }
    return id == 4294967295ul ? 0 : (uint32_t)id; /* -1: no login session; session 0 then */
}

static bool write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return false;
        c += k;
        n -= (size_t)k;
    }
    return true;
}

/* A request and the name that follows it, in one system call (a server woken by half a frame
 * would only go back to sleep). */
static bool write_all2(int fd, const void *a, size_t na, const void *b, size_t nb)
{
    struct iovec iov[2] = {{(void *)a, na}, {(void *)b, nb}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = nb ? 2 : 1};
    while (msg.msg_iovlen) {
        ssize_t k = sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return false;
        for (size_t n = (size_t)k; n;) { /* past what was sent */
            size_t step = n < msg.msg_iov->iov_len ? n : msg.msg_iov->iov_len;
            msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + step;
            msg.msg_iov->iov_len -= step;
            n -= step;
            if (!msg.msg_iov->iov_len) {
                msg.msg_iov++;
                msg.msg_iovlen--;
            }
        }
        while (msg.msg_iovlen && !msg.msg_iov->iov_len) {
            msg.msg_iov++;
            msg.msg_iovlen--;
        }
    }
    return true;
}

/* Whether the server said it was awake, working or polling (common/shm.h): a request sent then is
 * answered without a wake-up of the server, soon enough to poll for. */
static bool server_awake(void)
{
    struct nsem_slot *base = atomic_load_explicit(&arena, memory_order_acquire); /* none before HELLO */
    return base && atomic_load_explicit(&((struct nsem_arena_header *)(void *)base)->server_awake,
                                        memory_order_relaxed); /* a hint */
}

/* Reads one reply of at most rep_len bytes; a reply of another size than expected is an error.
 * The first read asks for rep_len bytes, so that a whole reply takes one system call: nothing can
 * follow the reply, the client having one request at a time. When the server was awake as the
 * request went, the read polls for a while before it sleeps: the reply then needs no wake-up. */
static bool read_reply(int fd, void *rep, uint32_t rep_len, int *passed_fd)
{
    char *p = rep;
    uint32_t got = 0, want = rep_len;
    bool sized = false; /* want is the header's len */
    uint64_t start = nsem__now_ns(), turn = start;
    bool polling = nsem__spin_may_poll(&spin, start) && server_awake();
    while (got < want) {
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {p + got, want - got};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
        ssize_t k = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | (polling ? MSG_DONTWAIT : 0));
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && polling && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            polling = nsem__spin_again(&spin, start, &turn);
            continue;
        }
        if (k <= 0) return false;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS && passed_fd)
                memcpy(passed_fd, CMSG_DATA(cm), sizeof(int));
        got += (uint32_t)k;
        if (!sized && got >= sizeof(struct nsem_rep_hdr)) {
            struct nsem_rep_hdr h;
            memcpy(&h, rep, sizeof h);
            if (h.len < sizeof h || h.len > rep_len || h.len < got) return false;
            want = h.len;
            sized = true;
        }
    }
    return sized;
}

static int connect_socket(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    while (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (errno == EINTR) continue;
        close(fd);
        return -1;
    }
    return fd;
}

/* One request and reply on fd: 0, the reply's error, or ERROR_SERVICE_NOT_ACTIVE. */
static DWORD request_fd(int fd, void *req, uint32_t req_len, void *rep, uint32_t rep_len)
{
    ((struct nsem_req_hdr *)req)->len = req_len;
    if (!write_all(fd, req, req_len) || !read_reply(fd, rep, rep_len, NULL)) return ERROR_SERVICE_NOT_ACTIVE;
    return ((struct nsem_rep_hdr *)rep)->error;
}

/* Installs the handles the server says this process has (inherited, or adopted from a ticket). */
static bool fetch_handles(int fd)
{
    size_t size = sizeof(struct nsem_rep_handles) + NSEM_HANDLES_PER_REPLY * sizeof(struct nsem_handle_desc);
    struct nsem_rep_handles *rep = malloc(size);
    if (!rep) return false;
    uint32_t cursor = 0;
    do {
        struct nsem_req_handles req = {{0, NSEM_OP_HANDLES}, cursor, 0};
        if (request_fd(fd, &req, sizeof req, rep, (uint32_t)size) != 0 || rep->count > NSEM_HANDLES_PER_REPLY ||
            rep->hdr.len != sizeof *rep + rep->count * sizeof(struct nsem_handle_desc)) {
            free(rep);
            return false;
        }
        const struct nsem_handle_desc *d = (const struct nsem_handle_desc *)(rep + 1);
        for (uint32_t i = 0; i < rep->count; i++) {
            struct nsem_rep_handle h = {{sizeof h, 0}, d[i].handle, d[i].slot, d[i].access, d[i].type,
                                        d[i].handle_flags, d[i].undo_slot};
            nsem__handle_install(&h);
        }
        cursor = rep->next_cursor;
    } while (cursor);
    free(rep);
    return true;
}

/* HELLO on a fresh connection (with the fork ticket, if any); maps the arena; installs the handles
 * this process already has. */
static bool greet(int fd)
{
    struct nsem_req_hello req = {{sizeof req, NSEM_OP_HELLO}, NSEM_PROTOCOL_VERSION, session_id(),
                                 (uint32_t)fork_ticket, (uint32_t)(fork_ticket >> 32), nsem__handle_floor(), recover_id};
    struct nsem_rep_hello rep;
    int memfd = -1;
    if (!write_all(fd, &req, sizeof req) || !read_reply(fd, &rep, sizeof rep, &memfd) || rep.hdr.error ||
        rep.hdr.len != sizeof rep || memfd < 0 || rep.arena_slots != NSEM_ARENA_SLOTS) {
        if (memfd >= 0) close(memfd);
        return false;
    }
    /* A fork child (or a reconnection to the same server) already maps this very arena: keep that
     * mapping rather than add another 256 MiB of address space per generation. */
    struct stat st;
    if (fstat(memfd, &st) != 0) {
        close(memfd);
        return false;
    }
    if (!atomic_load_explicit(&arena, memory_order_acquire) || st.st_dev != arena_dev || st.st_ino != arena_ino) {
        rep.recovered = 0; /* another arena than the one our handles are in */
        void *p = mmap(NULL, NSEM_ARENA_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
        if (p == MAP_FAILED) {
            close(memfd);
            return false;
        }
        arena_dev = st.st_dev;
        arena_ino = st.st_ino;
        atomic_store_explicit(&arena, (struct nsem_slot *)p, memory_order_release);
    }
    close(memfd);
    /* Recovered: the handles we have are the server's too (the same arena); else they are gone. */
    recovered_hello = rep.recovered == 1 && recover_id == rep.client_id;
    if (recover_id && !recovered_hello) nsem__handles_reset();
    atomic_store_explicit(&client_id, rep.client_id, memory_order_relaxed);
    return rep.handles == 0 || fetch_handles(fd);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Connects, starting the server when none answers. Concurrent starters serialize on the spawn
 * lock, so however many processes start at once against no server, one server is started. */
static DWORD connect_locked(void)
{
    char path[NSEM_PATH_MAX];
    bool shared; /* a system server's: never started by a client */
    DWORD e = nsem__client_socket_path(path, sizeof path, &shared);
    if (e) return e;
    uint64_t deadline = now_ms() + 10000;
    while (now_ms() < deadline) {
        int fd = connect_socket(path);
        if (fd >= 0 && greet(fd)) {
            conn_fd = fd;
            return 0;
        }
        if (fd >= 0) close(fd);
        if (shared) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        char lock_path[NSEM_PATH_MAX + 16];
        snprintf(lock_path, sizeof lock_path, "%s.spawn", path);
        int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lock < 0) return ERROR_SERVICE_NOT_ACTIVE;
        while (flock(lock, LOCK_EX) != 0 && errno == EINTR) {
        }
        fd = connect_socket(path);
        if (fd < 0 && !nsem__spawn_server(path)) {
            close(lock);
            return ERROR_SERVICE_NOT_ACTIVE;
        }
        if (fd < 0) {
            for (uint64_t until = now_ms() + 3000; fd < 0 && now_ms() < until;) {
                struct timespec ts = {0, 2 * 1000000L};
                nanosleep(&ts, NULL);
                fd = connect_socket(path);
            }
        }
        close(lock); /* releases the flock */
        if (fd >= 0 && greet(fd)) {
            conn_fd = fd;
            return 0;
        }
        if (fd >= 0) close(fd);
    }
    return ERROR_SERVICE_NOT_ACTIVE;
}

/* ---- after a crash of the server -------------------------------------------------------- */

struct recover_batch {
    struct nsem_req_recover req;
    struct nsem_recover_entry e[NSEM_RECOVER_MAX_ENTRIES];
    bool failed;
};

/* Sends the batch (the last one with DONE) and forgets what the server refused. */
static void send_batch(struct recover_batch *b, bool done)
{
    struct {
        struct nsem_rep_recover rep;
        uint32_t values[NSEM_RECOVER_MAX_ENTRIES];
    } r;
    b->req.hdr = (struct nsem_req_hdr){0, NSEM_OP_RECOVER};
    b->req.flags = done ? NSEM_RECOVER_DONE : 0;
    uint32_t len = (uint32_t)(sizeof b->req + b->req.count * sizeof b->e[0]);
    if (b->failed || request_fd(conn_fd, b, len, &r, sizeof r) != 0 || r.rep.refused > b->req.count ||
        r.rep.hdr.len != sizeof r.rep + r.rep.refused * 4u) {
        b->failed = true;
        return;
    }
    for (uint32_t i = 0; i < r.rep.refused; i++) nsem__handle_forget(r.values[i]);
    b->req.count = 0;
}

static void add_entry(struct recover_batch *b, struct nsem_recover_entry e)
{
    if (b->req.count == NSEM_RECOVER_MAX_ENTRIES) send_batch(b, false);
    b->e[b->req.count++] = e;
}

static void add_handle(void *ctx, uint32_t value, const struct nsem_handle *h)
{
    add_entry(ctx, (struct nsem_recover_entry){NSEM_RECOVER_HANDLE, value, h->slot, h->type, h->access, h->flags});
}

static void add_pin(void *ctx, uint32_t slot)
{
    add_entry(ctx, (struct nsem_recover_entry){NSEM_RECOVER_PIN, 0, slot, 0, 0, 0});
}

/* The server died. Connects to a new one (starting it): if it recovered the arena from the dead
 * one (server/recover.c) it is told our handles, which stay valid; else they are gone. */
static void recover_locked(void)
{
    uint32_t id = atomic_load_explicit(&client_id, memory_order_relaxed);
    close(conn_fd);
    conn_fd = -1;
    atomic_store_explicit(&client_id, 0, memory_order_relaxed);
    recover_id = id;
    recovered_hello = false;
    DWORD e = connect_locked();
    recover_id = 0;
    if (e) {
        nsem__handles_reset();
        return;
    }
    if (!recovered_hello) return;
    struct recover_batch *b = calloc(1, sizeof *b);
    if (b) {
        nsem__handles_each(add_handle, b);
        nsem__pins_each(add_pin, b);
        send_batch(b, true);
    }
    if (!b || b->failed) { /* it cannot know our handles: they must not be used */
        close(conn_fd);
        conn_fd = -1;
        atomic_store_explicit(&client_id, 0, memory_order_relaxed);
        nsem__handles_reset();
    }
    free(b);
}

static DWORD ensure_connected_locked(void)
{
    return conn_fd >= 0 ? 0 : connect_locked();
}

DWORD nsem__ensure_connected(void)
{
    if (nsem__client_id()) return 0;
    nsem__conn_lock();
    DWORD e = ensure_connected_locked();
    nsem__conn_unlock();
    return e;
}

DWORD nsem__request_locked(void *req, uint32_t req_len, const char *name, uint32_t name_len, void *rep,
                           uint32_t rep_len)
{
    struct nsem_req_hdr *h = req;
    h->len = req_len + name_len;
    for (int attempt = 0;; attempt++) {
        DWORD e = ensure_connected_locked();
        if (e) return e;
        if (!write_all2(conn_fd, req, req_len, name, name_len)) {
            /* The server was gone before it had the request: send it to its successor. */
            recover_locked();
            if (attempt == 0 && conn_fd >= 0) continue;
            return ERROR_PROCESS_ABORTED;
        }
        if (read_reply(conn_fd, rep, rep_len, NULL)) return ((struct nsem_rep_hdr *)rep)->error;
        /* It died with the request: whether it was done is unknown, so the caller is told. */
        recover_locked();
        return ERROR_PROCESS_ABORTED;
    }
}

void nsem__conn_server_died(_Atomic uint32_t *word)
{
    bool locked = nsem__conn_lock_held(); /* a lookup under the lock (CloseHandle's) */
    if (!locked) nsem__conn_lock();
    /* Another thread may have recovered already: then the word names the new server. */
    if (conn_fd >= 0 && word == nsem__server_word() && !nsem__server_alive()) recover_locked();
    if (!locked) nsem__conn_unlock();
}

NSEM_EXTERN DWORD NsemGetSessionId(void)
{
    return session_id();
}

void nsem__handle_refresh(uint32_t value)
{
    if (value < 4) return;
    struct {
        struct nsem_rep_handles rep;
        struct nsem_handle_desc d[NSEM_HANDLES_PER_REPLY];
    } *r = malloc(sizeof *r);
    if (!r) return;
    nsem__conn_lock();
    struct nsem_req_handles req = {{0, NSEM_OP_HANDLES}, (value >> 2) - 1, 0};
    if (conn_fd >= 0 && nsem__request_locked(&req, sizeof req, NULL, 0, r, sizeof *r) == 0 && r->rep.count > 0 &&
        r->d[0].handle == value) {
        struct nsem_rep_handle h = {{sizeof h, 0}, r->d[0].handle, r->d[0].slot, r->d[0].access, r->d[0].type,
                                    r->d[0].handle_flags, r->d[0].undo_slot};
        nsem__handle_install(&h);
    }
    nsem__conn_unlock();
    free(r);
}

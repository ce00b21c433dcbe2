/*
 * test-badclients.c — clients that misbehave and the clients that must not notice (issue 7): one
 * that floods the server with requests, one that never reads its replies, one that sends garbage.
 * The server must go on serving the others — checked by counting their requests, never by timing
 * them (bench/flood.c measures the latency) — and a client it disconnects must leave nothing
 * behind, even while its process lives on. (test-core.c checks each kind of malformed frame, and
 * test-fuzz.c random frames, against an idle client's handle.)
 */
#include "checks.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/protocol.h"

/* Polls (up to 10 s) until the server has exactly this many clients, objects and handles. */
static void wait_server_holds_at(const char *file, int line, DWORD want_clients, DWORD want_objects,
                                 DWORD want_handles)
{
    NSEM_SERVER_STATS st;
    uint64_t end = now_ms() + 10000;
    do {
        st = stats_at(file, line);
        if (st.dwClients == want_clients && st.dwObjects == want_objects && st.dwHandles == want_handles &&
            !st.dwRecords)
            return;
        sleep_ms(5);
    } while (now_ms() < end);
    CHECK_EQ_AT(line, "clients", st.dwClients, want_clients);
    CHECK_EQ_AT(line, "objects", st.dwObjects, want_objects);
    CHECK_EQ_AT(line, "handles", st.dwHandles, want_handles);
    CHECK_EQ_AT(line, "records", st.dwRecords, 0);
    (void)file;
}
#define wait_server_holds(c, o, h) wait_server_holds_at(__FILE__, __LINE__, (c), (o), (h))

/* ---- raw connections ------------------------------------------------------------------------ */

/* CREATE (type 0: OPEN) of a semaphore on a raw connection; returns the handle. */
static uint32_t raw_handle_request(int fd, bool create, const char *name, uint32_t attributes)
{
    unsigned char buf[512];
    uint32_t name_len = name ? (uint32_t)strlen(name) : 0, len;
    if (create) {
        struct nsem_req_create r;
        memset(&r, 0, sizeof r);
        r.hdr = (struct nsem_req_hdr){len = (uint32_t)sizeof r + name_len, NSEM_OP_CREATE};
        r.type = NSEM_TYPE_SEMAPHORE;
        r.access = SEMAPHORE_ALL_ACCESS;
        r.attributes = attributes;
        r.max = 1;
        r.name_len = name_len;
        memcpy(buf, &r, sizeof r);
        if (name_len) memcpy(buf + sizeof r, name, name_len);
    } else {
        struct nsem_req_open r = {{len = (uint32_t)sizeof r + name_len, NSEM_OP_OPEN}, NSEM_TYPE_SEMAPHORE,
                                  SEMAPHORE_ALL_ACCESS, attributes, name_len};
        memcpy(buf, &r, sizeof r);
        memcpy(buf + sizeof r, name, name_len);
    }
    ASSERT_EQ(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
    struct nsem_rep_handle rep;
    ASSERT_EQ(recv(fd, &rep, sizeof rep, MSG_WAITALL), (ssize_t)sizeof rep);
    ASSERT(rep.hdr.error == 0 || rep.hdr.error == ERROR_ALREADY_EXISTS);
    return rep.handle;
}

/* true once the server has closed the connection: a send fails (we may not read what it sent). */
static bool send_fails(int fd, const void *p, size_t n)
{
    return send(fd, p, n, MSG_NOSIGNAL) < 0 && (errno == EPIPE || errno == ECONNRESET);
}

/* ---- a flood does not starve the others ----------------------------------------------------- */

/* A raw connection pipelining frames with a window, its replies taken by a second thread. */
struct flood {
    int fd;
    uint32_t op, handle;
    _Atomic uint64_t sent, answered;
    _Atomic bool stop, failed;
    pthread_t writer, reader;
};

#define FLOOD_WINDOW 512

static void *flood_writer(void *arg)
{
    struct flood *f = arg;
    struct nsem_req_query frames[32]; /* QUERY and HOLDERS have the same layout */
    for (int i = 0; i < 32; i++) frames[i] = (struct nsem_req_query){{sizeof frames[0], f->op}, f->handle, 0};
    while (!atomic_load(&f->stop)) {
        if (atomic_load(&f->sent) - atomic_load(&f->answered) > FLOOD_WINDOW - 32) {
            sched_yield();
            continue;
        }
        if (send(f->fd, frames, sizeof frames, MSG_NOSIGNAL) != (ssize_t)sizeof frames) {
            atomic_store(&f->failed, true);
            break;
        }
        atomic_fetch_add(&f->sent, 32);
    }
    return NULL;
}

static void *flood_reader(void *arg)
{
    struct flood *f = arg;
    static _Thread_local unsigned char buf[1 << 15];
    size_t have = 0;
    while (!atomic_load(&f->stop)) {
        struct pollfd p = {f->fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        ssize_t n = recv(f->fd, buf + have, sizeof buf - have, 0);
        if (n <= 0) {
            atomic_store(&f->failed, true);
            break;
        }
        have += (size_t)n;
        size_t off = 0;
        uint64_t replies = 0;
        while (have - off >= sizeof(struct nsem_rep_hdr)) {
            struct nsem_rep_hdr h;
            memcpy(&h, buf + off, sizeof h);
            if (have - off < h.len) break;
            off += h.len;
            replies++;
        }
        memmove(buf, buf + off, have - off);
        have -= off;
        atomic_fetch_add(&f->answered, replies);
    }
    return NULL;
}

static void flood_start(struct flood *f, uint32_t op, const char *name)
{
    memset(f, 0, sizeof *f);
    f->fd = raw_connect();
    raw_hello(f->fd, 1);
    f->op = op;
    f->handle = name ? raw_handle_request(f->fd, false, name, 0) : 0x40000; /* QUERY: a handle nobody has */
    ASSERT_EQ(pthread_create(&f->writer, NULL, flood_writer, f), 0);
    ASSERT_EQ(pthread_create(&f->reader, NULL, flood_reader, f), 0);
}

static void flood_stop(struct flood *f)
{
    atomic_store(&f->stop, true);
    join(f->writer);
    join(f->reader);
    close(f->fd);
}

/* Threads of a real client opening and closing one semaphore as fast as they can. Each pair done
 * is counted in a second semaphore's count (a release: shared memory, no request), which the test
 * reads. argv: the two names. */
static const char *flooded_name;
static HANDLE flood_progress;

static void *open_close_loop(void *arg)
{
    for (;;) {
        HANDLE h = OpenSemaphoreA(SYNCHRONIZE, FALSE, flooded_name);
        if (!h || !CloseHandle(h)) _exit(20);
        ReleaseSemaphore(flood_progress, 1, NULL);
    }
    return NULL;
}

HELPER(bad_client_flooder)
{
    flooded_name = argv[0];
    flood_progress = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, argv[1]);
    if (!flood_progress) return 10;
    pthread_t t;
    for (int i = 0; i < 4; i++)
        if (pthread_create(&t, NULL, open_close_loop, NULL) != 0) return 11;
    say("ready");
    for (;;) pause();
}

static LONG progress_of(HANDLE h)
{
    return query(h).lCurrentCount;
}

/* Three raw connections pipelining requests (two of QUERY, the cheapest; one of HOLDERS, which
 * walks every handle table, made long here) and a process of four threads of a real client flood
 * the server; this process's own requests must go on completing, while every flood goes on. */
TEST(bad_client_flood_does_not_starve_others)
{
    use_private_server("bad");
    HANDLE probe = CreateSemaphoreA(NULL, 0, 1, "bad-probe");
    HANDLE progress = CreateSemaphoreA(NULL, 0, 0x7FFFFFFF, "bad-progress");
    ASSERT(probe && progress);
    enum { HELD = 2000 };
    for (int i = 0; i < HELD; i++)
        ASSERT(DuplicateHandle(GetCurrentProcess(), probe, GetCurrentProcess(), NULL, 0, FALSE, DUPLICATE_SAME_ACCESS));
    struct flood f[3];
    flood_start(&f[0], NSEM_OP_QUERY, NULL);
    flood_start(&f[1], NSEM_OP_QUERY, NULL);
    flood_start(&f[2], NSEM_OP_HOLDERS, "bad-probe");
    int fd;
    pid_t pid = spawn_helper("bad_client_flooder", &fd, "bad-probe", "bad-progress", NULL);
    expect_line(fd, "ready");
    /* every flood under way */
    uint64_t end = now_ms() + 30000;
    for (int i = 0; i < 3; i++)
        while (atomic_load(&f[i].answered) < 2 * FLOOD_WINDOW && now_ms() < end) sleep_ms(1);
    while (progress_of(progress) < 100 && now_ms() < end) sleep_ms(1);
    for (int i = 0; i < 3; i++) ASSERT(atomic_load(&f[i].answered) >= 2 * FLOOD_WINDOW);
    ASSERT(progress_of(progress) >= 100);

    /* Our requests complete while the floods run: each flood makes progress between our first
     * request and our last (if one has not yet, we go on until it has). */
    uint64_t before[3];
    for (int i = 0; i < 3; i++) before[i] = atomic_load(&f[i].answered);
    LONG progress_before = progress_of(progress);
    int done = 0;
    for (;;) {
        for (int k = 0; k < 100; k++, done++) {
            HANDLE h = OpenSemaphoreA(SYNCHRONIZE, FALSE, "bad-probe");
            ASSERT_NOT_NULL(h);
            ASSERT(CloseHandle(h));
        }
        bool all = progress_of(progress) > progress_before;
        for (int i = 0; i < 3; i++) all = all && atomic_load(&f[i].answered) > before[i];
        if (all && done >= 500) break;
        ASSERT(now_ms() < end + 30000);
    }
    for (int i = 0; i < 3; i++) ASSERT(!atomic_load(&f[i].failed)); /* they read: none was dropped */
    printf("%d requests of ours; floods answered %llu, %llu and %llu frames, the client %ld pairs\n", done,
           (unsigned long long)atomic_load(&f[0].answered), (unsigned long long)atomic_load(&f[1].answered),
           (unsigned long long)atomic_load(&f[2].answered), (long)progress_of(progress));
    for (int i = 0; i < 3; i++) flood_stop(&f[i]);
    kill(pid, SIGKILL);
    ASSERT_EQ(wait_child(pid, 10000), 128 + SIGKILL);
    close(fd);
    wait_server_holds(1, 2, 2 + HELD);
    return 0;
}

/* ---- a client that never reads its replies -------------------------------------------------- */

/* Its replies pile up to the server's limit (1 MiB), and then it is disconnected; meanwhile the
 * server serves the others; its handles, the inheritable one too, go with it. */
TEST(bad_client_never_reads)
{
    use_private_server("bad");
    HANDLE mine = CreateSemaphoreA(NULL, 1, 1, "bad-mine");
    ASSERT_NOT_NULL(mine);
    int fd = raw_connect();
    raw_hello(fd, 1);
    char name[300];
    enum { OWN = 50 };
    for (int i = 0; i < OWN; i++) { /* long names: each LIST reply is some 12 kB */
        snprintf(name, sizeof name, "bad-nonreader-%03d-%0200d", i, 0);
        raw_handle_request(fd, true, name, 0);
    }
    raw_handle_request(fd, true, NULL, NSEM_ATTR_INHERIT); /* what an exec'd process would keep */
    wait_server_holds(2, OWN + 2, OWN + 2);

    struct timeval tv = {10, 0}; /* a send that blocks this long: the server stopped reading us */
    ASSERT_EQ(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), 0);
    struct nsem_req_list list = {{sizeof list, NSEM_OP_LIST}, 0, 0};
    long sent = 0;
    bool closed = false;
    while (!closed && sent < 100000) {
        ssize_t k = send(fd, &list, sizeof list, MSG_NOSIGNAL);
        closed = k < 0 && (errno == EPIPE || errno == ECONNRESET);
        ASSERT(closed || k == (ssize_t)sizeof list); /* not a send that blocked 10 s (EAGAIN) */
        if (++sent % 16 == 0) check_sem(mine, 1, 1); /* a request of ours, answered meanwhile */
    }
    ASSERT(closed);
    printf("disconnected after %ld LIST requests\n", sent);
    ASSERT(sent > 80); /* a megabyte of replies, at least */
    close(fd);
    wait_server_holds(1, 1, 1);
    ASSERT(CloseHandle(mine));
    return 0;
}

/* ---- a client that sends garbage ------------------------------------------------------------ */

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* argv: a shared semaphore's name, a mode: 0 random bytes after HELLO; 1 a header of a plausible
 * length and op, then random bytes; 2 good requests, then half a frame, then random bytes; 3
 * random bytes instead of HELLO. Holds a handle to the shared semaphore and an inheritable object
 * of its own, sends garbage (once given SIGUSR1) until the server disconnects it, and stays alive. */
HELPER(bad_client_garbage)
{
    sigset_t go;
    sigemptyset(&go);
    sigaddset(&go, SIGUSR1);
    sigprocmask(SIG_BLOCK, &go, NULL);
    int mode = atoi(argv[1]);
    rng_state = 0x9E3779B97F4A7C15u ^ (uint64_t)(mode + 1) * 0x2545F4914F6CDD1Du;
    int fd = raw_connect();
    if (mode != 3) {
        raw_hello(fd, 1);
        raw_handle_request(fd, false, argv[0], 0);
        raw_handle_request(fd, true, "bad-garbage-own", NSEM_ATTR_INHERIT);
    }
    say("ready");
    int sig;
    sigwait(&go, &sig);
    unsigned char buf[4096];
    long bytes = 0;
    bool closed = false;
    if (mode == 1) {
        struct nsem_req_hdr h = {64 + rnd() % 4000, 1 + rnd() % (NSEM_OP_COUNT - 1)};
        closed = send_fails(fd, &h, sizeof h);
    } else if (mode == 2) {
        struct nsem_req_query q = {{sizeof q, NSEM_OP_QUERY}, 4, 0};
        for (int i = 0; i < 10 && !closed; i++) closed = send_fails(fd, &q, sizeof q);
        closed = closed || send_fails(fd, &q, sizeof q / 2);
    }
    while (!closed && bytes < (16 << 20)) {
        for (size_t i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)rnd();
        closed = send_fails(fd, buf, sizeof buf);
        bytes += (long)sizeof buf;
        sleep_ms(1); /* let the server answer, so that a send finds the connection closed */
    }
    say(closed ? "closed" : "still open");
    for (;;) pause();
}

static void *wait_for(void *h)
{
    return (void *)(uintptr_t)WaitForSingleObject((HANDLE)h, 30000);
}

TEST(bad_client_garbage_noticed_by_nobody)
{
    use_private_server("bad");
    HANDLE s = CreateSemaphoreA(NULL, 0, 10, "bad-shared");
    HANDLE e = CreateEventA(NULL, TRUE, FALSE, NULL);
    HANDLE m = CreateMutexA(NULL, TRUE, NULL);
    ASSERT(s && e && m);
    pthread_t ts, te;
    ASSERT_EQ(pthread_create(&ts, NULL, wait_for, s), 0);
    ASSERT_EQ(pthread_create(&te, NULL, wait_for, e), 0);
    wait_waiters(s, 1);
    wait_waiters(e, 1);
    for (int mode = 0; mode < 4; mode++) {
        char arg[16];
        snprintf(arg, sizeof arg, "%d", mode);
        int fd;
        pid_t pid = spawn_helper("bad_client_garbage", &fd, "bad-shared", arg, NULL);
        expect_line(fd, "ready");
        if (mode != 3) check_handles(s, 2);
        ASSERT_EQ(kill(pid, SIGUSR1), 0);
        expect_line(fd, "closed");
        /* Its process lives on, yet it keeps nothing (not even its inheritable object): a client the
         * server disconnects has not exec'd. */
        wait_server_holds(1, 3, 3);
        check_handles(s, 1);
        ASSERT_EQ(kill(pid, 0), 0);
        /* and we noticed nothing: the waits still wait, the objects are as they were */
        wait_waiters(s, 1);
        wait_waiters(e, 1);
        check_sem(s, 0, 10);
        NSEM_OBJECT_INFO info = query(m);
        ASSERT_EQ(info.dwOwnerProcessId, getpid());
        ASSERT_EQ(info.dwRecursionCount, 1);
        ASSERT(!info.bAbandoned);
        kill(pid, SIGKILL);
        ASSERT_EQ(wait_child(pid, 10000), 128 + SIGKILL);
        close(fd);
    }
    ASSERT(ReleaseSemaphore(s, 1, NULL));
    ASSERT(SetEvent(e));
    void *r;
    ASSERT_EQ(pthread_join(ts, &r), 0);
    ASSERT_EQ_U((uintptr_t)r, WAIT_OBJECT_0);
    ASSERT_EQ(pthread_join(te, &r), 0);
    ASSERT_EQ_U((uintptr_t)r, WAIT_OBJECT_0);
    ASSERT(ReleaseMutex(m));
    ASSERT(CloseHandle(s) && CloseHandle(e) && CloseHandle(m));
    return 0;
}

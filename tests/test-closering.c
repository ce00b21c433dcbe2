/*
 * test-closering.c — CloseHandle through the close ring (server/closering.c, lib/closering.c):
 * a close costs no round trip, yet whatever follows it finds it done. The causality that Windows
 * gives (the last close unlinks the name before the caller can tell anyone), the fallback to a
 * CLOSE request when the ring is full or the server idle, a process killed with closes still in
 * its ring, fork and a server crash with closes in flight, and a hostile client writing garbage
 * into its ring. Each test uses a private server, so that the counts and the idleness are its own.
 */
#include "checks.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/protocol.h"
#include "lib/client.h"

static struct nsem_arena_header *arena_header(void)
{
    return (struct nsem_arena_header *)(void *)nsem__slot(0);
}

/* Whether this process has a close posted that no request has taken yet (its group's bit). */
static bool close_pending(void)
{
    return (atomic_load(&arena_header()->close_dirty) >> (nsem__client_id() % 64)) & 1;
}


static uint32_t slot_of(HANDLE h)
{
    struct nsem_handle nh;
    ASSERT_EQ_U(nsem__handle_lookup(h, 0, 0, &nh), 0);
    return nh.slot;
}


/* ---- causality ----------------------------------------------------------------------------- */

/* A closes its last handle, then tells B; B's open of the name fails with ERROR_FILE_NOT_FOUND at
 * once: the server takes A's ring before B's request. B is a fork child, connected before A
 * creates anything, so that it holds no copy. */
TEST(closering_close_then_open_elsewhere_fails)
{
    use_private_server("ring");
    stats(); /* connected, so that the child connects at its fork */
    int to_child[2], to_parent[2];
    ASSERT_EQ(pipe(to_child), 0);
    ASSERT_EQ(pipe(to_parent), 0);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        close(to_child[1]);
        close(to_parent[0]);
        char name[96];
        for (;;) {
            uint32_t len;
            if (read(to_child[0], &len, sizeof len) != sizeof len || len >= sizeof name) _exit(0);
            if (read(to_child[0], name, len) != (ssize_t)len) _exit(2);
            name[len] = 0;
            SetLastError(POISON);
            HANDLE h = OpenSemaphoreA(SYNCHRONIZE, FALSE, name);
            DWORD e = h ? 0 : GetLastError();
            if (write(to_parent[1], &e, sizeof e) != sizeof e) _exit(3);
        }
    }
    close(to_child[0]);
    close(to_parent[1]);
    int posted = 0;
    for (int i = 0; i < 300; i++) {
        const char *name = uniq(i % 2 ? "ring-a" : "ring-b");
        HANDLE h = CreateSemaphoreA(NULL, 0, 1, name);
        ASSERT_NOT_NULL(h);
        ASSERT_EQ_U(GetLastError(), 0); /* the close before took the name with it */
        ASSERT(CloseHandle(h));
        posted += close_pending();
        uint32_t len = (uint32_t)strlen(name);
        ASSERT_EQ(write(to_child[1], &len, sizeof len), (ssize_t)sizeof len);
        ASSERT_EQ(write(to_child[1], name, len), (ssize_t)len);
        DWORD e;
        ASSERT_EQ(read(to_parent[0], &e, sizeof e), (ssize_t)sizeof e);
        ASSERT_EQ_U(e, ERROR_FILE_NOT_FOUND);
    }
    ASSERT(posted > 0); /* closes went through the ring, not only as requests */
    close(to_child[1]);
    ASSERT_EQ(wait_child(pid, 10000), 0);
    close(to_parent[0]);
    wait_server_clean();
    return 0;
}

/* The server gives the lowest free handle value: a value whose close waits in the ring is never
 * handed out again before the close is done, and closing the new handle closes the new object. */
TEST(closering_values_reused_after_the_close)
{
    use_private_server("ring");
    HANDLE keep = CreateEventA(NULL, TRUE, FALSE, NULL);
    ASSERT_NOT_NULL(keep);
    for (int i = 0; i < 200; i++) {
        HANDLE a = CreateSemaphoreA(NULL, i % 5, 10, uniq("ring-reuse"));
        ASSERT_NOT_NULL(a);
        ASSERT_EQ_U(GetLastError(), 0);
        check_sem(a, i % 5, 10);
        ASSERT(CloseHandle(a));
        HANDLE b = CreateMutexA(NULL, FALSE, NULL); /* most likely a's value again */
        ASSERT_NOT_NULL(b);
        check_handles(b, 1);
        ASSERT_EQ(query(b).dwType, NSEM_TYPE_MUTEX);
        ASSERT(CloseHandle(b));
    }
    check_handles(keep, 1);
    ASSERT(CloseHandle(keep));
    wait_server_clean();
    return 0;
}

/* ---- the fallback -------------------------------------------------------------------------- */

/* More closes in a row than the ring holds: the ones that find it full are requests, which take
 * the ring first; every close is done, in order, and nothing is left. */
TEST(closering_overflow_falls_back)
{
    use_private_server("ring");
    enum { N = 3 * NSEM_CLOSE_RING_CAP + 5 };
    static HANDLE h[N];
    const char *name = uniq("ring-overflow");
    HANDLE first = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(first);
    h[0] = first;
    for (int i = 1; i < N; i++)
        ASSERT(DuplicateHandle(GetCurrentProcess(), first, GetCurrentProcess(), &h[i], 0, FALSE,
                               DUPLICATE_SAME_ACCESS));
    check_handles(first, N);
    /* all but the first, with no request between them */
    for (int i = N - 1; i > 0; i--) ASSERT(CloseHandle(h[i]));
    check_handles(first, 1);
    /* the ring works on after it was full */
    HANDLE again = OpenSemaphoreA(SYNCHRONIZE, FALSE, name);
    ASSERT_NOT_NULL(again);
    ASSERT(CloseHandle(again));
    ASSERT(CloseHandle(first));
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreA(SYNCHRONIZE, FALSE, name));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);
    wait_server_clean();
    return 0;
}

/* A server quiet for a while takes the rings by itself (the object's slot is freed without any
 * request), then sleeps idle: a close is then a request, which wakes it. */
TEST(closering_idle_server_takes_closes)
{
    use_private_server("ring");
    HANDLE h = CreateSemaphoreA(NULL, 0, 1, uniq("ring-idle"));
    ASSERT_NOT_NULL(h);
    struct nsem_slot *s = nsem__slot(slot_of(h));
    ASSERT(CloseHandle(h));
    uint64_t end = now_ms() + 5000;
    while (atomic_load_explicit(&s->type, memory_order_relaxed) != 0 && now_ms() < end) sleep_ms(5);
    ASSERT_EQ(atomic_load_explicit(&s->type, memory_order_relaxed), 0); /* destroyed: no request was made */
    while (!atomic_load(&arena_header()->close_idle) && now_ms() < end) sleep_ms(5);
    ASSERT_EQ(atomic_load(&arena_header()->close_idle), 1);
    h = CreateSemaphoreA(NULL, 0, 1, uniq("ring-idle"));
    ASSERT_NOT_NULL(h);
    ASSERT(CloseHandle(h));
    wait_server_clean();
    return 0;
}

/* ---- ends of processes --------------------------------------------------------------------- */

static void *wait_forever(void *arg)
{
    WaitForSingleObject((HANDLE)arg, INFINITE);
    return NULL;
}

/* Makes objects, closes them into its ring (one last close with a pin: a thread still waits), and
 * kills itself before any request could take them. */
HELPER(closering_close_and_die)
{
    HANDLE named = CreateSemaphoreA(NULL, 0, 1, argv[0]);
    HANDLE waited = CreateEventA(NULL, TRUE, FALSE, NULL);
    HANDLE kept = CreateMutexA(NULL, TRUE, NULL);
    HANDLE undo = CreateSemaphoreExA(NULL, 2, 2, NULL, SEMAPHORE_UNDO, SEMAPHORE_ALL_ACCESS);
    if (!named || !waited || !kept || !undo || WaitForSingleObject(undo, 0) != WAIT_OBJECT_0) return 1;
    HANDLE dups[20];
    for (int i = 0; i < 20; i++)
        if (!DuplicateHandle(GetCurrentProcess(), named, GetCurrentProcess(), &dups[i], 0, FALSE,
                             DUPLICATE_SAME_ACCESS))
            return 1;
    pthread_t t;
    if (pthread_create(&t, NULL, wait_forever, waited) != 0) return 1;
    sleep_ms(50); /* the thread blocks */
    say("ready");
    for (int i = 0; i < 20; i++) CloseHandle(dups[i]);
    CloseHandle(named);
    CloseHandle(waited); /* pinned: the thread still waits */
    CloseHandle(undo);
    raise(SIGKILL);
    return 1;
}

TEST(closering_killed_with_closes_leaks_nothing)
{
    use_private_server("ring");
    for (int round = 0; round < 5; round++) {
        const char *name = uniq("ring-dead");
        int fd;
        pid_t pid = spawn_helper("closering_close_and_die", &fd, name, NULL);
        expect_line(fd, "ready");
        ASSERT_EQ(wait_child(pid, 10000), 128 + SIGKILL);
        close(fd);
        wait_server_clean();
        SetLastError(POISON);
        ASSERT_NULL(OpenSemaphoreA(SYNCHRONIZE, FALSE, name));
        ASSERT_GLE(ERROR_FILE_NOT_FOUND);
    }
    return 0;
}

/* A fork child has the handles its parent had at the fork, none that the parent had closed into
 * its ring; and the child's closes go to a ring of its own, never to its parent's. */
TEST(closering_fork)
{
    use_private_server("ring");
    const char *gone_name = uniq("ring-fork-gone"); /* the child's uniq() would be another */
    HANDLE keep = CreateSemaphoreA(NULL, 0, 1, uniq("ring-fork-keep"));
    HANDLE gone = CreateSemaphoreA(NULL, 0, 1, gone_name);
    ASSERT(keep && gone);
    ASSERT(CloseHandle(gone));
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        DWORD flags;
        if (GetHandleInformation(gone, &flags)) _exit(1);
        if (OpenSemaphoreA(SYNCHRONIZE, FALSE, gone_name) || GetLastError() != ERROR_FILE_NOT_FOUND) _exit(2);
        if (!CloseHandle(keep)) _exit(3); /* its copy, in its own ring */
        for (int i = 0; i < 10; i++) {
            HANDLE h = CreateEventA(NULL, FALSE, FALSE, NULL);
            if (!h || !CloseHandle(h)) _exit(4);
        }
        _exit(0);
    }
    ASSERT_EQ(wait_child(pid, 10000), 0);
    wait_handles(keep, 1); /* the parent's handle is untouched */
    ASSERT(ReleaseSemaphore(keep, 1, NULL));
    ASSERT_EQ(WaitForSingleObject(keep, 0), WAIT_OBJECT_0);
    ASSERT(CloseHandle(keep));
    wait_server_clean();
    return 0;
}

/* The server dies with a close in the ring (it is stopped, so that it cannot take it first): the
 * next one recovers the process's handles without the closed one, whose object goes. */
TEST(closering_server_crash_with_closes_in_ring)
{
    use_private_server("ring");
    const char *gone_name = uniq("ring-crash-gone");
    HANDLE keep = CreateSemaphoreA(NULL, 1, 3, uniq("ring-crash-keep"));
    HANDLE gone = CreateSemaphoreA(NULL, 0, 1, gone_name);
    ASSERT(keep && gone);
    HANDLE warm = CreateEventA(NULL, FALSE, FALSE, NULL);
    ASSERT(CloseHandle(warm)); /* the ring is set up */
    pid_t server = (pid_t)stats().dwServerProcessId;
    ASSERT_EQ(kill(server, SIGSTOP), 0);
    if (atomic_load(&arena_header()->close_idle)) { /* it went idle first: a close would wait for it */
        kill(server, SIGCONT);
        printf("skipped: the server went idle before it was stopped\n");
        return TEST_SKIP;
    }
    ASSERT(CloseHandle(gone));
    ASSERT(close_pending());
    ASSERT_EQ(kill(server, SIGKILL), 0);
    uint64_t end = now_ms() + 5000;
    while (!process_exited(server) && now_ms() < end) sleep_ms(2);
    ASSERT(process_exited(server));
    /* the next call reaches a new server, which recovered our handles but the closed one */
    check_sem(keep, 1, 3);
    ASSERT((pid_t)stats().dwServerProcessId != server);
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreA(SYNCHRONIZE, FALSE, gone_name));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);
    /* closes work on, through the new server's ring */
    for (int i = 0; i < 10; i++) {
        HANDLE h = CreateSemaphoreA(NULL, 0, 1, gone_name);
        ASSERT_NOT_NULL(h);
        ASSERT_EQ_U(GetLastError(), 0);
        ASSERT(CloseHandle(h));
    }
    ASSERT(CloseHandle(keep));
    wait_server_clean();
    return 0;
}

/* ---- a hostile client ---------------------------------------------------------------------- */

/* One request on a raw connection; the reply is read whole into rep (at most cap bytes). */
static void raw_call(int fd, const void *req, uint32_t len, void *rep, uint32_t cap)
{
    ASSERT_EQ(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
    struct nsem_rep_hdr h;
    ASSERT_EQ(recv(fd, &h, sizeof h, MSG_WAITALL), (ssize_t)sizeof h);
    ASSERT(h.len >= sizeof h && h.len <= cap);
    memcpy(rep, &h, sizeof h);
    if (h.len > sizeof h)
        ASSERT_EQ(recv(fd, (char *)rep + sizeof h, h.len - sizeof h, MSG_WAITALL), (ssize_t)(h.len - sizeof h));
}

static uint32_t raw_sem(int fd)
{
    struct nsem_req_create q = {{sizeof q, NSEM_OP_CREATE}, NSEM_TYPE_SEMAPHORE, SEMAPHORE_ALL_ACCESS, 0, 0, 0, 1,
                                0, 0, 0, 0};
    struct nsem_rep_handle r;
    raw_call(fd, &q, sizeof q, &r, sizeof r);
    ASSERT_EQ_U(r.hdr.error, 0);
    return r.handle;
}

struct hostile {
    struct nsem_close_ring *h;
    struct nsem_slot *chunks[NSEM_CLOSE_RING_CHUNKS];
    uint32_t id;
    _Atomic bool stop;
};

static void scribble_entry(struct hostile *x, uint32_t i, uint32_t v)
{
    i %= NSEM_CLOSE_RING_CAP;
    atomic_store_explicit(nsem_close_entry(x->chunks[i / NSEM_CLOSE_CHUNK_ENTRIES], i), v, memory_order_relaxed);
}

/* Posts n entries the way a client does, and marks every group dirty. */
static void post(struct hostile *x, const uint32_t *v, uint32_t n)
{
    uint32_t head = atomic_load(&x->h->head);
    for (uint32_t i = 0; i < n; i++) scribble_entry(x, head + i, v[i]);
    atomic_store(&x->h->head, head + n);
    atomic_store(&arena_header()->close_dirty, ~0ull);
}

static void *scribbler(void *arg)
{
    struct hostile *x = arg;
    uint32_t seed = 12345;
    while (!atomic_load(&x->stop)) {
        seed = seed * 1103515245u + 12345u;
        uint32_t v = seed >> 3;
        switch (seed % 7) {
        case 0: atomic_store(&x->h->head, v); break;
        case 1: atomic_store(&x->h->tail, v); break;
        case 2: x->h->chunks[v % NSEM_CLOSE_RING_CHUNKS] = v; break;
        case 3: atomic_store(&x->h->head, atomic_load(&x->h->head) + v % 80); break;
        default: scribble_entry(x, v, (v % 3) ? (v % 64) << 2 | (v & 3) : v); break;
        }
        atomic_store(&arena_header()->close_dirty, ~0ull);
    }
    return NULL;
}

/* A client that writes garbage into its ring — entries that are not its handles, or are other
 * processes' values, unknown flags, heads far ahead, a scribbled chunk list, all of it while others
 * work — crashes nothing and closes nothing of anyone else's; its entries are checked as its own
 * CLOSE requests. */
TEST(closering_garbage_ring_is_harmless)
{
    use_private_server("ring");
    /* the victim: this process's library, with handles at the small values the garbage names */
    HANDLE v[8];
    for (int i = 0; i < 8; i++)
        ASSERT_NOT_NULL(v[i] = CreateSemaphoreA(NULL, 1, 1, i == 0 ? uniq("ring-victim") : NULL));
    NSEM_SERVER_STATS before = stats();

    int fd = raw_connect();
    raw_hello(fd, 0);
    struct nsem_req_close_ring q = {{sizeof q, NSEM_OP_CLOSE_RING}, NSEM_CLOSE_RING_SETUP, 0};
    struct nsem_rep_close_ring r;
    raw_call(fd, &q, sizeof q, &r, sizeof r);
    ASSERT_EQ_U(r.hdr.error, 0);
    ASSERT(r.ring != 0);
    struct hostile x = {.h = (struct nsem_close_ring *)(void *)nsem__slot(r.ring)};
    for (uint32_t k = 0; k < NSEM_CLOSE_RING_CHUNKS; k++) x.chunks[k] = nsem__slot(r.chunks[k]);

    /* its own handle: an entry with an unknown flag closes nothing, a plain one closes it */
    uint32_t own = raw_sem(fd);
    uint32_t bad_flag = own | 2u;
    post(&x, &bad_flag, 1);
    ASSERT_EQ(stats().dwHandles, before.dwHandles + 1);
    post(&x, &own, 1);
    ASSERT_EQ(stats().dwHandles, before.dwHandles);
    ASSERT_EQ(stats().dwObjects, before.dwObjects);

    /* other values: the victim's, zero, huge, protected-looking */
    uint32_t garbage[NSEM_CLOSE_RING_CAP];
    for (uint32_t i = 0; i < NSEM_CLOSE_RING_CAP; i++) garbage[i] = i < 40 ? (i + 1) << 2 | (i & 1) : 0xFFFFFFFFu - i;
    post(&x, garbage, NSEM_CLOSE_RING_CAP);
    ASSERT_EQ(stats().dwHandles, before.dwHandles);
    /* a head far ahead, and behind */
    atomic_store(&x.h->head, atomic_load(&x.h->head) + 1000000u);
    atomic_store(&arena_header()->close_dirty, ~0ull);
    ASSERT_EQ(stats().dwHandles, before.dwHandles);
    atomic_store(&x.h->head, atomic_load(&x.h->head) - 5u);
    atomic_store(&arena_header()->close_dirty, ~0ull);
    ASSERT_EQ(stats().dwHandles, before.dwHandles);
    /* its chunk list, which the server keeps for itself */
    for (uint32_t k = 0; k < NSEM_CLOSE_RING_CHUNKS; k++) x.h->chunks[k] = k == 0 ? 0 : 0xFFFFFFF0u + k;
    post(&x, garbage, 10);
    ASSERT_EQ(stats().dwHandles, before.dwHandles);

    /* all of it at random, while this process works through its own ring */
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, scribbler, &x), 0);
    uint64_t end = now_ms() + 300;
    while (now_ms() < end) {
        HANDLE h = CreateSemaphoreA(NULL, 0, 1, uniq("ring-busy"));
        ASSERT_NOT_NULL(h);
        ASSERT_EQ_U(GetLastError(), 0);
        ASSERT(CloseHandle(h));
        for (int i = 0; i < 8; i++) check_sem(v[i], 1, 1);
    }
    atomic_store(&x.stop, true);
    join(t);
    NSEM_SERVER_STATS after = stats();
    ASSERT_EQ(after.dwServerProcessId, before.dwServerProcessId);
    ASSERT_EQ(after.dwHandles, before.dwHandles);
    ASSERT_EQ(after.dwObjects, before.dwObjects);
    ASSERT_EQ(after.dwClients, 2);
    for (int i = 0; i < 8; i++) {
        check_handles(v[i], 1);
        ASSERT_EQ(WaitForSingleObject(v[i], 0), WAIT_OBJECT_0);
        ASSERT(ReleaseSemaphore(v[i], 1, NULL));
    }
    close(fd);
    for (int i = 0; i < 8; i++) ASSERT(CloseHandle(v[i]));
    wait_server_clean();
    return 0;
}

/*
 * flood.c — fairness of the server under a flood (issue 7): the latency of one client's requests
 * while other clients send requests as fast as they can.
 *
 * The measured client is the main process: one sample is OpenSemaphoreA of an existing name plus
 * CloseHandle, two round trips to the server. It takes SAMPLES samples a round under each load:
 *   none      nothing else runs;
 *   raw       RAW_CONNS processes, each with its own connection, pipelining QUERY frames (of a
 *             handle that does not exist: the cheapest request) as fast as the server takes them;
 *             a writer thread keeps WINDOW frames in flight and a reader thread takes the replies;
 *   holders   the same with HOLDERS frames (of the probe, opened first), a request that costs the
 *             server a walk over every handle table: a holder process keeps HELD handles, so that
 *             each frame costs the server a few hundred microseconds; fairness by frames alone,
 *             not by time, would show here;
 *   clients   CLIENT_PROCS processes of CLIENT_THREADS threads each, real clients doing
 *             OpenSemaphoreA + CloseHandle in a loop (one request at a time per process, as the
 *             library sends them).
 * Each flood runs twice: at the flooders' normal priority, and at nice 19. On a 2-CPU machine the
 * first is the server's fairness and the CPUs' sharing together (eight busy flooder threads take
 * CPU time from the server and the measured client); the second keeps the flood just as deep (the
 * raw connections always have WINDOW frames in flight) but lets the server and the measured client
 * run first, so that it shows the server's turns alone.
 * A round is one run of every load in turn; a load's flooders start, show progress, the samples
 * are taken, then the flooders are killed. The table pools the samples of all rounds: median,
 * 99th percentile and maximum, each divided by the same figure without a flood, and the flood's
 * own rate while the samples were taken. No target: this is a measurement (docs/reliability.md).
 */
#include <errno.h>
#include <nsem.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench_util.h"
#include "common/protocol.h"

#define ROUNDS 5
#define SAMPLES 1000L
#define RAW_CONNS 4
#define WINDOW 256 /* frames in flight on a raw connection: replies never near the server's OUT_MAX */
#define CLIENT_PROCS 4
#define CLIENT_THREADS 4
#define HELD 100000L /* handles of the holder process, which HOLDERS walks */

enum kind { NONE, RAW, HOLDERS, CLIENTS };
static const struct load {
    const char *name;
    enum kind kind;
    int nice;
} loads[] = {
    {"none", NONE, 0},
    {"raw QUERY", RAW, 0},
    {"raw HOLDERS", HOLDERS, 0},
    {"clients", CLIENTS, 0},
    {"raw QUERY, nice 19", RAW, 19},
    {"raw HOLDERS, nice 19", HOLDERS, 19},
    {"clients, nice 19", CLIENTS, 19},
};
#define LOADS (int)(sizeof loads / sizeof loads[0])

struct shared {
    _Atomic uint64_t done; /* requests the flooders have had answered */
};
static struct shared *sh;
static char probe_name[96];

/* ---- raw flooders ---------------------------------------------------------------------------- */

struct raw_conn {
    int fd;
    uint32_t op, handle;
    _Atomic uint64_t sent, answered;
};

static int raw_connect(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", getenv("NSEM_SERVER"));
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) bench_die(false, "connect: %s", strerror(errno));
    struct nsem_req_hello hello = {{sizeof hello, NSEM_OP_HELLO}, NSEM_PROTOCOL_VERSION, 0, 0, 0, 0, 0};
    if (send(fd, &hello, sizeof hello, MSG_NOSIGNAL) != (ssize_t)sizeof hello) bench_die(false, "send hello");
    struct nsem_rep_hello rep;
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {&rep, sizeof rep};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    if (recvmsg(fd, &msg, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof rep || rep.hdr.error) bench_die(false, "hello");
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    if (cm) {
        int memfd;
        memcpy(&memfd, CMSG_DATA(cm), sizeof memfd);
        close(memfd);
    }
    return fd;
}

/* A handle of the probe, for HOLDERS. */
static uint32_t raw_open_probe(int fd)
{
    struct nsem_req_open req = {{sizeof req + (uint32_t)strlen(probe_name), NSEM_OP_OPEN}, NSEM_TYPE_SEMAPHORE,
                                SEMAPHORE_ALL_ACCESS, 0, (uint32_t)strlen(probe_name)};
    struct nsem_rep_handle rep;
    if (send(fd, &req, sizeof req, MSG_NOSIGNAL) != (ssize_t)sizeof req ||
        send(fd, probe_name, strlen(probe_name), MSG_NOSIGNAL) != (ssize_t)strlen(probe_name) ||
        recv(fd, &rep, sizeof rep, MSG_WAITALL) != (ssize_t)sizeof rep || rep.hdr.error)
        bench_die(false, "raw flood: OPEN");
    return rep.handle;
}

/* Both requests are 16 bytes: a header, a handle and a pad. */
static void *raw_writer(void *arg)
{
    struct raw_conn *c = arg;
    enum { BATCH = 32 };
    struct {
        struct nsem_req_hdr hdr;
        uint32_t a, b;
    } frames[BATCH];
    for (int i = 0; i < BATCH; i++) {
        frames[i].hdr = (struct nsem_req_hdr){16, c->op};
        frames[i].a = c->handle;
        frames[i].b = 0;
    }
    for (;;) {
        while (atomic_load(&c->sent) - atomic_load(&c->answered) > WINDOW - BATCH) bench_sleep_us(20);
        if (send(c->fd, frames, sizeof frames, MSG_NOSIGNAL) != (ssize_t)sizeof frames)
            bench_die(false, "raw flood: send: %s", strerror(errno));
        atomic_fetch_add(&c->sent, BATCH);
    }
    return NULL;
}

/* Takes the replies as they come, by their length. */
static void raw_reader(struct raw_conn *c)
{
    static unsigned char buf[1 << 16];
    size_t have = 0;
    for (;;) {
        ssize_t n = recv(c->fd, buf + have, sizeof buf - have, 0);
        if (n <= 0) bench_die(false, "raw flood: the server closed the connection");
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
        atomic_fetch_add(&c->answered, replies);
        atomic_fetch_add(&sh->done, replies);
    }
}

static void raw_flooder(uint32_t op)
{
    static struct raw_conn c;
    c.fd = raw_connect();
    c.op = op;
    c.handle = op == NSEM_OP_HOLDERS ? raw_open_probe(c.fd) : 0x40000; /* QUERY: a handle nobody has */
    pthread_t t;
    if (pthread_create(&t, NULL, raw_writer, &c) != 0) bench_die(false, "pthread_create");
    raw_reader(&c);
}

/* ---- real clients ---------------------------------------------------------------------------- */

static void *client_thread(void *arg)
{
    for (;;) {
        HANDLE h = OpenSemaphoreA(SYNCHRONIZE, FALSE, probe_name);
        if (!h) bench_die(true, "flood: OpenSemaphoreA");
        if (!CloseHandle(h)) bench_die(true, "flood: CloseHandle");
        atomic_fetch_add(&sh->done, 2);
    }
    return NULL;
}

static void client_flooder(void)
{
    pthread_t t;
    for (int i = 1; i < CLIENT_THREADS; i++)
        if (pthread_create(&t, NULL, client_thread, NULL) != 0) bench_die(false, "pthread_create");
    client_thread(NULL);
}

/* ---- the measured client --------------------------------------------------------------------- */

static void start(const struct load *load, pid_t *pids, int *n)
{
    *n = 0;
    atomic_store(&sh->done, 0);
    int count = load->kind == RAW || load->kind == HOLDERS ? RAW_CONNS : load->kind == CLIENTS ? CLIENT_PROCS : 0;
    for (int i = 0; i < count; i++) {
        pid_t pid = bench_fork();
        if (pid == 0) {
            errno = 0;
            if (load->nice && nice(load->nice) == -1 && errno) bench_die(false, "nice: %s", strerror(errno));
            if (load->kind == CLIENTS) client_flooder();
            raw_flooder(load->kind == RAW ? NSEM_OP_QUERY : NSEM_OP_HOLDERS);
            _exit(0);
        }
        pids[(*n)++] = pid;
    }
    /* Flooding for real before the first sample. */
    uint64_t t0 = bench_now_ns();
    while (count && atomic_load(&sh->done) < 20000) {
        if (bench_now_ns() - t0 > 30000000000ull) bench_die(false, "the %s flood does not start", load->name);
        bench_sleep_us(1000);
    }
}

static void stop(pid_t *pids, int n)
{
    for (int i = 0; i < n; i++) kill(pids[i], SIGKILL);
    for (int i = 0; i < n; i++) bench_reap(pids[i], true);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, long n, double p)
{
    long i = (long)(p * (double)(n - 1) + 0.5);
    return sorted[i];
}

static const char *us(char *buf, size_t size, double ns)
{
    snprintf(buf, size, "%.1f us", ns / 1e3);
    return buf;
}

int main(int argc, char **argv)
{
    bench_init(argc, argv, "flood: one client's latency while others flood the server");
    long samples = bench_scaled(SAMPLES);
    sh = bench_shared(sizeof *sh);
    bench_name(probe_name, sizeof probe_name, "bench-flood");
    pid_t holder = bench_fork(); /* before we connect: it inherits no handle, and no flooder its */
    if (holder == 0) {
        HANDLE h = CreateSemaphoreA(NULL, 0, 1, NULL);
        for (long i = 1; h && i < HELD; i++)
            if (!DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), NULL, 0, FALSE, DUPLICATE_SAME_ACCESS))
                bench_die(true, "holder: DuplicateHandle");
        if (!h) bench_die(true, "holder: CreateSemaphoreA");
        atomic_store(&sh->done, 1);
        for (;;) pause();
    }
    while (!atomic_load(&sh->done)) bench_sleep_us(1000);
    HANDLE probe = CreateSemaphoreA(NULL, 0, 1, probe_name); /* connects, and starts the server */
    if (!probe) bench_die(true, "CreateSemaphoreA");

    double *lat[LOADS];
    double rate[LOADS][ROUNDS];
    for (int l = 0; l < LOADS; l++) {
        lat[l] = malloc((size_t)(samples * ROUNDS) * sizeof *lat[l]);
        if (!lat[l]) bench_die(false, "out of memory");
    }
    pid_t pids[16];
    int n;
    for (int r = 0; r < ROUNDS; r++) {
        for (int l = 0; l < LOADS; l++) {
            start(&loads[l], pids, &n);
            uint64_t d0 = atomic_load(&sh->done), t0 = bench_now_ns();
            for (long i = 0; i < samples; i++) {
                uint64_t a = bench_now_ns();
                HANDLE h = OpenSemaphoreA(SYNCHRONIZE, FALSE, probe_name);
                if (!h || !CloseHandle(h)) bench_die(true, "measured client");
                lat[l][r * samples + i] = (double)(bench_now_ns() - a);
            }
            rate[l][r] = (double)(atomic_load(&sh->done) - d0) * 1e9 / (double)(bench_now_ns() - t0);
            stop(pids, n);
        }
    }

    long total = samples * ROUNDS;
    for (int l = 0; l < LOADS; l++) qsort(lat[l], (size_t)total, sizeof *lat[l], cmp_double);
    double base_med = percentile(lat[NONE], total, 0.5), base_p99 = percentile(lat[NONE], total, 0.99);
    printf("OpenSemaphoreA + CloseHandle (2 round trips) of the measured client, %ld samples per load\n"
           "(%d rounds of %ld); flooders: raw %d connections pipelining %d frames, clients %d processes x %d threads;\n"
           "another process holds %ld handles\n",
           total, ROUNDS, samples, RAW_CONNS, WINDOW, CLIENT_PROCS, CLIENT_THREADS, HELD);
    printf("  %-18s  %10s  %10s  %10s  %8s  %8s  %12s\n", "flood", "median", "p99", "max", "med/none", "p99/none",
           "flood req/s");
    for (int l = 0; l < LOADS; l++) {
        char a[32], b[32], c[32];
        double med = percentile(lat[l], total, 0.5), p99 = percentile(lat[l], total, 0.99);
        printf("  %-18s  %10s  %10s  %10s  %8.2f  %8.2f  %12.0f\n", loads[l].name, us(a, sizeof a, med),
               us(b, sizeof b, p99), us(c, sizeof c, lat[l][total - 1]), med / base_med, p99 / base_p99,
               bench_median(rate[l], ROUNDS));
    }
    printf("\n");
    CloseHandle(probe);
    kill(holder, SIGKILL);
    bench_reap(holder, true);
    return 0;
}

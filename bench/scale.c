/*
 * scale.c — nsem at scale (issue 3, item 2): a million named semaphores in one namespace, and a
 * thousand client processes holding handles, all against one private server.
 *
 * 1. Names (in a "holder" process forked before anything connects, so that no other process
 *    inherits its handles): named semaphores "bench-scale-<pid>-<i>" are created into one
 *    namespace, each kept open by one handle, up to SIZES points (1k, 100k and 1M; --quick: 1k,
 *    10k and 100k). At each point, ROUNDS rounds of, in turn:
 *      create   BATCH CreateSemaphoreA of new names (the count grows by at most BATCH meanwhile);
 *      open     BATCH OpenSemaphoreA + CloseHandle of existing names picked at random among all;
 *      control  BATCH NsemQueryObject of one handle: one round trip whose work does not depend on
 *               the number of objects, so that a drift of the machine between points shows;
 *      close    CloseHandle of the BATCH new objects (the last handle: the object is destroyed).
 *    The tables give the median time per operation over the rounds and "this/1k", the median
 *    divided by that of the first point. Target (issue 3): open at 1M <= 1.5x open at 1k.
 * 2. Memory, at each point (after the fill, before the rounds): the server's VmRSS, RssAnon and
 *    RssShmem + RssFile from /proc/<pid>/status (its pid is in "<socket>.lock"): the arena, one
 *    64-byte slot per object (and one per name of up to 44 bytes) in a file next to the socket,
 *    a page counted when first touched. Per object: the growth
 *    from the first point to the last divided by the objects added. The same for the holder's
 *    RssAnon (its handle table and per-object bookkeeping; the array of handles it keeps is
 *    allocated and touched before the first reading) per handle. Target: server <= 256 B/object.
 * 3. Clients (in the main process, while the holder still holds every object): CLIENTS processes
 *    are forked, FORK_BATCH at a time (2 CPUs); each opens one shared named semaphore (and holds
 *    the handle inherited from the main process too), creates OWN named semaphores of its own, and
 *    pauses. Then all are SIGKILLed in one loop, and the main process asks the server for the
 *    shared semaphore's handle count (NsemQueryObject) until it is back to 1, its own handle: the
 *    time from the first kill is the server's cleanup of all of them, reaping the children as it
 *    goes (when the last was reaped is the kernel's share). CLIENT_ROUNDS rounds.
 * 4. Last, the holder (a million handles) is SIGKILLed, and the time until the server has
 *    destroyed its objects is measured the same way, through a handle on one of them.
 */
#include <errno.h>
#include <nsem.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

#define SIZES 3
#define ROUNDS 15
#define BATCH 250L
#define CLIENTS 1000L
#define OWN 3
#define FORK_BATCH 50
#define CLIENT_ROUNDS 5
#define WAIT_LIMIT_NS (900ull * 1000000000ull) /* a stuck phase fails the benchmark */

static const long full_sizes[SIZES] = {1000, 100000, 1000000};
static long sizes[SIZES];
static pid_t main_pid;

/* ---- memory ------------------------------------------------------------------------------- */

struct mem {
    long rss, anon, shmem; /* kB; shmem: the arena, RssShmem or RssFile as its directory is tmpfs or not */
};

static struct mem read_mem(pid_t pid)
{
    char path[64], line[256];
    struct mem m = {-1, -1, -1};
    long file = 0;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) bench_die(false, "%s: %s", path, strerror(errno));
    while (fgets(line, sizeof line, f)) {
        sscanf(line, "VmRSS: %ld", &m.rss);
        sscanf(line, "RssAnon: %ld", &m.anon);
        sscanf(line, "RssShmem: %ld", &m.shmem);
        sscanf(line, "RssFile: %ld", &file);
    }
    fclose(f);
    m.shmem += file; /* the arena file on a disk-backed directory; the rest of RssFile (the program,
                        libc) does not grow with the objects, and only the growth is counted */
    return m;
}

/* The server's pid, from the lock file it holds next to its socket. */
static pid_t server_pid(void)
{
    char path[4200];
    snprintf(path, sizeof path, "%s.lock", getenv("NSEM_SERVER"));
    FILE *f = fopen(path, "r");
    int pid = 0;
    if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 1) bench_die(false, "no server pid in %s", path);
    fclose(f);
    return (pid_t)pid;
}

/* ---- what the processes share --------------------------------------------------------------- */

struct shared {
    _Atomic int holder_done; /* 1: its tables are printed and it holds every object; -1: failed */
    _Atomic long ready;      /* clients that hold their handles */
    _Atomic int plain_go;    /* main -> plain forker: run round n (n > 0); -1: exit */
    _Atomic int plain_done;  /* plain forker -> main: round n done */
    _Atomic long plain_ready;
    double plain[4];         /* its times of the round: spawn, kill loop, reaped, - */
};

static const char *obj_name(char *buf, size_t size, const char *kind, long i)
{
    snprintf(buf, size, "bench-scale-%d-%s%ld", (int)main_pid, kind, i);
    return buf;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A table of one operation at each size: median, min, max, ops/s and this/first. */
static void size_table(const char *title, struct bench_series *s, int rounds)
{
    double first = bench_median(s[0].ns, rounds);
    printf("%s (median of %d rounds)\n", title, rounds);
    printf("  %-14s  %11s  %11s  %11s  %10s  %8s\n", "objects", "median", "min", "max", "ops/s", "this/1k");
    for (int p = 0; p < SIZES; p++) {
        double med = bench_median(s[p].ns, rounds);
        printf("  %-14s  %8.2f us  %8.2f us  %8.2f us  %10.0f  %8.2f\n", s[p].label, med / 1e3,
               bench_min(s[p].ns, rounds) / 1e3, bench_max(s[p].ns, rounds) / 1e3, 1e9 / med, med / first);
    }
    printf("\n");
}

/* ---- 1 and 2: the holder ------------------------------------------------------------------ */

enum op { CREATE, OPEN, CONTROL, CLOSE, OPS };

static void holder(struct shared *sh)
{
    long total = sizes[SIZES - 1];
    HANDLE *h = malloc((size_t)total * sizeof *h);
    HANDLE *fresh = malloc((size_t)BATCH * sizeof *fresh);
    if (!h || !fresh) bench_die(false, "out of memory");
    memset(h, 0, (size_t)total * sizeof *h);
    memset(fresh, 0, (size_t)BATCH * sizeof *fresh);
    char name[96];

    struct bench_series t[OPS][SIZES];
    char labels[SIZES][32];
    for (int p = 0; p < SIZES; p++) {
        snprintf(labels[p], sizeof labels[p], "%ld", sizes[p]);
        for (int o = 0; o < OPS; o++) t[o][p] = bench_series(labels[p], ROUNDS);
    }
    struct mem srv[SIZES + 1], self[SIZES + 1];
    double fill_ns[SIZES];
    long made = 0, fresh_id = 0;

    /* The first object connects; memory is read from there on. */
    h[made] = CreateSemaphoreA(NULL, 0, 1, obj_name(name, sizeof name, "", made));
    if (!h[made] || GetLastError() == ERROR_ALREADY_EXISTS) bench_die(true, "CreateSemaphoreA %s", name);
    made++;
    pid_t server = server_pid();
    for (int i = 0; i < 4000; i++) { /* warm-up: the first round trips of a fresh server are slower */
        NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
        if (!NsemQueryObject(h[0], &info)) bench_die(true, "NsemQueryObject");
    }
    srv[0] = read_mem(server);
    self[0] = read_mem(getpid());

    for (int p = 0; p < SIZES; p++) {
        uint64_t t0 = bench_now_ns();
        long from = made;
        for (; made < sizes[p]; made++) {
            h[made] = CreateSemaphoreA(NULL, 0, 1, obj_name(name, sizeof name, "", made));
            if (!h[made] || GetLastError() == ERROR_ALREADY_EXISTS)
                bench_die(true, "CreateSemaphoreA #%ld %s", made, name);
        }
        fill_ns[p] = made > from ? (double)(bench_now_ns() - t0) / (double)(made - from) : 0;
        srv[p + 1] = read_mem(server);
        self[p + 1] = read_mem(getpid());

        for (int r = 0; r < ROUNDS; r++) {
            uint64_t a = bench_now_ns();
            for (long i = 0; i < BATCH; i++) {
                fresh[i] = CreateSemaphoreA(NULL, 0, 1, obj_name(name, sizeof name, "new", fresh_id++));
                if (!fresh[i] || GetLastError() == ERROR_ALREADY_EXISTS) bench_die(true, "CreateSemaphoreA %s", name);
            }
            uint64_t b = bench_now_ns();
            for (long i = 0; i < BATCH; i++) {
                HANDLE o = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE,
                                          obj_name(name, sizeof name, "", (long)(rng() % (uint64_t)made)));
                if (!o) bench_die(true, "OpenSemaphoreA %s", name);
                if (!CloseHandle(o)) bench_die(true, "CloseHandle");
            }
            uint64_t c = bench_now_ns();
            for (long i = 0; i < BATCH; i++) {
                NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
                if (!NsemQueryObject(h[0], &info)) bench_die(true, "NsemQueryObject");
            }
            uint64_t d = bench_now_ns();
            for (long i = 0; i < BATCH; i++)
                if (!CloseHandle(fresh[i])) bench_die(true, "CloseHandle");
            uint64_t e = bench_now_ns();
            t[CREATE][p].ns[r] = (double)(b - a) / BATCH;
            t[OPEN][p].ns[r] = (double)(c - b) / BATCH;
            t[CONTROL][p].ns[r] = (double)(d - c) / BATCH;
            t[CLOSE][p].ns[r] = (double)(e - d) / BATCH;
        }
    }

    char title[160];
    snprintf(title, sizeof title, "CreateSemaphoreA of a new name, with that many objects named in the namespace (%ld a round)", BATCH);
    size_table(title, t[CREATE], ROUNDS);
    snprintf(title, sizeof title, "OpenSemaphoreA of a random existing name + CloseHandle (%ld a round)", BATCH);
    size_table(title, t[OPEN], ROUNDS);
    snprintf(title, sizeof title, "control: NsemQueryObject, one round trip independent of the count (%ld a round)", BATCH);
    size_table(title, t[CONTROL], ROUNDS);
    snprintf(title, sizeof title, "CloseHandle of the last handle of a new object: destroys it (%ld a round)", BATCH);
    size_table(title, t[CLOSE], ROUNDS);

    printf("filling the namespace (CreateSemaphoreA of a new name, untimed by round): mean per create\n");
    for (int p = 0; p < SIZES; p++)
        printf("  up to %-8ld  %8.2f us\n", sizes[p], fill_ns[p] / 1e3);
    printf("\n");

    printf("memory (kB, /proc/<pid>/status), after the fill to that many objects\n");
    printf("  %-10s  %12s  %12s  %12s  %14s  %14s\n", "objects", "server VmRSS", "RssAnon", "RssShmem",
           "holder RssAnon", "holder RssShmem");
    for (int p = 0; p <= SIZES; p++)
        printf("  %-10ld  %12ld  %12ld  %12ld  %14ld  %14ld\n", p ? sizes[p - 1] : 1L, srv[p].rss, srv[p].anon,
               srv[p].shmem, self[p].anon, self[p].shmem);
    double n = (double)(sizes[SIZES - 1] - sizes[0]);
    double total_b = (double)(srv[SIZES].rss - srv[1].rss) * 1024 / n;
    double anon_b = (double)(srv[SIZES].anon - srv[1].anon) * 1024 / n;
    double shm_b = (double)(srv[SIZES].shmem - srv[1].shmem) * 1024 / n;
    double cl_b = (double)(self[SIZES].anon - self[1].anon) * 1024 / n;
    double cl_shm = (double)(self[SIZES].shmem - self[1].shmem) * 1024 / n;
    printf("per object, from %ld to %ld objects: server %.1f B (RssAnon %.1f B + arena RssShmem %.1f B);\n"
           "  holder (client) %.1f B of RssAnon per handle (+ %.1f B of the arena it has touched, shared with the server)\n\n",
           sizes[0], sizes[SIZES - 1], total_b, anon_b, shm_b, cl_b, cl_shm);

    double ratio = bench_median(t[OPEN][SIZES - 1].ns, ROUNDS) / bench_median(t[OPEN][0].ns, ROUNDS);
    snprintf(title, sizeof title, "open+close at %ld objects <= 1.5x at %ld", sizes[SIZES - 1], sizes[0]);
    bench_target(title, ratio, 1.5, "x");
    printf("  (divided by the control's ratio, %.2fx, to discount a drift of the machine: %.2fx)\n",
           bench_median(t[CONTROL][SIZES - 1].ns, ROUNDS) / bench_median(t[CONTROL][0].ns, ROUNDS),
           ratio / (bench_median(t[CONTROL][SIZES - 1].ns, ROUNDS) / bench_median(t[CONTROL][0].ns, ROUNDS)));
    bench_target("server memory per object (RssAnon + arena RssShmem) <= 256 B", total_b, 256, " B");
    printf("\n");

    atomic_store(&sh->holder_done, 1);
    for (;;) pause(); /* holds every object until the main process kills it */
}

/* ---- 3 and 4: the clients, in the main process ------------------------------------------------- */

static void client(struct shared *sh, const char *shared_name, long k)
{
    if (!OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, shared_name)) bench_die(true, "client: OpenSemaphoreA");
    char name[96];
    for (int i = 0; i < OWN; i++) {
        snprintf(name, sizeof name, "bench-scale-%d-client%ld-%d", (int)main_pid, k, i);
        HANDLE o = CreateSemaphoreA(NULL, 0, 1, name);
        if (!o || GetLastError() == ERROR_ALREADY_EXISTS) bench_die(true, "client: CreateSemaphoreA %s", name);
    }
    atomic_fetch_add(&sh->ready, 1);
    for (;;) pause();
}

/* The reference: the same number of processes that never use nsem, forked by a process that has
 * never used it either (so no FORK round trip), started, killed and reaped the same way. */
static void plain_forker(struct shared *sh, long clients)
{
    pid_t *pids = malloc((size_t)clients * sizeof *pids);
    if (!pids) bench_die(false, "out of memory");
    for (int round = 1;; round++) {
        int go;
        while ((go = atomic_load(&sh->plain_go)) != round) {
            if (go < 0) _exit(0);
            bench_sleep_us(1000);
        }
        atomic_store(&sh->plain_ready, 0);
        uint64_t a = bench_now_ns();
        for (long k = 0; k < clients; k += FORK_BATCH) {
            long end = k + FORK_BATCH < clients ? k + FORK_BATCH : clients;
            for (long j = k; j < end; j++) {
                pids[j] = bench_fork();
                if (pids[j] == 0) {
                    atomic_fetch_add(&sh->plain_ready, 1);
                    for (;;) pause();
                }
            }
            while (atomic_load(&sh->plain_ready) < end) bench_sleep_us(200);
        }
        uint64_t b = bench_now_ns();
        for (long j = 0; j < clients; j++) kill(pids[j], SIGKILL);
        uint64_t k1 = bench_now_ns();
        for (long j = 0; j < clients; j++) waitpid(-1, NULL, 0);
        uint64_t c = bench_now_ns();
        sh->plain[0] = (double)(b - a);
        sh->plain[1] = (double)(k1 - b);
        sh->plain[2] = (double)(c - b);
        atomic_store(&sh->plain_done, round);
    }
}

static void time_row(const char *label, const struct bench_series *s, const struct bench_series *plain, int rounds)
{
    printf("  %-42s  %9.1f ms  %9.1f ms  %9.1f ms", label, bench_median(s->ns, rounds) / 1e6,
           bench_min(s->ns, rounds) / 1e6, bench_max(s->ns, rounds) / 1e6);
    if (plain)
        printf("  %9.1f ms  %9.1f ms  %9.1f ms", bench_median(plain->ns, rounds) / 1e6,
               bench_min(plain->ns, rounds) / 1e6, bench_max(plain->ns, rounds) / 1e6);
    printf("\n");
}

static DWORD handle_count(HANDLE h)
{
    NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
    if (!NsemQueryObject(h, &info)) bench_die(true, "NsemQueryObject");
    return info.dwHandleCount;
}

static void check_holder(pid_t holder_pid)
{
    int status;
    if (waitpid(holder_pid, &status, WNOHANG) == holder_pid) bench_die(false, "the holder died (status 0x%x)", status);
}

int main(int argc, char **argv)
{
    bench_init(argc, argv, "scale: 1M named semaphores in one namespace, 1000 clients, memory and cleanup");
    main_pid = getpid();
    for (int p = 0; p < SIZES; p++) sizes[p] = p == 0 ? full_sizes[0] : bench_scaled(full_sizes[p]);
    long clients = bench_scaled(CLIENTS);
    printf("objects: %ld, %ld, %ld; %ld clients\n\n", sizes[0], sizes[1], sizes[2], clients);

    struct shared *sh = bench_shared(sizeof *sh);
    pid_t holder_pid = bench_fork(); /* before any nsem call: it inherits no handle, and nobody its */
    if (holder_pid == 0) holder(sh);
    pid_t forker_pid = bench_fork(); /* never uses nsem */
    if (forker_pid == 0) plain_forker(sh, clients);

    uint64_t t0 = bench_now_ns();
    while (atomic_load(&sh->holder_done) == 0) {
        check_holder(holder_pid);
        if (bench_now_ns() - t0 > WAIT_LIMIT_NS) bench_die(false, "the holder did not finish");
        bench_sleep_us(10000);
    }
    printf("(names and memory: %.1f s)\n\n", (double)(bench_now_ns() - t0) / 1e9);

    /* ---- 3: clients ---- */
    char shared_name[96], name[96];
    obj_name(shared_name, sizeof shared_name, "shared", 0);
    HANDLE shared = CreateSemaphoreA(NULL, 0, 1, shared_name);
    if (!shared) bench_die(true, "CreateSemaphoreA %s", shared_name);
    pid_t server = server_pid();
    pid_t *pids = malloc((size_t)clients * sizeof *pids);
    if (!pids) bench_die(false, "out of memory");

    struct bench_series pspawn = bench_series("", CLIENT_ROUNDS), pkilling = bench_series("", CLIENT_ROUNDS),
                        preaped = bench_series("", CLIENT_ROUNDS);
    struct bench_series spawn = bench_series("fork + connect + 1 open + 3 creates, all clients", CLIENT_ROUNDS);
    struct bench_series killing = bench_series("the kill loop (first to last SIGKILL)", CLIENT_ROUNDS);
    struct bench_series reaped = bench_series("first SIGKILL -> all reaped (waitpid)", CLIENT_ROUNDS);
    struct bench_series cleaned = bench_series("first SIGKILL -> server cleaned up", CLIENT_ROUNDS);
    double srv_per_client[CLIENT_ROUNDS];
    long srv_before_kb = 0, srv_after_kb = 0;

    for (int r = 0; r < CLIENT_ROUNDS; r++) {
        check_holder(holder_pid);
        atomic_store(&sh->ready, 0);
        struct mem before = read_mem(server);
        uint64_t a = bench_now_ns();
        for (long k = 0; k < clients; k += FORK_BATCH) {
            long end = k + FORK_BATCH < clients ? k + FORK_BATCH : clients;
            for (long j = k; j < end; j++) {
                pids[j] = bench_fork();
                if (pids[j] == 0) client(sh, shared_name, (long)r * clients + j);
            }
            uint64_t w = bench_now_ns();
            while (atomic_load(&sh->ready) < end) {
                if (bench_now_ns() - w > 60ull * 1000000000ull) bench_die(false, "clients did not start");
                bench_sleep_us(200);
            }
        }
        uint64_t b = bench_now_ns();
        spawn.ns[r] = (double)(b - a);
        DWORD count = handle_count(shared);
        if (count != 1 + 2 * (DWORD)clients)
            bench_die(false, "shared semaphore: %u handles, expected %ld", (unsigned)count, 1 + 2 * clients);
        struct mem after = read_mem(server);
        srv_per_client[r] = (double)(after.rss - before.rss) * 1024 / (double)clients;
        if (r == 0) srv_before_kb = before.rss, srv_after_kb = after.rss;

        uint64_t k0 = bench_now_ns();
        for (long j = 0; j < clients; j++) kill(pids[j], SIGKILL);
        uint64_t k1 = bench_now_ns();
        long left = clients;
        uint64_t t_reaped = 0, t_clean = 0;
        while (!t_clean || left) {
            int status;
            pid_t p;
            while (left && (p = waitpid(-1, &status, WNOHANG)) > 0) {
                if (p == holder_pid || p == forker_pid) bench_die(false, "a helper died (status 0x%x)", status);
                if (--left == 0) t_reaped = bench_now_ns();
            }
            if (!t_clean) {
                if (handle_count(shared) == 1) t_clean = bench_now_ns();
            } else if (left) {
                bench_sleep_us(100);
            }
            if (bench_now_ns() - k0 > 120ull * 1000000000ull) bench_die(false, "cleanup did not end");
        }
        killing.ns[r] = (double)(k1 - k0);
        reaped.ns[r] = (double)(t_reaped - k0);
        cleaned.ns[r] = (double)(t_clean - k0);
        /* Their own objects went with them. */
        snprintf(name, sizeof name, "bench-scale-%d-client%ld-%d", (int)main_pid, (long)r * clients + clients - 1, 0);
        if (OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name) || GetLastError() != ERROR_FILE_NOT_FOUND)
            bench_die(false, "a dead client's object is still there (%s)", name);

        atomic_store(&sh->plain_go, r + 1);
        uint64_t w = bench_now_ns();
        while (atomic_load(&sh->plain_done) != r + 1) {
            int status;
            if (waitpid(forker_pid, &status, WNOHANG) == forker_pid) bench_die(false, "the plain forker died");
            if (bench_now_ns() - w > 120ull * 1000000000ull) bench_die(false, "the plain forker is stuck");
            bench_sleep_us(1000);
        }
        pspawn.ns[r] = sh->plain[0];
        pkilling.ns[r] = sh->plain[1];
        preaped.ns[r] = sh->plain[2];
    }
    atomic_store(&sh->plain_go, -1);
    bench_reap(forker_pid, false);

    char title[200];
    snprintf(title, sizeof title,
             "%ld clients, each holding %d handles (shared: opened + inherited; %d of its own), while %ld objects exist",
             clients, 2 + OWN, OWN, sizes[SIZES - 1]);
    printf("%s (median of %d rounds)\n", title, CLIENT_ROUNDS);
    printf("  %-42s  %12s  %12s  %12s  %12s  %12s  %12s\n", "", "nsem median", "min", "max",
           "plain median", "min", "max");
    time_row("start all (in batches of 50; plain: fork)", &spawn, &pspawn, CLIENT_ROUNDS);
    time_row("the kill loop (first to last SIGKILL)", &killing, &pkilling, CLIENT_ROUNDS);
    time_row("first SIGKILL -> all reaped (waitpid)", &reaped, &preaped, CLIENT_ROUNDS);
    time_row("first SIGKILL -> server has cleaned up", &cleaned, NULL, CLIENT_ROUNDS);
    printf("  (plain: as many processes that never use nsem, forked by a process that never used it)\n\n");
    printf("server VmRSS with and without the clients (first round): %ld kB -> %ld kB; per client: median %.0f B\n",
           srv_before_kb, srv_after_kb, bench_median(srv_per_client, CLIENT_ROUNDS));
    printf("per client started: nsem %.2f ms, plain fork %.2f ms (medians)\n\n",
           bench_median(spawn.ns, CLIENT_ROUNDS) / (double)clients / 1e6,
           bench_median(pspawn.ns, CLIENT_ROUNDS) / (double)clients / 1e6);

    /* ---- 4: the holder's death ---- */
    HANDLE probe = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, obj_name(name, sizeof name, "", 0));
    if (!probe) bench_die(true, "OpenSemaphoreA %s", name);
    struct mem with = read_mem(server);
    uint64_t k0 = bench_now_ns();
    kill(holder_pid, SIGKILL);
    uint64_t t_reaped = 0, t_clean = 0;
    for (;;) {
        int status;
        if (!t_reaped && waitpid(holder_pid, &status, WNOHANG) == holder_pid) t_reaped = bench_now_ns();
        if (!t_clean && handle_count(probe) == 1) t_clean = bench_now_ns();
        if (t_reaped && t_clean) break;
        if (bench_now_ns() - k0 > 300ull * 1000000000ull) bench_die(false, "the holder's cleanup did not end");
    }
    struct mem without = read_mem(server);
    printf("SIGKILL of the holder (%ld handles, one object each): reaped after %.1f ms, server cleaned up after %.1f ms"
           " (%.2f us per object)\n",
           sizes[SIZES - 1] + 1, (double)(t_reaped - k0) / 1e6, (double)(t_clean - k0) / 1e6,
           (double)(t_clean - k0) / 1e3 / (double)sizes[SIZES - 1]);
    printf("server VmRSS %ld kB -> %ld kB (RssAnon %ld -> %ld, RssShmem %ld -> %ld)\n\n", with.rss, without.rss,
           with.anon, without.anon, with.shmem, without.shmem);

    CloseHandle(probe);
    CloseHandle(shared);
    return 0;
}

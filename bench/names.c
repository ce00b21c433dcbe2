/*
 * names.c — the cost of naming: creating a named semaphore and closing it (which destroys it),
 * and opening an existing one by name and closing that handle.
 *
 * Create + close, on one name, over and over (each create makes a new object, since the close of
 * the only handle destroys the object and frees the name):
 *   nsem   CreateSemaphoreA(NULL, 0, 1, name) + CloseHandle: one request to the server (the close
 *          goes to the process's close ring, which the server empties before the next create);
 *   POSIX  sem_open(name, O_CREAT | O_EXCL) + sem_close + sem_unlink (glibc: a file in /dev/shm,
 *          mmap, link, then munmap and unlink);
 *   floor  two round trips of a 64-byte message over a Unix socket to an echo process: what a
 *          design with a server pays for a request per call (half of it: one request);
 *   floor, polling  the same, but each end polls for 50 us (MSG_DONTWAIT) before it sleeps, as
 *          nsemd and libnsem do (common/spin.h): the floor of nsem's own requests.
 * Open + close, of a name that exists and stays:
 *   nsem   OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name) + CloseHandle (the object is held by
 *          another handle of this process): one request to the server, the close in the ring;
 *   POSIX  sem_open(name, 0) + sem_close of a semaphore that this process does not have mapped
 *          (glibc: open, mmap, close, then munmap);
 *   POSIX, already mapped: the same when this process already has it mapped: glibc then finds
 *          the mapping in its per-process table and maps nothing (open, fstat, close only);
 *   floor  as above.
 * A round is OPS operations of each method, in turn; the table gives the time per operation
 * (median over ROUNDS rounds), operations per second, and nsem/this. Target (issue 3): nsem's
 * create + close no slower than POSIX's sem_open + sem_close + sem_unlink, and at least 2x faster
 * than the same Win32 calls under Wine (the Wine column: bench/wine/names.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <nsem.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"
#include "bench_wine.h"

#define ROUNDS 15
#define OPS 5000L
#define MSG 64

/* ---- the floor: Unix socket round trips --------------------------------------------------- */

static void echo_server(int fd)
{
    char buf[MSG];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_WAITALL);
        if (n <= 0) _exit(0);
        if (send(fd, buf, (size_t)n, 0) != n) _exit(1);
    }
}

static void round_trip(int fd)
{
    char buf[MSG] = {1};
    if (send(fd, buf, sizeof buf, 0) != MSG || recv(fd, buf, sizeof buf, MSG_WAITALL) != MSG)
        bench_die(false, "echo: %s", strerror(errno));
}

#define POLL_NS 50000u /* NSEM_SPIN_DEFAULT_US */

/* One whole message; polls until POLL_NS after `since` before it sleeps. */
static ssize_t recv_polling(int fd, char *buf, uint64_t since)
{
    ssize_t n;
    while ((n = recv(fd, buf, MSG, MSG_WAITALL | MSG_DONTWAIT)) < 0 && (errno == EAGAIN || errno == EINTR))
        if (bench_now_ns() - since >= POLL_NS) return recv(fd, buf, MSG, MSG_WAITALL);
    return n;
}

static void echo_server_polling(int fd)
{
    char buf[MSG];
    for (uint64_t last = bench_now_ns();; last = bench_now_ns()) {
        ssize_t n = recv_polling(fd, buf, last);
        if (n <= 0) _exit(0);
        if (send(fd, buf, (size_t)n, 0) != n) _exit(1);
    }
}

static void round_trip_polling(int fd)
{
    char buf[MSG] = {1};
    if (send(fd, buf, sizeof buf, 0) != MSG || recv_polling(fd, buf, bench_now_ns()) != MSG)
        bench_die(false, "echo: %s", strerror(errno));
}

/* ---- the methods: each runs n operations and returns the elapsed ns ---------------------------- */

enum method { NSEM_CREATE, POSIX_CREATE, NSEM_OPEN, POSIX_OPEN, POSIX_OPEN_MAPPED, FLOOR, FLOOR_POLLING, METHODS };

struct names {
    const char *nsem_create, *posix_create; /* names that do not exist between operations */
    const char *nsem_open, *posix_open;     /* names that exist throughout */
    const char *posix_mapped;               /* exists and is mapped by this process */
    int echo_fd, echo_polling_fd;
};

static uint64_t run(enum method m, const struct names *nm, long n)
{
    uint64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        HANDLE h;
        sem_t *s;
        switch (m) {
        case NSEM_CREATE:
            h = CreateSemaphoreA(NULL, 0, 1, nm->nsem_create);
            if (!h || GetLastError() == ERROR_ALREADY_EXISTS) bench_die(true, "CreateSemaphoreA");
            if (!CloseHandle(h)) bench_die(true, "CloseHandle");
            break;
        case POSIX_CREATE:
            s = sem_open(nm->posix_create, O_CREAT | O_EXCL, 0600, 0);
            if (s == SEM_FAILED) bench_die(false, "sem_open O_CREAT: %s", strerror(errno));
            if (sem_close(s) != 0 || sem_unlink(nm->posix_create) != 0)
                bench_die(false, "sem_close/sem_unlink: %s", strerror(errno));
            break;
        case NSEM_OPEN:
            h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, nm->nsem_open);
            if (!h) bench_die(true, "OpenSemaphoreA");
            if (!CloseHandle(h)) bench_die(true, "CloseHandle");
            break;
        case POSIX_OPEN:
        case POSIX_OPEN_MAPPED:
            s = sem_open(m == POSIX_OPEN ? nm->posix_open : nm->posix_mapped, 0);
            if (s == SEM_FAILED) bench_die(false, "sem_open: %s", strerror(errno));
            if (sem_close(s) != 0) bench_die(false, "sem_close: %s", strerror(errno));
            break;
        case FLOOR:
            round_trip(nm->echo_fd);
            round_trip(nm->echo_fd);
            break;
        default:
            round_trip_polling(nm->echo_polling_fd);
            round_trip_polling(nm->echo_polling_fd);
            break;
        }
    }
    return bench_now_ns() - t0;
}

int main(int argc, char **argv)
{
    bench_init(argc, argv, "names: named create+close and open+close per second, nsem vs POSIX sem_open");
    bench_wine_run("names");
    long ops = bench_scaled(OPS);

    char nc[64], no[64], pc[80], po[80], pm[80];
    struct names nm = {
        bench_name(nc, sizeof nc, "bench-names-create"),
        NULL,
        bench_name(no, sizeof no, "bench-names-open"),
        NULL,
        NULL,
        -1,
        -1,
    };
    snprintf(pc, sizeof pc, "/%s", nc);
    snprintf(po, sizeof po, "/%s", no);
    snprintf(pm, sizeof pm, "/%s-mapped", no);
    nm.posix_create = pc;
    nm.posix_open = po;
    nm.posix_mapped = pm;

    HANDLE keep = CreateSemaphoreA(NULL, 0, 1, nm.nsem_open);
    if (!keep) bench_die(true, "CreateSemaphoreA");
    sem_t *s = sem_open(po, O_CREAT | O_EXCL, 0600, 0);
    if (s == SEM_FAILED) bench_die(false, "sem_open %s: %s", po, strerror(errno));
    sem_close(s); /* the name stays (POSIX semaphores persist until unlinked); nothing is mapped */
    sem_t *mapped = sem_open(pm, O_CREAT | O_EXCL, 0600, 0);
    if (mapped == SEM_FAILED) bench_die(false, "sem_open %s: %s", pm, strerror(errno));

    pid_t echo[2];
    for (int k = 0; k < 2; k++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            bench_die(false, "socketpair: %s", strerror(errno));
        echo[k] = bench_fork();
        if (echo[k] == 0) {
            close(sv[0]);
            if (k == 0) echo_server(sv[1]);
            echo_server_polling(sv[1]);
        }
        close(sv[1]);
        *(k == 0 ? &nm.echo_fd : &nm.echo_polling_fd) = sv[0];
    }

    struct bench_series t[METHODS] = {
        [NSEM_CREATE] = bench_series("nsem CreateSemaphoreA + CloseHandle", ROUNDS),
        [POSIX_CREATE] = bench_series("POSIX sem_open(O_CREAT) + sem_close + sem_unlink", ROUNDS),
        [NSEM_OPEN] = bench_series("nsem OpenSemaphoreA + CloseHandle", ROUNDS),
        [POSIX_OPEN] = bench_series("POSIX sem_open + sem_close", ROUNDS),
        [POSIX_OPEN_MAPPED] = bench_series("POSIX sem_open + sem_close, already mapped here", ROUNDS),
        [FLOOR] = bench_series("floor: 2 Unix-socket round trips to an echo process", ROUNDS),
        [FLOOR_POLLING] = bench_series("floor, both ends polling 50 us first, as nsem", ROUNDS),
    };
    for (int m = 0; m < METHODS; m++) run((enum method)m, &nm, ops / 10); /* warm-up */
    for (int r = 0; r < ROUNDS; r++)
        for (int m = 0; m < METHODS; m++) t[m].ns[r] = (double)run((enum method)m, &nm, ops) / (double)ops;

    char title[128];
    snprintf(title, sizeof title, "create + close of a named semaphore (%ld a round)", ops);
    t[NSEM_CREATE].wine = bench_wine("create_close");
    t[NSEM_OPEN].wine = bench_wine("open_close");
    struct bench_series create[] = {t[NSEM_CREATE], t[POSIX_CREATE], t[FLOOR], t[FLOOR_POLLING]};
    bench_table(title, create, 4, ROUNDS, 0, "ops/s");
    snprintf(title, sizeof title, "open + close of an existing named semaphore (%ld a round)", ops);
    struct bench_series open[] = {t[NSEM_OPEN], t[POSIX_OPEN], t[POSIX_OPEN_MAPPED], t[FLOOR], t[FLOOR_POLLING]};
    bench_table(title, open, 5, ROUNDS, 0, "ops/s");
    bench_target("create+close, nsem <= 1.0x sem_open+sem_close+sem_unlink",
                 bench_median(t[NSEM_CREATE].ns, ROUNDS) / bench_median(t[POSIX_CREATE].ns, ROUNDS), 1.0, "x");
    bench_target_wine("create+close, nsem <= 0.5x Wine CreateSemaphoreA+CloseHandle (2x faster)",
                      bench_median(t[NSEM_CREATE].ns, ROUNDS), t[NSEM_CREATE].wine, 0.5);

    close(nm.echo_fd);
    close(nm.echo_polling_fd);
    for (int k = 0; k < 2; k++) bench_reap(echo[k], false);
    sem_close(mapped);
    sem_unlink(pm);
    sem_unlink(po);
    CloseHandle(keep);
    return 0;
}

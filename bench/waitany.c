/*
 * waitany.c — WaitForMultipleObjects: the wake latency of a wait-any over 1, 8 and 64 objects,
 * and the throughput of a wait-all over 8 objects that several processes contend for.
 *
 * Part 1, wake latency. The parent waits for any of N objects (N = 1, 8, 64), all unsignalled; a
 * child process, told through shared memory that the parent is about to wait, sleeps 300 us (so
 * that the parent is surely asleep in the kernel), reads CLOCK_MONOTONIC and signals the LAST of
 * the N objects. The parent reads the clock when its wait returns; the sample is the difference.
 *   nsem   WaitForMultipleObjects(N, handles, FALSE, INFINITE) on N named semaphores at count 0
 *          (the child opened them by name); the child calls ReleaseSemaphore on the last;
 *   raw    the floor: N 32-bit words in shared memory; the waiter tries each word with a CAS
 *          (1 -> 0), else sleeps in futex_waitv on all N, and tries again when woken; the child
 *          stores 1 in the last word and calls FUTEX_WAKE on it.
 * A round is one sample of each (method, N), in turn; the table gives the median over ROUNDS
 * rounds. Target (issue 3): nsem <= 1.2x raw futex_waitv over 64 objects. The Wine column: the
 * nsem rows in a Win32 program under Wine, the waker started with CreateProcess
 * (bench/wine/waitany.c; its waker sleeps 1 ms, not 300 us, before it signals).
 *
 * Part 2, contended wait-all. P processes (P = 2 and 4, on this 2-CPU machine), forked for each
 * round and started together, each take all of 8 semaphores (count 1, maximum 1) at once and give
 * them back, ITER times, with nothing in between: every take contends with the other P-1
 * processes. The sample is the time from the start to the last process's end, divided by the
 * P * ITER acquisitions.
 *   nsem   WaitForMultipleObjects(8, handles, TRUE, INFINITE), then ReleaseSemaphore on each;
 *   SysV   one semop of 8 operations (-1 on each; atomic, all or nothing, as a wait-all), then one
 *          semop of 8 (+1 on each): the one peer with the same semantics;
 *   POSIX  sem_wait on the 8 named semaphores in a fixed order, then sem_post on each (what a
 *          POSIX program does instead: not atomic, but deadlock-free by the order).
 * No target; the table shows where nsem stands.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <nsem.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "bench_wine.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

#define MAXN 64
#define LATENCY_ROUNDS 301
#define WAKE_DELAY_US 300
#define ALL_N 8
#define ALL_ROUNDS 15
#define ALL_ITER 10000L
#define MAXP 4

static const int sizes[] = {1, 8, 64};
#define NSIZES ((int)(sizeof sizes / sizeof sizes[0]))

static HANDLE handles[MAXN];

/* ---- part 1: wake latency ------------------------------------------------------------------- */

/* What the parent (waiter) and the child (waker) share. */
struct wake_ctl {
    _Atomic uint32_t request; /* futex word: the parent bumps it before each wait */
    _Atomic uint32_t method;  /* 0 nsem, 1 raw; 2: the child ends */
    _Atomic uint32_t n;
    _Atomic uint64_t t_signal; /* the child's clock just before it signals */
    _Atomic uint32_t words[MAXN]; /* the raw method's objects */
};

/* The raw wait-any: the lowest word that is 1 becomes 0; sleeps on all n words meanwhile. */
static int raw_wait_any(_Atomic uint32_t *words, int n)
{
    struct futex_waitv w[MAXN];
    for (;;) {
        for (int i = 0; i < n; i++) {
            uint32_t one = 1;
            if (atomic_load(&words[i]) && atomic_compare_exchange_strong(&words[i], &one, 0)) return i;
        }
        memset(w, 0, sizeof w);
        for (int i = 0; i < n; i++) {
            w[i].val = 0;
            w[i].uaddr = (uintptr_t)&words[i];
            w[i].flags = FUTEX_32; /* shared, as nsem's */
        }
        if (syscall(SYS_futex_waitv, w, n, 0, NULL, 0) < 0 && errno != EAGAIN && errno != EINTR)
            bench_die(false, "futex_waitv: %s", strerror(errno));
    }
}

static void waker(struct wake_ctl *ctl, const char *prefix)
{
    HANDLE h[MAXN];
    for (int i = 0; i < MAXN; i++) {
        char name[96];
        snprintf(name, sizeof name, "%s-%d", prefix, i);
        h[i] = OpenSemaphoreA(SEMAPHORE_MODIFY_STATE, FALSE, name);
        if (!h[i]) bench_die(true, "OpenSemaphoreA %s", name);
    }
    uint32_t seen = 0;
    for (;;) {
        uint32_t r;
        while ((r = atomic_load(&ctl->request)) == seen) bench_futex_wait(&ctl->request, seen);
        seen = r;
        uint32_t method = atomic_load(&ctl->method), n = atomic_load(&ctl->n);
        if (method == 2) _exit(0);
        bench_sleep_us(WAKE_DELAY_US);
        atomic_store(&ctl->t_signal, bench_now_ns());
        if (method == 0) {
            if (!ReleaseSemaphore(h[n - 1], 1, NULL)) bench_die(true, "ReleaseSemaphore");
        } else {
            atomic_store(&ctl->words[n - 1], 1);
            bench_futex_wake(&ctl->words[n - 1], 1);
        }
    }
}

/* One sample: asks the child to signal object n-1 of `method`, waits, returns the latency. */
static double wake_sample(struct wake_ctl *ctl, uint32_t method, int n)
{
    atomic_store(&ctl->method, method);
    atomic_store(&ctl->n, (uint32_t)n);
    atomic_fetch_add(&ctl->request, 1);
    bench_futex_wake(&ctl->request, 1);
    if (method == 0) {
        DWORD r = WaitForMultipleObjects((DWORD)n, handles, FALSE, INFINITE);
        if (r != WAIT_OBJECT_0 + (DWORD)n - 1) bench_die(true, "WaitForMultipleObjects returned %u", (unsigned)r);
    } else if (raw_wait_any(ctl->words, n) != n - 1) {
        bench_die(false, "raw wait-any: wrong word");
    }
    uint64_t t1 = bench_now_ns();
    return (double)(t1 - atomic_load(&ctl->t_signal));
}

static void wake_latency(const char *prefix)
{
    for (int i = 0; i < MAXN; i++) {
        char name[96];
        snprintf(name, sizeof name, "%s-%d", prefix, i);
        handles[i] = CreateSemaphoreA(NULL, 0, 1, name);
        if (!handles[i]) bench_die(true, "CreateSemaphoreA %s", name);
    }
    struct wake_ctl *ctl = bench_shared(sizeof *ctl);
    pid_t child = bench_fork();
    if (child == 0) waker(ctl, prefix);

    int rounds = (int)bench_scaled(LATENCY_ROUNDS) | 1;
    struct bench_series s[NSIZES][2];
    static char labels[NSIZES][2][64];
    for (int k = 0; k < NSIZES; k++) {
        snprintf(labels[k][0], sizeof labels[k][0], "nsem WaitForMultipleObjects, any of %d", sizes[k]);
        snprintf(labels[k][1], sizeof labels[k][1], "raw futex_waitv, any of %d", sizes[k]);
        s[k][0] = bench_series(labels[k][0], rounds);
        char key[16];
        snprintf(key, sizeof key, "any%d", sizes[k]);
        s[k][0].wine = bench_wine(key);
        s[k][1] = bench_series(labels[k][1], rounds);
    }
    for (int k = 0; k < NSIZES; k++) /* warm-up */
        for (uint32_t m = 0; m < 2; m++) wake_sample(ctl, m, sizes[k]);
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < NSIZES; k++)
            for (uint32_t m = 0; m < 2; m++) s[k][m].ns[r] = wake_sample(ctl, m, sizes[k]);
    atomic_store(&ctl->method, 2);
    atomic_fetch_add(&ctl->request, 1);
    bench_futex_wake(&ctl->request, 1);
    bench_reap(child, false);

    for (int k = 0; k < NSIZES; k++) {
        char title[128];
        snprintf(title, sizeof title, "wait-any over %d: signal of the last object -> the wait returns", sizes[k]);
        bench_table(title, s[k], 2, rounds, 0, NULL);
    }
    int last = NSIZES - 1;
    bench_target("wait-any over 64, nsem <= 1.2x raw futex_waitv",
                 bench_median(s[last][0].ns, rounds) / bench_median(s[last][1].ns, rounds), 1.2, "x");
    printf("\n");
    for (int i = 0; i < MAXN; i++) CloseHandle(handles[i]);
}

/* ---- part 2: contended wait-all --------------------------------------------------------------- */

enum { ALL_NSEM, ALL_SYSV, ALL_POSIX, ALL_COUNT };

struct all_ctl {
    _Atomic uint32_t ready; /* processes ready to start */
    _Atomic uint32_t start; /* futex word: 1 = go */
    _Atomic uint64_t end_ns[MAXP];
};

struct all_objs {
    const char *prefix;
    int sysv;
    sem_t *posix[ALL_N];
};

static void all_worker(int method, const struct all_objs *o, struct all_ctl *ctl, int index, long iter)
{
    HANDLE h[ALL_N];
    if (method == ALL_NSEM)
        for (int i = 0; i < ALL_N; i++) {
            char name[96];
            snprintf(name, sizeof name, "%s-%d", o->prefix, i);
            h[i] = OpenSemaphoreA(SYNCHRONIZE | SEMAPHORE_MODIFY_STATE, FALSE, name);
            if (!h[i]) bench_die(true, "OpenSemaphoreA %s", name);
        }
    struct sembuf down[ALL_N], up[ALL_N];
    for (int i = 0; i < ALL_N; i++) {
        down[i] = (struct sembuf){(unsigned short)i, -1, 0};
        up[i] = (struct sembuf){(unsigned short)i, 1, 0};
    }
    atomic_fetch_add(&ctl->ready, 1);
    while (!atomic_load(&ctl->start)) bench_futex_wait(&ctl->start, 0);
    for (long k = 0; k < iter; k++) {
        switch (method) {
        case ALL_NSEM:
            if (WaitForMultipleObjects(ALL_N, h, TRUE, INFINITE) != WAIT_OBJECT_0)
                bench_die(true, "WaitForMultipleObjects (all)");
            for (int i = 0; i < ALL_N; i++)
                if (!ReleaseSemaphore(h[i], 1, NULL)) bench_die(true, "ReleaseSemaphore");
            break;
        case ALL_SYSV:
            if (semop(o->sysv, down, ALL_N) != 0 || semop(o->sysv, up, ALL_N) != 0)
                bench_die(false, "semop: %s", strerror(errno));
            break;
        default:
            for (int i = 0; i < ALL_N; i++)
                if (sem_wait(o->posix[i]) != 0) bench_die(false, "sem_wait: %s", strerror(errno));
            for (int i = 0; i < ALL_N; i++)
                if (sem_post(o->posix[i]) != 0) bench_die(false, "sem_post: %s", strerror(errno));
            break;
        }
    }
    atomic_store(&ctl->end_ns[index], bench_now_ns());
    _exit(0);
}

/* One round of one method with p processes; returns ns per acquisition of all 8. */
static double all_round(int method, const struct all_objs *o, int p, long iter)
{
    struct all_ctl *ctl = bench_shared(sizeof *ctl);
    pid_t pids[MAXP];
    for (int i = 0; i < p; i++) {
        pids[i] = bench_fork();
        if (pids[i] == 0) all_worker(method, o, ctl, i, iter);
    }
    while (atomic_load(&ctl->ready) < (uint32_t)p) bench_sleep_us(100);
    uint64_t t0 = bench_now_ns();
    atomic_store(&ctl->start, 1);
    bench_futex_wake(&ctl->start, INT_MAX);
    uint64_t end = t0;
    for (int i = 0; i < p; i++) {
        bench_reap(pids[i], false);
        if (atomic_load(&ctl->end_ns[i]) > end) end = atomic_load(&ctl->end_ns[i]);
    }
    munmap(ctl, sizeof *ctl);
    return (double)(end - t0) / (double)(p * iter);
}

static void contended_wait_all(const char *prefix)
{
    struct all_objs o = {prefix, -1, {0}};
    HANDLE h[ALL_N];
    for (int i = 0; i < ALL_N; i++) {
        char name[96], pname[100];
        snprintf(name, sizeof name, "%s-%d", prefix, i);
        h[i] = CreateSemaphoreA(NULL, 1, 1, name);
        if (!h[i]) bench_die(true, "CreateSemaphoreA %s", name);
        snprintf(pname, sizeof pname, "/%s", name);
        o.posix[i] = sem_open(pname, O_CREAT | O_EXCL, 0600, 1);
        if (o.posix[i] == SEM_FAILED) bench_die(false, "sem_open %s: %s", pname, strerror(errno));
        sem_unlink(pname); /* the workers inherit the mapping */
    }
    o.sysv = semget(IPC_PRIVATE, ALL_N, IPC_CREAT | 0600);
    if (o.sysv < 0) bench_die(false, "semget: %s", strerror(errno));
    for (int i = 0; i < ALL_N; i++)
        if (semctl(o.sysv, i, SETVAL, 1) != 0) bench_die(false, "semctl: %s", strerror(errno));

    long iter = bench_scaled(ALL_ITER);
    int rounds = ALL_ROUNDS;
    for (int p = 2; p <= MAXP; p += 2) {
        struct bench_series s[ALL_COUNT] = {
            [ALL_NSEM] = bench_series("nsem WaitForMultipleObjects(8, all) + 8 ReleaseSemaphore", rounds),
            [ALL_SYSV] = bench_series("SysV semop(8 x -1) + semop(8 x +1), atomic", rounds),
            [ALL_POSIX] = bench_series("POSIX 8 sem_wait in order + 8 sem_post", rounds),
        };
        for (int r = 0; r < rounds; r++)
            for (int m = 0; m < ALL_COUNT; m++) s[m].ns[r] = all_round(m, &o, p, iter);
        char title[160];
        snprintf(title, sizeof title,
                 "wait-all over 8, %d processes contending (%ld acquisitions each): time per acquisition", p, iter);
        bench_table(title, s, ALL_COUNT, rounds, ALL_NSEM, "acq/s");
    }
    semctl(o.sysv, 0, IPC_RMID);
    for (int i = 0; i < ALL_N; i++) {
        sem_close(o.posix[i]);
        CloseHandle(h[i]);
    }
}

int main(int argc, char **argv)
{
    bench_init(argc, argv,
               "waitany: WaitForMultipleObjects wake latency (any of 1/8/64) and contended wait-all over 8");
    bench_wine_run("waitany");
    char prefix[64];
    bench_name(prefix, sizeof prefix, "bench-waitany");
    wake_latency(prefix);
    bench_name(prefix, sizeof prefix, "bench-waitall");
    contended_wait_all(prefix);
    return 0;
}

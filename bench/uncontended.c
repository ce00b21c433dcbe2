/*
 * uncontended.c — the cost of one uncontended take+give pair on a counting semaphore, by one
 * thread that is never blocked.
 *
 * Methods, each a loop of PAIRS pairs on a semaphore whose count is 1 (every take succeeds at
 * once):
 *   nsem   WaitForSingleObject(h, INFINITE) + ReleaseSemaphore(h, 1, NULL), where h is a handle
 *          from OpenSemaphore on a named semaphore that CreateSemaphore made: the path of a
 *          process that opened an object by name;
 *   glibc  sem_wait + sem_post on a named semaphore from sem_open;
 *   atomic the floor: a CAS loop that decrements an _Atomic int in shared memory if it is
 *          positive, then a CAS loop that increments it (what any semaphore must do at least);
 *   SysV   semop(-1) + semop(+1) on a one-semaphore SysV set (a system call each).
 * A round is one loop of each method, timed with CLOCK_MONOTONIC; the table gives ns per pair,
 * median over ROUNDS rounds, and nsem/this. Target (issue 3): nsem <= 1.5x glibc.
 * The Wine column: the nsem row's calls in a Win32 program under Wine (bench/wine/uncontended.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <nsem.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>

#include "bench_util.h"
#include "bench_wine.h"

#define ROUNDS 15
#define PAIRS 1000000L
#define SYSV_PAIRS 200000L /* two system calls a pair: fewer pairs give as stable a median */

/* Loops of `n` pairs; each returns the elapsed ns. */

static uint64_t run_nsem(HANDLE h, long n)
{
    uint64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        if (WaitForSingleObject(h, INFINITE) != WAIT_OBJECT_0) bench_die(true, "WaitForSingleObject");
        if (!ReleaseSemaphore(h, 1, NULL)) bench_die(true, "ReleaseSemaphore");
    }
    return bench_now_ns() - t0;
}

static uint64_t run_glibc(sem_t *s, long n)
{
    uint64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        if (sem_wait(s) != 0) bench_die(false, "sem_wait: %s", strerror(errno));
        if (sem_post(s) != 0) bench_die(false, "sem_post: %s", strerror(errno));
    }
    return bench_now_ns() - t0;
}

static uint64_t run_atomic(_Atomic int *count, long n)
{
    uint64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        int v = atomic_load(count);
        do {
            if (v <= 0) bench_die(false, "atomic count is %d", v); /* cannot happen: uncontended */
        } while (!atomic_compare_exchange_weak(count, &v, v - 1));
        v = atomic_load(count);
        while (!atomic_compare_exchange_weak(count, &v, v + 1)) {
        }
    }
    return bench_now_ns() - t0;
}

static uint64_t run_sysv(int id, long n)
{
    struct sembuf down = {0, -1, 0}, up = {0, 1, 0};
    uint64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
        if (semop(id, &down, 1) != 0) bench_die(false, "semop: %s", strerror(errno));
        if (semop(id, &up, 1) != 0) bench_die(false, "semop: %s", strerror(errno));
    }
    return bench_now_ns() - t0;
}

int main(int argc, char **argv)
{
    bench_init(argc, argv, "uncontended: one take+give pair on a semaphore, one thread, never blocked");
    bench_wine_run("uncontended");
    long pairs = bench_scaled(PAIRS), sysv_pairs = bench_scaled(SYSV_PAIRS);

    /* nsem: create, then use a second handle from OpenSemaphore */
    char name[64];
    bench_name(name, sizeof name, "bench-uncontended");
    HANDLE created = CreateSemaphoreA(NULL, 1, 1, name);
    if (!created) bench_die(true, "CreateSemaphoreA");
    HANDLE h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
    if (!h) bench_die(true, "OpenSemaphoreA");

    char pname[80];
    snprintf(pname, sizeof pname, "/%s", name);
    sem_t *ps = sem_open(pname, O_CREAT | O_EXCL, 0600, 1);
    if (ps == SEM_FAILED) bench_die(false, "sem_open %s: %s", pname, strerror(errno));
    sem_unlink(pname); /* the mapping stays; nothing is left behind */

    _Atomic int *count = bench_shared(sizeof *count);
    atomic_store(count, 1);

    int sysv = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    if (sysv < 0) bench_die(false, "semget: %s", strerror(errno));
    if (semctl(sysv, 0, SETVAL, 1) != 0) bench_die(false, "semctl: %s", strerror(errno));

    enum { NSEM, GLIBC, ATOMIC, SYSV, COUNT };
    struct bench_series s[COUNT] = {
        [NSEM] = bench_series("nsem WaitForSingleObject+ReleaseSemaphore (opened handle)", ROUNDS),
        [GLIBC] = bench_series("glibc sem_wait+sem_post (sem_open)", ROUNDS),
        [ATOMIC] = bench_series("raw atomic CAS decrement+CAS increment", ROUNDS),
        [SYSV] = bench_series("SysV semop(-1)+semop(+1)", ROUNDS),
    };
    s[NSEM].wine = bench_wine("pair");
    /* one untimed warm-up pass of each, then interleaved rounds */
    run_nsem(h, pairs / 10);
    run_glibc(ps, pairs / 10);
    run_atomic(count, pairs / 10);
    run_sysv(sysv, sysv_pairs / 10);
    for (int r = 0; r < ROUNDS; r++) {
        s[NSEM].ns[r] = (double)run_nsem(h, pairs) / (double)pairs;
        s[GLIBC].ns[r] = (double)run_glibc(ps, pairs) / (double)pairs;
        s[ATOMIC].ns[r] = (double)run_atomic(count, pairs) / (double)pairs;
        s[SYSV].ns[r] = (double)run_sysv(sysv, sysv_pairs) / (double)sysv_pairs;
    }

    char title[160];
    snprintf(title, sizeof title, "time per pair (%ld pairs a round; SysV %ld)", pairs, sysv_pairs);
    bench_table(title, s, COUNT, ROUNDS, NSEM, "pairs/s");
    bench_target("uncontended pair, nsem <= 1.5x glibc sem_wait+sem_post",
                 bench_median(s[NSEM].ns, ROUNDS) / bench_median(s[GLIBC].ns, ROUNDS), 1.5, "x");

    semctl(sysv, 0, IPC_RMID);
    sem_close(ps);
    CloseHandle(h);
    CloseHandle(created);
    return 0;
}

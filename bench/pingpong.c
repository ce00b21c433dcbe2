/*
 * pingpong.c — cross-process ping-pong through two semaphores: the cost of one wake-up that
 * crosses processes, both ways.
 *
 * Two processes, A (the parent, which times) and B (a forked child), and two semaphores s1 and s2,
 * both at count 0. A round trip: A gives s1 and waits for s2; B waits for s1 and gives s2. Every
 * wait finds the count at 0 at first and so, usually, sleeps in the kernel; the time of a round
 * trip is two wake-ups and two context switches.
 *   nsem   named semaphores: A creates them (CreateSemaphore), B opens them by name
 *          (OpenSemaphore; a forked child has no handles of its parent); WaitForSingleObject and
 *          ReleaseSemaphore;
 *   POSIX  named semaphores: A creates them (sem_open O_CREAT), B opens them by name (sem_open);
 *          sem_wait and sem_post;
 *   futex  the floor: two binary semaphores, each one 32-bit word in shared memory (0 empty,
 *          1 given, 2 empty with a sleeper), given with an exchange and a FUTEX_WAKE only when
 *          someone sleeps, taken with a CAS and FUTEX_WAIT.
 * A round is TRIPS round trips of each method, in turn; the table gives ns per round trip,
 * median over ROUNDS rounds, round trips per second, and nsem/this. The processes are not pinned:
 * on this 2-CPU machine A and B usually run on different CPUs. Target (issue 3): nsem <= 1.1x POSIX.
 * The Wine column: the nsem row in a Win32 program under Wine, B started with CreateProcess
 * (bench/wine/pingpong.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <nsem.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "bench_wine.h"

#define ROUNDS 31 /* short rounds, many: a change of load on the shared machine falls on every method */
#define TRIPS 5000L

/* ---- raw futex binary semaphore -------------------------------------------------------------- */

enum { EMPTY = 0, GIVEN = 1, SLEEPER = 2 };

static void futex_give(_Atomic uint32_t *w)
{
    if (atomic_exchange(w, GIVEN) == SLEEPER) bench_futex_wake(w, 1);
}

static void futex_take(_Atomic uint32_t *w)
{
    for (;;) {
        uint32_t v = GIVEN;
        if (atomic_compare_exchange_strong(w, &v, EMPTY)) return;
        /* v is EMPTY or SLEEPER: say that we sleep, then sleep unless it was given meanwhile */
        if (v == EMPTY && !atomic_compare_exchange_strong(w, &v, SLEEPER)) continue;
        bench_futex_wait(w, SLEEPER);
    }
}

/* ---- the three methods: one side of `trips` round trips ------------------------------------ */

struct side {
    HANDLE give_h, take_h;
    sem_t *give_s, *take_s;
    _Atomic uint32_t *give_w, *take_w;
};

enum { NSEM, POSIX, FUTEX, COUNT };

/* A side gives then takes (`first`) or takes then gives. */
static void play(int method, const struct side *s, long trips, bool first)
{
    for (long i = 0; i < trips; i++) {
        for (int step = 0; step < 2; step++) {
            bool give = (step == 0) == first;
            switch (method) {
            case NSEM:
                if (give ? !ReleaseSemaphore(s->give_h, 1, NULL)
                         : WaitForSingleObject(s->take_h, INFINITE) != WAIT_OBJECT_0)
                    bench_die(true, give ? "ReleaseSemaphore" : "WaitForSingleObject");
                break;
            case POSIX:
                if ((give ? sem_post(s->give_s) : sem_wait(s->take_s)) != 0)
                    bench_die(false, "%s: %s", give ? "sem_post" : "sem_wait", strerror(errno));
                break;
            default:
                if (give) futex_give(s->give_w);
                else futex_take(s->take_w);
                break;
            }
        }
    }
}

/* B: opens every object by name, then plays all rounds of every method in A's order. */
static void child(const char *n1, const char *n2, const char *p1, const char *p2, _Atomic uint32_t *words,
                  long trips)
{
    struct side b = {0};
    b.take_h = OpenSemaphoreA(SYNCHRONIZE, FALSE, n1);
    b.give_h = OpenSemaphoreA(SEMAPHORE_MODIFY_STATE, FALSE, n2);
    if (!b.take_h || !b.give_h) bench_die(true, "OpenSemaphoreA");
    b.take_s = sem_open(p1, 0);
    b.give_s = sem_open(p2, 0);
    if (b.take_s == SEM_FAILED || b.give_s == SEM_FAILED) bench_die(false, "sem_open: %s", strerror(errno));
    b.take_w = &words[0];
    b.give_w = &words[1];
    futex_give(&words[2]); /* ready */
    for (int r = 0; r < ROUNDS + 1; r++) /* +1: the warm-up */
        for (int m = 0; m < COUNT; m++) play(m, &b, r == 0 ? trips / 10 : trips, false);
    _exit(0);
}

int main(int argc, char **argv)
{
    bench_init(argc, argv, "pingpong: cross-process round trip through two semaphores (2 wake-ups)");
    bench_wine_run("pingpong");
    long trips = bench_scaled(TRIPS);

    char n1[64], n2[64], p1[80], p2[80];
    bench_name(n1, sizeof n1, "bench-pingpong-1");
    bench_name(n2, sizeof n2, "bench-pingpong-2");
    snprintf(p1, sizeof p1, "/%s", n1);
    snprintf(p2, sizeof p2, "/%s", n2);

    struct side a = {0};
    a.give_h = CreateSemaphoreA(NULL, 0, 1, n1);
    a.take_h = CreateSemaphoreA(NULL, 0, 1, n2);
    if (!a.give_h || !a.take_h) bench_die(true, "CreateSemaphoreA");
    a.give_s = sem_open(p1, O_CREAT | O_EXCL, 0600, 0);
    a.take_s = sem_open(p2, O_CREAT | O_EXCL, 0600, 0);
    if (a.give_s == SEM_FAILED || a.take_s == SEM_FAILED) bench_die(false, "sem_open: %s", strerror(errno));
    _Atomic uint32_t *words = bench_shared(3 * sizeof *words); /* s1, s2, "B is ready" */
    a.give_w = &words[0];
    a.take_w = &words[1];

    pid_t b = bench_fork();
    if (b == 0) child(n1, n2, p1, p2, words, trips);
    futex_take(&words[2]);
    sem_unlink(p1); /* both processes have them open; nothing is left behind */
    sem_unlink(p2);

    struct bench_series s[COUNT] = {
        [NSEM] = bench_series("nsem ReleaseSemaphore / WaitForSingleObject", ROUNDS),
        [POSIX] = bench_series("POSIX named sem_post / sem_wait", ROUNDS),
        [FUTEX] = bench_series("raw futex words in shared memory", ROUNDS),
    };
    s[NSEM].wine = bench_wine("roundtrip");
    for (int m = 0; m < COUNT; m++) play(m, &a, trips / 10, true); /* warm-up */
    for (int r = 0; r < ROUNDS; r++)
        for (int m = 0; m < COUNT; m++) {
            uint64_t t0 = bench_now_ns();
            play(m, &a, trips, true);
            s[m].ns[r] = (double)(bench_now_ns() - t0) / (double)trips;
        }
    bench_reap(b, false);

    char title[128];
    snprintf(title, sizeof title, "time per round trip (%ld round trips a round)", trips);
    bench_table(title, s, COUNT, ROUNDS, NSEM, "trips/s");
    bench_target("ping-pong, nsem <= 1.1x POSIX named semaphores",
                 bench_median(s[NSEM].ns, ROUNDS) / bench_median(s[POSIX].ns, ROUNDS), 1.1, "x");

    sem_close(a.give_s);
    sem_close(a.take_s);
    CloseHandle(a.give_h);
    CloseHandle(a.take_h);
    return 0;
}

/*
 * abandon.c — how soon a waiter learns that the owner of a mutex has died: the time from SIGKILL
 * of the owning process to the return of the waiter's wait with the "abandoned" result.
 *
 * A round, for each method in turn:
 *   1. an owner process is forked; it acquires the mutex, says so through shared memory, and
 *      sleeps forever;
 *   2. a waiter process is forked; it says it is about to wait, and waits for the mutex;
 *   3. the parent (the killer) sleeps 2 ms so that the waiter is asleep in the kernel (for nsem it
 *      also checks that the object reports one waiter), reads CLOCK_MONOTONIC just before
 *      kill(owner, SIGKILL), and stores it in shared memory;
 *   4. the waiter reads CLOCK_MONOTONIC as soon as its wait returns, checks the result, stores
 *      the time, releases the mutex and exits. The sample is the difference of the two times.
 * Methods:
 *   nsem    a named mutex (CreateMutexA in the parent, OpenMutexA in owner and waiter);
 *           WaitForSingleObject must return WAIT_ABANDONED. The server learns of the death when
 *           the dead process's socket is closed by the kernel, abandons the mutex and wakes the
 *           waiter;
 *   robust  the kernel's own mechanism: a process-shared robust pthread mutex in shared memory;
 *           pthread_mutex_lock must return EOWNERDEAD. The kernel walks the dead thread's robust
 *           list as it exits and wakes the waiter: the floor for any user-space scheme.
 * The table gives the median over ROUNDS rounds, and as a reference the time from kill() to the
 * parent's waitpid() of the nsem owner (its exit is complete, and so its socket closed, by then).
 * Target (issue 3): nsem <= 1 ms (median). The Wine column: the same rounds in a Win32 program
 * under Wine (bench/wine/abandon.c). Windows has no SIGKILL: there the owner is ended with
 * TerminateProcess, and the reference is the killer's wait on the owner's process handle.
 */
#include <errno.h>
#include <nsem.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "bench_wine.h"

#define ROUNDS 51
#define SETTLE_US 2000
#define WAIT_MS 10000 /* the waiter's bound: no round comes near it unless something is broken */

enum { NSEM, ROBUST, METHODS };

struct ctl {
    pthread_mutex_t robust;
    _Atomic uint32_t owner_ready;  /* futex word */
    _Atomic uint32_t waiter_ready; /* futex word */
    _Atomic uint64_t t_kill;
    _Atomic uint64_t t_return;
    _Atomic int result_ok;
};

static void wait_flag(_Atomic uint32_t *flag)
{
    while (!atomic_load(flag)) bench_futex_wait(flag, 0);
}

static void set_flag(_Atomic uint32_t *flag)
{
    atomic_store(flag, 1);
    bench_futex_wake(flag, 1);
}

static void owner(int method, struct ctl *c, const char *name)
{
    if (method == NSEM) {
        HANDLE m = OpenMutexA(SYNCHRONIZE, FALSE, name);
        if (!m) bench_die(true, "OpenMutexA");
        if (WaitForSingleObject(m, WAIT_MS) != WAIT_OBJECT_0) bench_die(true, "owner: WaitForSingleObject");
    } else if (pthread_mutex_lock(&c->robust) != 0) {
        bench_die(false, "owner: pthread_mutex_lock");
    }
    set_flag(&c->owner_ready);
    for (;;) pause();
}

static void waiter(int method, struct ctl *c, const char *name)
{
    if (method == NSEM) {
        HANDLE m = OpenMutexA(SYNCHRONIZE, FALSE, name);
        if (!m) bench_die(true, "OpenMutexA");
        set_flag(&c->waiter_ready);
        DWORD r = WaitForSingleObject(m, WAIT_MS);
        atomic_store(&c->t_return, bench_now_ns());
        atomic_store(&c->result_ok, r == WAIT_ABANDONED);
        if (r == WAIT_ABANDONED || r == WAIT_OBJECT_0) ReleaseMutex(m);
    } else {
        set_flag(&c->waiter_ready);
        int r = pthread_mutex_lock(&c->robust);
        atomic_store(&c->t_return, bench_now_ns());
        atomic_store(&c->result_ok, r == EOWNERDEAD);
        if (r == EOWNERDEAD) pthread_mutex_consistent(&c->robust);
        if (r == 0 || r == EOWNERDEAD) pthread_mutex_unlock(&c->robust);
    }
    _exit(0);
}

/* One round of one method; returns ns from kill() to the waiter's return, and in *reaped the ns
 * from kill() to the return of waitpid() for the owner. */
static double round_once(int method, struct ctl *c, const char *name, HANDLE mutex, double *reaped)
{
    atomic_store(&c->owner_ready, 0);
    atomic_store(&c->waiter_ready, 0);
    atomic_store(&c->result_ok, 0);
    pid_t o = bench_fork();
    if (o == 0) owner(method, c, name);
    wait_flag(&c->owner_ready);
    pid_t w = bench_fork();
    if (w == 0) waiter(method, c, name);
    wait_flag(&c->waiter_ready);
    bench_sleep_us(SETTLE_US);
    if (method == NSEM) {
        /* make sure the waiter sleeps on the mutex before the owner dies */
        for (int tries = 0;; tries++) {
            NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
            if (!NsemQueryObject(mutex, &info)) bench_die(true, "NsemQueryObject");
            if (info.dwWaiterCount == 1) break;
            if (tries == 1000) bench_die(false, "the waiter never blocked");
            bench_sleep_us(100);
        }
    }
    uint64_t t_kill = bench_now_ns();
    atomic_store(&c->t_kill, t_kill);
    kill(o, SIGKILL);
    bench_reap(o, true);
    *reaped = (double)(bench_now_ns() - t_kill);
    bench_reap(w, false);
    if (!atomic_load(&c->result_ok))
        bench_die(false, "%s: the waiter did not see the abandonment", method == NSEM ? "nsem" : "robust mutex");
    return (double)(atomic_load(&c->t_return) - t_kill);
}

int main(int argc, char **argv)
{
    bench_init(argc, argv, "abandon: SIGKILL of a mutex owner -> the waiter's WAIT_ABANDONED");
    bench_wine_run("abandon");
    int rounds = (int)bench_scaled(ROUNDS) | 1;
    if (rounds < 5) rounds = 5;

    char name[64];
    bench_name(name, sizeof name, "bench-abandon");
    HANDLE mutex = CreateMutexA(NULL, FALSE, name); /* kept open: the object outlives every round */
    if (!mutex) bench_die(true, "CreateMutexA");

    struct ctl *c = bench_shared(sizeof *c);
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    if (pthread_mutex_init(&c->robust, &a) != 0) bench_die(false, "pthread_mutex_init");
    pthread_mutexattr_destroy(&a);

    struct bench_series s[METHODS + 1] = {
        [NSEM] = bench_series("nsem named mutex: WAIT_ABANDONED", rounds),
        [ROBUST] = bench_series("robust pthread mutex (kernel robust list): EOWNERDEAD", rounds),
        [METHODS] = bench_series("(reference) the killed nsem owner reaped: waitpid returns", rounds),
    };
    s[NSEM].wine = bench_wine("abandoned");
    s[METHODS].wine = bench_wine("reaped");
    double reaped;
    for (int m = 0; m < METHODS; m++) round_once(m, c, name, mutex, &reaped); /* warm-up */
    for (int r = 0; r < rounds; r++)
        for (int m = 0; m < METHODS; m++) {
            s[m].ns[r] = round_once(m, c, name, mutex, &reaped);
            if (m == NSEM) s[METHODS].ns[r] = reaped;
        }

    bench_table("SIGKILL of the owner (Wine: TerminateProcess, as Windows has no SIGKILL) -> the waiter's wait returns",
                s, METHODS + 1, rounds, NSEM, NULL);
    bench_target("abandonment seen by the waiter after SIGKILL, nsem median",
                 bench_median(s[NSEM].ns, rounds) / 1e6, 1.0, " ms");

    pthread_mutex_destroy(&c->robust);
    CloseHandle(mutex);
    return 0;
}

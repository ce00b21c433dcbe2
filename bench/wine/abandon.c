/*
 * abandon.c (Win32) — the Wine twin of bench/abandon.c's nsem rows: how soon a waiter learns that
 * the owner of a named mutex has died. Windows has no SIGKILL: TerminateProcess is the equivalent
 * (the process ends at once, runs no code of its own, and the kernel abandons its mutexes).
 *
 * A round, as in the native program:
 *   1. an owner (a partner copy of this program, started with CreateProcess) opens the mutex by
 *      name, acquires it, says so through a named event, and sleeps forever;
 *   2. a waiter (another partner) opens the mutex, says it is about to wait, and waits for it;
 *   3. this process (the killer) sleeps SETTLE_MS so that the waiter is asleep, reads
 *      QueryPerformanceCounter just before TerminateProcess(owner), and stores it in shared memory;
 *   4. the waiter reads the counter as soon as its wait returns, checks that the result is
 *      WAIT_ABANDONED, stores the time, releases the mutex and exits.
 * The sample is the difference of the two times; also, as the native reference row, the time from
 * TerminateProcess to the return of the killer's wait on the owner's process handle. A warm-up
 * round, then ROUNDS rounds; the results are the medians. Windows has no public waiter count, so
 * unlike the native program the killer does not check that the waiter sleeps; it waits 2 ms as the
 * native one does.
 * Prints: wine-bench abandoned ..., wine-bench reaped ...
 */
#include <stdio.h>
#include <string.h>
#include <windows.h>

#include "wine_util.h"

#define ROUNDS 51
#define SETTLE_MS 2
#define WAIT_MS 10000 /* the waiter's bound: no round comes near it unless something is broken */

struct ctl {
    volatile LONG64 t_return;
    volatile LONG result_ok;
};

static void names(const char *base, char *mutex, char *page, char *owner_ready, char *waiter_ready)
{
    snprintf(mutex, 96, "%s-mutex", base);
    snprintf(page, 96, "%s-page", base);
    snprintf(owner_ready, 96, "%s-owner-ready", base);
    snprintf(waiter_ready, 96, "%s-waiter-ready", base);
}

/* args: "owner" or "waiter", then the base name. */
static int partner(char **args)
{
    char mutex[96], page[96], owner_ready[96], waiter_ready[96];
    names(args[1], mutex, page, owner_ready, waiter_ready);
    bool is_owner = strcmp(args[0], "owner") == 0;
    HANDLE m = OpenMutexA(SYNCHRONIZE | MUTEX_MODIFY_STATE, FALSE, mutex);
    HANDLE ready = OpenEventA(EVENT_MODIFY_STATE, FALSE, is_owner ? owner_ready : waiter_ready);
    if (!m || !ready) wb_die("partner: OpenMutexA/OpenEventA");
    if (is_owner) {
        if (WaitForSingleObject(m, WAIT_MS) != WAIT_OBJECT_0) wb_die("owner: WaitForSingleObject");
        SetEvent(ready);
        Sleep(INFINITE);
    }
    struct ctl *c = wb_shared(page, sizeof *c);
    SetEvent(ready);
    DWORD r = WaitForSingleObject(m, WAIT_MS);
    c->t_return = (LONG64)wb_now_ns();
    c->result_ok = r == WAIT_ABANDONED;
    if (r == WAIT_ABANDONED || r == WAIT_OBJECT_0) ReleaseMutex(m);
    return 0;
}

/* One round; returns ns from TerminateProcess to the waiter's return, and in *reaped the ns to
 * the return of the wait on the owner's process handle. */
static double round_once(const char *base, struct ctl *c, HANDLE owner_ready, HANDLE waiter_ready, double *reaped)
{
    char args[128];
    c->result_ok = 0;
    snprintf(args, sizeof args, "owner %s", base);
    HANDLE o = wb_spawn_partner(args);
    if (WaitForSingleObject(owner_ready, INFINITE) != WAIT_OBJECT_0) wb_die("WaitForSingleObject (owner ready)");
    snprintf(args, sizeof args, "waiter %s", base);
    HANDLE w = wb_spawn_partner(args);
    if (WaitForSingleObject(waiter_ready, INFINITE) != WAIT_OBJECT_0) wb_die("WaitForSingleObject (waiter ready)");
    Sleep(SETTLE_MS);
    uint64_t t_kill = wb_now_ns();
    if (!TerminateProcess(o, WB_TERMINATED)) wb_die("TerminateProcess");
    if (WaitForSingleObject(o, INFINITE) != WAIT_OBJECT_0) wb_die("WaitForSingleObject (owner)");
    *reaped = (double)(wb_now_ns() - t_kill);
    wb_reap(o, true);
    wb_reap(w, false);
    MemoryBarrier();
    if (!c->result_ok) wb_die("the waiter did not see WAIT_ABANDONED");
    return (double)((uint64_t)c->t_return - t_kill);
}

int main(int argc, char **argv)
{
    char **args = wb_partner(argc, argv);
    if (args) return partner(args);
    wb_init(argc, argv, "abandon (Win32): TerminateProcess of a mutex owner -> the waiter's WAIT_ABANDONED");
    int rounds = (int)wb_scaled(ROUNDS) | 1;
    if (rounds < 5) rounds = 5;

    char base[64], mutex[96], page[96], owner_ready[96], waiter_ready[96];
    wb_name(base, sizeof base, "bench-abandon");
    names(base, mutex, page, owner_ready, waiter_ready);
    HANDLE m = CreateMutexA(NULL, FALSE, mutex); /* kept open: the object outlives every round */
    HANDLE oready = CreateEventA(NULL, FALSE, FALSE, owner_ready);
    HANDLE wready = CreateEventA(NULL, FALSE, FALSE, waiter_ready);
    if (!m || !oready || !wready) wb_die("CreateMutexA/CreateEventA");
    struct ctl *c = wb_shared(page, sizeof *c);

    double *abandoned = wb_rounds(rounds), *reaped = wb_rounds(rounds), unused;
    round_once(base, c, oready, wready, &unused); /* warm-up */
    for (int r = 0; r < rounds; r++) abandoned[r] = round_once(base, c, oready, wready, &reaped[r]);
    wb_result("abandoned", abandoned, rounds, 1);
    wb_result("reaped", reaped, rounds, 1);

    CloseHandle(m);
    return 0;
}

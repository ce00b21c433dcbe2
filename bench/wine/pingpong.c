/*
 * pingpong.c (Win32) — the Wine twin of bench/pingpong.c's nsem row: cross-process ping-pong
 * through two named semaphores, both at count 0 (maximum 1).
 *
 * A (this process, which times) creates s1 and s2 with CreateSemaphoreA and starts B, a partner
 * copy of itself (CreateProcess: Windows has no fork), which opens them by name with
 * OpenSemaphoreA. A round trip: A releases s1 and waits for s2; B waits for s1 and releases s2.
 * The same rounds as the native program (a warm-up of a tenth of a round, then ROUNDS of TRIPS
 * round trips), timed with QueryPerformanceCounter; the result is ns per round trip, median over
 * the rounds.
 * Prints: wine-bench roundtrip ...
 */
#include <stdio.h>
#include <stdlib.h>
#include <windows.h>

#include "wine_util.h"

#define ROUNDS 31
#define TRIPS 5000L

/* One side of `trips` round trips: gives then takes (`first`), or takes then gives. */
static void play(HANDLE give, HANDLE take, long trips, bool first)
{
    for (long i = 0; i < trips; i++) {
        if (first && !ReleaseSemaphore(give, 1, NULL)) wb_die("ReleaseSemaphore");
        if (WaitForSingleObject(take, INFINITE) != WAIT_OBJECT_0) wb_die("WaitForSingleObject");
        if (!first && !ReleaseSemaphore(give, 1, NULL)) wb_die("ReleaseSemaphore");
    }
}

/* B: args are the base name and the number of round trips in a round. */
static int partner(char **args)
{
    char n1[96], n2[96], ready[96];
    snprintf(n1, sizeof n1, "%s-1", args[0]);
    snprintf(n2, sizeof n2, "%s-2", args[0]);
    snprintf(ready, sizeof ready, "%s-ready", args[0]);
    long trips = atol(args[1]);
    HANDLE take = OpenSemaphoreA(SYNCHRONIZE, FALSE, n1);
    HANDLE give = OpenSemaphoreA(SEMAPHORE_MODIFY_STATE, FALSE, n2);
    HANDLE ev = OpenEventA(EVENT_MODIFY_STATE, FALSE, ready);
    if (!take || !give || !ev) wb_die("partner: OpenSemaphoreA/OpenEventA");
    SetEvent(ev);
    for (int r = 0; r < ROUNDS + 1; r++) play(give, take, r == 0 ? trips / 10 : trips, false); /* +1: warm-up */
    return 0;
}

int main(int argc, char **argv)
{
    char **args = wb_partner(argc, argv);
    if (args) return partner(args);
    wb_init(argc, argv, "pingpong (Win32): cross-process round trip through two named semaphores");
    long trips = wb_scaled(TRIPS);

    char base[64], n1[96], n2[96], ready[96], pargs[128];
    wb_name(base, sizeof base, "bench-pingpong");
    snprintf(n1, sizeof n1, "%s-1", base);
    snprintf(n2, sizeof n2, "%s-2", base);
    snprintf(ready, sizeof ready, "%s-ready", base);
    HANDLE give = CreateSemaphoreA(NULL, 0, 1, n1);
    HANDLE take = CreateSemaphoreA(NULL, 0, 1, n2);
    HANDLE ev = CreateEventA(NULL, TRUE, FALSE, ready);
    if (!give || !take || !ev) wb_die("CreateSemaphoreA/CreateEventA");

    snprintf(pargs, sizeof pargs, "%s %ld", base, trips);
    HANDLE b = wb_spawn_partner(pargs);
    if (WaitForSingleObject(ev, INFINITE) != WAIT_OBJECT_0) wb_die("WaitForSingleObject (ready)");

    double *ns = wb_rounds(ROUNDS);
    play(give, take, trips / 10, true); /* warm-up */
    for (int r = 0; r < ROUNDS; r++) {
        uint64_t t0 = wb_now_ns();
        play(give, take, trips, true);
        ns[r] = (double)(wb_now_ns() - t0) / (double)trips;
    }
    wb_reap(b, false);
    wb_result("roundtrip", ns, ROUNDS, trips);

    CloseHandle(ev);
    CloseHandle(give);
    CloseHandle(take);
    return 0;
}

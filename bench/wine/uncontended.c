/*
 * uncontended.c (Win32) — the Wine twin of bench/uncontended.c's nsem row: one uncontended
 * WaitForSingleObject(h, INFINITE) + ReleaseSemaphore(h, 1, NULL) pair, where h comes from
 * OpenSemaphoreA on a named semaphore that CreateSemaphoreA made (count 1, maximum 1).
 *
 * Same method as the native program: ROUNDS rounds after a warm-up of a tenth of a round, each
 * timed with QueryPerformanceCounter; the result is ns per pair, median over the rounds. Under
 * Wine 8 each call is a request to wineserver (~40 us here), so a round has 5,000 pairs instead of
 * the native 1,000,000 (as the native SysV row has fewer): ns per pair does not depend on it.
 * Prints: wine-bench pair ...
 */
#include <stdio.h>
#include <windows.h>

#include "wine_util.h"

#define ROUNDS 15
#define PAIRS 5000L

static uint64_t run(HANDLE h, long n)
{
    uint64_t t0 = wb_now_ns();
    for (long i = 0; i < n; i++) {
        if (WaitForSingleObject(h, INFINITE) != WAIT_OBJECT_0) wb_die("WaitForSingleObject");
        if (!ReleaseSemaphore(h, 1, NULL)) wb_die("ReleaseSemaphore");
    }
    return wb_now_ns() - t0;
}

int main(int argc, char **argv)
{
    wb_init(argc, argv, "uncontended (Win32): WaitForSingleObject+ReleaseSemaphore on an opened named semaphore");
    long pairs = wb_scaled(PAIRS);
    char name[64];
    wb_name(name, sizeof name, "bench-uncontended");
    HANDLE created = CreateSemaphoreA(NULL, 1, 1, name);
    if (!created) wb_die("CreateSemaphoreA");
    HANDLE h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
    if (!h) wb_die("OpenSemaphoreA");

    double *ns = wb_rounds(ROUNDS);
    run(h, pairs / 10); /* warm-up */
    for (int r = 0; r < ROUNDS; r++) ns[r] = (double)run(h, pairs) / (double)pairs;
    wb_result("pair", ns, ROUNDS, pairs);

    CloseHandle(h);
    CloseHandle(created);
    return 0;
}

/*
 * waitany.c (Win32) — the Wine twin of bench/waitany.c's part 1, nsem rows: the wake latency of
 * WaitForMultipleObjects(N, handles, FALSE, INFINITE) over N = 1, 8 and 64 named semaphores at
 * count 0, when another process releases the LAST of them.
 *
 * This process (the waiter) creates the 64 semaphores, a named shared page and a named auto-reset
 * event, and starts a partner copy of itself (the waker), which opens them all by name. A sample:
 * the waiter writes N into the page, sets the event and waits on its first N semaphores; the waker,
 * woken by the event, sleeps WAKE_DELAY_MS (so that the waiter is surely asleep), stores
 * QueryPerformanceCounter in the page and releases semaphore N-1. The waiter reads the counter when
 * its wait returns; the sample is the difference. As in the native program, a round is one sample
 * of each N, after one warm-up sample of each, over LATENCY_ROUNDS rounds; the result is the median.
 * The native waker sleeps 300 us; Sleep() counts in ms, so here it is 1 ms. That is outside the
 * timed interval.
 * Prints: wine-bench any1 ..., wine-bench any8 ..., wine-bench any64 ...
 */
#include <stdio.h>
#include <windows.h>

#include "wine_util.h"

#define MAXN 64
#define LATENCY_ROUNDS 301
#define WAKE_DELAY_MS 1

static const int sizes[] = {1, 8, 64};
#define NSIZES ((int)(sizeof sizes / sizeof sizes[0]))

/* The page the waiter and the waker share. */
struct wake_ctl {
    volatile LONG n;           /* the waker releases semaphore n-1; 0: the waker ends */
    volatile LONG64 t_signal;  /* the waker's clock (ns) just before its release */
};

static void names(const char *base, char sem[MAXN][96], char *page, char *request)
{
    for (int i = 0; i < MAXN; i++) snprintf(sem[i], 96, "%s-%d", base, i);
    snprintf(page, 96, "%s-page", base);
    snprintf(request, 96, "%s-request", base);
}

/* The waker: args[0] is the base name. */
static int partner(char **args)
{
    char sem[MAXN][96], page[96], request[96];
    names(args[0], sem, page, request);
    HANDLE h[MAXN];
    for (int i = 0; i < MAXN; i++)
        if (!(h[i] = OpenSemaphoreA(SEMAPHORE_MODIFY_STATE, FALSE, sem[i]))) wb_die("OpenSemaphoreA %s", sem[i]);
    HANDLE ev = OpenEventA(SYNCHRONIZE, FALSE, request);
    if (!ev) wb_die("OpenEventA");
    struct wake_ctl *ctl = wb_shared(page, sizeof *ctl);
    for (;;) {
        if (WaitForSingleObject(ev, INFINITE) != WAIT_OBJECT_0) wb_die("WaitForSingleObject (request)");
        LONG n = ctl->n;
        if (n == 0) return 0;
        Sleep(WAKE_DELAY_MS);
        ctl->t_signal = (LONG64)wb_now_ns();
        MemoryBarrier(); /* the time is stored before the release makes the waiter read it */
        if (!ReleaseSemaphore(h[n - 1], 1, NULL)) wb_die("ReleaseSemaphore");
    }
}

static double sample(struct wake_ctl *ctl, HANDLE ev, const HANDLE *h, int n)
{
    ctl->n = n;
    if (!SetEvent(ev)) wb_die("SetEvent");
    DWORD r = WaitForMultipleObjects((DWORD)n, h, FALSE, INFINITE);
    uint64_t t1 = wb_now_ns();
    if (r != WAIT_OBJECT_0 + (DWORD)n - 1) wb_die("WaitForMultipleObjects returned %lu", (unsigned long)r);
    MemoryBarrier();
    return (double)(t1 - (uint64_t)ctl->t_signal);
}

int main(int argc, char **argv)
{
    char **args = wb_partner(argc, argv);
    if (args) return partner(args);
    wb_init(argc, argv, "waitany (Win32): WaitForMultipleObjects wake latency, any of 1/8/64 named semaphores");

    char base[64], sem[MAXN][96], page[96], request[96];
    wb_name(base, sizeof base, "bench-waitany");
    names(base, sem, page, request);
    HANDLE h[MAXN];
    for (int i = 0; i < MAXN; i++)
        if (!(h[i] = CreateSemaphoreA(NULL, 0, 1, sem[i]))) wb_die("CreateSemaphoreA %s", sem[i]);
    HANDLE ev = CreateEventA(NULL, FALSE, FALSE, request);
    if (!ev) wb_die("CreateEventA");
    struct wake_ctl *ctl = wb_shared(page, sizeof *ctl);
    HANDLE waker = wb_spawn_partner(base);

    int rounds = (int)wb_scaled(LATENCY_ROUNDS) | 1;
    double *ns[NSIZES];
    for (int k = 0; k < NSIZES; k++) ns[k] = wb_rounds(rounds);
    for (int k = 0; k < NSIZES; k++) sample(ctl, ev, h, sizes[k]); /* warm-up */
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < NSIZES; k++) ns[k][r] = sample(ctl, ev, h, sizes[k]);
    ctl->n = 0;
    SetEvent(ev);
    wb_reap(waker, false);

    for (int k = 0; k < NSIZES; k++) {
        char key[16];
        snprintf(key, sizeof key, "any%d", sizes[k]);
        wb_result(key, ns[k], rounds, 1);
    }
    for (int i = 0; i < MAXN; i++) CloseHandle(h[i]);
    return 0;
}

/*
 * names.c (Win32) — the Wine twin of bench/names.c's nsem rows: the cost of naming.
 *   create_close  CreateSemaphoreA(NULL, 0, 1, name) + CloseHandle, on one name, over and over
 *                 (the close of the only handle destroys the object and frees the name);
 *   open_close    OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name) + CloseHandle of a name that
 *                 exists throughout (another handle of this process holds it).
 * As in the native program: a round is OPS operations of each, in turn, after a warm-up of a tenth
 * of a round; ROUNDS rounds timed with QueryPerformanceCounter; the result is ns per operation,
 * median over the rounds.
 * Prints: wine-bench create_close ..., wine-bench open_close ...
 */
#include <stdio.h>
#include <windows.h>

#include "wine_util.h"

#define ROUNDS 15
#define OPS 5000L

enum method { CREATE, OPEN, METHODS };

static uint64_t run(enum method m, const char *create_name, const char *open_name, long n)
{
    uint64_t t0 = wb_now_ns();
    for (long i = 0; i < n; i++) {
        HANDLE h;
        if (m == CREATE) {
            h = CreateSemaphoreA(NULL, 0, 1, create_name);
            if (!h || GetLastError() == ERROR_ALREADY_EXISTS) wb_die("CreateSemaphoreA");
        } else {
            h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, open_name);
            if (!h) wb_die("OpenSemaphoreA");
        }
        if (!CloseHandle(h)) wb_die("CloseHandle");
    }
    return wb_now_ns() - t0;
}

int main(int argc, char **argv)
{
    wb_init(argc, argv, "names (Win32): named CreateSemaphoreA+CloseHandle and OpenSemaphoreA+CloseHandle");
    long ops = wb_scaled(OPS);
    char cn[64], on[64];
    wb_name(cn, sizeof cn, "bench-names-create");
    wb_name(on, sizeof on, "bench-names-open");
    HANDLE keep = CreateSemaphoreA(NULL, 0, 1, on);
    if (!keep) wb_die("CreateSemaphoreA");

    double *ns[METHODS];
    for (int m = 0; m < METHODS; m++) ns[m] = wb_rounds(ROUNDS);
    for (int m = 0; m < METHODS; m++) run((enum method)m, cn, on, ops / 10); /* warm-up */
    for (int r = 0; r < ROUNDS; r++)
        for (int m = 0; m < METHODS; m++) ns[m][r] = (double)run((enum method)m, cn, on, ops) / (double)ops;
    wb_result("create_close", ns[CREATE], ROUNDS, ops);
    wb_result("open_close", ns[OPEN], ROUNDS, ops);

    CloseHandle(keep);
    return 0;
}

/*
 * bench_wine.h — the Wine column of the benchmark tables: runs the Win32 twin of a benchmark
 * (bench/wine/<prog>.c, built for Windows by `make bench-wine` into <this program's
 * directory>/wine/<prog>.exe) under Wine, and keeps its results for bench_table().
 *
 * Wine is optional: when it, the .exe or the Wine prefix is missing, or the run fails, every
 * result is "not measured" (the column says n/a, with the reason printed once) and nothing fails.
 */
#ifndef NSEM_BENCH_WINE_H
#define NSEM_BENCH_WINE_H

#include <stdbool.h>

/* One measurement of the Win32 twin, from its "wine-bench <key> ..." line (wine/wine_util.h). */
struct bench_wine {
    const char *key;
    bool ok; /* false: not measured */
    int rounds;
    long ops;                /* operations in a round */
    double median, min, max; /* ns per operation */
};

/* Runs "$NSEM_BENCH_WINE <dir>/wine/<prog>.exe [--quick]" (default command: wine; "none": don't),
 * with WINEPREFIX=<dir>/wine/prefix (the prefix `make bench-wine` initialised) and, unless set,
 * WINEDEBUG=-all, where <dir> is this program's directory. Echoes the run's output, each line
 * prefixed "wine: ", and keeps its results; gives up after 15 minutes. Call right after
 * bench_init(), before any nsem call, so that the Wine processes are not spawned by a process
 * that is connected to nsemd, and so that the two measurements never overlap. */
void bench_wine_run(const char *prog);
/* The result of `key` in that run; never NULL (ok is false when it was not measured). */
const struct bench_wine *bench_wine(const char *key);

/* Prints the target line "nsem <= limit x Wine" for `what` (bench_target), or "n/a" when Wine was
 * not measured; returns whether it is met. */
bool bench_target_wine(const char *what, double nsem_median, const struct bench_wine *wine, double limit);

#endif

/*
 * wine_util.h — what the Win32 twins of the benchmarks share: the QueryPerformanceCounter clock,
 * medians, the machine-readable result line, shared memory by name, and partner processes (this
 * same program started again with CreateProcess, since Windows has no fork).
 *
 * The programs in bench/wine/ make the same Win32 calls as the nsem rows of bench/<name>.c, with
 * the same round counts and the same method (median over rounds of the time per operation),
 * compiled with MinGW for Windows and run under Wine. They print two kinds of lines:
 *     # <anything>                                   for people (what ran, the Wine version);
 *     wine-bench <key> rounds=<n> ops=<n> median_ns=<x> min_ns=<x> max_ns=<x>
 * one for each measurement, which the native benchmark reads (bench/bench_wine.c) to fill its
 * Wine column. <key> is unique within one program; ops is the number of operations in a round.
 */
#ifndef NSEM_BENCH_WINE_UTIL_H
#define NSEM_BENCH_WINE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <windows.h>

/* Parses --quick (a tenth of the work) and prints the header lines: `what` and the Wine version
 * (or "not Wine" on Windows). A partner process (wb_partner) must not call it. */
void wb_init(int argc, char **argv, const char *what);
/* n, or n / 10 (at least 1) under --quick. */
long wb_scaled(long n);
/* "<prefix>-<pid of this process>": a name unique to this run. */
const char *wb_name(char *buf, size_t size, const char *prefix);

/* QueryPerformanceCounter in ns (Wine's counter runs at 10 MHz: 100 ns steps). */
uint64_t wb_now_ns(void);

/* Allocates `rounds` zeroed doubles (exits on failure). */
double *wb_rounds(int rounds);
double wb_median(const double *v, int n);
/* Prints the wine-bench line of one measurement: ns[] holds the per-round ns per operation. */
void wb_result(const char *key, const double *ns, int rounds, long ops);

/* A named page-file mapping of `size` zeroed bytes: the parent creates it, a partner opens the
 * same name (exits on failure). */
void *wb_shared(const char *name, size_t size);

/* Starts this program again as "<exe> --partner <args>", with no handle inherited, in a job object
 * that kills it if this process dies first. Returns its process handle (exits on failure). */
HANDLE wb_spawn_partner(const char *args);
/* If argv is "<exe> --partner ...", returns a pointer to the arguments after --partner (argc - 2
 * of them), else NULL. */
char **wb_partner(int argc, char **argv);
/* Waits for a partner's end and checks that it exited with 0 (or, when `terminated_ok`, with the
 * code that wb_terminate gives); closes the handle. */
void wb_reap(HANDLE process, bool terminated_ok);
#define WB_TERMINATED 0x7e /* the exit code TerminateProcess gives */

/* Prints "wine-bench: <message>: error <GetLastError()>" to stderr and exits 1. */
void wb_die(const char *fmt, ...) __attribute__((format(gnu_printf, 1, 2), noreturn));

#endif

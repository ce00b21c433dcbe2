/*
 * bench_util.h — what every nsem benchmark shares: the clock, medians, the result table, the
 * private server, and the small process helpers the cross-process benchmarks need.
 *
 * Conventions. Every benchmark measures each method (nsem and its peers) in the same run, in
 * interleaved rounds (round 1 of every method, then round 2 of every method, ...), so that a
 * change of the machine's state during the run falls on all methods alike. A table row is the
 * median over the rounds of one method's time per operation, with the fastest and slowest round;
 * the "nsem/this" column is nsem's median divided by that row's median (above 1: nsem is slower).
 * The Wine column (bench_wine.h) comes from a separate run of the same Win32 calls under Wine, made
 * by the same benchmark just before its own rounds: the same method, but not interleaved with them.
 */
#ifndef NSEM_BENCH_UTIL_H
#define NSEM_BENCH_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- setup ---- */

/* Parses the options every benchmark takes (--quick: a tenth of the work, for a smoke run;
 * --help) and, unless NSEM_SERVER is set, points it at a socket in a fresh private (0700) mkdtemp
 * directory, so that the benchmark starts and uses a server of its own; the directory is removed
 * at exit. Call first in main, before any nsem call and any fork. `what` is the one-line summary
 * printed by --help. */
void bench_init(int argc, char **argv, const char *what);
/* n, or n / 10 (at least 1) under --quick. */
long bench_scaled(long n);
/* Whether --quick was given. */
bool bench_quick(void);
/* A name unique to this run, "<prefix>-<pid>": for nsem objects and POSIX semaphores alike. */
const char *bench_name(char *buf, size_t size, const char *prefix);

/* ---- time ---- */

uint64_t bench_now_ns(void); /* CLOCK_MONOTONIC */
void bench_sleep_us(long us);

/* ---- results ---- */

struct bench_wine; /* bench_wine.h */

/* One method of a table: its label and its per-round times (ns per operation), and for an nsem
 * method whose Win32 calls the Wine twin also makes, that measurement under Wine. */
struct bench_series {
    const char *label;
    double *ns;                     /* rounds entries */
    const struct bench_wine *wine; /* NULL: no Win32 counterpart (bench_series() sets NULL) */
};

/* Allocates a series of `rounds` entries (exits on failure). */
struct bench_series bench_series(const char *label, int rounds);
double bench_median(const double *v, int n);
double bench_min(const double *v, int n);
double bench_max(const double *v, int n);

/* Prints a titled table of the series: median, min and max time per operation, the rate at the
 * median in a column headed `rate` ("ops/s"; NULL: no such column, for latencies), and nsem/this
 * (series[nsem] is the nsem row). If any series has a Wine counterpart, two more columns: "wine",
 * its median under Wine (n/a: not measured; -: the row has none), and "nsem/wine", the row's
 * median divided by it (below 1: nsem is faster). */
void bench_table(const char *title, const struct bench_series *series, int count, int rounds, int nsem,
                 const char *rate);
/* Prints "target: <what>: <value><unit> (limit <limit><unit>) -> met / NOT met" and returns
 * whether value <= limit. unit: "x" for a ratio, " ms", ... */
bool bench_target(const char *what, double value, double limit, const char *unit);

/* ---- processes and shared memory ---- */

/* An anonymous MAP_SHARED mapping of `size` zeroed bytes, shared with children forked later
 * (exits on failure). */
void *bench_shared(size_t size);
/* fork(); exits with a message on failure. The child must end with _exit(); it is killed if the
 * parent dies first. */
pid_t bench_fork(void);
/* Waits for the child; exits with a message unless it ended with status 0 (or, when
 * `killed_ok`, by SIGKILL). */
void bench_reap(pid_t pid, bool killed_ok);

/* Prints "bench: <message>" (plus the error of the last nsem call, if nsem_error) and exits 1. */
void bench_die(bool nsem_error, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

/* Raw futex calls on shared (not process-private) words, for the raw peers. */
int bench_futex_wait(_Atomic uint32_t *word, uint32_t expected);
void bench_futex_wake(_Atomic uint32_t *word, int count);

#endif

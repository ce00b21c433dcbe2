/* bench_util.c — the shared helpers of the benchmarks (see bench_util.h). */
#include "bench_util.h"
#include "bench_wine.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <nsem.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static bool quick;
static char private_dir[PATH_MAX - 256]; /* room for a name in it */
static bool have_private_dir;
static pid_t main_pid;

/* ---- setup ---------------------------------------------------------------------------------- */

/* Removes the private server's directory and what is in it (socket, lock files). The server, if
 * still in its grace period, notices nothing and exits by itself. Only the main process does it. */
static void remove_private_dir(void)
{
    if (!have_private_dir || getpid() != main_pid) return;
    DIR *d = opendir(private_dir);
    if (d) {
        struct dirent *e;
        char path[PATH_MAX];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            snprintf(path, sizeof path, "%s/%s", private_dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(private_dir);
}

void bench_init(int argc, char **argv, const char *what)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else {
            fprintf(stderr, "%s — %s\nusage: %s [--quick]\n", argv[0], what, argv[0]);
            exit(strcmp(argv[i], "--help") == 0 ? 0 : 2);
        }
    }
    main_pid = getpid();
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *server = getenv("NSEM_SERVER");
    if (!server || !*server) {
        /* On tmpfs, as a user's own server is ($XDG_RUNTIME_DIR): on a disk the 1M-object arena's
         * dirty pages are written back under the benchmark (bench/RESULTS.md, 6). */
        const char *runtime = getenv("XDG_RUNTIME_DIR");
        const char *base = runtime && *runtime ? runtime : access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(private_dir, sizeof private_dir, "%s/nsem-bench-XXXXXX", base);
        if (!mkdtemp(private_dir)) bench_die(false, "mkdtemp: %s", strerror(errno));
        have_private_dir = true;
        atexit(remove_private_dir);
        char sock[PATH_MAX + 16];
        snprintf(sock, sizeof sock, "%s/nsemd.sock", private_dir);
        setenv("NSEM_SERVER", sock, 1);
        /* The server exits soon after the benchmark, which holds a connection until its end. */
        if (!getenv("NSEMD_GRACE_MS")) setenv("NSEMD_GRACE_MS", "500", 1);
    }
    printf("%s\n", what);
    printf("server: %s%s%s\n\n", getenv("NSEM_SERVER"), have_private_dir ? " (private)" : "",
           quick ? "; --quick: a tenth of the work" : "");
}

long bench_scaled(long n)
{
    return quick ? (n / 10 > 0 ? n / 10 : 1) : n;
}

bool bench_quick(void)
{
    return quick;
}

const char *bench_name(char *buf, size_t size, const char *prefix)
{
    snprintf(buf, size, "%s-%d", prefix, (int)main_pid);
    return buf;
}

/* ---- time ----------------------------------------------------------------------------------- */

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- results -------------------------------------------------------------------------------- */

struct bench_series bench_series(const char *label, int rounds)
{
    double *v = calloc((size_t)rounds, sizeof *v);
    if (!v) bench_die(false, "out of memory");
    return (struct bench_series){label, v, NULL};
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_median(const double *v, int n)
{
    double *s = malloc((size_t)n * sizeof *s);
    if (!s) bench_die(false, "out of memory");
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return m;
}

double bench_min(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] < m) m = v[i];
    return m;
}

double bench_max(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] > m) m = v[i];
    return m;
}

/* Times in ns, printed with three significant figures in the unit that suits them. */
static const char *fmt_ns(char *buf, size_t size, double ns)
{
    if (ns < 10000) snprintf(buf, size, "%.1f ns", ns);
    else if (ns < 10000000) snprintf(buf, size, "%.2f us", ns / 1e3);
    else snprintf(buf, size, "%.2f ms", ns / 1e6);
    return buf;
}

void bench_table(const char *title, const struct bench_series *series, int count, int rounds, int nsem,
                 const char *rate)
{
    double ref = bench_median(series[nsem].ns, rounds);
    int width = 6;
    bool wine = false;
    for (int i = 0; i < count; i++) {
        if ((int)strlen(series[i].label) > width) width = (int)strlen(series[i].label);
        wine |= series[i].wine != NULL;
    }
    printf("%s (median of %d rounds)\n", title, rounds);
    printf("  %-*s  %11s  %11s  %11s", width, "method", "median", "min", "max");
    if (rate) printf("  %12s", rate);
    printf("  %9s", "nsem/this");
    if (wine) printf("  %11s  %9s", "wine", "nsem/wine");
    printf("\n");
    for (int i = 0; i < count; i++) {
        char a[32], b[32], c[32];
        double med = bench_median(series[i].ns, rounds);
        printf("  %-*s  %11s  %11s  %11s", width, series[i].label, fmt_ns(a, sizeof a, med),
               fmt_ns(b, sizeof b, bench_min(series[i].ns, rounds)),
               fmt_ns(c, sizeof c, bench_max(series[i].ns, rounds)));
        if (rate) printf("  %12.0f", 1e9 / med);
        printf("  %9.2f", ref / med);
        const struct bench_wine *w = series[i].wine;
        if (wine && w && w->ok) {
            double ratio = med / w->median;
            int decimals = 2; /* at least two significant figures, even for nsem's ns against Wine's us */
            for (double r = ratio; r < 0.1 && decimals < 8; r *= 10) decimals++;
            printf("  %11s  %9.*f", fmt_ns(a, sizeof a, w->median), decimals, ratio);
        } else if (wine) {
            printf("  %11s  %9s", w ? "n/a" : "-", w ? "n/a" : "-");
        }
        printf("\n");
    }
    printf("\n");
}

bool bench_target(const char *what, double value, double limit, const char *unit)
{
    bool met = value <= limit;
    printf("target: %s: %.2f%s (limit %.2f%s) -> %s\n", what, value, unit, limit, unit, met ? "met" : "NOT met");
    return met;
}

/* ---- processes and shared memory ------------------------------------------------------------ */

void *bench_shared(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) bench_die(false, "mmap: %s", strerror(errno));
    return p;
}

pid_t bench_fork(void)
{
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) bench_die(false, "fork: %s", strerror(errno));
    /* A child blocked on an object must not outlive a benchmark that failed. */
    if (pid == 0 && (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)) _exit(1);
    return pid;
}

void bench_reap(pid_t pid, bool killed_ok)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) bench_die(false, "waitpid: %s", strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    if (killed_ok && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) return;
    bench_die(false, "child %d failed (status 0x%x)", (int)pid, status);
}

void bench_die(bool nsem_error, const char *fmt, ...)
{
    DWORD e = nsem_error ? GetLastError() : 0;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (nsem_error) {
        const char *name = NsemErrorName(e);
        fprintf(stderr, ": %s (%u)", name ? name : "?", (unsigned)e);
    }
    fprintf(stderr, "\n");
    if (getpid() != main_pid) _exit(1);
    exit(1);
}

int bench_futex_wait(_Atomic uint32_t *word, uint32_t expected)
{
    long r = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, expected, NULL, NULL, 0);
    return r == 0 ? 0 : -errno;
}

void bench_futex_wake(_Atomic uint32_t *word, int count)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, count, NULL, NULL, 0);
}

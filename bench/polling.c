/*
 * polling.c — what the polling of common/spin.h buys and costs: the same requests with polling
 * (the default) and with polling off at both ends (NSEMD_SPIN_US=0, NSEM_SPIN_US=0), each setting
 * with a server of its own, measured in turn in the same run.
 *
 *   throughput   P processes (1, 2, 8) each create and close a named semaphore of its own, over
 *                and over: create+close per second of all of them together;
 *   sporadic     one process opens (and closes) an existing name once every GAP us (1000, 100):
 *                the time of the OpenSemaphoreA, median and 90th percentile;
 *   CPU          for the 1000-us case, the CPU time (user + system) per request of the server
 *                (/proc/<pid>/stat) and of the client (getrusage).
 * The ratio column is polling / off: below 1, polling is faster (or cheaper). No target: polling
 * is a means to the names targets (bench/names.c); this shows what else it does.
 */
#include <errno.h>
#include <nsem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

#define ROUNDS 5
#define THROUGHPUT_OPS 3000L
#define SPORADIC_OPS 1000L
static const int procs[] = {1, 2, 8};
static const int gaps_us[] = {1000, 100};
#define NPROCS 3
#define NGAPS 2

enum setting { POLLING, OFF, SETTINGS };
static const char *const setting_names[SETTINGS] = {"polling", "off"};

/* What a measuring child reports to the parent. */
struct result {
    double value[ROUNDS];      /* ops/s, or the median in ns */
    double p90[ROUNDS];        /* sporadic only */
    double server_cpu, client_cpu; /* ns per request, sporadic at the first gap only */
};

static char server_dir[512];

/* In a fresh child: the setting's environment and server, before its first nsem call. */
static void enter_setting(enum setting s)
{
    char sock[600];
    snprintf(sock, sizeof sock, "%s/%s.sock", server_dir, setting_names[s]);
    setenv("NSEM_SERVER", sock, 1);
    if (s == OFF) {
        setenv("NSEMD_SPIN_US", "0", 1);
        setenv("NSEM_SPIN_US", "0", 1);
    } else {
        unsetenv("NSEMD_SPIN_US");
        unsetenv("NSEM_SPIN_US");
    }
}

static double cpu_ns_of(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    unsigned long user = 0, sys = 0;
    if (!f || fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &user, &sys) != 2)
        bench_die(false, "%s: %s", path, strerror(errno));
    fclose(f);
    return (double)(user + sys) * 1e9 / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_ns(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e9 + (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) * 1e3;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* P processes of create+close; ops/s of all. The server is started before the clock. */
static double throughput(int p, long ops)
{
    NSEM_SERVER_STATS st = {.cbSize = sizeof st};
    if (!NsemGetServerStats(&st)) bench_die(true, "NsemGetServerStats");
    uint64_t t0 = bench_now_ns();
    pid_t kids[8];
    for (int k = 0; k < p; k++) {
        kids[k] = bench_fork();
        if (kids[k] == 0) {
            char name[64];
            snprintf(name, sizeof name, "bench-polling-%d-%d", (int)getppid(), k);
            for (long i = 0; i < ops; i++) {
                HANDLE h = CreateSemaphoreA(NULL, 0, 1, name);
                if (!h || !CloseHandle(h)) _exit(1);
            }
            _exit(0);
        }
    }
    for (int k = 0; k < p; k++) bench_reap(kids[k], false);
    return (double)(p * ops) * 1e9 / (double)(bench_now_ns() - t0);
}

/* One open every gap_us; fills the median and p90 of the open's time, and the CPU per request. */
static void sporadic(int gap_us, long ops, double *median, double *p90, double *server_cpu, double *client_cpu)
{
    char name[64];
    HANDLE keep = CreateSemaphoreA(NULL, 0, 1, bench_name(name, sizeof name, "bench-polling-open"));
    NSEM_SERVER_STATS st = {.cbSize = sizeof st};
    if (!keep || !NsemGetServerStats(&st)) bench_die(true, "setup");
    double *t = malloc((size_t)ops * sizeof *t);
    if (!t) bench_die(false, "out of memory");
    double s0 = cpu_ns_of((pid_t)st.dwServerProcessId), c0 = self_cpu_ns();
    for (long i = 0; i < ops; i++) {
        bench_sleep_us(gap_us);
        uint64_t a = bench_now_ns();
        HANDLE h = OpenSemaphoreA(SYNCHRONIZE, FALSE, name);
        t[i] = (double)(bench_now_ns() - a);
        if (!h || !CloseHandle(h)) bench_die(true, "OpenSemaphoreA");
    }
    *server_cpu = (cpu_ns_of((pid_t)st.dwServerProcessId) - s0) / (double)ops;
    *client_cpu = (self_cpu_ns() - c0) / (double)ops;
    qsort(t, (size_t)ops, sizeof *t, by_value);
    *median = t[ops / 2];
    *p90 = t[ops * 9 / 10];
    free(t);
    CloseHandle(keep);
}

/* Runs one round of one measurement in a child of the given setting; kind < NPROCS: throughput of
 * procs[kind], else sporadic at gaps_us[kind - NPROCS]. */
static void measure(struct result *out, enum setting s, int kind, int round)
{
    pid_t pid = bench_fork();
    if (pid == 0) {
        enter_setting(s);
        if (kind < NPROCS) {
            out->value[round] = throughput(procs[kind], bench_scaled(THROUGHPUT_OPS));
        } else {
            double sc, cc;
            sporadic(gaps_us[kind - NPROCS], bench_scaled(SPORADIC_OPS), &out->value[round], &out->p90[round], &sc, &cc);
            if (kind == NPROCS) {
                out->server_cpu += sc / ROUNDS;
                out->client_cpu += cc / ROUNDS;
            }
        }
        _exit(0);
    }
    bench_reap(pid, false);
}

int main(int argc, char **argv)
{
    bench_init(argc, argv, "polling: requests with the polling of common/spin.h, and with it off");
    snprintf(server_dir, sizeof server_dir, "%s", getenv("NSEM_SERVER"));
    char *slash = strrchr(server_dir, '/');
    if (!slash) bench_die(false, "NSEM_SERVER has no directory");
    *slash = '\0';

    enum { KINDS = NPROCS + NGAPS };
    struct result *r = bench_shared(sizeof(struct result) * KINDS * SETTINGS);
    for (int round = 0; round < ROUNDS; round++) /* the settings in turn, so drift falls on both */
        for (int k = 0; k < KINDS; k++)
            for (int s = 0; s < SETTINGS; s++) measure(&r[k * SETTINGS + s], (enum setting)s, k, round);

    printf("%-44s %14s %14s %10s\n", "(medians of 5 rounds)", "polling", "off", "polling/off");
    for (int k = 0; k < KINDS; k++) {
        double v[SETTINGS], q[SETTINGS];
        for (int s = 0; s < SETTINGS; s++) {
            v[s] = bench_median(r[k * SETTINGS + s].value, ROUNDS);
            q[s] = bench_median(r[k * SETTINGS + s].p90, ROUNDS);
        }
        char label[64];
        if (k < NPROCS) {
            snprintf(label, sizeof label, "create+close/s, %d process%s", procs[k], procs[k] > 1 ? "es" : "");
            printf("%-44s %14.0f %14.0f %10.2f\n", label, v[POLLING], v[OFF], v[OFF] / v[POLLING]);
        } else {
            snprintf(label, sizeof label, "one open every %d us: median", gaps_us[k - NPROCS]);
            printf("%-44s %11.2f us %11.2f us %10.2f\n", label, v[POLLING] / 1e3, v[OFF] / 1e3, v[POLLING] / v[OFF]);
            snprintf(label, sizeof label, "one open every %d us: 90th percentile", gaps_us[k - NPROCS]);
            printf("%-44s %11.2f us %11.2f us %10.2f\n", label, q[POLLING] / 1e3, q[OFF] / 1e3, q[POLLING] / q[OFF]);
        }
    }
    const struct result *p = &r[NPROCS * SETTINGS + POLLING], *o = &r[NPROCS * SETTINGS + OFF];
    printf("%-44s %11.1f us %11.1f us %10.2f\n", "server CPU per request, one every 1000 us", p->server_cpu / 1e3,
           o->server_cpu / 1e3, p->server_cpu / o->server_cpu);
    printf("%-44s %11.1f us %11.1f us %10.2f\n", "client CPU per request, one every 1000 us", p->client_cpu / 1e3,
           o->client_cpu / 1e3, p->client_cpu / o->client_cpu);
    printf("(throughput rows: the ratio is time per operation, polling / off)\n");
    return 0;
}

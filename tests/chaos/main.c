/*
 * main.c — the chaos program's options (docs/reliability.md, "Chaos").
 *
 *   chaos [--workers N] [--duration S] [--names N] [--kill-rate R] [--warmup S] [--exec-percent P]
 *         [--seed N] [--verbose]
 *
 * Runs N workers (default 200) for S seconds (default 60) against a private server, killing R of
 * them per second at random instants (default N / 3: a worker lives 3 s on average) and replacing
 * them; P percent of the workers (default 25) are started by posix_spawn of this program, the rest
 * by fork. Prints a summary table and exits 1 if any invariant was violated, 2 on a usage or setup
 * error. `chaos --worker FD SLOT INCARNATION` is how a spawned worker starts.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chaos.h"

static _Noreturn void usage(void)
{
    fprintf(stderr, "usage: chaos [--workers N] [--duration S] [--names N] [--kill-rate R] [--warmup S]\n"
                    "             [--exec-percent P] [--seed N] [--verbose]\n");
    exit(2);
}

static double number(const char *s, double min, double max)
{
    char *end;
    double v = strtod(s, &end);
    if (*end || end == s || v < min || v > max) usage();
    return v;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--worker") == 0) {
        struct chaos_shared *sh = chaos_shared_attach(atoi(argv[2]));
        if (!sh) return 2;
        chaos_worker_main(sh, (uint32_t)atoi(argv[3]), (uint32_t)strtoul(argv[4], NULL, 10));
    }
    static char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return perror("readlink /proc/self/exe"), 2;
    self[n] = 0;
    struct chaos_options opt = {.workers = 200, .names = 50, .duration_s = 60, .kill_rate = -1, .warmup_s = 3,
                                .exec_percent = 25, .seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 20,
                                .self_exe = self};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--verbose") == 0) opt.verbose = true;
        else if (!has_value) usage();
        else if (strcmp(a, "--workers") == 0) opt.workers = (uint32_t)number(argv[++i], 1, CHAOS_MAX_WORKERS);
        else if (strcmp(a, "--duration") == 0) opt.duration_s = number(argv[++i], 0.1, 86400);
        else if (strcmp(a, "--names") == 0) opt.names = (uint32_t)number(argv[++i], KIND_COUNT, CHAOS_MAX_NAMES);
        else if (strcmp(a, "--kill-rate") == 0) opt.kill_rate = number(argv[++i], 0, 100000);
        else if (strcmp(a, "--warmup") == 0) opt.warmup_s = number(argv[++i], 0, 3600);
        else if (strcmp(a, "--exec-percent") == 0) opt.exec_percent = (uint32_t)number(argv[++i], 0, 100);
        else if (strcmp(a, "--seed") == 0) opt.seed = strtoull(argv[++i], NULL, 0);
        else usage();
    }
    if (opt.kill_rate < 0) opt.kill_rate = opt.workers / 3.0;
    return chaos_supervise(&opt);
}

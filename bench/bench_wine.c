/* bench_wine.c — the Wine column: runs a benchmark's Win32 twin under Wine (see bench_wine.h). */
#include "bench_wine.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

#define MAX_RESULTS 16
#define RUN_LIMIT_MS (15 * 60 * 1000)

static struct bench_wine results[MAX_RESULTS];
static int nresults;
static char why[2 * PATH_MAX] = "bench_wine_run() was not called";

/* The record of `key`, added (not measured) if new. */
static struct bench_wine *record(const char *key)
{
    for (int i = 0; i < nresults; i++)
        if (strcmp(results[i].key, key) == 0) return &results[i];
    if (nresults == MAX_RESULTS) bench_die(false, "wine: too many results");
    char *copy = strdup(key);
    if (!copy) bench_die(false, "out of memory");
    results[nresults] = (struct bench_wine){.key = copy};
    return &results[nresults++];
}

/* Keeps a "wine-bench <key> rounds=.. ops=.. median_ns=.. min_ns=.. max_ns=.." line. */
static void parse(const char *line)
{
    char key[64];
    struct bench_wine r;
    if (sscanf(line, "wine-bench %63s rounds=%d ops=%ld median_ns=%lf min_ns=%lf max_ns=%lf", key, &r.rounds,
               &r.ops, &r.median, &r.min, &r.max) != 6)
        return;
    struct bench_wine *w = record(key);
    r.key = w->key;
    r.ok = r.median > 0;
    *w = r;
}

/* Reads the child's output line by line until EOF or the deadline; false on timeout. */
static bool read_output(int fd, uint64_t deadline_ns)
{
    char buf[4096];
    size_t len = 0;
    for (;;) {
        uint64_t now = bench_now_ns();
        if (now >= deadline_ns) return false;
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, (int)((deadline_ns - now) / 1000000) + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) bench_die(false, "poll: %s", strerror(errno));
        if (r == 0) return false;
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return true;
        len += (size_t)n;
        buf[len] = '\0';
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n')) != NULL) {
            *nl = '\0';
            if (nl > line && nl[-1] == '\r') nl[-1] = '\0';
            printf("wine: %s\n", line);
            parse(line);
            line = nl + 1;
        }
        len = strlen(line);
        memmove(buf, line, len + 1);
        if (len == sizeof buf - 1) len = 0; /* a line that long is no result line: drop it */
    }
}

/* Runs the program; returns "" on success, else why not. */
static const char *run(const char *prog)
{
    const char *wine = getenv("NSEM_BENCH_WINE");
    if (!wine || !*wine) wine = "wine";
    if (strcmp(wine, "none") == 0) return "disabled (NSEM_BENCH_WINE=none)";

    char self[PATH_MAX], exe[PATH_MAX + 64], prefix[PATH_MAX + 64], reg[PATH_MAX + 96];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) return "readlink /proc/self/exe failed";
    self[n] = '\0';
    const char *dir = dirname(self);
    snprintf(exe, sizeof exe, "%s/wine/%s.exe", dir, prog);
    snprintf(prefix, sizeof prefix, "%s/wine/prefix", dir);
    snprintf(reg, sizeof reg, "%s/system.reg", prefix);
    if (access(exe, R_OK) != 0) {
        snprintf(why, sizeof why, "no %s (make bench-wine builds it)", exe);
        return why;
    }
    if (access(reg, R_OK) != 0) {
        snprintf(why, sizeof why, "no Wine prefix in %s (make bench-wine makes it)", prefix);
        return why;
    }
    /* The prefix under the build directory, never ~/.wine; quiet, and no Gecko/Mono prompts. */
    setenv("WINEPREFIX", prefix, 1);
    setenv("WINEDEBUG", "-all", 0);
    setenv("WINEDLLOVERRIDES", "mscoree,mshtml=", 0);

    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return "pipe2 failed";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    char *argv[] = {(char *)wine, exe, bench_quick() ? "--quick" : NULL, NULL};
    printf("wine: running %s %s%s\n", wine, exe, argv[2] ? " --quick" : "");
    fflush(stdout);
    pid_t pid;
    uint64_t t0 = bench_now_ns();
    int err = posix_spawnp(&pid, wine, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (err != 0) {
        close(fds[0]);
        snprintf(why, sizeof why, "cannot run %s: %s", wine, strerror(err));
        return why;
    }
    bool done = read_output(fds[0], t0 + (uint64_t)RUN_LIMIT_MS * 1000000u);
    close(fds[0]);
    if (!done) kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return "waitpid failed";
    printf("wine: took %.1f s\n", (double)(bench_now_ns() - t0) / 1e9);
    if (!done) return "the Wine run took too long: killed";
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(why, sizeof why, "the Wine run failed (status 0x%x)", status);
        return why;
    }
    return "";
}

void bench_wine_run(const char *prog)
{
    const char *r = run(prog);
    if (r != why) snprintf(why, sizeof why, "%s", r);
    if (*why) {
        for (int i = 0; i < nresults; i++) results[i].ok = false; /* a failed run proves nothing */
        printf("wine: not measured: %s; the Wine column says n/a\n", why);
    }
    printf("\n");
}

const struct bench_wine *bench_wine(const char *key)
{
    return record(key);
}

bool bench_target_wine(const char *what, double nsem_median, const struct bench_wine *wine, double limit)
{
    if (!wine->ok) {
        printf("target: %s: n/a (Wine not measured: %s)\n", what, *why ? why : "no such result");
        return false;
    }
    return bench_target(what, nsem_median / wine->median, limit, "x");
}

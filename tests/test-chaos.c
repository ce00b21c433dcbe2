/*
 * test-chaos.c — the 10-second version of `make chaos` (tests/chaos/, docs/reliability.md): the
 * chaos program, against a server of its own, must find every invariant held.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

extern const char *harness_argv0;

/* 32 workers, not make chaos's 200: this machine has 2 cores, shared with other work, and make
 * check must neither flake when they are busy nor slow everyone down. 32 still contend for all 50
 * names (each holds about ten handles) and give about a hundred kills in the 10 s, for about half
 * a core. */
TEST(chaos_10_seconds)
{
    char exe[4200], out[64];
    snprintf(exe, sizeof exe, "%s", harness_argv0);
    char *slash = strrchr(exe, '/');
    ASSERT_NOT_NULL(slash);
    snprintf(slash + 1, sizeof exe - (size_t)(slash + 1 - exe), "chaos");
    snprintf(out, sizeof out, "/tmp/nsem-chaos-%d.log", (int)getpid());
    fflush(NULL);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(126);
        execl(exe, exe, "--workers", "32", "--duration", "10", "--warmup", "1", (char *)NULL);
        _exit(127);
    }
    int status = wait_child(pid, 50000);
    /* its summary: all of it if it failed, else the lines with the numbers */
    FILE *f = fopen(out, "r");
    ASSERT_NOT_NULL(f);
    char line[512];
    while (fgets(line, sizeof line, f))
        if (status != 0 || strncmp(line, "processes started", 17) == 0 || strstr(line, "abandonments seen") ||
            strstr(line, "held nothing") || strncmp(line, "total ", 6) == 0)
            fputs(line, stdout);
    fclose(f);
    unlink(out);
    ASSERT_EQ(status, 0);
    return 0;
}

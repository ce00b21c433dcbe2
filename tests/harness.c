/* harness.c — assertions and process helpers of the test harness (see harness.h). */
#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern const char *harness_argv0;

void harness_fail(const char *file, int line, const char *expr, const char *detail)
{
    fprintf(stderr, "%s:%d: assertion failed: %s%s%s\n", file, line, expr, detail ? ": " : "",
            detail ? detail : "");
    fflush(NULL);
    _exit(1);
}

void harness_fail_eq(const char *file, int line, const char *a, const char *b, long long va, long long vb,
                     int is_unsigned)
{
    if (is_unsigned)
        fprintf(stderr, "%s:%d: assertion failed: %s == %s\n    left:  %llu (0x%llx)\n    right: %llu (0x%llx)\n",
                file, line, a, b, (unsigned long long)va, (unsigned long long)va, (unsigned long long)vb,
                (unsigned long long)vb);
    else
        fprintf(stderr, "%s:%d: assertion failed: %s == %s\n    left:  %lld\n    right: %lld\n", file, line, a,
                b, va, vb);
    fflush(NULL);
    _exit(1);
}

const char *uniq(const char *tag)
{
    static char bufs[8][200];
    static unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "nsem-test-%d-%s", (int)getpid(), tag);
    return b;
}

const wchar_t *uniqw(const char *tag)
{
    static wchar_t bufs[8][200];
    static unsigned next;
    wchar_t *b = bufs[next++ % 8];
    const char *n = uniq(tag);
    size_t i;
    for (i = 0; n[i] && i < 199; i++) b[i] = (unsigned char)n[i];
    b[i] = 0;
    return b;
}

pid_t spawn_helper(const char *name, int *out_fd, ...)
{
    const char *args[64];
    int n = 0;
    args[n++] = harness_argv0;
    args[n++] = "--helper";
    args[n++] = name;
    va_list ap;
    va_start(ap, out_fd);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 62) args[n++] = a;
    va_end(ap);
    args[n] = NULL;

    int p[2] = {-1, -1};
    if (out_fd && pipe(p) != 0) harness_fail(__FILE__, __LINE__, "pipe", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) harness_fail(__FILE__, __LINE__, "fork", strerror(errno));
    if (pid == 0) {
        if (out_fd) {
            dup2(p[1], 1);
            close(p[0]);
            close(p[1]);
        }
        execv(harness_argv0, (char *const *)args);
        _exit(127);
    }
    if (out_fd) {
        close(p[1]);
        *out_fd = p[0];
    }
    return pid;
}

int wait_child(pid_t pid, int timeout_ms)
{
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (r < 0) harness_fail(__FILE__, __LINE__, "waitpid", strerror(errno));
        if (now_ms() >= end) {
            kill(pid, SIGKILL);
            harness_fail(__FILE__, __LINE__, "wait_child", "child did not end in time");
        }
        sleep_ms(2);
    }
}

void read_line(int fd, char *buf, size_t size, int timeout_ms)
{
    size_t n = 0;
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    while (n + 1 < size) {
        int64_t left = (int64_t)(end - now_ms());
        if (left <= 0 || (int64_t)end < (int64_t)now_ms()) harness_fail(__FILE__, __LINE__, "read_line", "timed out");
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) harness_fail(__FILE__, __LINE__, "read_line", "timed out");
        char c;
        ssize_t k = read(fd, &c, 1);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) harness_fail(__FILE__, __LINE__, "read_line", "end of file");
        if (c == '\n') break;
        buf[n++] = c;
    }
    buf[n] = 0;
}

void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

const char *harness_bin(const char *name)
{
    static char paths[4][4300];
    static unsigned next;
    char *path = paths[next++ % 4];
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", harness_argv0);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    snprintf(path, sizeof paths[0], "%s/../bin/%s", dir, name);
    return path;
}

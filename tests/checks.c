/* checks.c — state checks and helpers shared by the test files (see checks.h). */
#include "checks.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/protocol.h"

#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

/* CHECK_EQ_AT at the caller's file and line (the `file` and `line` parameters in scope). */
#define EQ(what, a, b) check_eq_at(file, line, (what), #b, (long long)(a), (long long)(b))

void check_eq_at(const char *file, int line, const char *what, const char *b_text, long long a, long long b)
{
    if (a != b) harness_fail_eq(file, line, what, b_text, a, b, 0);
}

NSEM_OBJECT_INFO query_at(const char *file, int line, HANDLE h)
{
    NSEM_OBJECT_INFO info;
    DWORD saved = GetLastError();
    memset(&info, 0xcc, sizeof info);
    info.cbSize = sizeof info;
    SetLastError(POISON);
    if (!NsemQueryObject(h, &info)) {
        char detail[80];
        snprintf(detail, sizeof detail, "NsemQueryObject(%p) failed with error %u", h, GetLastError());
        harness_fail(file, line, "NsemQueryObject(h, &info)", detail);
    }
    SetLastError(saved);
    return info;
}

void check_sem_at(const char *file, int line, HANDLE h, LONG count, LONG max)
{
    NSEM_OBJECT_INFO info = query_at(file, line, h);
    EQ("dwType", info.dwType, NSEM_TYPE_SEMAPHORE);
    EQ("semaphore lCurrentCount", info.lCurrentCount, count);
    EQ("semaphore lMaximumCount", info.lMaximumCount, max);
}

void check_handles_at(const char *file, int line, HANDLE h, DWORD n)
{
    EQ("dwHandleCount", query_at(file, line, h).dwHandleCount, n);
}

void wait_handles_at(const char *file, int line, HANDLE h, DWORD n)
{
    uint64_t end = now_ms() + 5000;
    for (;;) {
        NSEM_OBJECT_INFO info = query_at(file, line, h);
        if (info.dwHandleCount == n) return;
        if (now_ms() > end) EQ("dwHandleCount (after 5 s)", info.dwHandleCount, n);
        sleep_ms(1);
    }
}

void wait_waiters_at(const char *file, int line, HANDLE h, DWORD n)
{
    uint64_t end = now_ms() + 5000;
    for (;;) {
        NSEM_OBJECT_INFO info = query_at(file, line, h);
        if (info.dwWaiterCount == n) return;
        if (now_ms() > end) EQ("dwWaiterCount (after 5 s)", info.dwWaiterCount, n);
        sleep_ms(1);
    }
}

HANDLE new_sem(LONG initial, LONG max)
{
    SetLastError(POISON);
    HANDLE h = CreateSemaphoreA(NULL, initial, max, NULL);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(0);
    return h;
}

void join_at(const char *file, int line, pthread_t t)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 15;
    int r = pthread_timedjoin_np(t, NULL, &ts);
    if (r != 0) harness_fail(file, line, "pthread_timedjoin_np", strerror(r));
}

void in_thread(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, fn, arg), 0);
    join(t);
}

void expect_line_at(const char *file, int line, int fd, const char *expected)
{
    char buf[256];
    read_line(fd, buf, sizeof buf, 10000);
    if (strcmp(buf, expected) != 0) {
        fprintf(stderr, "helper said:   \"%s\"\nexpected:      \"%s\"\n", buf, expected);
        harness_fail(file, line, "helper output", "mismatch");
    }
}

void to_wide(wchar_t *dst, size_t size, const char *src)
{
    size_t i;
    for (i = 0; src[i] && i + 1 < size; i++) dst[i] = (unsigned char)src[i];
    dst[i] = 0;
}

int shell(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    fflush(NULL);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void use_private_server(const char *tag)
{
    char dir[128], sock[200];
    snprintf(dir, sizeof dir, "/tmp/nsem-%s.XXXXXX", tag);
    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(sock, sizeof sock, "%s/s.sock", dir);
    setenv("NSEM_SERVER", sock, 1);
    setenv("NSEMD_GRACE_MS", "500", 1);
}

NSEM_SERVER_STATS stats_at(const char *file, int line)
{
    NSEM_SERVER_STATS st = {.cbSize = sizeof st};
    if (!NsemGetServerStats(&st)) check_eq_at(file, line, "NsemGetServerStats", "TRUE", 0, 1);
    return st;
}

int raw_connect(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", getenv("NSEM_SERVER"));
    ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

void raw_hello(int fd, uint32_t session)
{
    struct nsem_req_hello hello = {{sizeof hello, NSEM_OP_HELLO}, NSEM_PROTOCOL_VERSION, session, 0, 0, 0, 0};
    ASSERT_EQ(send(fd, &hello, sizeof hello, MSG_NOSIGNAL), (ssize_t)sizeof hello);
    struct nsem_rep_hello rep;
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {&rep, sizeof rep};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    ASSERT_EQ(recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL), (ssize_t)sizeof rep);
    ASSERT_EQ_U(rep.hdr.error, 0);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    ASSERT(cm && cm->cmsg_type == SCM_RIGHTS);
    int memfd;
    memcpy(&memfd, CMSG_DATA(cm), sizeof memfd);
    close(memfd);
}

/* Polls (up to 5 s) until the server holds nothing but this process's connection. */
void wait_server_clean_at(const char *file, int line)
{
    uint64_t end = now_ms() + 5000;
    NSEM_SERVER_STATS st;
    do {
        st = stats_at(file, line);
        if (!st.dwObjects && !st.dwHandles && !st.dwPins && st.dwClients == 1 && !st.dwRecords &&
            !st.dwUndoRecords && !st.dwTickets && !st.dwCleanups && !st.dwArenaSlots)
            return;
        sleep_ms(10);
    } while (now_ms() < end);
    CHECK_EQ_AT(line, "objects", st.dwObjects, 0);
    CHECK_EQ_AT(line, "handles", st.dwHandles, 0);
    CHECK_EQ_AT(line, "pins", st.dwPins, 0);
    CHECK_EQ_AT(line, "clients", st.dwClients, 1);
    CHECK_EQ_AT(line, "records", st.dwRecords, 0);
    CHECK_EQ_AT(line, "undo records", st.dwUndoRecords, 0);
    CHECK_EQ_AT(line, "tickets", st.dwTickets, 0);
    CHECK_EQ_AT(line, "cleanups", st.dwCleanups, 0);
    CHECK_EQ_AT(line, "arena slots", st.dwArenaSlots, 0);
    (void)file;
}

bool process_exited(pid_t pid)
{
    char path[64], state = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return true;
    if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1) state = 0;
    fclose(f);
    return state == 'Z' || state == 'X';
}

int run_nsemd(const char *variable, const char *value, const char *const *args)
{
    const char *argv[16] = {harness_server_path(), "--foreground", "--socket", "/nonexistent/dir/s.sock"};
    int n = 4;
    while (*args && n < 15) argv[n++] = *args++;
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        if (value)
            setenv(variable, value, 1);
        else
            unsetenv(variable);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return wait_child(pid, 10000);
}

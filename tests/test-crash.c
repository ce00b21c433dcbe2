/*
 * test-crash.c — the server dies (SIGKILL) under its clients: every blocked call returns at once
 * with ERROR_PROCESS_ABORTED, in this process and in others; the handles of the dead server are
 * closed; the next call starts a new server; `nsem` says what happened. Each test kills a private
 * server of its own.
 */
#include "checks.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void use_private_server(void)
{
    static char dir[] = "/tmp/nsem-crash.XXXXXX";
    char sock[200];
    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(sock, sizeof sock, "%s/s.sock", dir);
    setenv("NSEM_SERVER", sock, 1);
    setenv("NSEMD_GRACE_MS", "500", 1);
}

static pid_t server_pid(void)
{
    NSEM_SERVER_STATS st = {.cbSize = sizeof st};
    ASSERT(NsemGetServerStats(&st));
    return (pid_t)st.dwServerProcessId;
}

/* Whether pid has exited (a zombie counts: the server is not our child, and its reaper is slow). */
static bool exited(pid_t pid)
{
    char path[64], state = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return true;
    if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1) state = 0;
    fclose(f);
    return state == 'Z' || state == 'X';
}

/* Kills the server and waits until it is gone. */
static void kill_server(pid_t pid)
{
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    uint64_t end = now_ms() + 5000;
    while (!exited(pid) && now_ms() < end) sleep_ms(2);
    ASSERT(exited(pid));
}

struct blocked {
    HANDLE h[2];
    DWORD n;
    BOOL all;
    bool request; /* NsemRequestSemaphore instead of a wait */
    DWORD result, error;
};

static void *block_thread(void *arg)
{
    struct blocked *b = arg;
    SetLastError(0xdead);
    if (b->request) {
        b->result = NsemRequestSemaphore(b->h[0], INFINITE);
        b->error = GetLastError();
    } else {
        b->result = WaitForMultipleObjects(b->n, b->h, b->all, INFINITE);
        b->error = GetLastError();
    }
    return NULL;
}

HELPER(crash_owner)
{
    HANDLE m = CreateMutexA(NULL, TRUE, argv[0]);
    HANDLE x = CreateSemaphoreExA(NULL, 0, 1, argv[1], SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS);
    if (!m || !x) return 10;
    say("owning");
    for (;;) pause();
}

HELPER(crash_blocked_elsewhere)
{
    HANDLE s = OpenSemaphoreA(SYNCHRONIZE, FALSE, argv[0]);
    if (!s) return 10;
    say("waiting");
    SetLastError(0xdead);
    DWORD r = WaitForSingleObject(s, INFINITE);
    say("%u %u", r, GetLastError());
    return 0;
}

TEST(crash_wakes_every_blocked_call)
{
    use_private_server();
    char mname[64], xname[64], sname[64];
    snprintf(mname, sizeof mname, "crash-m-%d", (int)getpid());
    snprintf(xname, sizeof xname, "crash-x-%d", (int)getpid());
    snprintf(sname, sizeof sname, "crash-s-%d", (int)getpid());
    HANDLE s = CreateSemaphoreA(NULL, 0, 1, sname);
    HANDLE e = CreateEventA(NULL, TRUE, FALSE, NULL);
    ASSERT(s && e);
    int ofd, wfd;
    pid_t owner = spawn_helper("crash_owner", &ofd, mname, xname, NULL);
    expect_line(ofd, "owning");
    pid_t other = spawn_helper("crash_blocked_elsewhere", &wfd, sname, NULL);
    expect_line(wfd, "waiting");
    HANDLE m = OpenMutexA(SYNCHRONIZE | MUTANT_QUERY_STATE, FALSE, mname);
    HANDLE x = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, xname);
    ASSERT(m && x);

    struct blocked b[] = {
        {{s}, 1, FALSE, false, 0, 0},    /* wait on one object */
        {{s, e}, 2, TRUE, false, 0, 0},  /* wait-all */
        {{e, m}, 2, FALSE, false, 0, 0}, /* wait-any, on a mutex another process owns */
        {{x}, 1, FALSE, true, 0, 0},     /* an exclusive semaphore another process owns */
    };
    enum { NB = sizeof b / sizeof b[0] };
    pthread_t t[NB];
    for (int i = 0; i < NB; i++) ASSERT_EQ(pthread_create(&t[i], NULL, block_thread, &b[i]), 0);
    wait_waiters(s, 3); /* two of ours, the other process's */
    wait_waiters(x, 1);
    wait_waiters(m, 1);

    kill_server(server_pid());
    for (int i = 0; i < NB; i++) join(t[i]); /* join fails the test if a thread stays blocked */
    for (int i = 0; i < NB; i++) {
        if (b[i].request) {
            ASSERT_EQ_U(b[i].result, ERROR_PROCESS_ABORTED);
        } else {
            ASSERT_EQ_U(b[i].result, WAIT_FAILED);
        }
        ASSERT_EQ_U(b[i].error, ERROR_PROCESS_ABORTED);
    }
    char line[64];
    read_line(wfd, line, sizeof line, 10000);
    char want[64];
    snprintf(want, sizeof want, "%u %u", WAIT_FAILED, ERROR_PROCESS_ABORTED);
    ASSERT(strcmp(line, want) == 0);
    ASSERT_EQ(wait_child(other, 10000), 0);
    kill(owner, SIGKILL);
    wait_child(owner, 10000);
    return 0;
}

TEST(crash_closes_handles_and_a_new_server_starts)
{
    use_private_server();
    char name[64];
    snprintf(name, sizeof name, "crash-new-%d", (int)getpid());
    HANDLE s = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(s);
    pid_t first = server_pid();
    kill_server(first);

    /* Every handle of the dead server is closed; no call blocks. (A call that needs neither the
     * server nor a wait, such as taking a free permit, may still complete in the dead server's
     * shared memory before a call finds the server gone: see docs/reliability.md.) */
    SetLastError(0xdead);
    ASSERT_EQ_U(WaitForSingleObject(s, 100), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(0xdead);
    ASSERT(!ReleaseSemaphore(s, 1, NULL));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(0xdead);
    ASSERT(!CloseHandle(s));
    ASSERT_GLE(ERROR_INVALID_HANDLE);

    /* The next call that needs a server starts a new one, which knows nothing of the old objects. */
    SetLastError(0xdead);
    HANDLE again = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(again);
    ASSERT_GLE(0);
    pid_t second = server_pid();
    ASSERT(second != first);
    ASSERT(again != s); /* a value the process may still hold never names a new object */
    ASSERT(ReleaseSemaphore(again, 1, NULL));
    ASSERT_EQ_U(WaitForSingleObject(again, 0), WAIT_OBJECT_0);
    ASSERT(CloseHandle(again));
    return 0;
}

/* A request in flight when the server dies fails with ERROR_PROCESS_ABORTED, and so does the
 * first request of a process whose server died while it was idle. */
TEST(crash_fails_the_next_request)
{
    use_private_server();
    HANDLE s = CreateSemaphoreA(NULL, 1, 1, NULL);
    ASSERT_NOT_NULL(s);
    kill_server(server_pid());
    NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
    SetLastError(0xdead);
    ASSERT(!NsemQueryObject(s, &info)); /* the handle: gone with its server */
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    return 0;
}

HELPER(crash_cli_wait)
{
    HANDLE s = CreateSemaphoreA(NULL, 0, 1, argv[0]);
    if (!s) return 10;
    say("created");
    for (;;) pause();
}

/* "nsem wait" blocked when the server dies says so and exits 125. */
TEST(crash_cli_says_what_happened)
{
    use_private_server();
    char name[64], out[200];
    snprintf(name, sizeof name, "crash-cli-%d", (int)getpid());
    snprintf(out, sizeof out, "/tmp/nsem-crash-cli-%d", (int)getpid());
    int fd;
    pid_t holder = spawn_helper("crash_cli_wait", &fd, name, NULL);
    expect_line(fd, "created");
    HANDLE s = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
    ASSERT_NOT_NULL(s);
    pid_t cli = fork();
    if (cli == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(o, 2);
        execl(harness_bin("nsem"), "nsem", "wait", name, (char *)NULL);
        _exit(127);
    }
    wait_waiters(s, 1);
    kill_server(server_pid());
    ASSERT_EQ(wait_child(cli, 10000), 125);
    ASSERT_EQ(shell("grep -q 'ERROR_PROCESS_ABORTED (1067)' %s && grep -q 'server died' %s", out, out), 0);
    unlink(out);
    kill(holder, SIGKILL);
    wait_child(holder, 10000);
    return 0;
}

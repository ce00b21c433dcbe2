/*
 * test-inherit.c — handles across fork and exec (issue 4, SPEC 100, DESIGN §3 "Inheritance"):
 * a fork child has every handle of its parent, with the same values and access, counted from the
 * moment it exists; a program it execs keeps exactly the inheritable ones; a child that never
 * calls nsem holds them until it exits.
 */
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static DWORD handle_count(HANDLE h)
{
    NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
    ASSERT(NsemQueryObject(h, &info));
    return info.dwHandleCount;
}

static void expect_handle_count(HANDLE h, DWORD want)
{
    uint64_t end = now_ms() + 5000;
    while (handle_count(h) != want && now_ms() < end) sleep_ms(2);
    ASSERT_EQ(handle_count(h), want);
}

static const char *hex(HANDLE h)
{
    static char bufs[8][24];
    static unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%lx", (unsigned long)(uintptr_t)h);
    return b;
}

static HANDLE from_hex(const char *s)
{
    return (HANDLE)(uintptr_t)strtoul(s, NULL, 16);
}

/* A plain fork child has all handles, inheritable or not, with the same values and rights. */
TEST(inherit_fork_child_has_every_handle)
{
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE inh = CreateSemaphoreA(&sa, 1, 5, NULL);
    HANDLE plain = CreateSemaphoreExA(NULL, 0, 5, NULL, 0, SYNCHRONIZE); /* no MODIFY_STATE */
    ASSERT_NOT_NULL(inh);
    ASSERT_NOT_NULL(plain);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        /* the child's handle counts exist before it does anything else */
        if (WaitForSingleObject(inh, 0) != WAIT_OBJECT_0) _exit(10);
        if (!ReleaseSemaphore(inh, 2, NULL)) _exit(11);
        SetLastError(0);
        if (ReleaseSemaphore(plain, 1, NULL) || GetLastError() != ERROR_ACCESS_DENIED) _exit(12);
        DWORD flags = 0;
        if (!GetHandleInformation(inh, &flags) || flags != HANDLE_FLAG_INHERIT) _exit(13);
        if (!GetHandleInformation(plain, &flags) || flags != 0) _exit(14);
        _exit(0);
    }
    ASSERT_EQ(wait_child(pid, 10000), 0);
    NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
    ASSERT(NsemQueryObject(inh, &info));
    ASSERT_EQ(info.lCurrentCount, 2); /* 1, taken by the child, then 2 released */
    expect_handle_count(inh, 1);       /* the child's copy went with it */
    return 0;
}

/* The parent closes its handle right after fork: the object lives on in the child. */
TEST(inherit_fork_parent_closes_at_once)
{
    HANDLE h = CreateEventA(NULL, TRUE, FALSE, uniq("fork-close"));
    ASSERT_NOT_NULL(h);
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(p[1]);
        if (read(p[0], &c, 1) != 1) _exit(9); /* the parent has closed its handle by now */
        if (!SetEvent(h)) _exit(10);
        if (WaitForSingleObject(h, 0) != WAIT_OBJECT_0) _exit(11);
        _exit(0);
    }
    close(p[0]);
    ASSERT(CloseHandle(h));
    HANDLE again = OpenEventA(SYNCHRONIZE, FALSE, uniq("fork-close")); /* the child keeps it */
    ASSERT_NOT_NULL(again);
    ASSERT_EQ(write(p[1], "x", 1), 1);
    ASSERT_EQ(wait_child(pid, 10000), 0);
    ASSERT_EQ_U(WaitForSingleObject(again, 0), WAIT_OBJECT_0); /* the child set it */
    ASSERT(CloseHandle(again));
    SetLastError(POISON);
    ASSERT_NULL(OpenEventA(SYNCHRONIZE, FALSE, uniq("fork-close")));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);
    return 0;
}

/* argv: inheritable handle, non-inheritable handle (hex). Run by exec: checks what survived. */
HELPER(inherit_exec_check)
{
    HANDLE inh = from_hex(argv[0]), plain = from_hex(argv[1]);
    SetLastError(POISON);
    if (WaitForSingleObject(inh, 0) != WAIT_OBJECT_0) return 10; /* the first nsem call of this image */
    if (GetLastError() != POISON) return 11;
    if (!ReleaseSemaphore(inh, 1, NULL)) return 12;
    DWORD flags = 0;
    if (!GetHandleInformation(inh, &flags) || flags != HANDLE_FLAG_INHERIT) return 13;
    SetLastError(POISON);
    if (WaitForSingleObject(plain, 0) != WAIT_FAILED || GetLastError() != ERROR_INVALID_HANDLE) return 14;
    say("checked");
    return 0;
}

/* fork + exec: the exec'd program has the inheritable handles, with the same values, and not the
 * others (ERROR_INVALID_HANDLE), like file descriptors with and without FD_CLOEXEC. */
TEST(inherit_exec_keeps_only_inheritable)
{
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE inh = CreateSemaphoreA(&sa, 1, 1, uniq("exec-inh"));
    HANDLE plain = CreateSemaphoreA(NULL, 1, 1, uniq("exec-plain"));
    ASSERT_NOT_NULL(inh);
    ASSERT_NOT_NULL(plain);
    int fd;
    pid_t pid = spawn_helper("inherit_exec_check", &fd, hex(inh), hex(plain), NULL);
    char line[32];
    read_line(fd, line, sizeof line, 10000);
    ASSERT(strcmp(line, "checked") == 0);
    ASSERT_EQ(wait_child(pid, 10000), 0);
    expect_handle_count(inh, 1);
    expect_handle_count(plain, 1);
    return 0;
}

/* SetHandleInformation(HANDLE_FLAG_INHERIT) makes a handle inheritable, and clearing it does not. */
TEST(inherit_set_handle_information)
{
    HANDLE inh = CreateSemaphoreA(NULL, 1, 1, NULL);
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE plain = CreateSemaphoreA(&sa, 1, 1, NULL);
    ASSERT(SetHandleInformation(inh, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT));
    ASSERT(SetHandleInformation(plain, HANDLE_FLAG_INHERIT, 0));
    int fd;
    pid_t pid = spawn_helper("inherit_exec_check", &fd, hex(inh), hex(plain), NULL);
    ASSERT_EQ(wait_child(pid, 10000), 0);
    return 0;
}

/* A program that never calls nsem holds what it inherited until it exits. */
TEST(inherit_child_without_nsem_holds_until_exit)
{
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE h = CreateSemaphoreA(&sa, 0, 1, uniq("sleeper"));
    ASSERT_NOT_NULL(h);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sleep", "sleep", "0.4", (char *)NULL);
        _exit(127);
    }
    sleep_ms(100); /* it has exec'd */
    ASSERT(CloseHandle(h));
    HANDLE again = OpenSemaphoreA(SEMAPHORE_QUERY_STATE, FALSE, uniq("sleeper"));
    ASSERT_NOT_NULL(again); /* sleep(1) holds it */
    ASSERT_EQ(handle_count(again), 2);
    ASSERT(CloseHandle(again));
    ASSERT_EQ(wait_child(pid, 10000), 0);
    uint64_t end = now_ms() + 5000;
    HANDLE gone;
    while ((gone = OpenSemaphoreA(SYNCHRONIZE, FALSE, uniq("sleeper"))) != NULL && now_ms() < end) {
        CloseHandle(gone);
        sleep_ms(5);
    }
    ASSERT_NULL(gone); /* released when it exited */
    return 0;
}

/* argv: handle (hex). Spawns a grandchild (fork + exec of inherit_grandchild) that uses it. */
HELPER(inherit_middle)
{
    int fd;
    pid_t pid = spawn_helper("inherit_grandchild", &fd, argv[0], NULL);
    char line[32];
    read_line(fd, line, sizeof line, 10000);
    say("%s", line);
    return wait_child(pid, 10000);
}

HELPER(inherit_grandchild)
{
    HANDLE h = from_hex(argv[0]);
    if (!SetEvent(h)) return 10;
    say("set");
    return 0;
}

/* The child of a child inherits in turn — here through a middle program that never calls nsem
 * itself before it execs its own child. */
TEST(inherit_grandchild)
{
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE e = CreateEventA(&sa, TRUE, FALSE, NULL);
    ASSERT_NOT_NULL(e);
    int fd;
    pid_t pid = spawn_helper("inherit_middle", &fd, hex(e), NULL);
    char line[32];
    read_line(fd, line, sizeof line, 10000);
    ASSERT(strcmp(line, "set") == 0);
    ASSERT_EQ(wait_child(pid, 10000), 0);
    ASSERT_EQ_U(WaitForSingleObject(e, 0), WAIT_OBJECT_0);
    return 0;
}

HELPER(inherit_hold)
{
    HANDLE h = from_hex(argv[0]);
    if (WaitForSingleObject(h, 0) != WAIT_TIMEOUT) return 10; /* attach, and prove it is ours */
    say("holding");
    for (;;) pause();
}

/* A child SIGKILLed while holding inherited handles releases them. */
TEST(inherit_killed_child_releases)
{
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE h = CreateSemaphoreA(&sa, 0, 1, uniq("killed"));
    ASSERT_NOT_NULL(h);
    int fd;
    pid_t pid = spawn_helper("inherit_hold", &fd, hex(h), NULL);
    char line[32];
    read_line(fd, line, sizeof line, 10000);
    ASSERT_EQ(handle_count(h), 2);
    kill(pid, SIGKILL);
    ASSERT_EQ(wait_child(pid, 5000), 128 + SIGKILL);
    expect_handle_count(h, 1);
    return 0;
}

/* A mutex owned when the process execs is abandoned: the threads that owned it are gone. */
TEST(inherit_exec_abandons_owned_mutex)
{
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE m = CreateMutexA(&sa, FALSE, uniq("exec-mutex"));
    ASSERT_NOT_NULL(m);
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        if (WaitForSingleObject(m, 0) != WAIT_OBJECT_0) _exit(10);
        if (write(p[1], "x", 1) != 1) _exit(11);
        execl("/bin/sleep", "sleep", "0.5", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char c;
    ASSERT_EQ(read(p[0], &c, 1), 1);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(m, 5000), WAIT_ABANDONED_0); /* at its exec, not its exit */
    ASSERT_GLE(POISON);
    ASSERT_EQ(handle_count(m), 2); /* the exec'd sleep still holds its inherited handle */
    ASSERT(ReleaseMutex(m));
    ASSERT_EQ(wait_child(pid, 10000), 0);
    expect_handle_count(m, 1);
    return 0;
}

/* A fork child does not own what its parent owns. */
TEST(inherit_fork_child_owns_nothing)
{
    HANDLE m = CreateMutexA(NULL, TRUE, NULL);
    ASSERT_NOT_NULL(m);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        SetLastError(0);
        if (ReleaseMutex(m) || GetLastError() != ERROR_NOT_OWNER) _exit(10);
        if (WaitForSingleObject(m, 0) != WAIT_TIMEOUT) _exit(11);
        _exit(0);
    }
    ASSERT_EQ(wait_child(pid, 10000), 0);
    ASSERT(ReleaseMutex(m));
    return 0;
}

extern const char *harness_argv0;

/* argv: event handle (hex), delay ms. Sets the inherited event after the delay. */
HELPER(inherit_spawned_sets)
{
    sleep_ms((unsigned)atoi(argv[1]));
    if (!SetEvent(from_hex(argv[0]))) return 10;
    return 0;
}

static pid_t spawn_self(const char *helper, const char *a, const char *b)
{
    char *argv[] = {(char *)harness_argv0, "--helper", (char *)helper, (char *)a, (char *)b, NULL};
    extern char **environ;
    pid_t pid = 0;
    ASSERT_EQ(posix_spawn(&pid, harness_argv0, NULL, NULL, argv, environ), 0);
    return pid;
}

/* issue 4: "parent closes right after posix_spawn and the child still ... uses its inherited value
 * successfully" — the child's handles count from its birth, not its first call. */
TEST(inherit_posix_spawn_parent_closes_at_once)
{
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE e = CreateEventA(&sa, TRUE, FALSE, uniq("spawned"));
    ASSERT_NOT_NULL(e);
    pid_t pid = spawn_self("inherit_spawned_sets", hex(e), "300");
    ASSERT(CloseHandle(e)); /* before the child has made any call */
    HANDLE again = OpenEventA(SYNCHRONIZE | EVENT_QUERY_STATE, FALSE, uniq("spawned"));
    ASSERT_NOT_NULL(again); /* the child's inherited handle keeps it */
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(again, 10000), WAIT_OBJECT_0); /* set through the inherited value */
    ASSERT_GLE(POISON);
    ASSERT_EQ(wait_child(pid, 10000), 0);
    ASSERT(CloseHandle(again));
    return 0;
}

/* A posix_spawn'd program that never calls nsem holds its inherited handles until it exits. */
TEST(inherit_posix_spawn_child_without_nsem)
{
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE h = CreateSemaphoreA(&sa, 0, 1, uniq("spawn-sleep"));
    ASSERT_NOT_NULL(h);
    char *argv[] = {"sleep", "0.3", NULL};
    extern char **environ;
    pid_t pid;
    ASSERT_EQ(posix_spawnp(&pid, "sleep", NULL, NULL, argv, environ), 0);
    ASSERT(CloseHandle(h));
    HANDLE again = OpenSemaphoreA(SEMAPHORE_QUERY_STATE, FALSE, uniq("spawn-sleep"));
    ASSERT_NOT_NULL(again);
    ASSERT_EQ(handle_count(again), 2);
    ASSERT(CloseHandle(again));
    ASSERT_EQ(wait_child(pid, 10000), 0);
    uint64_t end = now_ms() + 5000;
    HANDLE gone;
    while ((gone = OpenSemaphoreA(SYNCHRONIZE, FALSE, uniq("spawn-sleep"))) != NULL && now_ms() < end) {
        CloseHandle(gone);
        sleep_ms(5);
    }
    ASSERT_NULL(gone);
    return 0;
}

/* system(): the command inherits the inheritable handles. */
TEST(inherit_system)
{
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE e = CreateEventA(&sa, TRUE, FALSE, NULL);
    HANDLE plain = CreateEventA(NULL, TRUE, FALSE, NULL);
    ASSERT_NOT_NULL(e);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "'%s' --helper inherit_spawned_sets %s 0", harness_argv0, hex(e));
    ASSERT_EQ(system(cmd), 0);
    ASSERT_EQ_U(WaitForSingleObject(e, 0), WAIT_OBJECT_0);
    snprintf(cmd, sizeof cmd, "'%s' --helper inherit_spawned_sets %s 0", harness_argv0, hex(plain));
    ASSERT_EQ(WEXITSTATUS(system(cmd)), 10); /* not inheritable: ERROR_INVALID_HANDLE there */
    ASSERT_EQ_U(WaitForSingleObject(plain, 0), WAIT_TIMEOUT);
    return 0;
}

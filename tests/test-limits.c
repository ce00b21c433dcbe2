/*
 * test-limits.c — the server's per-user limits (server/limits.c): objects in all, handles per
 * process, handles in all, and a full arena. Each test starts a private server with small limits
 * (NSEMD_* variables set before the first call, which the server the library starts inherits), and
 * checks the exact code of every path that makes an object or a handle, that a refused request
 * changed nothing (NsemGetServerStats), and that closing handles gives the room back.
 */
#include "checks.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* A server of this test's own, with these limits (NULL: the default). */
static void use_server_with_limits(const char *max_objects, const char *per_process, const char *max_handles)
{
    use_private_server("limits");
    const char *names[] = {"NSEMD_MAX_OBJECTS", "NSEMD_MAX_HANDLES_PER_PROCESS", "NSEMD_MAX_HANDLES"};
    const char *values[] = {max_objects, per_process, max_handles};
    for (int i = 0; i < 3; i++) {
        if (values[i])
            setenv(names[i], values[i], 1);
        else
            unsetenv(names[i]);
    }
}

/* The server holds exactly what it held at `before` (a refused request made and kept nothing). */
static void check_unchanged_at(const char *file, int line, NSEM_SERVER_STATS before)
{
    NSEM_SERVER_STATS now = stats_at(file, line);
    CHECK_EQ_AT(line, "objects", now.dwObjects, before.dwObjects);
    CHECK_EQ_AT(line, "handles", now.dwHandles, before.dwHandles);
    CHECK_EQ_AT(line, "pins", now.dwPins, before.dwPins);
    CHECK_EQ_AT(line, "records", now.dwRecords, before.dwRecords);
    CHECK_EQ_AT(line, "undo records", now.dwUndoRecords, before.dwUndoRecords);
    CHECK_EQ_AT(line, "tickets", now.dwTickets, before.dwTickets);
    CHECK_EQ_AT(line, "arena slots", now.dwArenaSlots, before.dwArenaSlots);
    (void)file;
}
#define check_unchanged(before) check_unchanged_at(__FILE__, __LINE__, (before))

/* A call that returns a handle must return NULL with exactly `code`. */
#define ASSERT_REFUSED(call, code) \
    do { \
        SetLastError(POISON); \
        ASSERT_NULL(call); \
        ASSERT_GLE(code); \
    } while (0)

/* ---- objects ------------------------------------------------------------------------------- */

TEST(limits_objects)
{
    use_server_with_limits("4", NULL, NULL);
    HANDLE s = CreateSemaphoreA(NULL, 1, 1, "lim-sem");
    HANDLE m = CreateMutexA(NULL, FALSE, NULL);
    HANDLE e = CreateEventA(NULL, TRUE, FALSE, "lim-event");
    HANDLE x = CreateSemaphoreExA(NULL, 1, 1, NULL, SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS);
    ASSERT(s && m && e && x);
    NSEM_SERVER_STATS before = stats();
    ASSERT_EQ(before.dwObjects, 4);

    /* Every way to make a fifth object is refused, and nothing of it is left behind. */
    ASSERT_REFUSED(CreateSemaphoreA(NULL, 0, 1, NULL), ERROR_NOT_ENOUGH_QUOTA);
    ASSERT_REFUSED(CreateSemaphoreA(NULL, 0, 1, "lim-new"), ERROR_NOT_ENOUGH_QUOTA);
    ASSERT_REFUSED(CreateSemaphoreW(NULL, 0, 1, L"lim-new-w"), ERROR_NOT_ENOUGH_QUOTA);
    ASSERT_REFUSED(CreateMutexA(NULL, TRUE, "lim-new"), ERROR_NOT_ENOUGH_QUOTA);
    ASSERT_REFUSED(CreateEventA(NULL, FALSE, TRUE, NULL), ERROR_NOT_ENOUGH_QUOTA);
    ASSERT_REFUSED(CreateSemaphoreExA(NULL, 0, 1, "lim-x", SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS),
                   ERROR_NOT_ENOUGH_QUOTA);
    ASSERT_REFUSED(CreateSemaphoreExA(NULL, 2, 2, "lim-u", SEMAPHORE_UNDO, SEMAPHORE_ALL_ACCESS),
                   ERROR_NOT_ENOUGH_QUOTA);
    /* a process object is an object too: the first handle to a process makes it */
    ASSERT_REFUSED(OpenProcess(SYNCHRONIZE, FALSE, (DWORD)getppid()), ERROR_NOT_ENOUGH_QUOTA);
    ASSERT_REFUSED(OpenProcess(0, FALSE, (DWORD)getppid()), ERROR_ACCESS_DENIED); /* checked first */
    ASSERT_REFUSED(OpenProcess(SYNCHRONIZE, FALSE, 0), ERROR_INVALID_PARAMETER);
    HANDLE dup = (HANDLE)(uintptr_t)POISON;
    SetLastError(POISON);
    ASSERT(!DuplicateHandle(GetCurrentProcess(), GetCurrentProcess(), GetCurrentProcess(), &dup, 0, FALSE,
                            DUPLICATE_SAME_ACCESS));
    ASSERT_GLE(ERROR_NOT_ENOUGH_QUOTA);
    ASSERT_NULL(dup);
    check_unchanged(before);
    /* the names were not taken */
    ASSERT_REFUSED(OpenSemaphoreA(SYNCHRONIZE, FALSE, "lim-new"), ERROR_FILE_NOT_FOUND);
    ASSERT_REFUSED(OpenMutexA(SYNCHRONIZE, FALSE, "lim-new"), ERROR_FILE_NOT_FOUND);

    /* Errors of the request itself come first; a bad name is not a quota problem. */
    ASSERT_REFUSED(CreateSemaphoreA(NULL, 2, 1, "lim-new"), ERROR_INVALID_PARAMETER);
    ASSERT_REFUSED(CreateSemaphoreA(NULL, 0, 1, "\\bad"), ERROR_BAD_PATHNAME);
    ASSERT_REFUSED(CreateMutexA(NULL, FALSE, "lim-sem"), ERROR_INVALID_HANDLE); /* a semaphore's name */

    /* Opening an existing object, or creating one that exists, makes no object. */
    SetLastError(POISON);
    HANDLE again = CreateSemaphoreA(NULL, 0, 1, "lim-sem");
    ASSERT_NOT_NULL(again);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    HANDLE opened = OpenEventA(SYNCHRONIZE, FALSE, "lim-event");
    ASSERT_NOT_NULL(opened);
    ASSERT_EQ(stats().dwObjects, 4);

    /* A close that destroys an object gives its room back. */
    ASSERT(CloseHandle(m));
    SetLastError(POISON);
    HANDLE fresh = CreateMutexA(NULL, TRUE, "lim-new");
    ASSERT_NOT_NULL(fresh);
    ASSERT_GLE(0);
    ASSERT_REFUSED(CreateMutexA(NULL, FALSE, NULL), ERROR_NOT_ENOUGH_QUOTA);
    /* a close that leaves the object to another handle does not */
    ASSERT(CloseHandle(again));
    ASSERT_REFUSED(CreateEventA(NULL, FALSE, FALSE, NULL), ERROR_NOT_ENOUGH_QUOTA);
    ASSERT(ReleaseMutex(fresh));
    HANDLE all[] = {s, e, x, opened, fresh};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) ASSERT(CloseHandle(all[i]));
    ASSERT_EQ(stats().dwObjects, 0);
    return 0;
}

/* ---- handles per process and in all ------------------------------------------------------- */

/* argv: a semaphore name, an event name. Opens the event, then the semaphore until refused, and
 * says how many it opened and the code; once the event is set, the same again. */
HELPER(limits_open_until_refused)
{
    HANDLE go = OpenEventA(SYNCHRONIZE, FALSE, argv[1]);
    if (!go) return 10;
    for (int round = 0; round < 2; round++) {
        int n = 0;
        while (OpenSemaphoreA(SYNCHRONIZE, FALSE, argv[0])) n++;
        say("%d %u", n, GetLastError());
        if (round == 0 && WaitForSingleObject(go, 10000) != WAIT_OBJECT_0) return 11;
    }
    for (;;) pause(); /* holds its handles until the test kills it */
}

TEST(limits_handles_per_process)
{
    use_server_with_limits(NULL, "5", NULL);
    HANDLE s = CreateSemaphoreA(NULL, 0, 1, "lim-per");
    HANDLE go = CreateEventA(NULL, TRUE, FALSE, "lim-go");
    ASSERT(s && go);
    HANDLE h[3];
    for (int i = 0; i < 3; i++) ASSERT_NOT_NULL(h[i] = OpenSemaphoreA(SYNCHRONIZE, FALSE, "lim-per"));
    NSEM_SERVER_STATS before = stats(); /* five handles: the limit */
    ASSERT_EQ(before.dwHandles, 5);

    ASSERT_REFUSED(OpenSemaphoreA(SYNCHRONIZE, FALSE, "lim-per"), ERROR_NOT_ENOUGH_QUOTA);
    ASSERT_REFUSED(OpenSemaphoreW(SYNCHRONIZE, FALSE, L"lim-per"), ERROR_NOT_ENOUGH_QUOTA);
    ASSERT_REFUSED(CreateSemaphoreA(NULL, 0, 1, "lim-per"), ERROR_NOT_ENOUGH_QUOTA); /* exists */
    ASSERT_REFUSED(CreateSemaphoreA(NULL, 0, 1, "lim-other"), ERROR_NOT_ENOUGH_QUOTA); /* new */
    ASSERT_REFUSED(CreateEventA(NULL, FALSE, FALSE, NULL), ERROR_NOT_ENOUGH_QUOTA);
    ASSERT_REFUSED(OpenProcess(SYNCHRONIZE, FALSE, (DWORD)getppid()), ERROR_NOT_ENOUGH_QUOTA);
    HANDLE dup = (HANDLE)(uintptr_t)POISON;
    SetLastError(POISON);
    ASSERT(!DuplicateHandle(GetCurrentProcess(), s, GetCurrentProcess(), &dup, 0, FALSE, DUPLICATE_SAME_ACCESS));
    ASSERT_GLE(ERROR_NOT_ENOUGH_QUOTA);
    ASSERT_NULL(dup);
    dup = (HANDLE)(uintptr_t)POISON;
    SetLastError(POISON);
    ASSERT(!DuplicateHandle(GetCurrentProcess(), GetCurrentProcess(), GetCurrentProcess(), &dup, 0, FALSE,
                            DUPLICATE_SAME_ACCESS));
    ASSERT_GLE(ERROR_NOT_ENOUGH_QUOTA);
    ASSERT_NULL(dup);
    check_unchanged(before); /* no object, process object or name was made on the way */
    ASSERT_REFUSED(OpenSemaphoreA(SYNCHRONIZE, FALSE, "lim-other"), ERROR_FILE_NOT_FOUND);
    check_handles(s, 4);

    /* Within one process, DUPLICATE_CLOSE_SOURCE moves the handle: no new one, so it succeeds. */
    SetLastError(POISON);
    ASSERT(DuplicateHandle(GetCurrentProcess(), h[2], GetCurrentProcess(), &dup, SYNCHRONIZE, FALSE,
                           DUPLICATE_CLOSE_SOURCE));
    ASSERT_EQ((uintptr_t)dup, (uintptr_t)h[2]);
    check_unchanged(before);

    /* The limit is per process: another one has its own five (its event is one of them). */
    int fd;
    pid_t pid = spawn_helper("limits_open_until_refused", &fd, "lim-per", "lim-go", NULL);
    expect_line(fd, "4 1816");
    ASSERT_EQ(stats().dwHandles, 10);

    /* A duplicate into a process at its limit is refused; DUPLICATE_CLOSE_SOURCE closes the source
     * anyway, as Windows does "regardless of any error status returned". */
    ASSERT(CloseHandle(h[0]));
    HANDLE proc = OpenProcess(PROCESS_DUP_HANDLE, FALSE, (DWORD)pid);
    ASSERT_NOT_NULL(proc);
    dup = (HANDLE)(uintptr_t)POISON;
    SetLastError(POISON);
    ASSERT(!DuplicateHandle(GetCurrentProcess(), h[1], proc, &dup, 0, FALSE,
                            DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE));
    ASSERT_GLE(ERROR_NOT_ENOUGH_QUOTA);
    ASSERT_NULL(dup);
    SetLastError(POISON);
    ASSERT(!GetHandleInformation(h[1], &(DWORD){0}));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    check_handles(s, 6); /* ours: s and h[2]; the helper's four */
    ASSERT_EQ(stats().dwHandles, 9);

    /* Closing gives room back, to this process only. */
    ASSERT_NOT_NULL(h[0] = OpenSemaphoreA(SYNCHRONIZE, FALSE, "lim-per"));
    ASSERT_REFUSED(OpenSemaphoreA(SYNCHRONIZE, FALSE, "lim-per"), ERROR_NOT_ENOUGH_QUOTA);
    ASSERT(SetEvent(go));
    expect_line(fd, "0 1816");
    kill(pid, SIGKILL);
    ASSERT_EQ(wait_child(pid, 10000), 128 + SIGKILL);
    close(fd);
    return 0;
}

TEST(limits_handles_in_all)
{
    use_server_with_limits(NULL, "100", "6");
    HANDLE s = CreateSemaphoreA(NULL, 0, 1, "lim-all");
    HANDLE go = CreateEventA(NULL, TRUE, FALSE, "lim-all-go");
    ASSERT(s && go);
    HANDLE h[2];
    for (int i = 0; i < 2; i++) ASSERT_NOT_NULL(h[i] = OpenSemaphoreA(SYNCHRONIZE, FALSE, "lim-all"));
    /* We hold 4 of the 6: the helper gets its event and one more. */
    int fd;
    pid_t pid = spawn_helper("limits_open_until_refused", &fd, "lim-all", "lim-all-go", NULL);
    expect_line(fd, "1 1816");
    NSEM_SERVER_STATS before = stats();
    ASSERT_EQ(before.dwHandles, 6);
    /* Now this process, far below its own limit, is refused too. */
    ASSERT_REFUSED(OpenSemaphoreA(SYNCHRONIZE, FALSE, "lim-all"), ERROR_NOT_ENOUGH_QUOTA);
    ASSERT_REFUSED(CreateSemaphoreA(NULL, 0, 1, NULL), ERROR_NOT_ENOUGH_QUOTA);
    HANDLE dup;
    SetLastError(POISON);
    ASSERT(!DuplicateHandle(GetCurrentProcess(), s, GetCurrentProcess(), &dup, 0, FALSE, DUPLICATE_SAME_ACCESS));
    ASSERT_GLE(ERROR_NOT_ENOUGH_QUOTA);
    check_unchanged(before);

    /* Into another process: refused as well, unless DUPLICATE_CLOSE_SOURCE moves the handle (the
     * source is closed first, which makes the room). */
    HANDLE proc = NULL;
    ASSERT(CloseHandle(h[1])); /* room for the process handle */
    ASSERT_NOT_NULL(proc = OpenProcess(PROCESS_DUP_HANDLE, FALSE, (DWORD)pid));
    SetLastError(POISON);
    ASSERT(!DuplicateHandle(GetCurrentProcess(), s, proc, &dup, 0, FALSE, DUPLICATE_SAME_ACCESS));
    ASSERT_GLE(ERROR_NOT_ENOUGH_QUOTA);
    SetLastError(POISON);
    ASSERT(DuplicateHandle(GetCurrentProcess(), h[0], proc, &dup, 0, FALSE,
                           DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE)); /* moved: the total stays */
    SetLastError(POISON);
    ASSERT(!GetHandleInformation(h[0], &(DWORD){0}));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    ASSERT_EQ(stats().dwHandles, 6);

    /* Closes in one process make room for another. */
    ASSERT(CloseHandle(proc));
    ASSERT(SetEvent(go));
    expect_line(fd, "1 1816");
    kill(pid, SIGKILL);
    ASSERT_EQ(wait_child(pid, 10000), 128 + SIGKILL);
    close(fd);
    /* its handles went with it */
    for (uint64_t end = now_ms() + 5000; stats().dwHandles != 2 && now_ms() < end;) sleep_ms(5);
    ASSERT_EQ(stats().dwHandles, 2);
    ASSERT_NOT_NULL(OpenSemaphoreA(SYNCHRONIZE, FALSE, "lim-all"));
    return 0;
}

/* ---- inheritance: fork, posix_spawn, system() --------------------------------------------- */

TEST(limits_fork_over_the_limit)
{
    use_server_with_limits(NULL, NULL, "5");
    SECURITY_ATTRIBUTES inherit = {sizeof inherit, NULL, TRUE};
    HANDLE a = CreateSemaphoreA(&inherit, 1, 1, NULL);
    HANDLE b = CreateSemaphoreA(&inherit, 1, 1, NULL);
    HANDLE c = CreateSemaphoreA(&inherit, 1, 1, NULL);
    ASSERT(a && b && c);
    NSEM_SERVER_STATS before = stats();
    /* The child's copies (3) would make 6: the server refuses the fork's ticket; fork() itself
     * cannot be refused, so the child starts without its parent's handles, and gets no copy of
     * the inheritable ones at its first call either. */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
        SetLastError(POISON);
        if (NsemQueryObject(a, &info)) _exit(20);
        if (GetLastError() != ERROR_INVALID_HANDLE) _exit(21);
        _exit(0);
    }
    ASSERT_EQ(wait_child(pid, 10000), 0);
    check_unchanged(before);
    ASSERT_EQ(stats().dwTickets, 0);

    /* Within the limit, the child has them all. */
    ASSERT(CloseHandle(c));
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
        if (!NsemQueryObject(a, &info) || info.dwHandleCount != 2) _exit(22);
        if (!NsemQueryObject(b, &info)) _exit(23);
        _exit(0);
    }
    ASSERT_EQ(wait_child(pid, 10000), 0);
    return 0;
}

TEST(limits_spawn_over_the_limit)
{
    use_server_with_limits(NULL, NULL, "5");
    SECURITY_ATTRIBUTES inherit = {sizeof inherit, NULL, TRUE};
    HANDLE a = CreateSemaphoreA(&inherit, 1, 1, NULL);
    HANDLE b = CreateSemaphoreA(&inherit, 1, 1, NULL);
    HANDLE c = CreateSemaphoreA(&inherit, 1, 1, NULL);
    HANDLE plain = CreateSemaphoreA(NULL, 1, 1, NULL); /* not inheritable: not copied */
    ASSERT(a && b && c && plain);
    NSEM_SERVER_STATS before = stats();
    /* As CreateProcess with bInheritHandles: no child if its handles cannot be given. */
    char *argv[] = {"true", NULL};
    pid_t pid = 0;
    ASSERT_EQ(posix_spawnp(&pid, "true", NULL, NULL, argv, environ), EAGAIN);
    ASSERT_EQ(pid, 0);
    errno = 0;
    ASSERT_EQ(system("true"), -1);
    ASSERT_EQ(errno, EAGAIN);
    check_unchanged(before);
    /* Within the limit, it spawns (only the inheritable handles are copied: two). */
    ASSERT(CloseHandle(c));
    ASSERT(CloseHandle(plain));
    ASSERT_EQ(posix_spawnp(&pid, "true", NULL, NULL, argv, environ), 0);
    ASSERT_EQ(wait_child(pid, 10000), 0);
    /* the child's copies go when the server sees it end */
    for (uint64_t end = now_ms() + 5000; stats().dwHandles != 2 && now_ms() < end;) sleep_ms(2);
    ASSERT_EQ(stats().dwHandles, 2);
    ASSERT_EQ(system("true"), 0);
    ASSERT(CloseHandle(a));
    ASSERT(CloseHandle(b));
    return 0;
}

/* ---- the arena ----------------------------------------------------------------------------- */

TEST(limits_arena_full)
{
    use_server_with_limits(NULL, NULL, NULL);
    /* eleven slots after the client table: the default descriptor the events share takes three */
    setenv("NSEMD_TEST_ARENA_SLOTS", "11", 1);
    HANDLE h[8];
    for (int i = 0; i < 7; i++) ASSERT_NOT_NULL(h[i] = CreateEventA(NULL, FALSE, FALSE, NULL));
    NSEM_SERVER_STATS before = stats();
    ASSERT_EQ(before.dwArenaSlots, 10);
    /* One slot left: an undo semaphore needs two (its own and its creator's undo record). */
    ASSERT_REFUSED(CreateSemaphoreExA(NULL, 1, 1, "lim-undo", SEMAPHORE_UNDO, SEMAPHORE_ALL_ACCESS),
                   ERROR_NO_SYSTEM_RESOURCES);
    check_unchanged(before);
    ASSERT_REFUSED(OpenSemaphoreA(SYNCHRONIZE, FALSE, "lim-undo"), ERROR_FILE_NOT_FOUND);
    /* an exclusive semaphore takes it and works without its waiter queue */
    ASSERT_NOT_NULL(h[7] = CreateSemaphoreExA(NULL, 1, 1, NULL, SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS));
    ASSERT_EQ_U(NsemRequestSemaphore(h[7], 0), 0);
    ASSERT(ReleaseSemaphore(h[7], 1, NULL));
    before = stats();
    ASSERT_REFUSED(CreateSemaphoreA(NULL, 0, 1, NULL), ERROR_NO_SYSTEM_RESOURCES);
    ASSERT_REFUSED(CreateMutexA(NULL, FALSE, "lim-m"), ERROR_NO_SYSTEM_RESOURCES);
    ASSERT_REFUSED(OpenProcess(SYNCHRONIZE, FALSE, (DWORD)getppid()), ERROR_NO_SYSTEM_RESOURCES);
    check_unchanged(before);
    /* a freed slot is used again (the arena is full: no quarantine) */
    ASSERT(CloseHandle(h[0]));
    ASSERT_NOT_NULL(h[0] = CreateMutexA(NULL, FALSE, "lim-m"));
    for (int i = 0; i < 8; i++) ASSERT(CloseHandle(h[i]));
    return 0;
}

/* ---- configuration ------------------------------------------------------------------------- */

TEST(limits_bad_values_refused)
{
    /* Exit 2 before anything else (the socket's directory does not even exist). */
    const char *none[] = {NULL};
    ASSERT_EQ(run_nsemd("NSEMD_MAX_OBJECTS", "0", none), 2);
    ASSERT_EQ(run_nsemd("NSEMD_MAX_OBJECTS", "12x", none), 2);
    ASSERT_EQ(run_nsemd("NSEMD_MAX_OBJECTS", "", none), 2);
    ASSERT_EQ(run_nsemd("NSEMD_MAX_OBJECTS", "-5", none), 2);
    ASSERT_EQ(run_nsemd("NSEMD_MAX_OBJECTS", "4194304", none), 2); /* more than the arena has slots */
    const char *zero[] = {"--max-handles", "0", NULL};
    ASSERT_EQ(run_nsemd("NSEMD_MAX_OBJECTS", NULL, zero), 2);
    const char *huge[] = {"--max-handles-per-process", "1048577", NULL}; /* the table's bound */
    ASSERT_EQ(run_nsemd("NSEMD_MAX_OBJECTS", NULL, huge), 2);
    const char *big[] = {"--max-handles", "4294967296", NULL};
    ASSERT_EQ(run_nsemd("NSEMD_MAX_OBJECTS", NULL, big), 2);
    const char *missing[] = {"--max-objects", NULL};
    ASSERT_EQ(run_nsemd("NSEMD_MAX_OBJECTS", NULL, missing), 2);
    /* good values pass the check (then, with no lock file to be had, it leaves with 1) */
    const char *good[] = {"--max-objects", "4194303", "--max-handles-per-process", "1048576", "--max-handles",
                          "4294967295", NULL};
    ASSERT_EQ(run_nsemd("NSEMD_MAX_OBJECTS", "7", good), 1);
    return 0;
}

/* An option wins over its variable. */
TEST(limits_option_over_variable)
{
    char dir[] = "/tmp/nsem-limopt.XXXXXX", sock[200];
    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(sock, sizeof sock, "%s/s.sock", dir);
    setenv("NSEM_SERVER", sock, 1);
    pid_t server = fork();
    if (server == 0) {
        setenv("NSEMD_MAX_OBJECTS", "1", 1);
        execl(harness_server_path(), "nsemd", "--foreground", "--socket", sock, "--grace", "60000", "--max-objects",
              "3", (char *)NULL);
        _exit(127);
    }
    uint64_t end = now_ms() + 5000;
    while (access(sock, F_OK) != 0 && now_ms() < end) sleep_ms(5);
    HANDLE h[3];
    for (int i = 0; i < 3; i++) ASSERT_NOT_NULL(h[i] = CreateEventA(NULL, FALSE, FALSE, NULL));
    ASSERT_REFUSED(CreateEventA(NULL, FALSE, FALSE, NULL), ERROR_NOT_ENOUGH_QUOTA);
    kill(server, SIGTERM);
    ASSERT_EQ(wait_child(server, 5000), 0);
    return 0;
}

TEST(limits_error_names)
{
    ASSERT(strcmp(NsemErrorName(ERROR_NOT_ENOUGH_QUOTA), "ERROR_NOT_ENOUGH_QUOTA") == 0);
    ASSERT(strcmp(NsemErrorMessage(ERROR_NOT_ENOUGH_QUOTA), "Not enough quota is available to process this command.") == 0);
    ASSERT(strcmp(NsemErrorName(ERROR_NO_SYSTEM_RESOURCES), "ERROR_NO_SYSTEM_RESOURCES") == 0);
    return 0;
}

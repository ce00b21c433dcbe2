/*
 * test-process.c — process handles and DuplicateHandle across processes (issue 4, SPEC 1.K):
 * OpenProcess, a process handle signalled when the process ends, handles duplicated into a process
 * (connected to nsem or not yet) and out of one, lifetime across both, and the bad-input codes.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checks.h"
#include "common/protocol.h"
#include "harness.h"

extern const char *harness_argv0;

static const char *hex(HANDLE h)
{
    static char bufs[4][24];
    static unsigned next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%lx", (unsigned long)(uintptr_t)h);
    return b;
}

/* Reads a handle value the test wrote into path (waiting for it, without any nsem call). */
static HANDLE value_from_file(const char *path)
{
    for (int i = 0; i < 5000; i++) {
        FILE *f = fopen(path, "r");
        unsigned long v = 0;
        if (f && fscanf(f, "%lx", &v) == 1) {
            fclose(f);
            return (HANDLE)(uintptr_t)v;
        }
        if (f) fclose(f);
        sleep_ms(1);
    }
    return NULL;
}

static void value_to_file(const char *path, HANDLE h)
{
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    ASSERT_NOT_NULL(f);
    fprintf(f, "%s\n", hex(h));
    fclose(f);
    ASSERT_EQ(rename(tmp, path), 0);
}

/* argv: file to read a handle value from; "connect" to call nsem first. Releases the semaphore
 * behind the value it is given. */
HELPER(process_receiver)
{
    if (strcmp(argv[1], "connect") == 0) {
        HANDLE e = CreateEventA(NULL, FALSE, FALSE, NULL); /* connected before the duplication */
        if (!e) return 9;
    }
    say("running"); /* this image runs (it has exec'd); in "wait" mode it has made no nsem call */
    HANDLE h = value_from_file(argv[0]);
    if (!h) return 10;
    SetLastError(POISON);
    if (!ReleaseSemaphore(h, 1, NULL)) return 11;
    say("released");
    return 0;
}

static void dup_into_child(bool child_connects)
{
    char path[200];
    snprintf(path, sizeof path, "/tmp/%s", uniq(child_connects ? "dup-conn" : "dup-new"));
    unlink(path);
    HANDLE s = CreateSemaphoreA(NULL, 0, 1, NULL);
    ASSERT_NOT_NULL(s);
    int fd;
    char line[32];
    pid_t pid = spawn_helper("process_receiver", &fd, path, child_connects ? "connect" : "wait", NULL);
    read_line(fd, line, sizeof line, 10000);
    HANDLE proc = OpenProcess(PROCESS_DUP_HANDLE, FALSE, (DWORD)pid);
    ASSERT_NOT_NULL(proc);
    HANDLE theirs = NULL;
    SetLastError(POISON);
    ASSERT(DuplicateHandle(GetCurrentProcess(), s, proc, &theirs, 0, FALSE, DUPLICATE_SAME_ACCESS));
    ASSERT_GLE(POISON);
    ASSERT_NOT_NULL(theirs);
    /* counted from now on, in the target, whether it has connected or not (polled: until the child
     * has exec'd it also holds its fork copy of s) */
    wait_handles(s, 2);
    value_to_file(path, theirs);
    read_line(fd, line, sizeof line, 10000);
    ASSERT(strcmp(line, "released") == 0);
    ASSERT_EQ_U(WaitForSingleObject(s, 5000), WAIT_OBJECT_0);
    ASSERT_EQ(wait_child(pid, 10000), 0);
    wait_handles(s, 1); /* its copy went with it */
    unlink(path);
    ASSERT(CloseHandle(proc));
    ASSERT(CloseHandle(s));
}

/* issue 4: into another process, whose new handle value the caller passes out of band and which
 * works there on first use. */
TEST(process_dup_into_connected_child)
{
    dup_into_child(true);
    return 0;
}

/* ... also into a process that has not called nsem yet: it holds the handle from now on. */
TEST(process_dup_into_child_before_it_connects)
{
    dup_into_child(false);
    return 0;
}

/* A fork child's first call, held until its parent has duplicated a handle into it: the value,
 * read from a pipe by an atfork handler that runs before nsem's. */
static int fork_gate[2] = {-1, -1};
static uintptr_t gate_value;

static void hold_fork_child(void)
{
    if (fork_gate[0] >= 0 && read(fork_gate[0], &gate_value, sizeof gate_value) != sizeof gate_value) gate_value = 0;
}

/* Into a fork child before its first call to the server: the duplicate is there at the value the
 * duplicator got, and the copies of its parent's handles are there at theirs. (Chaos found the
 * duplicate at the value of an inherited handle, which it replaced: the child never saw it.) */
TEST(process_dup_into_fork_child_before_it_connects)
{
    /* Registered before nsem's handlers (no nsem call yet), so in the child it runs before nsem's
     * connects: the child says HELLO only after the duplication. */
    ASSERT_EQ(pthread_atfork(NULL, NULL, hold_fork_child), 0);
    ASSERT_EQ(pipe(fork_gate), 0);
    HANDLE copied = new_sem(1, 5), sent = new_sem(2, 5);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        HANDLE got = (HANDLE)gate_value;
        NSEM_OBJECT_INFO a = {.cbSize = sizeof a}, b = {.cbSize = sizeof b};
        if (!NsemQueryObject(copied, &a) || a.lCurrentCount != 1) _exit(10);
        if (!got || got == copied || got == sent) _exit(11);
        if (!NsemQueryObject(got, &b) || b.lCurrentCount != 2) _exit(12);
        _exit(WaitForSingleObject(got, 0) == WAIT_OBJECT_0 ? 0 : 13);
    }
    HANDLE proc = OpenProcess(PROCESS_DUP_HANDLE, FALSE, (DWORD)pid);
    ASSERT_NOT_NULL(proc);
    HANDLE theirs = NULL;
    ASSERT(DuplicateHandle(GetCurrentProcess(), sent, proc, &theirs, 0, FALSE, DUPLICATE_SAME_ACCESS));
    check_handles(sent, 3); /* ours, its fork copy, the duplicate */
    uintptr_t v = (uintptr_t)theirs;
    ASSERT_EQ(write(fork_gate[1], &v, sizeof v), (ssize_t)sizeof v);
    ASSERT_EQ(wait_child(pid, 10000), 0);
    check_sem(sent, 1, 5); /* taken through the duplicate */
    wait_handles(sent, 1); /* both of its handles went with it */
    wait_handles(copied, 1);
    ASSERT(CloseHandle(proc));
    return 0;
}

/* A second connection of this process, greeted, as the library's would be. */
static int raw_client(void)
{
    int fd = raw_connect();
    raw_hello(fd, NsemGetSessionId());
    return fd;
}

/* One request on a raw connection; returns the reply's error. */
static uint32_t raw_request(int fd, void *req, uint32_t len, void *rep, uint32_t rep_len)
{
    ((struct nsem_req_hdr *)req)->len = len;
    ASSERT_EQ(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
    ASSERT_EQ(recv(fd, rep, rep_len, MSG_WAITALL), (ssize_t)rep_len);
    return ((struct nsem_rep_hdr *)rep)->error;
}

/* argv: a file with two handle values, an inherited semaphore (count 1) and a duplicated one
 * (count 2), written once both are given. */
HELPER(process_spawned_checks)
{
    char line[64] = "";
    for (int i = 0; i < 5000; i++) {
        FILE *f = fopen(argv[0], "r");
        bool got = f && fgets(line, sizeof line, f) && strchr(line, '\n');
        if (f) fclose(f);
        if (got) break;
        sleep_ms(1);
    }
    unsigned long inherited = 0, duplicated = 0;
    if (sscanf(line, "%lx %lx", &inherited, &duplicated) != 2) return 10;
    NSEM_OBJECT_INFO a = {.cbSize = sizeof a}, b = {.cbSize = sizeof b};
    if (!NsemQueryObject((HANDLE)inherited, &a) || a.lCurrentCount != 1) return 11;
    if (!NsemQueryObject((HANDLE)duplicated, &b) || b.lCurrentCount != 2) return 12;
    return 0;
}

/* Into a posix_spawn child between its birth and the binding of its spawn ticket (the window
 * between the two, made wide here): the child has both its inherited handles and the duplicate.
 * (The ticket used to be dropped, the child inheriting nothing.) */
TEST(process_dup_into_spawn_child_before_its_ticket)
{
    char path[200];
    snprintf(path, sizeof path, "/tmp/%s", uniq("spawn-dup"));
    unlink(path);
    /* the real posix_spawn, not nsem's wrapper: the ticket is made and bound by hand below */
    int (*real_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
                      char *const[], char *const[]) = (int (*)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                                                               const posix_spawnattr_t *, char *const[],
                                                               char *const[]))dlsym(RTLD_NEXT, "posix_spawn");
    ASSERT_NOT_NULL(real_spawn);
    char *args[] = {(char *)harness_argv0, "--helper", "process_spawned_checks", path, NULL};
    extern char **environ;
    pid_t pid;
    ASSERT_EQ(real_spawn(&pid, harness_argv0, NULL, NULL, args, environ), 0);
    HANDLE sent = new_sem(2, 5), theirs = NULL;
    HANDLE proc = OpenProcess(PROCESS_DUP_HANDLE, FALSE, (DWORD)pid);
    ASSERT_NOT_NULL(proc);
    ASSERT(DuplicateHandle(GetCurrentProcess(), sent, proc, &theirs, 0, FALSE, DUPLICATE_SAME_ACCESS));
    /* the spawn ticket, from a connection whose only handle is an inheritable semaphore */
    int fd = raw_client();
    struct nsem_req_create create = {{0, NSEM_OP_CREATE}, NSEM_TYPE_SEMAPHORE, SEMAPHORE_ALL_ACCESS, NSEM_ATTR_INHERIT,
                                     0, 1, 5, 0, 0, 0, 0};
    struct nsem_rep_handle made;
    ASSERT_EQ(raw_request(fd, &create, sizeof create, &made, sizeof made), 0);
    struct nsem_req_spawn prepare = {{0, NSEM_OP_SPAWN}, NSEM_SPAWN_PREPARE, 0, 0, 0};
    struct nsem_rep_fork ticket;
    ASSERT_EQ(raw_request(fd, &prepare, sizeof prepare, &ticket, sizeof ticket), 0);
    struct nsem_req_spawn bind = {{0, NSEM_OP_SPAWN}, NSEM_SPAWN_BIND, (uint32_t)pid, ticket.ticket_lo, ticket.ticket_hi};
    struct nsem_rep_status bound;
    ASSERT_EQ(raw_request(fd, &bind, sizeof bind, &bound, sizeof bound), 0);
    check_handles(sent, 2);
    char tmp[220];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    ASSERT_NOT_NULL(f);
    fprintf(f, "%x %s\n", made.handle, hex(theirs));
    fclose(f);
    ASSERT_EQ(rename(tmp, path), 0);
    ASSERT_EQ(wait_child(pid, 10000), 0);
    wait_handles(sent, 1);
    unlink(path);
    close(fd);
    ASSERT(CloseHandle(proc));
    return 0;
}

/* argv: the name of an event to wait for before exiting. Makes a semaphore (count 3) and says its
 * handle value. */
HELPER(process_giver)
{
    HANDLE s = CreateSemaphoreA(NULL, 3, 5, NULL);
    HANDLE done = OpenEventA(SYNCHRONIZE, FALSE, argv[0]);
    if (!s || !done) return 10;
    say("%s", hex(s));
    return WaitForSingleObject(done, 10000) == WAIT_OBJECT_0 ? 0 : 11;
}

/* issue 4: from another process into ours. */
TEST(process_dup_from_child)
{
    HANDLE done = CreateEventA(NULL, TRUE, FALSE, uniq("giver-done"));
    ASSERT_NOT_NULL(done);
    int fd;
    char line[32];
    pid_t pid = spawn_helper("process_giver", &fd, uniq("giver-done"), NULL);
    read_line(fd, line, sizeof line, 10000);
    HANDLE theirs = (HANDLE)(uintptr_t)strtoul(line, NULL, 16);
    HANDLE proc = OpenProcess(PROCESS_DUP_HANDLE | SYNCHRONIZE, FALSE, (DWORD)pid);
    ASSERT_NOT_NULL(proc);
    HANDLE mine = NULL;
    ASSERT(DuplicateHandle(proc, theirs, GetCurrentProcess(), &mine, SEMAPHORE_QUERY_STATE | SYNCHRONIZE, FALSE, 0));
    check_sem(mine, 3, 5);
    ASSERT_EQ_U(WaitForSingleObject(mine, 0), WAIT_OBJECT_0);
    SetLastError(POISON);
    ASSERT(!ReleaseSemaphore(mine, 1, NULL)); /* the access asked for, not the source's */
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    /* a handle it does not have */
    HANDLE none = (HANDLE)(uintptr_t)0x7ffc;
    SetLastError(POISON);
    ASSERT(!DuplicateHandle(proc, none, GetCurrentProcess(), &mine, 0, FALSE, DUPLICATE_SAME_ACCESS));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    ASSERT(SetEvent(done));
    ASSERT_EQ(wait_child(pid, 10000), 0);
    /* the process handle is signalled now that it has ended */
    ASSERT_EQ_U(WaitForSingleObject(proc, 5000), WAIT_OBJECT_0);
    ASSERT(CloseHandle(proc));
    return 0;
}

/* issue 4: the parent closes its own handle after duplicating into a process that then exits: the
 * object goes with that process's copy — no reference leaks. */
TEST(process_dup_into_exiting_process)
{
    HANDLE s = CreateSemaphoreA(NULL, 0, 1, uniq("leak"));
    ASSERT_NOT_NULL(s);
    int fd;
    char line[32];
    pid_t pid = spawn_helper("process_giver", &fd, uniq("never-set"), NULL); /* it will fail to open */
    HANDLE proc = OpenProcess(PROCESS_DUP_HANDLE, FALSE, (DWORD)pid);
    ASSERT_NOT_NULL(proc);
    HANDLE theirs;
    ASSERT(DuplicateHandle(GetCurrentProcess(), s, proc, &theirs, 0, FALSE, DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE));
    ASSERT_NE(wait_child(pid, 10000), 0);
    (void)fd;
    (void)line;
    uint64_t end = now_ms() + 5000;
    HANDLE h;
    while ((h = OpenSemaphoreA(SYNCHRONIZE, FALSE, uniq("leak"))) != NULL && now_ms() < end) {
        CloseHandle(h);
        sleep_ms(5);
    }
    ASSERT_NULL(h); /* gone with the target's copy */
    SetLastError(POISON);
    ASSERT(!DuplicateHandle(GetCurrentProcess(), GetCurrentProcess(), proc, &theirs, 0, FALSE, DUPLICATE_SAME_ACCESS));
    ASSERT_GLE(ERROR_INVALID_HANDLE); /* it has ended */
    ASSERT(CloseHandle(proc));
    return 0;
}

/* argv: pids to hold a process handle to (none: just be connected); then waits to be killed. */
HELPER(process_holder)
{
    for (int i = 0; i < argc; i++)
        if (!OpenProcess(SYNCHRONIZE, FALSE, (DWORD)atoi(argv[i]))) return 10;
    if (!argc && !CreateEventA(NULL, TRUE, FALSE, NULL)) return 11;
    say("ready");
    for (;;) pause();
}

/* Process objects' only holder and their processes end while the server does not run: when it
 * runs again, one turn of its loop sees them all, and the holder's end frees the objects before
 * their processes' ends are handled. (Chaos crashed the server that way: a later event of the turn
 * reached a freed object.) */
TEST(process_holder_and_process_end_together)
{
    NSEM_SERVER_STATS st = {.cbSize = sizeof st};
    ASSERT(NsemGetServerStats(&st));
    int fd;
    char line[32], pids[4][16];
    pid_t targets[4];
    for (int i = 0; i < 4; i++) {
        targets[i] = spawn_helper("process_holder", &fd, NULL);
        read_line(fd, line, sizeof line, 10000);
        close(fd);
        snprintf(pids[i], sizeof pids[i], "%d", (int)targets[i]);
    }
    pid_t holder = spawn_helper("process_holder", &fd, pids[0], pids[1], pids[2], pids[3], NULL);
    read_line(fd, line, sizeof line, 10000);
    close(fd);
    ASSERT_EQ(kill((pid_t)st.dwServerProcessId, SIGSTOP), 0);
    kill(holder, SIGKILL);
    ASSERT_EQ(wait_child(holder, 5000), 128 + SIGKILL);
    for (int i = 0; i < 4; i++) {
        kill(targets[i], SIGKILL);
        ASSERT_EQ(wait_child(targets[i], 5000), 128 + SIGKILL);
    }
    ASSERT_EQ(kill((pid_t)st.dwServerProcessId, SIGCONT), 0);
    NSEM_SERVER_STATS after = {.cbSize = sizeof after};
    ASSERT(NsemGetServerStats(&after));
    ASSERT_EQ(after.dwServerProcessId, st.dwServerProcessId); /* the same server, alive */
    return 0;
}

TEST(process_open_errors)
{
    SetLastError(POISON);
    ASSERT_NULL(OpenProcess(PROCESS_DUP_HANDLE, FALSE, 0));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_NULL(OpenProcess(PROCESS_DUP_HANDLE, FALSE, 0x3FFFFFF0u)); /* no such process */
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_NULL(OpenProcess(0, FALSE, GetCurrentProcessId()));
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    HANDLE self = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, GetCurrentProcessId());
    ASSERT_NOT_NULL(self);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(self, 0), WAIT_FAILED); /* no SYNCHRONIZE */
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    HANDLE waitable = OpenProcess(SYNCHRONIZE, FALSE, GetCurrentProcessId());
    ASSERT_EQ_U(WaitForSingleObject(waitable, 0), WAIT_TIMEOUT); /* we are running */
    /* a process handle without PROCESS_DUP_HANDLE cannot be a source or target */
    HANDLE s = new_sem(0, 1), out = (HANDLE)1;
    SetLastError(POISON);
    ASSERT(!DuplicateHandle(GetCurrentProcess(), s, self, &out, 0, FALSE, DUPLICATE_SAME_ACCESS));
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    ASSERT_NULL(out);
    /* a handle that is not a process's, or none */
    SetLastError(POISON);
    ASSERT(!DuplicateHandle(GetCurrentProcess(), s, s, &out, 0, FALSE, DUPLICATE_SAME_ACCESS));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT(!DuplicateHandle((HANDLE)(uintptr_t)0x7ff0, s, GetCurrentProcess(), &out, 0, FALSE, DUPLICATE_SAME_ACCESS));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT(!DuplicateHandle(GetCurrentThread(), s, GetCurrentProcess(), &out, 0, FALSE, DUPLICATE_SAME_ACCESS));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    /* unknown options, into another process */
    HANDLE dupper = OpenProcess(PROCESS_DUP_HANDLE, FALSE, GetCurrentProcessId());
    SetLastError(POISON);
    ASSERT(!DuplicateHandle(GetCurrentProcess(), s, dupper, &out, 0, FALSE, 0x100));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    check_handles(s, 1); /* nothing was made */
    ASSERT(CloseHandle(dupper));
    ASSERT(CloseHandle(waitable));
    ASSERT(CloseHandle(self));
    return 0;
}

HELPER(process_owner_of_mutex)
{
    HANDLE m = CreateMutexA(NULL, TRUE, argv[0]);
    if (!m) return 10;
    say("%lu", (unsigned long)(uintptr_t)m);
    for (;;) pause();
}

/* A handle closed by another process (DUPLICATE_CLOSE_SOURCE) while its process owns the mutex: the
 * owner's death still abandons it. */
TEST(process_remote_close_then_owner_dies)
{
    const char *name = uniq("remote-close");
    int fd;
    pid_t owner = spawn_helper("process_owner_of_mutex", &fd, name, NULL);
    char line[32];
    read_line(fd, line, sizeof line, 10000);
    HANDLE theirs = (HANDLE)(uintptr_t)strtoul(line, NULL, 10);
    HANDLE mine = OpenMutexA(SYNCHRONIZE, FALSE, name);
    ASSERT_NOT_NULL(mine);
    HANDLE proc = OpenProcess(PROCESS_DUP_HANDLE, FALSE, (DWORD)owner);
    ASSERT_NOT_NULL(proc);
    HANDLE moved;
    ASSERT(DuplicateHandle(proc, theirs, GetCurrentProcess(), &moved, 0, FALSE,
                           DUPLICATE_CLOSE_SOURCE | DUPLICATE_SAME_ACCESS));
    ASSERT(CloseHandle(moved));
    ASSERT_EQ(kill(owner, SIGKILL), 0);
    ASSERT_EQ(wait_child(owner, 10000), 128 + SIGKILL);
    ASSERT_EQ_U(WaitForSingleObject(mine, 5000), WAIT_ABANDONED_0);
    ASSERT(ReleaseMutex(mine));
    ASSERT(CloseHandle(mine));
    ASSERT(CloseHandle(proc));
    return 0;
}

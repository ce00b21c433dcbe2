/*
 * test-crash.c — the server dies (SIGKILL) under its clients: every blocked call returns at once
 * with ERROR_PROCESS_ABORTED, in this process and in others; the next call starts a new server,
 * which recovers every object from the arena file, with its name, state, handles, security
 * descriptor and undo records, and settles the processes that died meanwhile; without the file,
 * the handles are closed; `nsem` says what happened. Each test kills a private server of its own.
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

static pid_t server_pid(void)
{
    NSEM_SERVER_STATS st = {.cbSize = sizeof st};
    ASSERT(NsemGetServerStats(&st));
    return (pid_t)st.dwServerProcessId;
}


/* Kills the server and waits until it is gone. */
static void kill_server(pid_t pid)
{
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    uint64_t end = now_ms() + 5000;
    while (!process_exited(pid) && now_ms() < end) sleep_ms(2);
    ASSERT(process_exited(pid));
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
    use_private_server("crash");
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

/* Without the arena file (removed after the crash), a new server cannot recover: the handles are
 * closed, and no value the process held comes to name a new object. */
TEST(crash_without_arena_closes_handles)
{
    use_private_server("crash");
    char name[64], arena[260];
    snprintf(name, sizeof name, "crash-new-%d", (int)getpid());
    snprintf(arena, sizeof arena, "%s.arena", getenv("NSEM_SERVER"));
    HANDLE s = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(s);
    pid_t first = server_pid();
    kill_server(first);
    ASSERT_EQ(unlink(arena), 0);

    SetLastError(0xdead);
    ASSERT_EQ_U(WaitForSingleObject(s, 100), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(0xdead);
    ASSERT(!ReleaseSemaphore(s, 1, NULL));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(0xdead);
    ASSERT(!CloseHandle(s));
    ASSERT_GLE(ERROR_INVALID_HANDLE);

    SetLastError(0xdead);
    HANDLE again = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(again);
    ASSERT_GLE(0); /* the old object is gone */
    ASSERT(server_pid() != first);
    ASSERT(again != s);
    ASSERT(CloseHandle(again));
    return 0;
}

HELPER(crash_peer)
{
    /* argv: semaphore name, mutex name, undo semaphore name */
    HANDLE s = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, argv[0]);
    HANDLE m = CreateMutexA(NULL, TRUE, argv[1]);
    HANDLE u = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, argv[2]);
    if (!s || !m || !u || WaitForSingleObject(u, 0) != WAIT_OBJECT_0) return 10;
    say("ready");
    for (;;) pause();
}

static void check_state_at(int line, HANDLE h, LONG count)
{
    NSEM_OBJECT_INFO i = query_at(__FILE__, line, h);
    CHECK_EQ_AT(line, "count", i.lCurrentCount, count);
}

/* The server dies; a new one recovers every object, name, handle, owner and undo record from the
 * arena file: nothing is lost, and a process that died meanwhile is settled. */
TEST(crash_recovers_everything)
{
    use_private_server("crash");
    char sname[64], mname[64], uname[64], ename[64];
    snprintf(sname, sizeof sname, "crash-s-%d", (int)getpid());
    snprintf(mname, sizeof mname, "crash-m-%d", (int)getpid());
    snprintf(uname, sizeof uname, "crash-u-%d", (int)getpid());
    snprintf(ename, sizeof ename, "Global\\crash-e-%d-with-a-name-longer-than-one-chunk-of-the-arena", (int)getpid());
    HANDLE s = CreateSemaphoreA(NULL, 2, 5, sname);
    HANDLE mine = CreateMutexA(NULL, TRUE, NULL);
    HANDLE e = CreateEventA(NULL, TRUE, TRUE, ename);
    HANDLE u = CreateSemaphoreExA(NULL, 3, 3, uname, SEMAPHORE_UNDO, SEMAPHORE_ALL_ACCESS);
    ASSERT(s && mine && e && u);
    int fd1, fd2;
    char peer_mutex[64], dying_mutex[64];
    snprintf(peer_mutex, sizeof peer_mutex, "crash-pm-%d", (int)getpid());
    snprintf(dying_mutex, sizeof dying_mutex, "crash-dm-%d", (int)getpid());
    pid_t peer = spawn_helper("crash_peer", &fd1, sname, peer_mutex, uname, NULL);
    expect_line(fd1, "ready");
    pid_t dying = spawn_helper("crash_peer", &fd2, sname, dying_mutex, uname, NULL);
    expect_line(fd2, "ready");
    HANDLE pm = OpenMutexA(SYNCHRONIZE | MUTANT_QUERY_STATE, FALSE, peer_mutex);
    HANDLE dm = OpenMutexA(SYNCHRONIZE | MUTANT_QUERY_STATE, FALSE, dying_mutex);
    ASSERT(pm && dm);
    check_sem(u, 1, 3); /* each helper took one */
    NSEM_SERVER_STATS before = {.cbSize = sizeof before};
    ASSERT(NsemGetServerStats(&before));

    kill_server(server_pid());
    /* one helper dies while there is no server at all */
    ASSERT_EQ(kill(dying, SIGKILL), 0);
    ASSERT_EQ(wait_child(dying, 10000), 128 + SIGKILL);

    /* The first call finds the server gone and starts a new one, which recovers. */
    check_state_at(__LINE__, s, 2);
    ASSERT(server_pid() != (pid_t)before.dwServerProcessId);
    ASSERT(ReleaseMutex(mine)); /* still ours */
    ASSERT_EQ_U(WaitForSingleObject(e, 0), WAIT_OBJECT_0); /* still set */
    HANDLE e2 = OpenEventA(SYNCHRONIZE, FALSE, ename); /* names survive, long ones too */
    ASSERT_NOT_NULL(e2);
    HANDLE s2 = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, sname);
    ASSERT_NOT_NULL(s2);
    /* s and s2: the dead helper's handle went with it, and the live helper's is counted again
     * when it comes back */
    check_handles(s2, 2);
    /* the dead helper: its mutex abandoned, its undo permit back */
    ASSERT_EQ_U(WaitForSingleObject(dm, 5000), WAIT_ABANDONED_0);
    ASSERT(ReleaseMutex(dm));
    check_sem(u, 2, 3);
    /* the live helper, which has not called since (a pending record): still owns its mutex */
    ASSERT_EQ_U(WaitForSingleObject(pm, 0), WAIT_TIMEOUT);
    /* ... until it dies: then it is settled as any dead process */
    ASSERT_EQ(kill(peer, SIGKILL), 0);
    ASSERT_EQ(wait_child(peer, 10000), 128 + SIGKILL);
    ASSERT_EQ_U(WaitForSingleObject(pm, 5000), WAIT_ABANDONED_0);
    ASSERT(ReleaseMutex(pm));
    wait_handles(s2, 2);
    check_sem(u, 3, 3);

    HANDLE all[] = {s, mine, e, u, pm, dm, e2, s2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) ASSERT(CloseHandle(all[i]));
    NSEM_SERVER_STATS after = {.cbSize = sizeof after};
    uint64_t end = now_ms() + 5000;
    do {
        ASSERT(NsemGetServerStats(&after));
        if (after.dwObjects == 0 && after.dwArenaSlots == 0) break;
        sleep_ms(10);
    } while (now_ms() < end);
    ASSERT_EQ(after.dwObjects, 0);
    ASSERT_EQ(after.dwHandles, 0);
    ASSERT_EQ(after.dwRecords, 0);
    ASSERT_EQ(after.dwArenaSlots, 0);
    return 0;
}

HELPER(crash_waiter)
{
    HANDLE s = OpenSemaphoreA(SYNCHRONIZE, FALSE, argv[0]);
    if (!s) return 10;
    say("waiting");
    DWORD r = WaitForSingleObject(s, INFINITE);
    DWORD gle = GetLastError();
    say("%u %u", r, gle);
    r = WaitForSingleObject(s, INFINITE); /* the same handle, after the recovery */
    say("%u", r);
    return 0;
}

/* A wait cut short by the crash can be tried again with the same handle, and a release by another
 * process, through the recovered server's objects, satisfies it. */
TEST(crash_wait_again_after_recovery)
{
    use_private_server("crash");
    char name[64];
    snprintf(name, sizeof name, "crash-again-%d", (int)getpid());
    HANDLE s = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(s);
    int fd;
    pid_t w = spawn_helper("crash_waiter", &fd, name, NULL);
    expect_line(fd, "waiting");
    wait_waiters(s, 1);
    kill_server(server_pid());
    char line[64], want[64];
    read_line(fd, line, sizeof line, 10000);
    snprintf(want, sizeof want, "%u %u", WAIT_FAILED, ERROR_PROCESS_ABORTED);
    ASSERT(strcmp(line, want) == 0);
    wait_waiters(s, 1); /* waiting again, on the recovered object */
    ASSERT(ReleaseSemaphore(s, 1, NULL));
    expect_line(fd, "0");
    ASSERT_EQ(wait_child(w, 10000), 0);
    ASSERT(CloseHandle(s));
    return 0;
}

/* The SDDL of the parts `info` selects of the descriptor of the object behind h (static buffer). */
static const char *sddl_of(HANDLE h, SECURITY_INFORMATION info)
{
    static char out[512];
    unsigned char sd[512];
    DWORD needed;
    ASSERT(GetKernelObjectSecurity(h, info, sd, sizeof sd, &needed));
    char *s;
    ASSERT(ConvertSecurityDescriptorToStringSecurityDescriptorA(sd, SDDL_REVISION_1, info, &s, NULL));
    snprintf(out, sizeof out, "%s", s);
    LocalFree(s);
    return out;
}

static HANDLE create_sem_with(const char *name, const char *sddl)
{
    PSECURITY_DESCRIPTOR sd;
    ASSERT(ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, &sd, NULL));
    SECURITY_ATTRIBUTES sa = {sizeof sa, sd, FALSE};
    HANDLE h = CreateSemaphoreA(&sa, 1, 5, name);
    ASSERT_NOT_NULL(h);
    LocalFree(sd);
    return h;
}

/* Security descriptors survive the crash: each object's, whether given at creation, shared by
 * several objects, the default, or changed since; the access checks after recovery are those of
 * before; and nothing of them is left in the arena once the objects are gone. */
TEST(crash_keeps_descriptors)
{
    use_private_server("crash");
    char deny[200], deny_name[64], twin_name[64], plain_name[64], changed_name[64];
    unsigned uid = (unsigned)geteuid();
    snprintf(deny, sizeof deny, "D:(D;;0x100000;;;S-1-22-1-%u)(A;;GA;;;S-1-22-1-%u)", uid, uid);
    snprintf(deny_name, sizeof deny_name, "crash-sd-deny-%d", (int)getpid());
    snprintf(twin_name, sizeof twin_name, "crash-sd-twin-%d", (int)getpid());
    snprintf(plain_name, sizeof plain_name, "crash-sd-plain-%d", (int)getpid());
    snprintf(changed_name, sizeof changed_name, "crash-sd-changed-%d", (int)getpid());
    HANDLE d = create_sem_with(deny_name, deny);
    HANDLE twin = create_sem_with(twin_name, deny); /* shares d's descriptor */
    HANDLE plain = CreateSemaphoreA(NULL, 0, 1, plain_name);
    HANDLE changed = CreateEventA(NULL, TRUE, FALSE, changed_name);
    ASSERT(plain && changed);
    PSECURITY_DESCRIPTOR sd;
    ASSERT(ConvertStringSecurityDescriptorToSecurityDescriptorA("D:(A;;0x1;;;WD)S:(ML;;NW;;;LW)", SDDL_REVISION_1, &sd,
                                                                NULL));
    ASSERT(SetKernelObjectSecurity(changed, DACL_SECURITY_INFORMATION | LABEL_SECURITY_INFORMATION, sd));
    LocalFree(sd);
    const SECURITY_INFORMATION all = OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION |
                                     DACL_SECURITY_INFORMATION | LABEL_SECURITY_INFORMATION;
    char before[4][512];
    HANDLE hs[4] = {d, twin, plain, changed};
    for (int i = 0; i < 4; i++) snprintf(before[i], sizeof before[i], "%s", sddl_of(hs[i], all));
    ASSERT_NULL(OpenSemaphoreA(SYNCHRONIZE, FALSE, deny_name));
    pid_t first = server_pid();

    kill_server(first);

    /* the first call finds the server gone; the new one recovers the descriptors */
    for (int i = 0; i < 4; i++) {
        const char *after = sddl_of(hs[i], all);
        if (strcmp(after, before[i]) != 0) fprintf(stderr, "before: %s\nafter:  %s\n", before[i], after);
        ASSERT(strcmp(after, before[i]) == 0);
    }
    ASSERT(server_pid() != first);
    const char *names[2] = {deny_name, twin_name};
    for (int i = 0; i < 2; i++) {
        SetLastError(0xdead);
        ASSERT_NULL(OpenSemaphoreA(SYNCHRONIZE, FALSE, names[i]));
        ASSERT_GLE(ERROR_ACCESS_DENIED);
        HANDLE m = OpenSemaphoreA(SEMAPHORE_MODIFY_STATE, FALSE, names[i]);
        ASSERT_NOT_NULL(m);
        ASSERT(CloseHandle(m));
    }
    HANDLE p2 = OpenSemaphoreA(SYNCHRONIZE, FALSE, plain_name);
    ASSERT_NOT_NULL(p2);
    SetLastError(0xdead);
    ASSERT_NULL(OpenEventA(SYNCHRONIZE, FALSE, changed_name));
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    HANDLE c2 = OpenEventA(EVENT_QUERY_STATE, FALSE, changed_name);
    ASSERT_NOT_NULL(c2);
    /* the recovered objects' descriptors change as any other */
    ASSERT(ConvertStringSecurityDescriptorToSecurityDescriptorA("D:(A;;GA;;;WD)", SDDL_REVISION_1, &sd, NULL));
    ASSERT(SetKernelObjectSecurity(d, DACL_SECURITY_INFORMATION, sd));
    LocalFree(sd);
    HANDLE d2 = OpenSemaphoreA(SYNCHRONIZE, FALSE, deny_name);
    ASSERT_NOT_NULL(d2);
    ASSERT_NULL(OpenSemaphoreA(SYNCHRONIZE, FALSE, twin_name)); /* the twin keeps its own */

    HANDLE close_all[] = {d, twin, plain, changed, p2, c2, d2};
    for (size_t i = 0; i < sizeof close_all / sizeof close_all[0]; i++) ASSERT(CloseHandle(close_all[i]));
    NSEM_SERVER_STATS st = {.cbSize = sizeof st};
    uint64_t end = now_ms() + 5000;
    do {
        ASSERT(NsemGetServerStats(&st));
        if (st.dwObjects == 0 && st.dwArenaSlots == 0) break;
        sleep_ms(10);
    } while (now_ms() < end);
    ASSERT_EQ(st.dwObjects, 0);
    ASSERT_EQ(st.dwArenaSlots, 0);
    return 0;
}

/* A request made after the server died while the process was idle never reached it: it goes to a
 * new server, started for it, and succeeds. */
TEST(crash_next_request_reaches_a_new_server)
{
    use_private_server("crash");
    pid_t first = server_pid();
    kill_server(first);
    SetLastError(0xdead);
    HANDLE s = CreateSemaphoreA(NULL, 1, 1, NULL);
    ASSERT_NOT_NULL(s);
    ASSERT_GLE(0);
    ASSERT(server_pid() != first);
    ASSERT(CloseHandle(s));
    return 0;
}

HELPER(crash_only_holder)
{
    HANDLE s = CreateSemaphoreA(NULL, 1, 1, argv[0]);
    if (!s) return 10;
    say("holding");
    for (;;) pause();
}

/* Every holder of a named object dies while no server runs: the server that recovers the arena
 * finds nobody to give it back to, and destroys it, name and all (it used to abort on an
 * assertion there, and so did every server started after it). */
TEST(crash_object_of_dead_holders_goes)
{
    use_private_server("crash");
    char name[64];
    snprintf(name, sizeof name, "crash-orphan-%d", (int)getpid());
    int fd;
    pid_t holder = spawn_helper("crash_only_holder", &fd, name, NULL);
    expect_line(fd, "holding");
    pid_t first = server_pid();
    kill_server(first);
    ASSERT_EQ(kill(holder, SIGKILL), 0);
    ASSERT_EQ(wait_child(holder, 10000), 128 + SIGKILL);

    SetLastError(0xdead);
    ASSERT_NULL(OpenSemaphoreA(SYNCHRONIZE, FALSE, name));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);
    pid_t second = server_pid();
    ASSERT(second != first);
    NSEM_SERVER_STATS st = stats();
    ASSERT_EQ(st.dwObjects, 0);
    ASSERT_EQ(st.dwArenaSlots, 0);
    ASSERT_EQ(server_pid(), second);
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
    use_private_server("crash");
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

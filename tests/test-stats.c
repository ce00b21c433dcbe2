/*
 * test-stats.c — NsemGetServerStats, and through it the server's accounting: whatever a process
 * makes (objects, handles, pins, undo records, fork tickets) is gone once it has closed or died.
 * Each test uses a private server, so that the counts are its own.
 */
#include "checks.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>


TEST(stats_bad_parameters)
{
    use_private_server("stats");
    SetLastError(0xdead);
    ASSERT(!NsemGetServerStats(NULL));
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    NSEM_SERVER_STATS st = {.cbSize = sizeof st - 1};
    SetLastError(0xdead);
    ASSERT(!NsemGetServerStats(&st));
    ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
    return 0;
}

TEST(stats_count_what_this_process_holds)
{
    use_private_server("stats");
    NSEM_SERVER_STATS st = stats();
    ASSERT_EQ(st.dwObjects, 0);
    ASSERT_EQ(st.dwClients, 1);
    ASSERT(st.dwServerProcessId > 0 && (pid_t)st.dwServerProcessId != getpid());
    ASSERT(st.ullHeapBytes < (1ull << 30)); /* 0 under ASan, whose allocator mallinfo2 cannot see */

    HANDLE a = CreateSemaphoreA(NULL, 1, 5, "stats-a");
    HANDLE m = CreateMutexA(NULL, FALSE, NULL);
    HANDLE e = CreateEventA(NULL, TRUE, FALSE, "stats-e");
    HANDLE u = CreateSemaphoreExA(NULL, 2, 2, "stats-u", SEMAPHORE_UNDO, SEMAPHORE_ALL_ACCESS);
    ASSERT(a && m && e && u);
    HANDLE dup;
    ASSERT(DuplicateHandle(GetCurrentProcess(), a, GetCurrentProcess(), &dup, 0, FALSE, DUPLICATE_SAME_ACCESS));
    ASSERT_EQ(WaitForSingleObject(u, 0), WAIT_OBJECT_0);
    st = stats();
    ASSERT_EQ(st.dwObjects, 4);
    ASSERT_EQ(st.dwHandles, 5);
    ASSERT_EQ(st.dwUndoRecords, 1);
    /* four objects, the undo record, three names and the objects' one shared security descriptor
     * (104 bytes: three chunks), for recover.c */
    ASSERT_EQ(st.dwArenaSlots, 11);
    ASSERT(ReleaseSemaphore(u, 1, NULL));

    HANDLE hs[] = {a, m, e, u, dup};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) ASSERT(CloseHandle(hs[i]));
    wait_server_clean();
    return 0;
}

HELPER(stats_hold_and_block)
{
    setpgid(0, 0); /* its fork child dies with it */
    HANDLE s = CreateSemaphoreA(NULL, 0, 1, argv[0]);
    HANDLE m = CreateMutexA(NULL, TRUE, NULL);
    HANDLE u = CreateSemaphoreExA(NULL, 3, 3, NULL, SEMAPHORE_UNDO, SEMAPHORE_ALL_ACCESS);
    if (!s || !m || !u || WaitForSingleObject(u, 0) != WAIT_OBJECT_0) return 1;
    pid_t child = fork(); /* a fork child holding copies, killed with its parent's group */
    if (child == 0) {
        WaitForSingleObject(s, INFINITE);
        _exit(0);
    }
    say("ready");
    WaitForSingleObject(s, INFINITE);
    return 0;
}

TEST(stats_dead_processes_leave_nothing)
{
    use_private_server("stats");
    char name[64];
    snprintf(name, sizeof name, "stats-dead-%d", (int)getpid());
    int fd;
    pid_t pid = spawn_helper("stats_hold_and_block", &fd, name, NULL);
    expect_line(fd, "ready");
    HANDLE s = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
    ASSERT_NOT_NULL(s);
    wait_waiters(s, 2);
    NSEM_SERVER_STATS st = stats();
    ASSERT_EQ(st.dwClients, 3);
    ASSERT_EQ(st.dwObjects, 3);
    ASSERT_EQ(st.dwHandles, 7); /* three in the helper, three in its child, ours */
    ASSERT(CloseHandle(s));     /* the helper's pins keep nothing it does not also have a handle to */
    ASSERT_EQ(kill(-pid, SIGKILL), 0);
    ASSERT_EQ(wait_child(pid, 10000), 128 + SIGKILL);
    close(fd);
    wait_server_clean();
    return 0;
}

/* "nsem stats" shows the same numbers. */
TEST(stats_cli)
{
    use_private_server("stats");
    HANDLE s = CreateSemaphoreA(NULL, 0, 1, "stats-cli");
    ASSERT_NOT_NULL(s);
    NSEM_SERVER_STATS st = stats();
    char out[200];
    snprintf(out, sizeof out, "/tmp/nsem-stats-cli-%d", (int)getpid());
    ASSERT_EQ(shell("%s stats --json > %s", harness_bin("nsem"), out), 0);
    /* the CLI is one more client while it asks */
    ASSERT_EQ(shell("python3 -c 'import json; v=json.load(open(\"%s\")); "
                    "assert v[\"server_pid\"]==%u and v[\"objects\"]==1 and v[\"handles\"]==1 and v[\"clients\"]==2, v'",
                    out, st.dwServerProcessId),
              0);
    ASSERT_EQ(shell("%s stats | grep -q '^objects *1$'", harness_bin("nsem")), 0);
    ASSERT_EQ(shell("%s stats --bad 2>/dev/null", harness_bin("nsem")), 125);
    unlink(out);
    ASSERT(CloseHandle(s));
    return 0;
}

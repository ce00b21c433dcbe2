/*
 * test-undo.c — undo semaphores (EXCLUSIVE.md "Undo semaphores"): a process's permits come back
 * when it ends, however it ends, never above the maximum; and at no instant of a kill is a permit
 * lost or made up.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static HANDLE undo_sem(const char *name, LONG initial, LONG max)
{
    SetLastError(POISON);
    HANDLE h = CreateSemaphoreExA(NULL, initial, max, name, SEMAPHORE_UNDO, SEMAPHORE_ALL_ACCESS);
    ASSERT_NOT_NULL(h);
    return h;
}

static LONG count_of(HANDLE h)
{
    NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
    ASSERT(NsemQueryObject(h, &info));
    return info.lCurrentCount;
}

/* The count reaches `want` within 5 s (the server acts when the process's socket closes). */
static void expect_count(HANDLE h, LONG want)
{
    uint64_t end = now_ms() + 5000;
    while (count_of(h) != want && now_ms() < end) sleep_ms(2);
    ASSERT_EQ(count_of(h), want);
}

/* argv: name, permits to take, permits to give back, then "hold" (wait to be killed) or "exit" */
HELPER(undo_taker)
{
    HANDLE h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, argv[0]);
    if (!h) return 10;
    for (int i = 0; i < atoi(argv[1]); i++)
        if (WaitForSingleObject(h, 5000) != WAIT_OBJECT_0) return 11;
    if (atoi(argv[2]) && !ReleaseSemaphore(h, atoi(argv[2]), NULL)) return 12;
    say("done");
    if (strcmp(argv[3], "hold") == 0)
        for (;;) pause();
    return 0;
}

/* EXCLUSIVE.md: "undo: a process takes 3 permits and is killed: the count is back." */
TEST(undo_killed_holder_permits_return)
{
    HANDLE h = undo_sem(uniq("kill"), 5, 5);
    int fd;
    pid_t pid = spawn_helper("undo_taker", &fd, uniq("kill"), "3", "0", "hold", NULL);
    char line[32];
    read_line(fd, line, sizeof line, 10000);
    ASSERT_EQ(count_of(h), 2);
    kill(pid, SIGKILL);
    ASSERT_EQ(wait_child(pid, 5000), 128 + SIGKILL);
    expect_count(h, 5);
    return 0;
}

TEST(undo_exit_returns_what_was_kept)
{
    HANDLE h = undo_sem(uniq("exit"), 5, 5);
    int fd;
    pid_t pid = spawn_helper("undo_taker", &fd, uniq("exit"), "3", "1", "exit", NULL);
    ASSERT_EQ(wait_child(pid, 10000), 0);
    expect_count(h, 5); /* took 3, gave 1 back, 2 returned at exit */
    return 0;
}

/* A process that only releases (a producer) has taken nothing: nothing is taken back. */
TEST(undo_producer_keeps_its_posts)
{
    HANDLE h = undo_sem(uniq("prod"), 0, 5);
    int fd;
    pid_t pid = spawn_helper("undo_taker", &fd, uniq("prod"), "0", "2", "exit", NULL);
    ASSERT_EQ(wait_child(pid, 10000), 0);
    sleep_ms(50);
    ASSERT_EQ(count_of(h), 2);
    return 0;
}

/* Never above the maximum: the holder's permits were already made up by someone else. */
TEST(undo_never_above_maximum)
{
    HANDLE h = undo_sem(uniq("max"), 5, 5);
    int fd;
    pid_t pid = spawn_helper("undo_taker", &fd, uniq("max"), "2", "0", "hold", NULL);
    char line[32];
    read_line(fd, line, sizeof line, 10000);
    LONG prev = -1;
    ASSERT(ReleaseSemaphore(h, 2, &prev)); /* we took nothing: our record stays at 0 */
    ASSERT_EQ(prev, 3);
    kill(pid, SIGKILL);
    ASSERT_EQ(wait_child(pid, 5000), 128 + SIGKILL);
    sleep_ms(50);
    expect_count(h, 5);
    /* and our own release did not count as a take: our exit gives nothing back */
    return 0;
}

TEST(undo_flags)
{
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreExA(NULL, 1, 1, uniq("both"), SEMAPHORE_UNDO | SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreA(SYNCHRONIZE, FALSE, uniq("both"))); /* nothing was created */
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);
    HANDLE h = undo_sem(uniq("flags"), 1, 3);
    NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
    ASSERT(NsemQueryObject(h, &info));
    ASSERT_EQ_U(info.dwFlags, NSEM_INFO_UNDO);
    ASSERT_EQ(info.lMaximumCount, 3);
    /* an ordinary semaphore has no such flag */
    HANDLE plain = CreateSemaphoreA(NULL, 1, 3, uniq("plain"));
    ASSERT(NsemQueryObject(plain, &info));
    ASSERT_EQ_U(info.dwFlags, 0);
    /* SEMAPHORE_UNDO on an existing name is ignored, as every count is: it stays what it was */
    HANDLE again = CreateSemaphoreExA(NULL, 0, 1, uniq("plain"), SEMAPHORE_UNDO, SEMAPHORE_ALL_ACCESS);
    ASSERT_NOT_NULL(again);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    ASSERT(NsemQueryObject(again, &info));
    ASSERT_EQ_U(info.dwFlags, 0);
    ASSERT_EQ(info.lCurrentCount, 1);
    return 0;
}

/* argv: name, other semaphore name. Takes both with wait-all, then holds. */
HELPER(undo_wait_all)
{
    HANDLE a = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, argv[0]);
    HANDLE b = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, argv[1]);
    HANDLE both[2] = {a, b};
    if (!a || !b || WaitForMultipleObjects(2, both, TRUE, 5000) != WAIT_OBJECT_0) return 10;
    say("done");
    for (;;) pause();
}

TEST(undo_wait_all_taken_permits_return)
{
    HANDLE a = undo_sem(uniq("wa"), 1, 1);
    HANDLE b = undo_sem(uniq("wb"), 2, 2);
    int fd;
    pid_t pid = spawn_helper("undo_wait_all", &fd, uniq("wa"), uniq("wb"), NULL);
    char line[32];
    read_line(fd, line, sizeof line, 10000);
    ASSERT_EQ(count_of(a), 0);
    ASSERT_EQ(count_of(b), 1);
    kill(pid, SIGKILL);
    ASSERT_EQ(wait_child(pid, 5000), 128 + SIGKILL);
    expect_count(a, 1);
    expect_count(b, 2);
    return 0;
}

/* argv: name. Takes and gives back forever, alternating single waits and wait-all. */
HELPER(undo_churn)
{
    HANDLE h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, argv[0]);
    HANDLE e = CreateEventA(NULL, TRUE, TRUE, NULL);
    HANDLE pair[2] = {h, e};
    if (!h || !e) return 10;
    say("go");
    for (unsigned i = 0;; i++) {
        DWORD r = (i & 1) ? WaitForMultipleObjects(2, pair, TRUE, INFINITE) : WaitForSingleObject(h, INFINITE);
        if (r != WAIT_OBJECT_0 || !ReleaseSemaphore(h, 1, NULL)) return 11;
    }
}

/* Killed at arbitrary instants of take/give-back, three churners never lose or make up a permit:
 * when all are dead the count is the maximum again. */
TEST(undo_kill_at_any_instant)
{
    HANDLE h = undo_sem(uniq("churn"), 2, 2);
    for (int round = 0; round < 15; round++) {
        pid_t pids[3];
        for (int i = 0; i < 3; i++) {
            int fd;
            char line[16];
            pids[i] = spawn_helper("undo_churn", &fd, uniq("churn"), NULL);
            read_line(fd, line, sizeof line, 10000);
            close(fd);
        }
        sleep_ms(3 + (unsigned)(round * 7) % 20);
        for (int i = 0; i < 3; i++) kill(pids[i], SIGKILL);
        for (int i = 0; i < 3; i++) ASSERT_EQ(wait_child(pids[i], 5000), 128 + SIGKILL);
        expect_count(h, 2);
    }
    return 0;
}

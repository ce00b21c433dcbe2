/*
 * test-event.c — events: names, manual and auto reset, SetEvent/ResetEvent/PulseEvent and their
 * access right, wrong-type handles, CreateEventEx flags (SPEC 1.I rows 81-83).
 */
#include "checks.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BAD_HANDLE ((HANDLE)(uintptr_t)0xdeadbee0u)

/* ---------------------------------------------------------------------------------------------
 * State checks (they keep GetLastError() as it was)
 * ------------------------------------------------------------------------------------------- */

static void check_event_at(int line, HANDLE h, int manual, int signaled)
{
    NSEM_OBJECT_INFO info = query_at(__FILE__, line, h);
    CHECK_EQ_AT(line, "dwType", info.dwType, NSEM_TYPE_EVENT);
    CHECK_EQ_AT(line, "manual reset", (info.dwFlags & NSEM_INFO_MANUAL_RESET) != 0, manual != 0);
    CHECK_EQ_AT(line, "event state (lCurrentCount)", info.lCurrentCount, signaled);
    CHECK_EQ_AT(line, "event lMaximumCount", info.lMaximumCount, 1);
}
#define check_event(h, manual, signaled) check_event_at(__LINE__, (h), (manual), (signaled))

static HANDLE new_event(BOOL manual, BOOL initial)
{
    SetLastError(POISON);
    HANDLE h = CreateEventA(NULL, manual, initial, NULL);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(0);
    return h;
}

static HANDLE dup_access(HANDLE h, DWORD access)
{
    HANDLE out = NULL;
    SetLastError(POISON);
    ASSERT(DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &out, access, FALSE, 0));
    ASSERT_NOT_NULL(out);
    return out;
}

/* Each of SetEvent, ResetEvent, PulseEvent: succeeds, leaving GetLastError() alone. */
#define EXPECT_OK(call) \
    do { \
        SetLastError(POISON); \
        ASSERT(call); \
        ASSERT_GLE(POISON); \
    } while (0)
#define EXPECT_FAIL(call, code) \
    do { \
        SetLastError(POISON); \
        ASSERT(!(call)); \
        ASSERT_GLE(code); \
    } while (0)

/* ---------------------------------------------------------------------------------------------
 * Waiter threads
 * ------------------------------------------------------------------------------------------- */

struct waiter {
    pthread_t thread;
    HANDLE handle;
    DWORD result, error;
    atomic_int done;
};

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    SetLastError(POISON);
    w->result = WaitForSingleObject(w->handle, 10000);
    w->error = GetLastError();
    atomic_store(&w->done, 1);
    return NULL;
}

static void start_waiters(struct waiter *w, int n, HANDLE h)
{
    for (int i = 0; i < n; i++) {
        w[i].handle = h;
        w[i].result = w[i].error = 0x12345678u;
        atomic_store(&w[i].done, 0);
        ASSERT_EQ(pthread_create(&w[i].thread, NULL, waiter_main, &w[i]), 0);
    }
}

static int count_done(struct waiter *w, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) k += atomic_load(&w[i].done);
    return k;
}

/* Waits (bounded) until `want` waiters have returned; returns how many have. */
static int wait_done(struct waiter *w, int n, int want)
{
    uint64_t end = now_ms() + 5000;
    while (count_done(w, n) < want && now_ms() < end) sleep_ms(1);
    return count_done(w, n);
}

static void join_all_at(int line, struct waiter *w, int n)
{
    for (int i = 0; i < n; i++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 15;
        int r = pthread_timedjoin_np(w[i].thread, NULL, &ts);
        if (r != 0) harness_fail(__FILE__, line, "pthread_timedjoin_np", strerror(r));
        CHECK_EQ_AT(line, "waiter result", w[i].result, WAIT_OBJECT_0);
        CHECK_EQ_AT(line, "waiter GetLastError()", w[i].error, POISON);
    }
}
#define join_all(w, n) join_all_at(__LINE__, (w), (n))

/* =============================================================================================
 * Names
 * =========================================================================================== */

/* SPEC 81 */
TEST(event_names)
{
    const char *name = uniq("Event-Name");
    SetLastError(POISON);
    HANDLE a = CreateEventA(NULL, TRUE, FALSE, name);
    ASSERT_NOT_NULL(a);
    ASSERT_GLE(0);
    check_event(a, 1, 0);

    /* Second create: the same object; its reset mode and state arguments are ignored. */
    SetLastError(POISON);
    HANDLE b = CreateEventA(NULL, FALSE, TRUE, name);
    ASSERT_NOT_NULL(b);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    ASSERT_NE((uintptr_t)a, (uintptr_t)b);
    check_event(b, 1, 0);
    EXPECT_OK(SetEvent(b));
    check_event(a, 1, 1);
    SetLastError(POISON);
    HANDLE bw = CreateEventW(NULL, FALSE, FALSE, uniqw("Event-Name"));
    ASSERT_NOT_NULL(bw);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_event(bw, 1, 1);

    /* Other case: another object. */
    SetLastError(POISON);
    HANDLE c = CreateEventA(NULL, FALSE, FALSE, uniq("EVENT-NAME"));
    ASSERT_NOT_NULL(c);
    ASSERT_GLE(0);
    check_event(c, 0, 0);

    SetLastError(POISON);
    ASSERT_NULL(OpenEventA(EVENT_ALL_ACCESS, FALSE, NULL));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_NULL(OpenEventW(EVENT_ALL_ACCESS, FALSE, NULL));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_NULL(OpenEventA(EVENT_ALL_ACCESS, FALSE, uniq("event-name")));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);
    SetLastError(POISON);
    ASSERT_NULL(OpenEventW(EVENT_ALL_ACCESS, FALSE, uniqw("EVENT-name")));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);
    SetLastError(POISON);
    ASSERT_NULL(OpenEventA(0, FALSE, name));
    ASSERT_GLE(ERROR_ACCESS_DENIED);

    SetLastError(POISON);
    HANDLE o = OpenEventA(EVENT_ALL_ACCESS, FALSE, name);
    ASSERT_NOT_NULL(o);
    ASSERT_GLE(POISON);
    EXPECT_OK(ResetEvent(o));
    check_event(a, 1, 0);
    SetLastError(POISON);
    HANDLE ow = OpenEventW(SYNCHRONIZE | EVENT_QUERY_STATE, FALSE, uniqw("Event-Name"));
    ASSERT_NOT_NULL(ow);
    ASSERT_GLE(POISON);
    check_event(ow, 1, 0);

    /* A name held by another type. */
    const char *sname = uniq("event-vs-sem");
    SetLastError(POISON);
    HANDLE sem = CreateSemaphoreA(NULL, 1, 1, sname);
    ASSERT_NOT_NULL(sem);
    SetLastError(POISON);
    ASSERT_NULL(CreateEventA(NULL, TRUE, TRUE, sname));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_NULL(OpenEventA(EVENT_ALL_ACCESS, FALSE, sname));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    check_sem(sem, 1, 1);
    return 0;
}

/* =============================================================================================
 * Reset modes
 * =========================================================================================== */

/* SPEC 83 */
TEST(event_manual_reset)
{
    HANDLE e = new_event(TRUE, FALSE);
    check_event(e, 1, 0);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(e, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);

    EXPECT_OK(SetEvent(e));
    check_event(e, 1, 1);
    EXPECT_OK(SetEvent(e));
    check_event(e, 1, 1);
    for (int i = 0; i < 3; i++) {
        SetLastError(POISON);
        ASSERT_EQ_U(WaitForSingleObject(e, 0), WAIT_OBJECT_0);
        ASSERT_GLE(POISON);
        check_event(e, 1, 1);
    }
    EXPECT_OK(ResetEvent(e));
    check_event(e, 1, 0);
    EXPECT_OK(ResetEvent(e));
    check_event(e, 1, 0);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(e, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);

    HANDLE s = new_event(TRUE, TRUE);
    check_event(s, 1, 1);
    return 0;
}

/* SPEC 83 */
TEST(event_auto_reset)
{
    HANDLE e = new_event(FALSE, TRUE);
    check_event(e, 0, 1);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(e, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_event(e, 0, 0);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(e, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);

    /* Setting twice does not count: one wait. */
    EXPECT_OK(SetEvent(e));
    EXPECT_OK(SetEvent(e));
    check_event(e, 0, 1);
    ASSERT_EQ_U(WaitForSingleObject(e, 0), WAIT_OBJECT_0);
    ASSERT_EQ_U(WaitForSingleObject(e, 0), WAIT_TIMEOUT);

    EXPECT_OK(SetEvent(e));
    EXPECT_OK(ResetEvent(e));
    check_event(e, 0, 0);
    ASSERT_EQ_U(WaitForSingleObject(e, 0), WAIT_TIMEOUT);
    return 0;
}

/* SPEC 83: SetEvent on a manual event wakes every waiter and stays set. */
TEST(event_set_manual_wakes_all)
{
    HANDLE e = new_event(TRUE, FALSE);
    struct waiter w[3];
    start_waiters(w, 3, e);
    wait_waiters(e, 3);
    EXPECT_OK(SetEvent(e));
    join_all(w, 3);
    check_event(e, 1, 1);
    ASSERT_EQ(query(e).dwWaiterCount, 0);
    return 0;
}

/* SPEC 83: SetEvent on an auto event wakes one waiter and is consumed by it. */
TEST(event_set_auto_wakes_one)
{
    HANDLE e = new_event(FALSE, FALSE);
    struct waiter w[3];
    start_waiters(w, 3, e);
    wait_waiters(e, 3);
    for (int k = 1; k <= 3; k++) {
        EXPECT_OK(SetEvent(e));
        ASSERT_EQ(wait_done(w, 3, k), k);
        wait_waiters(e, (DWORD)(3 - k));
        check_event(e, 0, 0);
        sleep_ms(30);
        ASSERT_EQ(count_done(w, 3), k);
    }
    join_all(w, 3);
    check_event(e, 0, 0);
    return 0;
}

/* =============================================================================================
 * PulseEvent
 * =========================================================================================== */

/* PulseEvent on a manual event releases every thread waiting at that moment, leaves it reset. */
TEST(event_pulse_manual_releases_all)
{
    HANDLE e = new_event(TRUE, FALSE);
    struct waiter w[3];
    start_waiters(w, 3, e);
    wait_waiters(e, 3);
    EXPECT_OK(PulseEvent(e));
    join_all(w, 3);
    check_event(e, 1, 0);
    ASSERT_EQ(query(e).dwWaiterCount, 0);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(e, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    return 0;
}

/* PulseEvent on an auto event releases one waiter, leaves it reset. */
TEST(event_pulse_auto_releases_one)
{
    HANDLE e = new_event(FALSE, FALSE);
    struct waiter w[3];
    start_waiters(w, 3, e);
    wait_waiters(e, 3);
    EXPECT_OK(PulseEvent(e));
    ASSERT_EQ(wait_done(w, 3, 1), 1);
    wait_waiters(e, 2);
    sleep_ms(30);
    ASSERT_EQ(count_done(w, 3), 1);
    check_event(e, 0, 0);

    EXPECT_OK(PulseEvent(e));
    ASSERT_EQ(wait_done(w, 3, 2), 2);
    wait_waiters(e, 1);
    check_event(e, 0, 0);
    EXPECT_OK(SetEvent(e));
    join_all(w, 3);
    check_event(e, 0, 0);
    return 0;
}

/* PulseEvent with no waiter leaves the event reset, whatever it was. */
TEST(event_pulse_no_waiters)
{
    HANDLE m = new_event(TRUE, TRUE), m0 = new_event(TRUE, FALSE);
    HANDLE a = new_event(FALSE, TRUE), a0 = new_event(FALSE, FALSE);
    EXPECT_OK(PulseEvent(m));
    check_event(m, 1, 0);
    EXPECT_OK(PulseEvent(m0));
    check_event(m0, 1, 0);
    EXPECT_OK(PulseEvent(a));
    check_event(a, 0, 0);
    EXPECT_OK(PulseEvent(a0));
    check_event(a0, 0, 0);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(m, 0), WAIT_TIMEOUT);
    ASSERT_EQ_U(WaitForSingleObject(a, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    return 0;
}

/* A waiter in another process is released by PulseEvent. */
HELPER(event_helper_wait)
{
    SetLastError(POISON);
    HANDLE h = OpenEventA(SYNCHRONIZE, FALSE, argv[0]);
    ASSERT_NOT_NULL(h);
    SetLastError(POISON);
    DWORD r = WaitForSingleObject(h, 10000);
    say("result=0x%x gle=0x%x", r, GetLastError());
    return 0;
}

TEST(event_pulse_other_process)
{
    const char *name = uniq("event-pulse-xp");
    SetLastError(POISON);
    HANDLE e = CreateEventA(NULL, TRUE, FALSE, name);
    ASSERT_NOT_NULL(e);
    int fd[2];
    pid_t pid[2];
    for (int i = 0; i < 2; i++) pid[i] = spawn_helper("event_helper_wait", &fd[i], name, NULL);
    wait_waiters(e, 2);
    EXPECT_OK(PulseEvent(e));
    for (int i = 0; i < 2; i++) {
        char line[80];
        read_line(fd[i], line, sizeof line, 10000);
        if (strcmp(line, "result=0x0 gle=0xdeadbeef") != 0) fprintf(stderr, "helper said %s\n", line);
        ASSERT(strcmp(line, "result=0x0 gle=0xdeadbeef") == 0);
        ASSERT_EQ(wait_child(pid[i], 5000), 0);
        close(fd[i]);
    }
    check_event(e, 1, 0);
    return 0;
}

/* argv: names of events; waits for any of them, to be killed. */
HELPER(event_helper_wait_any)
{
    HANDLE hs[4];
    for (int i = 0; i < argc; i++)
        if (!(hs[i] = OpenEventA(SYNCHRONIZE, FALSE, argv[i]))) return 10;
    return WaitForMultipleObjects((DWORD)argc, hs, FALSE, 30000) == WAIT_TIMEOUT ? 0 : 11;
}

/* A waiter killed in its wait is no longer counted; the others still are; and a PulseEvent with
 * no live waiter leaves an auto-reset event reset. (Chaos found killed waiters counted for good:
 * every later PulseEvent set the event.) */
TEST(event_killed_waiter_not_counted)
{
    const char *a = uniq("killed-waiter-a"), *b = uniq("killed-waiter-b");
    HANDLE ea = CreateEventA(NULL, FALSE, FALSE, a), eb = CreateEventA(NULL, FALSE, FALSE, b);
    ASSERT(ea && eb);
    int fd[3];
    pid_t dies = spawn_helper("event_helper_wait_any", &fd[0], a, b, NULL); /* counted on both */
    pid_t lives = spawn_helper("event_helper_wait", &fd[1], a, NULL);
    pid_t dies_too = spawn_helper("event_helper_wait", &fd[2], b, NULL);
    wait_waiters(ea, 2);
    wait_waiters(eb, 2);
    kill(dies, SIGKILL);
    kill(dies_too, SIGKILL);
    ASSERT_EQ(wait_child(dies, 5000), 128 + SIGKILL);
    ASSERT_EQ(wait_child(dies_too, 5000), 128 + SIGKILL);
    wait_waiters(ea, 1); /* the live one still counts */
    wait_waiters(eb, 0);
    EXPECT_OK(PulseEvent(eb));
    check_event(eb, 0, 0); /* nobody waits: left reset */
    EXPECT_OK(PulseEvent(ea));
    char line[80];
    read_line(fd[1], line, sizeof line, 10000); /* the live waiter is released */
    ASSERT(strcmp(line, "result=0x0 gle=0xdeadbeef") == 0);
    ASSERT_EQ(wait_child(lives, 5000), 0);
    wait_waiters(ea, 0);
    for (int i = 0; i < 3; i++) close(fd[i]);
    return 0;
}

/* A waiter in another process is released by SetEvent on an auto event, which it consumes. */
TEST(event_set_other_process)
{
    const char *name = uniq("event-set-xp");
    SetLastError(POISON);
    HANDLE e = CreateEventA(NULL, FALSE, FALSE, name);
    ASSERT_NOT_NULL(e);
    int fd;
    pid_t pid = spawn_helper("event_helper_wait", &fd, name, NULL);
    wait_waiters(e, 1);
    EXPECT_OK(SetEvent(e));
    char line[80];
    read_line(fd, line, sizeof line, 10000);
    ASSERT(strcmp(line, "result=0x0 gle=0xdeadbeef") == 0);
    ASSERT_EQ(wait_child(pid, 5000), 0);
    check_event(e, 0, 0);
    close(fd);
    return 0;
}

/* =============================================================================================
 * Access and types
 * =========================================================================================== */

/* SPEC 82 */
TEST(event_modify_needs_access)
{
    const char *name = uniq("event-access");
    SetLastError(POISON);
    HANDLE e = CreateEventA(NULL, TRUE, FALSE, name);
    ASSERT_NOT_NULL(e);

    static const DWORD denied[] = {SYNCHRONIZE, EVENT_QUERY_STATE, READ_CONTROL | SYNCHRONIZE | EVENT_QUERY_STATE,
                                   GENERIC_READ, GENERIC_EXECUTE};
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        SetLastError(POISON);
        HANDLE h = OpenEventA(denied[i], FALSE, name);
        ASSERT_NOT_NULL(h);
        ASSERT_GLE(POISON);
        EXPECT_FAIL(SetEvent(h), ERROR_ACCESS_DENIED);
        check_event(e, 1, 0);
        EXPECT_OK(SetEvent(e));
        EXPECT_FAIL(ResetEvent(h), ERROR_ACCESS_DENIED);
        check_event(e, 1, 1);
        EXPECT_FAIL(PulseEvent(h), ERROR_ACCESS_DENIED);
        check_event(e, 1, 1);
        EXPECT_OK(ResetEvent(e));
        ASSERT(CloseHandle(h));
    }

    /* EVENT_MODIFY_STATE alone (or through GENERIC_WRITE) is enough, and gives nothing else. */
    static const DWORD allowed[] = {EVENT_MODIFY_STATE, GENERIC_WRITE};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        SetLastError(POISON);
        HANDLE h = OpenEventA(allowed[i], FALSE, name);
        ASSERT_NOT_NULL(h);
        EXPECT_OK(SetEvent(h));
        check_event(e, 1, 1);
        SetLastError(POISON);
        ASSERT_EQ_U(WaitForSingleObject(h, 0), WAIT_FAILED);
        ASSERT_GLE(ERROR_ACCESS_DENIED);
        NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
        EXPECT_FAIL(NsemQueryObject(h, &info), ERROR_ACCESS_DENIED);
        EXPECT_OK(ResetEvent(h));
        check_event(e, 1, 0);
        EXPECT_OK(SetEvent(e));
        EXPECT_OK(PulseEvent(h));
        check_event(e, 1, 0);
        ASSERT(CloseHandle(h));
    }

    /* The same through duplicated handles. */
    HANDLE q = dup_access(e, EVENT_QUERY_STATE | SYNCHRONIZE);
    EXPECT_FAIL(SetEvent(q), ERROR_ACCESS_DENIED);
    check_event(q, 1, 0);
    HANDLE m = dup_access(e, EVENT_MODIFY_STATE);
    EXPECT_OK(SetEvent(m));
    check_event(q, 1, 1);
    return 0;
}

/* SPEC 27: event operations on other types and on bad handles fail with ERROR_INVALID_HANDLE;
 * the type is checked before the access right. */
TEST(event_wrong_type_handles)
{
    HANDLE sem = CreateSemaphoreA(NULL, 1, 3, NULL);
    ASSERT_NOT_NULL(sem);
    HANDLE mtx = CreateMutexA(NULL, FALSE, NULL);
    ASSERT_NOT_NULL(mtx);
    HANDLE e = new_event(TRUE, TRUE);

    EXPECT_FAIL(SetEvent(sem), ERROR_INVALID_HANDLE);
    EXPECT_FAIL(ResetEvent(sem), ERROR_INVALID_HANDLE);
    EXPECT_FAIL(PulseEvent(sem), ERROR_INVALID_HANDLE);
    check_sem(sem, 1, 3);
    EXPECT_FAIL(SetEvent(mtx), ERROR_INVALID_HANDLE);
    EXPECT_FAIL(ResetEvent(mtx), ERROR_INVALID_HANDLE);
    EXPECT_FAIL(PulseEvent(mtx), ERROR_INVALID_HANDLE);
    NSEM_OBJECT_INFO info = query(mtx);
    ASSERT_EQ(info.dwOwnerThreadId, 0);

    /* A semaphore handle without any modify right: still "wrong type", not "access denied". */
    HANDLE ssync = dup_access(sem, SYNCHRONIZE);
    EXPECT_FAIL(SetEvent(ssync), ERROR_INVALID_HANDLE);
    EXPECT_FAIL(ResetEvent(ssync), ERROR_INVALID_HANDLE);

    /* Other types' operations on an event. */
    LONG prev = 77;
    EXPECT_FAIL(ReleaseSemaphore(e, 1, &prev), ERROR_INVALID_HANDLE);
    ASSERT_EQ(prev, 77);
    EXPECT_FAIL(ReleaseMutex(e), ERROR_INVALID_HANDLE);
    check_event(e, 1, 1);

    EXPECT_FAIL(SetEvent(NULL), ERROR_INVALID_HANDLE);
    EXPECT_FAIL(ResetEvent(NULL), ERROR_INVALID_HANDLE);
    EXPECT_FAIL(PulseEvent(NULL), ERROR_INVALID_HANDLE);
    EXPECT_FAIL(SetEvent(BAD_HANDLE), ERROR_INVALID_HANDLE);
    EXPECT_FAIL(ResetEvent(BAD_HANDLE), ERROR_INVALID_HANDLE);
    EXPECT_FAIL(PulseEvent(BAD_HANDLE), ERROR_INVALID_HANDLE);
    EXPECT_FAIL(SetEvent(GetCurrentProcess()), ERROR_INVALID_HANDLE);

    HANDLE closed = new_event(TRUE, FALSE);
    ASSERT(CloseHandle(closed));
    EXPECT_FAIL(SetEvent(closed), ERROR_INVALID_HANDLE);
    EXPECT_FAIL(ResetEvent(closed), ERROR_INVALID_HANDLE);
    EXPECT_FAIL(PulseEvent(closed), ERROR_INVALID_HANDLE);
    check_event(e, 1, 1);
    return 0;
}

/* =============================================================================================
 * CreateEventEx
 * =========================================================================================== */

/* CREATE_EVENT_MANUAL_RESET and CREATE_EVENT_INITIAL_SET; other flag bits are ignored. */
TEST(event_createex_flags)
{
    static const struct {
        DWORD flags;
        int manual, set;
    } cases[] = {
        {0, 0, 0},
        {CREATE_EVENT_MANUAL_RESET, 1, 0},
        {CREATE_EVENT_INITIAL_SET, 0, 1},
        {CREATE_EVENT_MANUAL_RESET | CREATE_EVENT_INITIAL_SET, 1, 1},
        {0xFFFFFFFCu, 0, 0},
        {0x80000001u, 1, 0},
        {0x00000106u, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        SetLastError(POISON);
        HANDLE h = CreateEventExA(NULL, NULL, cases[i].flags, EVENT_ALL_ACCESS);
        ASSERT_NOT_NULL(h);
        ASSERT_GLE(0);
        check_event(h, cases[i].manual, cases[i].set);
        char tag[32];
        snprintf(tag, sizeof tag, "event-ex-%zu", i);
        SetLastError(POISON);
        HANDLE w = CreateEventExW(NULL, uniqw(tag), cases[i].flags, EVENT_ALL_ACCESS);
        ASSERT_NOT_NULL(w);
        ASSERT_GLE(0);
        check_event(w, cases[i].manual, cases[i].set);
    }
    return 0;
}

/* CreateEventEx access: a new object gets exactly what is asked (even nothing); an existing name
 * needs some right, and its flags are ignored. */
TEST(event_createex_access)
{
    const char *name = uniq("event-ex-access");
    SetLastError(POISON);
    HANDLE s = CreateEventExA(NULL, name, CREATE_EVENT_MANUAL_RESET, SYNCHRONIZE);
    ASSERT_NOT_NULL(s);
    ASSERT_GLE(0);
    EXPECT_FAIL(SetEvent(s), ERROR_ACCESS_DENIED);
    NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
    EXPECT_FAIL(NsemQueryObject(s, &info), ERROR_ACCESS_DENIED);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(s, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);

    SetLastError(POISON);
    ASSERT_NULL(CreateEventExA(NULL, name, 0, 0));
    ASSERT_GLE(ERROR_ACCESS_DENIED);

    SetLastError(POISON);
    HANDLE all = CreateEventExA(NULL, name, CREATE_EVENT_INITIAL_SET, EVENT_ALL_ACCESS);
    ASSERT_NOT_NULL(all);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_event(all, 1, 0);
    EXPECT_OK(SetEvent(all));
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(s, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);

    /* No access at all on a new object: allowed, and the handle can do nothing but be closed. */
    SetLastError(POISON);
    HANDLE none = CreateEventExA(NULL, uniq("event-ex-none"), 0, 0);
    ASSERT_NOT_NULL(none);
    ASSERT_GLE(0);
    EXPECT_FAIL(SetEvent(none), ERROR_ACCESS_DENIED);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(none, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    EXPECT_OK(CloseHandle(none));

    /* MAXIMUM_ALLOWED on a new object: every right. */
    SetLastError(POISON);
    HANDLE max = CreateEventExA(NULL, NULL, 0, MAXIMUM_ALLOWED);
    ASSERT_NOT_NULL(max);
    EXPECT_OK(SetEvent(max));
    check_event(max, 0, 1);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(max, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    return 0;
}

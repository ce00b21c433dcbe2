/*
 * test-exclusive.c — exclusive semaphores (/work/shared/EXCLUSIVE.md): creation, the order of
 * NsemRequestSemaphore's checks, release, the wait functions, abandonment by a thread, a process
 * (SIGKILL, exit, last close), fork(), NsemQueryObject after a death, the nsem command, and undo
 * semaphores. Each test names the EXCLUSIVE.md line it covers in a comment above it.
 */
#include "checks.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BAD_HANDLE ((HANDLE)(uintptr_t)0xdeadbee0u)
#define MAX_REC 65535u
#define REQ_FMT "r=%u gle=%u mine=%d rec=%u ab=%d"

/* Asserts the exact code returned by NsemRequestSemaphore and that it is also the last error. */
#define ASSERT_REQ(h, ms, code) \
    do { \
        SetLastError(POISON); \
        ASSERT_EQ_U(NsemRequestSemaphore((h), (ms)), (code)); \
        ASSERT_GLE(code); \
    } while (0)

/* ---------------------------------------------------------------------------------------------
 * State checks (they keep GetLastError() as it was)
 * ------------------------------------------------------------------------------------------- */

/* An exclusive semaphore, not abandoned: free (pid 0) or owned by thread tid of process pid with
 * rec levels. */
static void check_excl_at(int line, HANDLE h, DWORD pid, DWORD tid, DWORD rec)
{
    NSEM_OBJECT_INFO info = query_at(__FILE__, line, h);
    CHECK_EQ_AT(line, "dwType", info.dwType, NSEM_TYPE_SEMAPHORE);
    CHECK_EQ_AT(line, "dwFlags & NSEM_INFO_EXCLUSIVE", info.dwFlags & NSEM_INFO_EXCLUSIVE, NSEM_INFO_EXCLUSIVE);
    CHECK_EQ_AT(line, "dwFlags & NSEM_INFO_UNDO", info.dwFlags & NSEM_INFO_UNDO, 0);
    CHECK_EQ_AT(line, "lMaximumCount", info.lMaximumCount, 1);
    CHECK_EQ_AT(line, "lCurrentCount (1 free, 0 owned)", info.lCurrentCount, rec ? 0 : 1);
    CHECK_EQ_AT(line, "dwOwnerProcessId", info.dwOwnerProcessId, pid);
    CHECK_EQ_AT(line, "dwOwnerThreadId", info.dwOwnerThreadId, tid);
    CHECK_EQ_AT(line, "dwRecursionCount", info.dwRecursionCount, rec);
    CHECK_EQ_AT(line, "bAbandoned", info.bAbandoned, FALSE);
}
#define check_owned(h, pid, tid, rec) check_excl_at(__LINE__, (h), (DWORD)(pid), (DWORD)(tid), (rec))
#define check_mine(h, rec) check_excl_at(__LINE__, (h), GetCurrentProcessId(), GetCurrentThreadId(), (rec))
#define check_free(h) check_excl_at(__LINE__, (h), 0, 0, 0)

static void check_waiters_at(int line, HANDLE h, DWORD n)
{
    CHECK_EQ_AT(line, "dwWaiterCount", query_at(__FILE__, line, h).dwWaiterCount, n);
}
#define check_waiters(h, n) check_waiters_at(__LINE__, (h), (n))

/* Waits (bounded: the owner's end must be noticed promptly) until the semaphore reports abandoned,
 * then checks all of what an abandoned exclusive semaphore reports. */
static void wait_abandoned_at(int line, HANDLE h, DWORD last_owner_pid)
{
    uint64_t end = now_ms() + 5000;
    NSEM_OBJECT_INFO info;
    for (;;) {
        info = query_at(__FILE__, line, h);
        if (info.bAbandoned) break;
        if (now_ms() > end) CHECK_EQ_AT(line, "bAbandoned (after 5 s)", info.bAbandoned, TRUE);
        sleep_ms(1);
    }
    CHECK_EQ_AT(line, "dwType", info.dwType, NSEM_TYPE_SEMAPHORE);
    CHECK_EQ_AT(line, "dwFlags & NSEM_INFO_EXCLUSIVE", info.dwFlags & NSEM_INFO_EXCLUSIVE, NSEM_INFO_EXCLUSIVE);
    CHECK_EQ_AT(line, "bAbandoned", info.bAbandoned, TRUE);
    CHECK_EQ_AT(line, "dwLastOwnerProcessId", info.dwLastOwnerProcessId, last_owner_pid);
    CHECK_EQ_AT(line, "dwOwnerProcessId", info.dwOwnerProcessId, 0);
    CHECK_EQ_AT(line, "dwOwnerThreadId", info.dwOwnerThreadId, 0);
    CHECK_EQ_AT(line, "dwRecursionCount", info.dwRecursionCount, 0);
    CHECK_EQ_AT(line, "lCurrentCount", info.lCurrentCount, 1);
    CHECK_EQ_AT(line, "lMaximumCount", info.lMaximumCount, 1);
}
#define wait_abandoned(h, pid) wait_abandoned_at(__LINE__, (h), (DWORD)(pid))

/* A new exclusive semaphore (name may be NULL): initial 1 free, 0 owned by this thread. */
static HANDLE create_excl(const char *name, LONG initial)
{
    SetLastError(POISON);
    HANDLE h = CreateSemaphoreExA(NULL, initial, 1, name, SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(0);
    return h;
}

static HANDLE new_event(const char *name, BOOL manual, BOOL initial)
{
    HANDLE h = CreateEventA(NULL, manual, initial, name);
    ASSERT_NOT_NULL(h);
    return h;
}

static void release_ok_at(int line, HANDLE h)
{
    LONG prev = 12345;
    SetLastError(POISON);
    BOOL ok = ReleaseSemaphore(h, 1, &prev);
    if (!ok) {
        char detail[80];
        snprintf(detail, sizeof detail, "failed with error %u", GetLastError());
        harness_fail(__FILE__, line, "ReleaseSemaphore(h, 1, &prev)", detail);
    }
    CHECK_EQ_AT(line, "GetLastError() after a release", GetLastError(), POISON);
    CHECK_EQ_AT(line, "prev (0 while owned)", prev, 0);
}
#define release_ok(h) release_ok_at(__LINE__, (h))

static void release_fails_at(int line, HANDLE h, LONG count, DWORD code)
{
    SetLastError(POISON);
    BOOL ok = ReleaseSemaphore(h, count, NULL);
    CHECK_EQ_AT(line, "ReleaseSemaphore result", ok, FALSE);
    CHECK_EQ_AT(line, "GetLastError() after ReleaseSemaphore", GetLastError(), code);
}
#define release_fails(h, count, code) release_fails_at(__LINE__, (h), (count), (code))

/* Reads "owned <tid>" from an owner helper; returns the tid. */
static DWORD read_owned_at(int line, int fd)
{
    char buf[256];
    unsigned tid = 0;
    read_line(fd, buf, sizeof buf, 10000);
    if (sscanf(buf, "owned %u", &tid) != 1 || tid == 0) {
        fprintf(stderr, "helper said: \"%s\"\n", buf);
        harness_fail(__FILE__, line, "helper output", "expected \"owned <tid>\"");
    }
    return tid;
}
#define read_owned(fd) read_owned_at(__LINE__, (fd))

/* What a request helper reported. */
struct req_report {
    unsigned r, gle, rec;
    int mine, ab;
};

static struct req_report read_report_at(int line, int fd)
{
    char buf[256];
    struct req_report rep;
    read_line(fd, buf, sizeof buf, 10000);
    if (sscanf(buf, REQ_FMT, &rep.r, &rep.gle, &rep.mine, &rep.rec, &rep.ab) != 5) {
        fprintf(stderr, "helper said: \"%s\"\n", buf);
        harness_fail(__FILE__, line, "helper output", "expected \"" REQ_FMT "\"");
    }
    return rep;
}
#define read_report(fd) read_report_at(__LINE__, (fd))

/* uniq(tag), kept: uniq() and uniqw() rotate among 8 buffers. */
static const char *name_of(const char *tag)
{
    static char bufs[16][200];
    static unsigned next;
    char *b = bufs[next++ % 16];
    snprintf(b, sizeof bufs[0], "%s", uniq(tag));
    return b;
}

static void kill_child(pid_t pid)
{
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    ASSERT_EQ(wait_child(pid, 5000), 128 + SIGKILL);
}

/* ---------------------------------------------------------------------------------------------
 * Threads
 * ------------------------------------------------------------------------------------------- */

/* Acquires `levels` times (or creates `name` owned, if create), signals `ready`, waits for `go`,
 * then ends still owning the semaphore. */
struct owner {
    pthread_t thread;
    HANDLE sem;
    int levels;
    const char *create; /* create this name with initial 0 instead of acquiring */
    HANDLE ready, go;   /* optional */
    DWORD tid;
};

static void *owner_main(void *arg)
{
    struct owner *o = arg;
    o->tid = GetCurrentThreadId();
    if (o->create) {
        o->sem = create_excl(o->create, 0);
        check_mine(o->sem, 1);
    }
    for (int i = 0; i < o->levels; i++) ASSERT_REQ(o->sem, 0, 0);
    if (o->ready) ASSERT(SetEvent(o->ready));
    if (o->go) ASSERT_EQ_U(WaitForSingleObject(o->go, 10000), WAIT_OBJECT_0);
    return NULL;
}

/* Makes h abandoned by a thread of this process that ends owning it `levels` times. */
static void abandon_by_thread(HANDLE h, int levels)
{
    struct owner o = {.sem = h, .levels = levels};
    ASSERT_EQ(pthread_create(&o.thread, NULL, owner_main, &o), 0);
    join(o.thread);
    wait_abandoned(h, GetCurrentProcessId());
}

/* Requests with NsemRequestSemaphore (or WaitForSingleObject if `wfso`); on success checks it owns
 * the semaphore once and, if `release`, releases it. */
struct waiter {
    pthread_t thread;
    HANDLE sem;
    DWORD ms;
    int release, wfso;
    DWORD result, error;
    atomic_int done;
};

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    SetLastError(POISON);
    w->result = w->wfso ? WaitForSingleObject(w->sem, w->ms) : NsemRequestSemaphore(w->sem, w->ms);
    w->error = GetLastError();
    int got = w->wfso ? (w->result == WAIT_OBJECT_0 || w->result == WAIT_ABANDONED)
                      : (w->result == 0 || w->result == ERROR_SEM_OWNER_DIED);
    if (got) {
        check_mine(w->sem, 1);
        if (w->release) release_ok(w->sem);
    }
    atomic_store(&w->done, 1);
    return NULL;
}

static void start_waiter(struct waiter *w)
{
    atomic_store(&w->done, 0);
    ASSERT_EQ(pthread_create(&w->thread, NULL, waiter_main, w), 0);
}

/* ---------------------------------------------------------------------------------------------
 * Helper processes
 * ------------------------------------------------------------------------------------------- */

static void hang(void)
{
    for (;;) sleep_ms(1000);
}

static HANDLE open_event(const char *name)
{
    SetLastError(POISON);
    HANDLE e = OpenEventA(SYNCHRONIZE, FALSE, name);
    ASSERT_NOT_NULL(e);
    return e;
}

/* argv: NAME LEVELS MODE [EVENT]. Opens NAME, acquires it LEVELS times, says "owned <tid>", then
 *   hang      stays, owning it;
 *   exit      returns 0 owning it;
 *   close     closes its only handle, says "closed", stays;
 *   two       (has a second handle) closes the one it acquired with, says "closed1", waits for
 *             EVENT, closes the other, says "closed2", stays;
 *   release   waits for EVENT, releases every level, says "released", stays. */
HELPER(excl_helper_own)
{
    if (argc < 3) return 2;
    const char *mode = argv[2];
    int levels = atoi(argv[1]);
    SetLastError(POISON);
    HANDLE h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, argv[0]);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(POISON);
    HANDLE h2 = NULL, go = NULL;
    if (strcmp(mode, "two") == 0) {
        h2 = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, argv[0]);
        ASSERT_NOT_NULL(h2);
    }
    if (argc > 3) go = open_event(argv[3]);
    for (int i = 0; i < levels; i++) ASSERT_REQ(h, 5000, 0);
    say("owned %u", GetCurrentThreadId());
    if (strcmp(mode, "exit") == 0) return 0;
    if (strcmp(mode, "close") == 0) {
        SetLastError(POISON);
        ASSERT(CloseHandle(h));
        ASSERT_GLE(POISON);
        say("closed");
    } else if (strcmp(mode, "two") == 0) {
        ASSERT(CloseHandle(h));
        say("closed1");
        ASSERT_EQ_U(WaitForSingleObject(go, 10000), WAIT_OBJECT_0);
        ASSERT(CloseHandle(h2));
        say("closed2");
    } else if (strcmp(mode, "release") == 0) {
        ASSERT_EQ_U(WaitForSingleObject(go, 10000), WAIT_OBJECT_0);
        for (int i = 0; i < levels; i++) release_ok(h);
        say("released");
    }
    hang();
    return 0;
}

static void *own_and_stay(void *arg)
{
    HANDLE h = arg;
    ASSERT_REQ(h, 5000, 0);
    say("owned %u", GetCurrentThreadId());
    hang();
    return NULL;
}

/* argv: NAME. Acquires NAME in a second thread (so that thread id and process id differ), says
 * "owned <tid>" and stays. */
HELPER(excl_helper_own_in_thread)
{
    if (argc < 1) return 2;
    HANDLE h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, argv[0]);
    ASSERT_NOT_NULL(h);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, own_and_stay, h), 0);
    hang();
    return 0;
}

/* argv: NAME MS MODE [EVENT]. NsemRequestSemaphore(NAME, MS), then says REQ_FMT (result, last
 * error, whether this thread owns it, recursion, abandoned flag). If it got it:
 *   release   releases, says "released", returns 0;
 *   hold      waits for EVENT, releases, says "released", returns 0;
 *   keep      stays, owning it. */
HELPER(excl_helper_request)
{
    if (argc < 3) return 2;
    const char *mode = argv[2];
    SetLastError(POISON);
    HANDLE h = OpenSemaphoreA(SYNCHRONIZE | SEMAPHORE_MODIFY_STATE | SEMAPHORE_QUERY_STATE, FALSE, argv[0]);
    ASSERT_NOT_NULL(h);
    HANDLE go = argc > 3 ? open_event(argv[3]) : NULL;
    SetLastError(POISON);
    DWORD r = NsemRequestSemaphore(h, (DWORD)strtoul(argv[1], NULL, 10));
    DWORD gle = GetLastError();
    NSEM_OBJECT_INFO info = query(h);
    int mine = info.dwOwnerProcessId == GetCurrentProcessId() && info.dwOwnerThreadId == GetCurrentThreadId();
    say(REQ_FMT, r, gle, mine, info.dwRecursionCount, info.bAbandoned);
    if (r != 0 && r != ERROR_SEM_OWNER_DIED) return 0;
    if (strcmp(mode, "keep") == 0) hang();
    if (strcmp(mode, "hold") == 0) ASSERT_EQ_U(WaitForSingleObject(go, 10000), WAIT_OBJECT_0);
    release_ok(h);
    say("released");
    return 0;
}

/* What another process (or a fork() child) gets from a semaphore that the process `owner` owns
 * once: a zero and a timed request, a zero wait and a release. */
static void try_from_other(HANDLE h, DWORD owner, char *out, size_t size)
{
    SetLastError(POISON);
    DWORD r0 = NsemRequestSemaphore(h, 0);
    DWORD g0 = GetLastError();
    SetLastError(POISON);
    DWORD r1 = NsemRequestSemaphore(h, 100);
    DWORD g1 = GetLastError();
    SetLastError(POISON);
    DWORD w0 = WaitForSingleObject(h, 0);
    DWORD gw0 = GetLastError();
    SetLastError(POISON);
    DWORD w1 = WaitForSingleObject(h, 50);
    DWORD gw1 = GetLastError();
    LONG prev = 12345;
    SetLastError(POISON);
    BOOL ok = ReleaseSemaphore(h, 1, &prev);
    DWORD gr = GetLastError();
    NSEM_OBJECT_INFO info = query(h);
    snprintf(out, size, "req0=%u/%u req100=%u/%u wait0=0x%x/0x%x wait50=0x%x/0x%x rel=%d/%u owner=%s rec=%u", r0,
             g0, r1, g1, w0, gw0, w1, gw1, ok, gr,
             info.dwOwnerProcessId == owner                   ? "owner"
             : info.dwOwnerProcessId == GetCurrentProcessId() ? "me"
                                                              : "other",
             info.dwRecursionCount);
}
#define OTHER_EXPECTED \
    "req0=101/101 req100=121/121 wait0=0x102/0xdeadbeef wait50=0x102/0xdeadbeef rel=0/101 owner=owner rec=1"

/* argv: NAME OWNER_PID. Says what try_from_other gets. */
HELPER(excl_helper_try)
{
    if (argc < 2) return 2;
    HANDLE h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, argv[0]);
    ASSERT_NOT_NULL(h);
    char out[256];
    try_from_other(h, (DWORD)strtoul(argv[1], NULL, 10), out, sizeof out);
    say("%s", out);
    return 0;
}

/* argv: NAME TAKE GIVE. Takes TAKE permits of a counting semaphore, gives GIVE back, says "took"
 * and stays. */
HELPER(excl_helper_take)
{
    if (argc < 3) return 2;
    HANDLE h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, argv[0]);
    ASSERT_NOT_NULL(h);
    int take = atoi(argv[1]), give = atoi(argv[2]);
    for (int i = 0; i < take; i++) ASSERT_REQ(h, 0, 0);
    for (int i = 0; i < give; i++) ASSERT(ReleaseSemaphore(h, 1, NULL));
    say("took");
    if (argc > 3 && strcmp(argv[3], "exit") == 0) return 0;
    hang();
    return 0;
}

/* =============================================================================================
 * Creation
 * =========================================================================================== */

/* EXCLUSIVE.md "Rules": its maximum count must be 1 (else ERROR_INVALID_PARAMETER) — checked
 * before the name (nsem.h CreateSemaphore: count errors are checked before the name). */
TEST(excl_create_maximum_not_one)
{
    const char *name = name_of("excl-max");
    static const LONG maxima[] = {2, 0, -1, 3, 65535, 0x7FFFFFFF};
    for (size_t i = 0; i < sizeof maxima / sizeof maxima[0]; i++) {
        for (LONG initial = 0; initial <= 1; initial++) {
            SetLastError(POISON);
            ASSERT_NULL(CreateSemaphoreExA(NULL, initial, maxima[i], name, SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS));
            ASSERT_GLE(ERROR_INVALID_PARAMETER);
            SetLastError(POISON);
            ASSERT_NULL(CreateSemaphoreExW(NULL, initial, maxima[i], uniqw("excl-max"), SEMAPHORE_EXCLUSIVE,
                                           SEMAPHORE_ALL_ACCESS));
            ASSERT_GLE(ERROR_INVALID_PARAMETER);
            SetLastError(POISON);
            ASSERT_NULL(CreateSemaphoreExA(NULL, initial, maxima[i], NULL, SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS));
            ASSERT_GLE(ERROR_INVALID_PARAMETER);
        }
    }
    /* Bad initial counts with maximum 1. */
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreExA(NULL, 2, 1, name, SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreExA(NULL, -1, 1, name, SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    /* Nothing was created. */
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);

    /* Before the name: every name error loses to the bad maximum. */
    HANDLE m = CreateMutexA(NULL, FALSE, uniq("excl-max-mutex"));
    ASSERT_NOT_NULL(m);
    char longname[400];
    memset(longname, 'x', 300);
    longname[300] = 0;
    const char *bad_names[] = {"\\leading", "Global\\", "nonamespace\\x", uniq("excl-max-mutex"), "Global", longname,
                               "Session\\999999\\x"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        SetLastError(POISON);
        ASSERT_NULL(CreateSemaphoreExA(NULL, 1, 2, bad_names[i], SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS));
        if (GetLastError() != ERROR_INVALID_PARAMETER) fprintf(stderr, "name \"%.40s\"\n", bad_names[i]);
        ASSERT_GLE(ERROR_INVALID_PARAMETER);
    }
    /* ...and an existing exclusive semaphore of that name is not opened. */
    HANDLE x = create_excl(name, 1);
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreExA(NULL, 1, 2, name, SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    NSEM_OBJECT_INFO info = query(x);
    ASSERT_EQ(info.dwHandleCount, 1);
    check_free(x);
    return 0;
}

/* EXCLUSIVE.md "Rules" / nsem.h CreateSemaphoreEx: any other dwFlags bit, or both
 * SEMAPHORE_EXCLUSIVE and SEMAPHORE_UNDO -> ERROR_INVALID_PARAMETER. */
TEST(excl_create_unknown_flags)
{
    const char *name = name_of("excl-flags");
    static const DWORD flags[] = {0x4, 0x8, 0x10, 0x100, 0x10000, 0x80000000u, 0xFFFFFFFCu,
                                  SEMAPHORE_EXCLUSIVE | 0x4, SEMAPHORE_EXCLUSIVE | 0x80000000u,
                                  SEMAPHORE_EXCLUSIVE | SEMAPHORE_UNDO, SEMAPHORE_UNDO | 0x4};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        SetLastError(POISON);
        ASSERT_NULL(CreateSemaphoreExA(NULL, 1, 1, name, flags[i], SEMAPHORE_ALL_ACCESS));
        if (GetLastError() != ERROR_INVALID_PARAMETER) fprintf(stderr, "flags 0x%x\n", flags[i]);
        ASSERT_GLE(ERROR_INVALID_PARAMETER);
        SetLastError(POISON);
        ASSERT_NULL(CreateSemaphoreExW(NULL, 0, 1, NULL, flags[i], SEMAPHORE_ALL_ACCESS));
        ASSERT_GLE(ERROR_INVALID_PARAMETER);
    }
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);

    /* Also on an existing name: nothing is opened and the object is unchanged. */
    HANDLE x = create_excl(name, 0);
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        SetLastError(POISON);
        ASSERT_NULL(CreateSemaphoreExA(NULL, 1, 1, name, flags[i], SEMAPHORE_ALL_ACCESS));
        ASSERT_GLE(ERROR_INVALID_PARAMETER);
    }
    check_mine(x, 1);
    ASSERT_EQ(query(x).dwHandleCount, 1);
    return 0;
}

/* EXCLUSIVE.md "Rules": lInitialCount 1 means free. */
TEST(excl_create_free)
{
    HANDLE x = create_excl(uniq("excl-free"), 1);
    check_free(x);
    NSEM_OBJECT_INFO info = query(x);
    ASSERT_EQ(info.dwLastOwnerProcessId, 0);
    ASSERT_EQ(info.dwHandleCount, 1);
    ASSERT_EQ(info.dwWaiterCount, 0);
    /* Not owned by anyone: a release is ERROR_NOT_OWNER. */
    release_fails(x, 1, ERROR_NOT_OWNER);
    check_free(x);

    /* W and anonymous ones too. */
    SetLastError(POISON);
    HANDLE w = CreateSemaphoreExW(NULL, 1, 1, uniqw("excl-free-w"), SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS);
    ASSERT_NOT_NULL(w);
    ASSERT_GLE(0);
    check_free(w);
    HANDLE anon = create_excl(NULL, 1);
    check_free(anon);
    ASSERT_REQ(anon, 0, 0);
    check_mine(anon, 1);

    /* An ordinary semaphore of maximum 1 is not exclusive. */
    SetLastError(POISON);
    HANDLE plain = CreateSemaphoreExA(NULL, 1, 1, uniq("excl-plain"), 0, SEMAPHORE_ALL_ACCESS);
    ASSERT_NOT_NULL(plain);
    ASSERT_GLE(0);
    ASSERT_EQ(query(plain).dwFlags & NSEM_INFO_EXCLUSIVE, 0);
    return 0;
}

/* EXCLUSIVE.md "Rules": lInitialCount 0 means owned by the creating thread. */
TEST(excl_create_owned)
{
    HANDLE x = create_excl(uniq("excl-owned"), 0);
    check_mine(x, 1);
    ASSERT_EQ(query(x).bAbandoned, FALSE);
    ASSERT_REQ(x, 0, 0);
    check_mine(x, 2);
    release_ok(x);
    check_mine(x, 1);
    release_ok(x);
    check_free(x);
    release_fails(x, 1, ERROR_NOT_OWNER);
    check_free(x);

    SetLastError(POISON);
    HANDLE w = CreateSemaphoreExW(NULL, 0, 1, NULL, SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS);
    ASSERT_NOT_NULL(w);
    ASSERT_GLE(0);
    check_mine(w, 1);
    return 0;
}

struct create_args {
    const char *name;
    HANDLE h;
};

static void *create_existing_in_thread(void *arg)
{
    struct create_args *a = arg;
    SetLastError(POISON);
    a->h = CreateSemaphoreExA(NULL, 0, 1, a->name, SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS);
    ASSERT_NOT_NULL(a->h);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    /* Counts of an existing object are ignored: this thread does not own it. */
    ASSERT_NE(query(a->h).dwOwnerThreadId, GetCurrentThreadId());
    return NULL;
}

/* EXCLUSIVE.md "Rules": it lives in the ordinary semaphore namespace: OpenSemaphore opens it,
 * CreateSemaphore on its name opens it with ERROR_ALREADY_EXISTS. */
TEST(excl_create_and_open_by_name)
{
    const char *name = name_of("excl-ns");
    HANDLE x = create_excl(name, 1);

    SetLastError(POISON);
    HANDLE c = CreateSemaphoreA(NULL, 0, 5, name);
    ASSERT_NOT_NULL(c);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_free(c); /* the same object, counts ignored: maximum 1, exclusive, free */
    SetLastError(POISON);
    HANDLE cw = CreateSemaphoreW(NULL, 3, 3, uniqw("excl-ns"));
    ASSERT_NOT_NULL(cw);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    SetLastError(POISON);
    HANDLE cx = CreateSemaphoreExA(NULL, 1, 1, name, 0, SEMAPHORE_ALL_ACCESS);
    ASSERT_NOT_NULL(cx);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    SetLastError(POISON);
    HANDLE o = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
    ASSERT_NOT_NULL(o);
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    HANDLE ow = OpenSemaphoreW(SYNCHRONIZE | SEMAPHORE_QUERY_STATE, FALSE, uniqw("excl-ns"));
    ASSERT_NOT_NULL(ow);
    ASSERT_GLE(POISON);
    ASSERT_EQ(query(x).dwHandleCount, 6);

    /* An existing one created "owned" again: not owned, by this thread or another. */
    SetLastError(POISON);
    HANDLE again = CreateSemaphoreExA(NULL, 0, 1, name, SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS);
    ASSERT_NOT_NULL(again);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_free(x);
    struct create_args a = {name, NULL};
    in_thread(create_existing_in_thread, &a);
    check_free(x);

    /* Every handle reaches the one exclusive object. */
    ASSERT_REQ(c, 0, 0);
    check_mine(x, 1);
    ASSERT_REQ(ow, 0, 0);
    check_mine(o, 2);
    release_ok(o);
    release_ok(cx);
    check_free(cw);
    release_fails(c, 1, ERROR_NOT_OWNER);
    release_fails(c, 2, ERROR_INVALID_PARAMETER); /* not a counting semaphore of maximum 5 */
    check_free(x);

    /* A mutex handle of the name does not exist: the name is a semaphore's. */
    SetLastError(POISON);
    ASSERT_NULL(OpenMutexA(MUTEX_ALL_ACCESS, FALSE, name));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    return 0;
}

/* =============================================================================================
 * Acquire (NsemRequestSemaphore)
 * =========================================================================================== */

/* EXCLUSIVE.md "Acquire" 1: bad handle -> ERROR_INVALID_HANDLE (6); and a handle of another type
 * (nsem.h: "bad handle, or not a semaphore"). */
TEST(excl_request_bad_handle)
{
    ASSERT_REQ(NULL, 0, ERROR_INVALID_HANDLE);
    ASSERT_REQ(BAD_HANDLE, 0, ERROR_INVALID_HANDLE);
    ASSERT_REQ(BAD_HANDLE, 50, ERROR_INVALID_HANDLE);
    ASSERT_REQ(INVALID_HANDLE_VALUE, 0, ERROR_INVALID_HANDLE);
    ASSERT_REQ(GetCurrentThread(), 0, ERROR_INVALID_HANDLE);

    HANDLE x = create_excl(NULL, 1);
    ASSERT(CloseHandle(x));
    ASSERT_REQ(x, 0, ERROR_INVALID_HANDLE);
    ASSERT_REQ(x, INFINITE, ERROR_INVALID_HANDLE);

    /* A free mutex and a set auto-reset event: neither is taken. */
    HANDLE m = CreateMutexA(NULL, FALSE, NULL);
    ASSERT_NOT_NULL(m);
    ASSERT_REQ(m, 0, ERROR_INVALID_HANDLE);
    ASSERT_REQ(m, 50, ERROR_INVALID_HANDLE);
    NSEM_OBJECT_INFO info = query(m);
    ASSERT_EQ(info.dwOwnerThreadId, 0);
    ASSERT_EQ(info.dwRecursionCount, 0);
    ASSERT_EQ(info.lCurrentCount, 1);
    HANDLE e = new_event(NULL, FALSE, TRUE);
    ASSERT_REQ(e, 0, ERROR_INVALID_HANDLE);
    ASSERT_EQ(query(e).lCurrentCount, 1);
    /* An owned mutex: still 6 (not a recursion). */
    ASSERT_EQ_U(WaitForSingleObject(m, 0), WAIT_OBJECT_0);
    ASSERT_REQ(m, 0, ERROR_INVALID_HANDLE);
    ASSERT_EQ(query(m).dwRecursionCount, 1);
    return 0;
}

/* EXCLUSIVE.md "Acquire" 1: no SYNCHRONIZE right -> ERROR_ACCESS_DENIED (5), checked before the
 * state (free, owned by the caller, owned by another process). */
TEST(excl_request_no_synchronize)
{
    const char *name = name_of("excl-nosync");
    HANDLE x = create_excl(name, 1);
    SetLastError(POISON);
    HANDLE modify = OpenSemaphoreA(SEMAPHORE_MODIFY_STATE, FALSE, name);
    ASSERT_NOT_NULL(modify);
    ASSERT_GLE(POISON);
    HANDLE qry = OpenSemaphoreA(SEMAPHORE_QUERY_STATE | SEMAPHORE_MODIFY_STATE, FALSE, name);
    ASSERT_NOT_NULL(qry);

    /* free */
    ASSERT_REQ(modify, 0, ERROR_ACCESS_DENIED);
    ASSERT_REQ(modify, 50, ERROR_ACCESS_DENIED);
    ASSERT_REQ(qry, 0, ERROR_ACCESS_DENIED);
    check_free(x);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(modify, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_free(x);

    /* owned by this thread: no recursion through it */
    ASSERT_REQ(x, 0, 0);
    ASSERT_REQ(modify, 0, ERROR_ACCESS_DENIED);
    check_mine(x, 1);
    release_ok(modify); /* SEMAPHORE_MODIFY_STATE is what a release needs */
    check_free(x);

    /* owned by another process: 5, not 101 */
    int fd;
    pid_t pid = spawn_helper("excl_helper_own", &fd, name, "1", "hang", NULL);
    DWORD tid = read_owned(fd);
    check_owned(x, pid, tid, 1);
    ASSERT_REQ(modify, 0, ERROR_ACCESS_DENIED);
    ASSERT_REQ(modify, 100, ERROR_ACCESS_DENIED);
    check_owned(x, pid, tid, 1);
    check_waiters(x, 0);
    kill_child(pid);
    return 0;
}

/* EXCLUSIVE.md "Acquire" 2 and 3: free -> the calling thread owns it, recursion 1, returns 0;
 * owned by the calling thread -> recursion + 1, returns 0. "Release": prev is 0 while owned. */
TEST(excl_request_free_and_recursion)
{
    HANDLE x = create_excl(uniq("excl-rec"), 1);
    check_free(x);
    ASSERT_REQ(x, 0, 0);
    check_mine(x, 1);
    ASSERT_REQ(x, 0, 0);
    check_mine(x, 2);
    ASSERT_REQ(x, 100, 0);
    check_mine(x, 3);
    ASSERT_REQ(x, INFINITE, 0);
    check_mine(x, 4);
    for (DWORD i = 4; i >= 1; i--) {
        release_ok(x); /* prev is 0 each time, the last one included */
        if (i > 1) check_mine(x, i - 1);
    }
    check_free(x);
    release_fails(x, 1, ERROR_NOT_OWNER);
    check_free(x);
    /* free again: a timed and an infinite request take it at once */
    ASSERT_REQ(x, 5000, 0);
    check_mine(x, 1);
    release_ok(x);
    ASSERT_REQ(x, INFINITE, 0);
    check_mine(x, 1);
    release_ok(x);
    check_free(x);
    return 0;
}

/* NsemRequestSemaphore on an ordinary counting semaphore (nsem.h): 0 while permits last, then
 * ERROR_SEM_TIMEOUT (never 101: nobody owns a counting semaphore). */
TEST(excl_request_counting_semaphore)
{
    SetLastError(POISON);
    HANDLE s = CreateSemaphoreA(NULL, 2, 3, uniq("excl-counting"));
    ASSERT_NOT_NULL(s);
    ASSERT_REQ(s, 0, 0);
    check_sem(s, 1, 3);
    ASSERT_REQ(s, 0, 0);
    check_sem(s, 0, 3);
    ASSERT_REQ(s, 0, ERROR_SEM_TIMEOUT);
    ASSERT_REQ(s, 30, ERROR_SEM_TIMEOUT);
    check_sem(s, 0, 3);
    ASSERT(ReleaseSemaphore(s, 1, NULL));
    ASSERT_REQ(s, 0, 0);
    check_sem(s, 0, 3);
    return 0;
}

struct at_limit {
    HANDLE x;
};

static void *request_at_limit_other_thread(void *arg)
{
    struct at_limit *a = arg;
    ASSERT_REQ(a->x, 0, ERROR_SEM_TIMEOUT); /* not 103: the limit is the owner's */
    release_fails(a->x, 2, ERROR_INVALID_PARAMETER);
    return NULL;
}

/* EXCLUSIVE.md "Tests this implies": recursion to 65535, then 103 ("Acquire" 3: at 65535 ->
 * ERROR_TOO_MANY_SEM_REQUESTS, nothing changes); "Through WaitForSingleObject/
 * WaitForMultipleObjects: 103 -> WAIT_FAILED with GetLastError() == 103". */
TEST(excl_request_recursion_limit)
{
    HANDLE x = create_excl(uniq("excl-limit"), 0);
    HANDLE sem = CreateSemaphoreA(NULL, 1, 1, NULL);
    ASSERT_NOT_NULL(sem);
    for (DWORD i = 2; i <= MAX_REC; i++) {
        SetLastError(POISON);
        DWORD r = NsemRequestSemaphore(x, 0);
        if (r != 0) {
            fprintf(stderr, "request %u of %u\n", i, MAX_REC);
            ASSERT_EQ_U(r, 0);
        }
    }
    ASSERT_GLE(0);
    check_mine(x, MAX_REC);

    ASSERT_REQ(x, 0, ERROR_TOO_MANY_SEM_REQUESTS);
    check_mine(x, MAX_REC);
    ASSERT_REQ(x, 100, ERROR_TOO_MANY_SEM_REQUESTS);
    check_mine(x, MAX_REC);
    ASSERT_REQ(x, INFINITE, ERROR_TOO_MANY_SEM_REQUESTS);
    check_mine(x, MAX_REC);

    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(x, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_TOO_MANY_SEM_REQUESTS);
    check_mine(x, MAX_REC);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObjectEx(x, 100, FALSE), WAIT_FAILED);
    ASSERT_GLE(ERROR_TOO_MANY_SEM_REQUESTS);
    check_mine(x, MAX_REC);

    /* Wait-any at index 0 and wait-all: WAIT_FAILED, 103, and the counting semaphore is untouched. */
    HANDLE any[2] = {x, sem};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, any, FALSE, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_TOO_MANY_SEM_REQUESTS);
    check_sem(sem, 1, 1);
    check_mine(x, MAX_REC);
    HANDLE all[2] = {sem, x};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, all, TRUE, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_TOO_MANY_SEM_REQUESTS);
    check_sem(sem, 1, 1);
    check_mine(x, MAX_REC);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, all, TRUE, 100), WAIT_FAILED);
    ASSERT_GLE(ERROR_TOO_MANY_SEM_REQUESTS);
    check_sem(sem, 1, 1);
    check_mine(x, MAX_REC);

    /* Another thread of this process: it waits (121), it is not told 103. */
    struct at_limit a = {x};
    in_thread(request_at_limit_other_thread, &a);
    check_mine(x, MAX_REC);

    /* One level less: one more request fits, then 103 again. */
    release_ok(x);
    check_mine(x, MAX_REC - 1);
    ASSERT_REQ(x, 0, 0);
    check_mine(x, MAX_REC);
    ASSERT_REQ(x, 0, ERROR_TOO_MANY_SEM_REQUESTS);

    for (DWORD i = MAX_REC; i >= 1; i--) {
        LONG prev = 12345;
        if (!ReleaseSemaphore(x, 1, &prev) || prev != 0) {
            fprintf(stderr, "release at recursion %u: error %u prev %d\n", i, GetLastError(), prev);
            ASSERT(0);
        }
    }
    check_free(x);
    release_fails(x, 1, ERROR_NOT_OWNER);
    check_free(x);
    return 0;
}

struct other_thread_args {
    HANDLE x;
    DWORD owner_tid;
    DWORD rec;
};

static void *request_from_other_thread(void *arg)
{
    struct other_thread_args *a = arg;
    ASSERT_REQ(a->x, 0, ERROR_SEM_TIMEOUT);
    check_owned(a->x, GetCurrentProcessId(), a->owner_tid, a->rec);
    ASSERT_REQ(a->x, 50, ERROR_SEM_TIMEOUT);
    check_owned(a->x, GetCurrentProcessId(), a->owner_tid, a->rec);
    check_waiters(a->x, 0);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(a->x, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(a->x, 30), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    check_owned(a->x, GetCurrentProcessId(), a->owner_tid, a->rec);
    return NULL;
}

/* EXCLUSIVE.md "Tests this implies": timeout-0 acquire from A's other thread: 121 ("Acquire" 4:
 * owned by another thread of the calling process -> waits; on timeout, also ms == 0, 121); and a
 * waiting thread gets it when the owner thread releases the last level. */
TEST(excl_request_other_thread_same_process)
{
    HANDLE x = create_excl(uniq("excl-thread"), 0);
    ASSERT_REQ(x, 0, 0);
    struct other_thread_args a = {x, GetCurrentThreadId(), 2};
    in_thread(request_from_other_thread, &a);
    check_mine(x, 2);

    /* A waiter in another thread: still waiting after one level, owner after the last. */
    struct waiter w = {.sem = x, .ms = 5000, .release = 0};
    start_waiter(&w);
    wait_waiters(x, 1);
    release_ok(x);
    check_mine(x, 1);
    sleep_ms(20);
    ASSERT_EQ(atomic_load(&w.done), 0);
    wait_waiters(x, 1);
    release_ok(x);
    join(w.thread);
    ASSERT_EQ_U(w.result, 0);
    ASSERT_EQ_U(w.error, 0);
    /* The waiter thread has ended owning it: that abandons it (see excl_thread_exit_*). */
    wait_abandoned(x, GetCurrentProcessId());
    return 0;
}

/* EXCLUSIVE.md "Tests this implies": timeout-0 acquire from process B while A owns it: 101; timed
 * acquire from B that runs out: 121; release from B: 101. Here A is a helper process and B is the
 * test; every failure leaves A's ownership as it was. */
TEST(excl_request_other_process_owner_is_helper)
{
    const char *name = name_of("excl-proc");
    HANDLE x = create_excl(name, 1);
    HANDLE ev = new_event(NULL, FALSE, FALSE);
    SetLastError(POISON);
    HANDLE sem = CreateSemaphoreA(NULL, 1, 1, NULL);
    ASSERT_NOT_NULL(sem);
    int fd;
    pid_t pid = spawn_helper("excl_helper_own", &fd, name, "2", "hang", NULL);
    DWORD tid = read_owned(fd);
    check_owned(x, pid, tid, 2);

    ASSERT_REQ(x, 0, ERROR_EXCL_SEM_ALREADY_OWNED);
    check_owned(x, pid, tid, 2);
    check_waiters(x, 0);
    ASSERT_REQ(x, 100, ERROR_SEM_TIMEOUT);
    check_owned(x, pid, tid, 2);
    check_waiters(x, 0);
    ASSERT_REQ(x, 0, ERROR_EXCL_SEM_ALREADY_OWNED); /* and again: nothing is remembered */
    check_owned(x, pid, tid, 2);

    /* "Release": owned by another process -> 101, nothing changes. */
    LONG prev = 12345;
    SetLastError(POISON);
    ASSERT(!ReleaseSemaphore(x, 1, &prev));
    ASSERT_GLE(ERROR_EXCL_SEM_ALREADY_OWNED);
    check_owned(x, pid, tid, 2);
    release_fails(x, 1, ERROR_EXCL_SEM_ALREADY_OWNED);
    check_owned(x, pid, tid, 2);

    /* Wait functions: 101 and 121 are WAIT_TIMEOUT; nothing is consumed. */
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(x, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(x, 50), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    check_owned(x, pid, tid, 2);
    HANDLE any[2] = {ev, x};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, any, FALSE, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, any, FALSE, 50), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    HANDLE all[2] = {sem, x};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, all, TRUE, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, all, TRUE, 50), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    check_sem(sem, 1, 1);
    check_owned(x, pid, tid, 2);
    check_waiters(x, 0);
    kill_child(pid);
    return 0;
}

/* EXCLUSIVE.md "Tests this implies": timeout-0 acquire from process B while A owns it: 101; timed
 * acquire from B that runs out: 121; release from B: 101. Here A is the test and B a helper
 * process (spawn_helper: a real exec). */
TEST(excl_request_other_process_owner_is_test)
{
    const char *name = name_of("excl-proc2");
    HANDLE x = create_excl(name, 0);
    check_mine(x, 1);
    int fd;
    char me[32];
    snprintf(me, sizeof me, "%u", GetCurrentProcessId());
    pid_t pid = spawn_helper("excl_helper_try", &fd, name, me, NULL);
    expect_line(fd, OTHER_EXPECTED);
    ASSERT_EQ(wait_child(pid, 5000), 0);
    check_mine(x, 1);
    check_waiters(x, 0);
    release_ok(x);
    check_free(x);
    return 0;
}

/* EXCLUSIVE.md "Acquire" 5: otherwise waits (first come, first served) — a waiter in another
 * process gets it (0) when the owner releases the last level, and not before. */
TEST(excl_waiter_in_other_process_gets_it)
{
    const char *name = name_of("excl-handoff");
    HANDLE x = create_excl(name, 0);
    ASSERT_REQ(x, 0, 0);
    check_mine(x, 2);
    int fd;
    pid_t pid = spawn_helper("excl_helper_request", &fd, name, "5000", "release", NULL);
    wait_waiters(x, 1);
    release_ok(x);
    check_mine(x, 1);
    sleep_ms(30);
    wait_waiters(x, 1);
    check_mine(x, 1);
    release_ok(x);
    struct req_report rep = read_report(fd);
    ASSERT_EQ_U(rep.r, 0);
    ASSERT_EQ_U(rep.gle, 0);
    ASSERT_EQ(rep.mine, 1);
    ASSERT_EQ(rep.rec, 1);
    ASSERT_EQ(rep.ab, 0);
    expect_line(fd, "released");
    ASSERT_EQ(wait_child(pid, 5000), 0);
    check_free(x);
    ASSERT_REQ(x, 0, 0);
    check_mine(x, 1);
    return 0;
}

/* EXCLUSIVE.md "Acquire" 5: waits, first come, first served — B waits first, C second; at the
 * release B gets it, then C when B releases. */
TEST(excl_waiters_first_come_first_served)
{
    const char *name = name_of("excl-fifo");
    const char *go_name = name_of("excl-fifo-go");
    HANDLE go = new_event(go_name, TRUE, FALSE);
    HANDLE x = create_excl(name, 0);
    int fb, fc;
    pid_t b = spawn_helper("excl_helper_request", &fb, name, "10000", "hold", go_name, NULL);
    wait_waiters(x, 1);
    pid_t c = spawn_helper("excl_helper_request", &fc, name, "10000", "hold", go_name, NULL);
    wait_waiters(x, 2);
    release_ok(x);
    /* Whoever gets it holds it until `go`. */
    NSEM_OBJECT_INFO info;
    uint64_t end = now_ms() + 5000;
    while ((info = query(x)).dwOwnerProcessId == 0 && now_ms() < end) sleep_ms(1);
    if (info.dwOwnerProcessId == (DWORD)c)
        fprintf(stderr, "C (pid %d), which came second, got it before B (pid %d)\n", (int)c, (int)b);
    ASSERT_EQ(info.dwOwnerProcessId, (DWORD)b);
    struct req_report rb = read_report(fb);
    ASSERT_EQ_U(rb.r, 0);
    ASSERT_EQ_U(rb.gle, 0);
    ASSERT_EQ(rb.mine, 1);
    check_owned(x, b, info.dwOwnerThreadId, 1);
    wait_waiters(x, 1);
    ASSERT(SetEvent(go));
    expect_line(fb, "released");
    struct req_report rc = read_report(fc);
    ASSERT_EQ_U(rc.r, 0);
    ASSERT_EQ_U(rc.gle, 0);
    ASSERT_EQ(rc.mine, 1);
    expect_line(fc, "released");
    ASSERT_EQ(wait_child(b, 5000), 0);
    ASSERT_EQ(wait_child(c, 5000), 0);
    check_free(x);
    return 0;
}

/* =============================================================================================
 * Release
 * =========================================================================================== */

/* EXCLUSIVE.md "Release": lReleaseCount != 1 -> ERROR_INVALID_PARAMETER; no SEMAPHORE_MODIFY_STATE
 * -> ERROR_ACCESS_DENIED; not owned by anyone -> ERROR_NOT_OWNER (288); all after the handle
 * check (nsem.h), and nothing changes. */
TEST(excl_release_errors)
{
    const char *name = name_of("excl-rel");
    HANDLE x = create_excl(name, 0);
    SetLastError(POISON);
    HANDLE sync = OpenSemaphoreA(SYNCHRONIZE | SEMAPHORE_QUERY_STATE, FALSE, name);
    ASSERT_NOT_NULL(sync);

    /* owned (twice) */
    ASSERT_REQ(x, 0, 0);
    static const LONG counts[] = {2, 3, 0, -1, 0x7FFFFFFF};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        release_fails(x, counts[i], ERROR_INVALID_PARAMETER);
        check_mine(x, 2);
    }
    release_fails(sync, 1, ERROR_ACCESS_DENIED);
    check_mine(x, 2);
    release_fails(sync, 2, ERROR_INVALID_PARAMETER); /* the count is checked first */
    check_mine(x, 2);
    release_ok(x);
    release_ok(x);
    check_free(x);

    /* free */
    release_fails(x, 1, ERROR_NOT_OWNER);
    check_free(x);
    release_fails(x, 2, ERROR_INVALID_PARAMETER);
    release_fails(x, 0, ERROR_INVALID_PARAMETER);
    release_fails(sync, 1, ERROR_ACCESS_DENIED);
    check_free(x);
    LONG prev = 12345;
    SetLastError(POISON);
    ASSERT(!ReleaseSemaphore(x, 1, &prev));
    ASSERT_GLE(ERROR_NOT_OWNER);
    check_free(x);

    /* The handle check comes first for a positive count (nsem.h); count <= 0 is 87 anyway. */
    ASSERT(CloseHandle(sync));
    release_fails(sync, 1, ERROR_INVALID_HANDLE);
    release_fails(sync, 2, ERROR_INVALID_HANDLE);
    release_fails(sync, 0, ERROR_INVALID_PARAMETER);
    release_fails(BAD_HANDLE, 2, ERROR_INVALID_HANDLE);
    return 0;
}

static void *release_in_thread(void *arg)
{
    release_ok((HANDLE)arg);
    return NULL;
}

static void *release_not_owner_in_thread(void *arg)
{
    release_fails((HANDLE)arg, 1, ERROR_NOT_OWNER);
    return NULL;
}

/* EXCLUSIVE.md "Release": owned by the calling process (any of its threads) -> recursion - 1; at 0
 * it is free; prev is 0 while owned. */
TEST(excl_release_by_other_thread)
{
    HANDLE x = create_excl(uniq("excl-rel-thread"), 0);
    DWORD me = GetCurrentThreadId();
    ASSERT_REQ(x, 0, 0);
    ASSERT_REQ(x, 0, 0);
    check_mine(x, 3);
    in_thread(release_in_thread, x);
    check_owned(x, GetCurrentProcessId(), me, 2); /* still this thread's */
    in_thread(release_in_thread, x);
    check_mine(x, 1);
    in_thread(release_in_thread, x);
    check_free(x);
    in_thread(release_not_owner_in_thread, x);
    check_free(x);
    ASSERT_REQ(x, 0, 0);
    check_mine(x, 1);
    return 0;
}

/* EXCLUSIVE.md "Release" (any of its threads) with "Death and close" (the owning thread ends): a
 * thread's ownership released by another thread is gone, so the thread's end abandons nothing;
 * partly released, it is still the owner's, so its end abandons it. */
TEST(excl_release_by_other_thread_then_owner_exits)
{
    HANDLE x = create_excl(uniq("excl-rel-exit"), 1);
    struct owner o = {.sem = x, .levels = 2, .ready = new_event(NULL, TRUE, FALSE), .go = new_event(NULL, TRUE, FALSE)};
    ASSERT_EQ(pthread_create(&o.thread, NULL, owner_main, &o), 0);
    ASSERT_EQ_U(WaitForSingleObject(o.ready, 5000), WAIT_OBJECT_0);
    check_owned(x, GetCurrentProcessId(), o.tid, 2);
    release_ok(x);
    check_owned(x, GetCurrentProcessId(), o.tid, 1);
    release_ok(x);
    check_free(x);
    ASSERT_REQ(x, 0, 0); /* now this thread's */
    check_mine(x, 1);
    ASSERT(SetEvent(o.go));
    join(o.thread);
    sleep_ms(20);
    check_mine(x, 1);
    release_ok(x);
    check_free(x);

    /* One level of two released by this thread: the owner thread's end abandons it. */
    struct owner o2 = {.sem = x, .levels = 2, .ready = new_event(NULL, TRUE, FALSE), .go = new_event(NULL, TRUE, FALSE)};
    ASSERT_EQ(pthread_create(&o2.thread, NULL, owner_main, &o2), 0);
    ASSERT_EQ_U(WaitForSingleObject(o2.ready, 5000), WAIT_OBJECT_0);
    release_ok(x);
    check_owned(x, GetCurrentProcessId(), o2.tid, 1);
    ASSERT(SetEvent(o2.go));
    join(o2.thread);
    wait_abandoned(x, GetCurrentProcessId());
    ASSERT_REQ(x, 0, ERROR_SEM_OWNER_DIED);
    check_mine(x, 1);
    return 0;
}

/* =============================================================================================
 * Wait functions
 * =========================================================================================== */

/* EXCLUSIVE.md "Through WaitForSingleObject": success -> WAIT_OBJECT_0, owner died ->
 * WAIT_ABANDONED_0 (101/121 -> WAIT_TIMEOUT and 103 -> WAIT_FAILED are in the tests above). */
TEST(excl_wait_single)
{
    HANDLE x = create_excl(uniq("excl-wfso"), 1);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(x, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_mine(x, 1);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObjectEx(x, 100, TRUE), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_mine(x, 2);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(x, INFINITE), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_mine(x, 3);
    release_ok(x);
    release_ok(x);
    release_ok(x);
    check_free(x);

    abandon_by_thread(x, 2);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(x, 5000), WAIT_ABANDONED_0);
    ASSERT_GLE(POISON);
    check_mine(x, 1);
    /* Told once. */
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(x, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_mine(x, 2);
    release_ok(x);
    release_ok(x);
    check_free(x);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(x, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_mine(x, 1);
    return 0;
}

/* EXCLUSIVE.md "Through WaitForMultipleObjects": success -> WAIT_OBJECT_0 + i, owner died ->
 * WAIT_ABANDONED_0 + i (wait-all success is WAIT_OBJECT_0, SPEC 60). */
TEST(excl_wait_multiple)
{
    HANDLE x = create_excl(uniq("excl-wfmo"), 1);
    HANDLE e0 = new_event(NULL, FALSE, FALSE), e1 = new_event(NULL, TRUE, FALSE);
    HANDLE set = new_event(NULL, TRUE, TRUE);
    HANDLE sem = CreateSemaphoreA(NULL, 1, 2, NULL);
    ASSERT_NOT_NULL(sem);

    /* wait-any, index 2; again (recursion through it) */
    HANDLE any[3] = {e0, e1, x};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(3, any, FALSE, 0), WAIT_OBJECT_0 + 2);
    ASSERT_GLE(POISON);
    check_mine(x, 1);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjectsEx(3, any, FALSE, 100, FALSE), WAIT_OBJECT_0 + 2);
    ASSERT_GLE(POISON);
    check_mine(x, 2);
    release_ok(x);
    release_ok(x);

    /* wait-any: a lower signalled index wins and the exclusive semaphore stays free */
    HANDLE low[2] = {set, x};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, low, FALSE, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_free(x);

    /* wait-all, index 0 and 1 */
    HANDLE all[2] = {x, sem};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, all, TRUE, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_mine(x, 1);
    check_sem(sem, 0, 2);
    HANDLE all2[2] = {set, x};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, all2, TRUE, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_mine(x, 2);
    /* wait-all that cannot be satisfied (the semaphore is at 0): nothing taken */
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, all, TRUE, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    check_mine(x, 2);
    check_sem(sem, 0, 2);
    release_ok(x);
    release_ok(x);
    ASSERT(ReleaseSemaphore(sem, 1, NULL));
    check_free(x);

    /* abandoned: wait-any at index 2 */
    abandon_by_thread(x, 1);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(3, any, FALSE, 5000), WAIT_ABANDONED_0 + 2);
    ASSERT_GLE(POISON);
    check_mine(x, 1);
    release_ok(x);

    /* abandoned: wait-any with a lower signalled index leaves it abandoned */
    abandon_by_thread(x, 1);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, low, FALSE, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    wait_abandoned(x, GetCurrentProcessId());

    /* abandoned: wait-all at index 1, then at index 0 */
    HANDLE all_at1[2] = {sem, x};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, all_at1, TRUE, 5000), WAIT_ABANDONED_0 + 1);
    ASSERT_GLE(POISON);
    check_mine(x, 1);
    check_sem(sem, 0, 2);
    release_ok(x);
    ASSERT(ReleaseSemaphore(sem, 1, NULL));
    abandon_by_thread(x, 3);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, all, TRUE, 5000), WAIT_ABANDONED_0);
    ASSERT_GLE(POISON);
    check_mine(x, 1);
    check_sem(sem, 0, 2);
    return 0;
}

/* =============================================================================================
 * Death and close
 * =========================================================================================== */

/* EXCLUSIVE.md "Tests this implies": SIGKILL A while it owns it with B waiting: B gets 105 and
 * ownership within milliseconds; C then gets 0. */
TEST(excl_killed_owner_waiter_gets_105)
{
    const char *name = name_of("excl-kill");
    const char *go_name = name_of("excl-kill-go");
    HANDLE go = new_event(go_name, TRUE, FALSE);
    HANDLE x = create_excl(name, 1);

    int fa, fb, fc;
    pid_t a = spawn_helper("excl_helper_own", &fa, name, "2", "hang", NULL);
    DWORD atid = read_owned(fa);
    check_owned(x, a, atid, 2);

    pid_t b = spawn_helper("excl_helper_request", &fb, name, "5000", "hold", go_name, NULL);
    wait_waiters(x, 1);
    check_owned(x, a, atid, 2);
    ASSERT_EQ(kill(a, SIGKILL), 0);
    struct req_report rb = read_report(fb);
    ASSERT_EQ_U(rb.r, ERROR_SEM_OWNER_DIED);
    ASSERT_EQ_U(rb.gle, ERROR_SEM_OWNER_DIED);
    ASSERT_EQ(rb.mine, 1);
    ASSERT_EQ(rb.rec, 1);
    ASSERT_EQ(rb.ab, 0);
    ASSERT_EQ(wait_child(a, 5000), 128 + SIGKILL);
    NSEM_OBJECT_INFO info = query(x);
    check_owned(x, b, info.dwOwnerThreadId, 1);

    /* C waits while B owns it; B releases; C gets 0 (not told again). */
    pid_t c = spawn_helper("excl_helper_request", &fc, name, "5000", "release", NULL);
    wait_waiters(x, 1);
    ASSERT(SetEvent(go));
    expect_line(fb, "released");
    struct req_report rc = read_report(fc);
    ASSERT_EQ_U(rc.r, 0);
    ASSERT_EQ_U(rc.gle, 0);
    ASSERT_EQ(rc.mine, 1);
    ASSERT_EQ(rc.rec, 1);
    ASSERT_EQ(rc.ab, 0);
    expect_line(fc, "released");
    ASSERT_EQ(wait_child(b, 5000), 0);
    ASSERT_EQ(wait_child(c, 5000), 0);
    check_free(x);
    ASSERT_REQ(x, 0, 0);
    check_mine(x, 1);
    return 0;
}

/* EXCLUSIVE.md "Tests this implies": A dies with nobody waiting: the next acquirer gets 105,
 * exactly once; "NsemQueryObject ... after a death, bAbandoned and the dead owner's id until
 * someone acquires it". */
TEST(excl_killed_owner_nobody_waiting)
{
    const char *name = name_of("excl-kill-nw");
    HANDLE x = create_excl(name, 1);
    int fa;
    pid_t a = spawn_helper("excl_helper_own", &fa, name, "3", "hang", NULL);
    DWORD atid = read_owned(fa);
    check_owned(x, a, atid, 3);
    kill_child(a);
    wait_abandoned(x, a);
    /* Still abandoned a while later: querying tells nobody. */
    sleep_ms(20);
    wait_abandoned(x, a);

    ASSERT_REQ(x, 0, ERROR_SEM_OWNER_DIED);
    check_mine(x, 1);
    /* Told once: a recursion, another process, and after the release, nobody is told again. */
    ASSERT_REQ(x, 0, 0);
    check_mine(x, 2);
    char me[32];
    snprintf(me, sizeof me, "%u", GetCurrentProcessId());
    int ft;
    release_ok(x);
    pid_t t = spawn_helper("excl_helper_try", &ft, name, me, NULL);
    expect_line(ft, OTHER_EXPECTED);
    ASSERT_EQ(wait_child(t, 5000), 0);
    check_mine(x, 1);
    release_ok(x);
    check_free(x);
    int fr;
    pid_t r = spawn_helper("excl_helper_request", &fr, name, "0", "release", NULL);
    struct req_report rr = read_report(fr);
    ASSERT_EQ_U(rr.r, 0);
    ASSERT_EQ(rr.mine, 1);
    expect_line(fr, "released");
    ASSERT_EQ(wait_child(r, 5000), 0);
    ASSERT_REQ(x, 0, 0);
    check_mine(x, 1);
    return 0;
}

/* EXCLUSIVE.md "Death and close": its process ends in any way — here it exits normally — and the
 * next acquirer, in another process, gets 105. */
TEST(excl_exited_owner_next_acquirer_gets_105)
{
    const char *name = name_of("excl-exit");
    HANDLE x = create_excl(name, 1);
    int fa;
    pid_t a = spawn_helper("excl_helper_own", &fa, name, "1", "exit", NULL);
    (void)read_owned(fa);
    ASSERT_EQ(wait_child(a, 5000), 0);
    wait_abandoned(x, a);

    int fb;
    pid_t b = spawn_helper("excl_helper_request", &fb, name, "0", "release", NULL);
    struct req_report rb = read_report(fb);
    ASSERT_EQ_U(rb.r, ERROR_SEM_OWNER_DIED);
    ASSERT_EQ_U(rb.gle, ERROR_SEM_OWNER_DIED);
    ASSERT_EQ(rb.mine, 1);
    ASSERT_EQ(rb.rec, 1);
    ASSERT_EQ(rb.ab, 0);
    expect_line(fb, "released");
    ASSERT_EQ(wait_child(b, 5000), 0);
    check_free(x);
    ASSERT_REQ(x, 0, 0);
    check_mine(x, 1);
    return 0;
}

/* EXCLUSIVE.md "Death and close": a fork()ed owner killed with SIGKILL abandons it; the next
 * acquirer gets 105. */
TEST(excl_killed_forked_owner)
{
    const char *name = name_of("excl-fork-kill");
    HANDLE x = create_excl(name, 1);
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        HANDLE h = OpenSemaphoreA(SYNCHRONIZE, FALSE, name);
        if (!h || NsemRequestSemaphore(h, 5000) != 0) _exit(10);
        if (write(p[1], "owned\n", 6) != 6) _exit(11);
        for (;;) pause();
    }
    close(p[1]);
    char line[32];
    read_line(p[0], line, sizeof line, 10000);
    ASSERT(strcmp(line, "owned") == 0);
    NSEM_OBJECT_INFO info = query(x);
    check_owned(x, pid, info.dwOwnerThreadId, 1);
    ASSERT_EQ(info.dwOwnerThreadId, (DWORD)pid); /* the child's only thread */
    kill_child(pid);
    wait_abandoned(x, pid);
    ASSERT_REQ(x, 5000, ERROR_SEM_OWNER_DIED);
    check_mine(x, 1);
    close(p[0]);
    return 0;
}

/* EXCLUSIVE.md "Death and close": exactly one caller is told (two waiters in two processes when
 * the owner is killed). */
TEST(excl_killed_owner_two_waiters_one_told)
{
    const char *name = name_of("excl-two");
    HANDLE x = create_excl(name, 1);
    int fa, fb, fc;
    pid_t a = spawn_helper("excl_helper_own", &fa, name, "1", "hang", NULL);
    DWORD atid = read_owned(fa);
    check_owned(x, a, atid, 1);
    pid_t b = spawn_helper("excl_helper_request", &fb, name, "5000", "release", NULL);
    pid_t c = spawn_helper("excl_helper_request", &fc, name, "5000", "release", NULL);
    wait_waiters(x, 2);
    kill_child(a);
    struct req_report rb = read_report(fb), rc = read_report(fc);
    expect_line(fb, "released");
    expect_line(fc, "released");
    ASSERT_EQ(wait_child(b, 5000), 0);
    ASSERT_EQ(wait_child(c, 5000), 0);
    ASSERT_EQ(rb.mine, 1);
    ASSERT_EQ(rc.mine, 1);
    ASSERT_EQ(rb.rec, 1);
    ASSERT_EQ(rc.rec, 1);
    ASSERT_EQ(rb.ab, 0);
    ASSERT_EQ(rc.ab, 0);
    ASSERT_EQ_U(rb.gle, rb.r);
    ASSERT_EQ_U(rc.gle, rc.r);
    int told = (rb.r == ERROR_SEM_OWNER_DIED) + (rc.r == ERROR_SEM_OWNER_DIED);
    int plain = (rb.r == 0) + (rc.r == 0);
    if (told != 1 || plain != 1) fprintf(stderr, "B got %u, C got %u\n", rb.r, rc.r);
    ASSERT_EQ(told, 1);
    ASSERT_EQ(plain, 1);
    check_free(x);
    ASSERT_REQ(x, 0, 0);
    return 0;
}

/* EXCLUSIVE.md "Tests this implies": owner thread exits while owning: the next acquirer gets 105
 * (here a thread of the same process, after the thread created it owned, and after it acquired it
 * three times). */
TEST(excl_thread_exit_next_acquirer_gets_105)
{
    const char *name = name_of("excl-texit");
    struct owner o = {.create = name, .levels = 0};
    ASSERT_EQ(pthread_create(&o.thread, NULL, owner_main, &o), 0);
    join(o.thread);
    HANDLE x = o.sem;
    wait_abandoned(x, GetCurrentProcessId());
    ASSERT_REQ(x, 0, ERROR_SEM_OWNER_DIED);
    check_mine(x, 1);
    ASSERT_REQ(x, 0, 0);
    check_mine(x, 2);
    release_ok(x);
    release_ok(x);
    check_free(x);
    ASSERT_REQ(x, 0, 0);
    release_ok(x);

    abandon_by_thread(x, 3);
    ASSERT_REQ(x, 0, ERROR_SEM_OWNER_DIED);
    check_mine(x, 1);
    release_ok(x);
    check_free(x);
    ASSERT_REQ(x, 0, 0);
    check_mine(x, 1);
    return 0;
}

/* EXCLUSIVE.md "Tests this implies": owner thread exits while owning: the next acquirer gets 105
 * — here in another process, and the dead thread's process is still alive. */
TEST(excl_thread_exit_other_process_gets_105)
{
    const char *name = name_of("excl-texit-proc");
    HANDLE x = create_excl(name, 1);
    abandon_by_thread(x, 2);
    int fb;
    pid_t b = spawn_helper("excl_helper_request", &fb, name, "0", "release", NULL);
    struct req_report rb = read_report(fb);
    ASSERT_EQ_U(rb.r, ERROR_SEM_OWNER_DIED);
    ASSERT_EQ_U(rb.gle, ERROR_SEM_OWNER_DIED);
    ASSERT_EQ(rb.mine, 1);
    ASSERT_EQ(rb.rec, 1);
    expect_line(fb, "released");
    ASSERT_EQ(wait_child(b, 5000), 0);
    check_free(x);
    ASSERT_REQ(x, 0, 0);
    return 0;
}

/* EXCLUSIVE.md "Death and close": the owning thread ends while two threads wait: exactly one is
 * told 105 (and owns it), promptly; the other then gets 0. */
TEST(excl_thread_exit_waiters_one_told)
{
    HANDLE x = create_excl(uniq("excl-texit-w"), 1);
    struct owner o = {.sem = x, .levels = 2, .ready = new_event(NULL, TRUE, FALSE), .go = new_event(NULL, TRUE, FALSE)};
    ASSERT_EQ(pthread_create(&o.thread, NULL, owner_main, &o), 0);
    ASSERT_EQ_U(WaitForSingleObject(o.ready, 5000), WAIT_OBJECT_0);
    check_owned(x, GetCurrentProcessId(), o.tid, 2);
    struct waiter w[2] = {{.sem = x, .ms = 5000, .release = 1}, {.sem = x, .ms = 5000, .release = 1, .wfso = 1}};
    start_waiter(&w[0]);
    start_waiter(&w[1]);
    wait_waiters(x, 2);
    ASSERT(SetEvent(o.go));
    join(o.thread);
    join(w[0].thread);
    join(w[1].thread);
    int told = 0, plain = 0;
    /* w[0] uses NsemRequestSemaphore, w[1] WaitForSingleObject */
    if (w[0].result == ERROR_SEM_OWNER_DIED && w[0].error == ERROR_SEM_OWNER_DIED) told++;
    else if (w[0].result == 0 && w[0].error == 0) plain++;
    if (w[1].result == WAIT_ABANDONED && w[1].error == POISON) told++;
    else if (w[1].result == WAIT_OBJECT_0 && w[1].error == POISON) plain++;
    if (told != 1 || plain != 1)
        fprintf(stderr, "request: %u (error %u); wait: 0x%x (error 0x%x)\n", w[0].result, w[0].error, w[1].result,
                w[1].error);
    ASSERT_EQ(told, 1);
    ASSERT_EQ(plain, 1);
    check_free(x);
    return 0;
}

/* EXCLUSIVE.md "Death and close": the owner's process closes its last handle to it: abandoned, and
 * another process's acquirer gets 105 — while the owner process is still alive. */
TEST(excl_close_last_handle_abandons)
{
    const char *name = name_of("excl-close");
    HANDLE x = create_excl(name, 1);
    int fa;
    pid_t a = spawn_helper("excl_helper_own", &fa, name, "2", "close", NULL);
    (void)read_owned(fa);
    expect_line(fa, "closed");
    wait_abandoned(x, a);
    wait_handles(x, 1);
    ASSERT_REQ(x, 0, ERROR_SEM_OWNER_DIED);
    check_mine(x, 1);
    ASSERT_EQ(waitpid(a, NULL, WNOHANG), 0); /* the helper is still there */
    release_ok(x);
    ASSERT_REQ(x, 0, 0);
    check_mine(x, 1);
    kill_child(a);
    check_mine(x, 1); /* its death changes nothing now */
    return 0;
}

/* EXCLUSIVE.md "Death and close": only the owner's process's *last* handle abandons it: with two
 * handles, closing one does not; closing the second does, and a waiter learns of it at once. */
TEST(excl_close_one_of_two_handles)
{
    const char *name = name_of("excl-close2");
    const char *go_name = name_of("excl-close2-go");
    HANDLE go = new_event(go_name, TRUE, FALSE);
    HANDLE x = create_excl(name, 1);
    int fa;
    pid_t a = spawn_helper("excl_helper_own", &fa, name, "1", "two", go_name, NULL);
    DWORD atid = read_owned(fa);
    expect_line(fa, "closed1");
    sleep_ms(20);
    check_owned(x, a, atid, 1);
    ASSERT_REQ(x, 0, ERROR_EXCL_SEM_ALREADY_OWNED);
    check_owned(x, a, atid, 1);
    wait_handles(x, 2);

    struct waiter w = {.sem = x, .ms = 5000, .release = 0};
    start_waiter(&w);
    wait_waiters(x, 1);
    ASSERT(SetEvent(go));
    expect_line(fa, "closed2");
    join(w.thread);
    ASSERT_EQ_U(w.result, ERROR_SEM_OWNER_DIED);
    ASSERT_EQ_U(w.error, ERROR_SEM_OWNER_DIED);
    wait_handles(x, 1);
    kill_child(a);
    return 0;
}

/* EXCLUSIVE.md "Death and close": closing a handle in a process that does not own it abandons
 * nothing, and neither does the owner process closing one of its handles (here: the test owns it
 * and closes a second handle; a helper's handle closes with its exit). */
TEST(excl_close_by_non_owner_does_not_abandon)
{
    const char *name = name_of("excl-close3");
    HANDLE x = create_excl(name, 0);
    HANDLE y = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
    ASSERT_NOT_NULL(y);
    SetLastError(POISON);
    ASSERT(CloseHandle(y));
    ASSERT_GLE(POISON);
    check_mine(x, 1);
    int fr;
    pid_t r = spawn_helper("excl_helper_request", &fr, name, "0", "release", NULL);
    struct req_report rr = read_report(fr);
    ASSERT_EQ_U(rr.r, ERROR_EXCL_SEM_ALREADY_OWNED);
    ASSERT_EQ_U(rr.gle, ERROR_EXCL_SEM_ALREADY_OWNED);
    ASSERT_EQ(rr.mine, 0);
    ASSERT_EQ(wait_child(r, 5000), 0);
    check_mine(x, 1);
    wait_handles(x, 1);
    return 0;
}

/* =============================================================================================
 * fork()
 * =========================================================================================== */

/* EXCLUSIVE.md "Tests this implies": fork child releasing the parent's exclusive semaphore: 101
 * ("A child made by fork() never inherits ownership"); its NsemRequestSemaphore(0) is 101 too, and
 * its end changes nothing. */
TEST(excl_fork_child_does_not_own)
{
    const char *name = name_of("excl-fork");
    HANDLE x = create_excl(name, 0);
    check_mine(x, 1);
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    DWORD parent = GetCurrentProcessId();
    fflush(NULL);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        char out[300];
        HANDLE h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
        if (!h) snprintf(out, sizeof out, "open failed %u", GetLastError());
        else try_from_other(h, parent, out, sizeof out);
        size_t len = strlen(out);
        out[len++] = '\n';
        _exit(write(p[1], out, len) == (ssize_t)len ? 0 : 11);
    }
    close(p[1]);
    char line[300];
    read_line(p[0], line, sizeof line, 10000);
    if (strcmp(line, OTHER_EXPECTED) != 0) {
        fprintf(stderr, "child said:  \"%s\"\nexpected:    \"%s\"\n", line, OTHER_EXPECTED);
        ASSERT(0);
    }
    ASSERT_EQ(wait_child(pid, 5000), 0);
    sleep_ms(20);
    check_mine(x, 1);
    release_ok(x);
    check_free(x);
    close(p[0]);
    return 0;
}

/* EXCLUSIVE.md "Death and close": a fork() child does not inherit ownership even when it was made
 * while the parent owned it: its end (here a SIGKILL) does not abandon the parent's semaphore. */
TEST(excl_fork_child_death_does_not_abandon)
{
    const char *name = name_of("excl-fork-death");
    HANDLE x = create_excl(name, 0);
    ASSERT_REQ(x, 0, 0);
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        HANDLE h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
        if (!h) _exit(10);
        if (write(p[1], "opened\n", 7) != 7) _exit(11);
        for (;;) pause();
    }
    close(p[1]);
    char line[32];
    read_line(p[0], line, sizeof line, 10000);
    ASSERT(strcmp(line, "opened") == 0);
    check_mine(x, 2);
    kill_child(pid);
    sleep_ms(50);
    check_mine(x, 2);
    release_ok(x);
    release_ok(x);
    check_free(x);
    close(p[0]);
    return 0;
}

/* =============================================================================================
 * The nsem command
 * =========================================================================================== */

static void read_file(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    ASSERT_NOT_NULL(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = 0;
    fclose(f);
}

/* Whether `number` occurs in text as a whole number (not part of a longer one). */
static int has_number(const char *text, unsigned number)
{
    char want[16];
    snprintf(want, sizeof want, "%u", number);
    size_t len = strlen(want);
    for (const char *p = strstr(text, want); p; p = strstr(p + 1, want)) {
        int before = p > text && p[-1] >= '0' && p[-1] <= '9';
        int after = p[len] >= '0' && p[len] <= '9';
        if (!before && !after) return 1;
    }
    return 0;
}

/* EXCLUSIVE.md "Tests this implies": `nsem info NAME` shows the owner's pid, thread and command
 * line (of an exclusive semaphore held by another process); `nsem info --json NAME` has
 * "owner_pid":<pid>. */
TEST(excl_cli_info_shows_owner)
{
    const char *name = name_of("excl-cli");
    char name_copy[200];
    snprintf(name_copy, sizeof name_copy, "%s", name);
    HANDLE x = create_excl(name_copy, 1);
    int fd;
    pid_t pid = spawn_helper("excl_helper_own_in_thread", &fd, name_copy, NULL);
    DWORD tid = read_owned(fd);
    ASSERT_NE(tid, (DWORD)pid);
    check_owned(x, pid, tid, 1);

    char out[300], text[4096];
    snprintf(out, sizeof out, "/tmp/nsem-excl-cli-%d", (int)getpid());
    ASSERT_EQ(shell("%s info %s > %s", harness_bin("nsem"), name_copy, out), 0);
    read_file(out, text, sizeof text);
    int ok_pid = has_number(text, (unsigned)pid), ok_tid = has_number(text, tid);
    int ok_cmd = strstr(text, "excl_helper_own_in_thread") != NULL;
    if (!ok_pid || !ok_tid || !ok_cmd) fprintf(stderr, "nsem info: %s", text);
    if (!ok_pid) fprintf(stderr, "no owner pid %d in the output\n", (int)pid);
    if (!ok_tid) fprintf(stderr, "no owner thread %u in the output\n", tid);
    if (!ok_cmd) fprintf(stderr, "no owner command line (\"... --helper excl_helper_own_in_thread ...\")\n");

    ASSERT_EQ(shell("%s info --json %s > %s", harness_bin("nsem"), name_copy, out), 0);
    char json[4096];
    read_file(out, json, sizeof json);
    unlink(out);
    char want[200];
    snprintf(want, sizeof want, "\"owner_pid\":%d,", (int)pid);
    if (!strstr(json, want)) fprintf(stderr, "json: %s", json);
    ASSERT_NOT_NULL(strstr(json, want));
    snprintf(want, sizeof want, "\"owner_tid\":%u,", tid);
    ASSERT_NOT_NULL(strstr(json, want));
    ASSERT_NOT_NULL(strstr(json, "\"type\":\"exclusive semaphore\""));
    ASSERT_NOT_NULL(strstr(json, " --helper excl_helper_own_in_thread "));
    ASSERT_NOT_NULL(strstr(json, "\"count\":0,\"maximum\":1,"));
    ASSERT_NOT_NULL(strstr(json, "\"recursion\":1,"));

    ASSERT(ok_pid);
    ASSERT(ok_tid);
    ASSERT(ok_cmd);
    check_owned(x, pid, tid, 1);

    /* After the owner's death: abandoned, by that pid ("NsemQueryObject ... after a death"). */
    kill_child(pid);
    wait_abandoned(x, pid);
    ASSERT_EQ(shell("%s info --json %s > %s", harness_bin("nsem"), name_copy, out), 0);
    read_file(out, json, sizeof json);
    unlink(out);
    if (!strstr(json, "\"abandoned\":true,")) fprintf(stderr, "json: %s", json);
    ASSERT_NOT_NULL(strstr(json, "\"owner_pid\":0,"));
    ASSERT_NOT_NULL(strstr(json, "\"abandoned\":true,"));
    snprintf(want, sizeof want, "\"last_owner_pid\":%d,", (int)pid);
    ASSERT_NOT_NULL(strstr(json, want));
    wait_abandoned(x, pid); /* looking tells nobody */
    ASSERT_REQ(x, 0, ERROR_SEM_OWNER_DIED);
    return 0;
}

/* =============================================================================================
 * Undo semaphores
 * =========================================================================================== */

/* Waits (bounded) until the semaphore's count is `count`, then checks it stays there. */
static void wait_count_at(int line, HANDLE h, LONG count)
{
    uint64_t end = now_ms() + 5000;
    for (;;) {
        NSEM_OBJECT_INFO info = query_at(__FILE__, line, h);
        if (info.lCurrentCount == count) break;
        if (now_ms() > end) CHECK_EQ_AT(line, "lCurrentCount (after 5 s)", info.lCurrentCount, count);
        sleep_ms(1);
    }
    sleep_ms(20);
    CHECK_EQ_AT(line, "lCurrentCount", query_at(__FILE__, line, h).lCurrentCount, count);
}
#define wait_count(h, count) wait_count_at(__LINE__, (h), (count))

static HANDLE create_undo(const char *name, LONG initial, LONG max)
{
    SetLastError(POISON);
    HANDLE h = CreateSemaphoreExA(NULL, initial, max, name, SEMAPHORE_UNDO, SEMAPHORE_ALL_ACCESS);
    if (!h) fprintf(stderr, "CreateSemaphoreEx(SEMAPHORE_UNDO) failed with error %u\n", GetLastError());
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(0);
    return h;
}

/* EXCLUSIVE.md "Tests this implies": undo: a process takes 3 permits and is killed: the count is
 * back. ("Undo semaphores": the permits it took and has not given back are released.) */
TEST(excl_undo_killed_process_gives_back)
{
    const char *name = name_of("excl-undo");
    HANDLE s = create_undo(name, 5, 5);
    NSEM_OBJECT_INFO info = query(s);
    ASSERT_EQ(info.dwType, NSEM_TYPE_SEMAPHORE);
    ASSERT_EQ(info.dwFlags & NSEM_INFO_EXCLUSIVE, 0);
    ASSERT_EQ_U(info.dwFlags & NSEM_INFO_UNDO, NSEM_INFO_UNDO);
    check_sem(s, 5, 5);

    int fd;
    pid_t pid = spawn_helper("excl_helper_take", &fd, name, "3", "0", NULL);
    expect_line(fd, "took");
    check_sem(s, 2, 5);
    kill_child(pid);
    wait_count(s, 5);

    /* Only what it has not given back: takes 3, gives 1 back, is killed: 2 come back. */
    pid = spawn_helper("excl_helper_take", &fd, name, "3", "1", NULL);
    expect_line(fd, "took");
    check_sem(s, 3, 5);
    ASSERT_EQ_U(WaitForSingleObject(s, 0), WAIT_OBJECT_0); /* this process holds one: 2 left */
    check_sem(s, 2, 5);
    kill_child(pid);
    wait_count(s, 4);
    ASSERT(ReleaseSemaphore(s, 1, NULL));
    check_sem(s, 5, 5);

    /* A normal exit gives them back as well. */
    pid = spawn_helper("excl_helper_take", &fd, name, "2", "0", "exit", NULL);
    expect_line(fd, "took");
    ASSERT_EQ(wait_child(pid, 5000), 0);
    wait_count(s, 5);
    return 0;
}

/* EXCLUSIVE.md "Undo semaphores": released "up to the maximum". */
TEST(excl_undo_up_to_maximum)
{
    const char *name = name_of("excl-undo-max");
    HANDLE s = create_undo(name, 5, 5);
    int fd;
    pid_t pid = spawn_helper("excl_helper_take", &fd, name, "3", "0", NULL);
    expect_line(fd, "took");
    check_sem(s, 2, 5);
    /* Another process gives 2 permits it never took. */
    LONG prev = -1;
    ASSERT(ReleaseSemaphore(s, 2, &prev));
    ASSERT_EQ(prev, 2);
    check_sem(s, 4, 5);
    kill_child(pid);
    wait_count(s, 5); /* 3 owed, 1 fits */
    check_sem(s, 5, 5);
    return 0;
}

/*
 * test-mutex.c — mutexes: recursion, ownership, access, abandonment by a thread or a process
 * (SPEC 1.H rows 71-80, and 61 for WAIT_ABANDONED_0 + i).
 */
#include "checks.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BAD_HANDLE ((HANDLE)(uintptr_t)0xdeadbee0u)
#define WITH_BITS(h, bits) ((HANDLE)((uintptr_t)(h) | (bits)))

/* ---------------------------------------------------------------------------------------------
 * State checks (they keep GetLastError() as it was)
 * ------------------------------------------------------------------------------------------- */

/* owner_tid 0: free. Otherwise owned by that thread of this process with `recursion` levels. */
static void check_mutex_at(int line, HANDLE h, DWORD owner_tid, DWORD recursion)
{
    NSEM_OBJECT_INFO info = query_at(__FILE__, line, h);
    CHECK_EQ_AT(line, "dwType", info.dwType, NSEM_TYPE_MUTEX);
    CHECK_EQ_AT(line, "dwOwnerThreadId", info.dwOwnerThreadId, owner_tid);
    CHECK_EQ_AT(line, "dwOwnerProcessId", info.dwOwnerProcessId, owner_tid ? GetCurrentProcessId() : 0);
    CHECK_EQ_AT(line, "dwRecursionCount", info.dwRecursionCount, recursion);
    CHECK_EQ_AT(line, "mutex lCurrentCount", info.lCurrentCount, 1 - (LONG)recursion);
    CHECK_EQ_AT(line, "mutex lMaximumCount", info.lMaximumCount, 1);
}
#define check_mutex(h, owner_tid, recursion) check_mutex_at(__LINE__, (h), (owner_tid), (recursion))

/* Waits (bounded: the owner's end must be noticed promptly) until the mutex is abandoned, then
 * checks what an abandoned mutex reports: free, CurrentCount 1, the last owner's process. */
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
    CHECK_EQ_AT(line, "bAbandoned", info.bAbandoned, TRUE);
    CHECK_EQ_AT(line, "dwOwnerThreadId", info.dwOwnerThreadId, 0);
    CHECK_EQ_AT(line, "dwOwnerProcessId", info.dwOwnerProcessId, 0);
    CHECK_EQ_AT(line, "dwRecursionCount", info.dwRecursionCount, 0);
    CHECK_EQ_AT(line, "lCurrentCount", info.lCurrentCount, 1);
    CHECK_EQ_AT(line, "dwLastOwnerProcessId", info.dwLastOwnerProcessId, last_owner_pid);
}
#define wait_abandoned(h, pid) wait_abandoned_at(__LINE__, (h), (pid))

static HANDLE new_event(BOOL manual, BOOL initial)
{
    HANDLE h = CreateEventA(NULL, manual, initial, NULL);
    ASSERT_NOT_NULL(h);
    return h;
}

static HANDLE create_named(const char *name, BOOL owned)
{
    SetLastError(POISON);
    HANDLE h = CreateMutexA(NULL, owned, name);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(0);
    return h;
}

/* ---------------------------------------------------------------------------------------------
 * Threads
 * ------------------------------------------------------------------------------------------- */

/* Acquires `levels` times, signals `ready`, waits for `go`, then ends still owning the mutex. */
struct owner {
    pthread_t thread;
    HANDLE mutex;
    int levels;
    HANDLE ready, go; /* optional */
    DWORD tid;
};

static void *owner_main(void *arg)
{
    struct owner *o = arg;
    o->tid = GetCurrentThreadId();
    for (int i = 0; i < o->levels; i++) {
        SetLastError(POISON);
        ASSERT_EQ_U(WaitForSingleObject(o->mutex, 0), WAIT_OBJECT_0);
        ASSERT_GLE(POISON);
    }
    if (o->ready) ASSERT(SetEvent(o->ready));
    if (o->go) ASSERT_EQ_U(WaitForSingleObject(o->go, 10000), WAIT_OBJECT_0);
    return NULL;
}

static void start_owner(struct owner *o)
{
    ASSERT_EQ(pthread_create(&o->thread, NULL, owner_main, o), 0);
}

/* Makes h abandoned by a thread of this process that ends owning it (twice). */
static void abandon_by_thread(HANDLE h)
{
    struct owner o = {.mutex = h, .levels = 2};
    start_owner(&o);
    join(o.thread);
    wait_abandoned(h, GetCurrentProcessId());
}

/* Waits on the mutex; on success checks it owns it once, then (if `release`) releases it. */
struct mwaiter {
    pthread_t thread;
    HANDLE mutex;
    int release;
    DWORD result, error;
    atomic_int done;
};

static void *mwaiter_main(void *arg)
{
    struct mwaiter *w = arg;
    SetLastError(POISON);
    w->result = WaitForSingleObject(w->mutex, 10000);
    w->error = GetLastError();
    if (w->release && (w->result == WAIT_OBJECT_0 || w->result == WAIT_ABANDONED)) {
        check_mutex(w->mutex, GetCurrentThreadId(), 1);
        ASSERT_EQ(query(w->mutex).bAbandoned, FALSE);
        SetLastError(POISON);
        ASSERT(ReleaseMutex(w->mutex));
        ASSERT_GLE(POISON);
    }
    atomic_store(&w->done, 1);
    return NULL;
}

static void start_mwaiter(struct mwaiter *w)
{
    atomic_store(&w->done, 0);
    ASSERT_EQ(pthread_create(&w->thread, NULL, mwaiter_main, w), 0);
}

/* =============================================================================================
 * Ownership and recursion
 * =========================================================================================== */

/* SPEC 71, 72, 79 */
TEST(mutex_recursion)
{
    HANDLE m = create_named(uniq("mutex-rec"), FALSE);
    DWORD me = GetCurrentThreadId();
    check_mutex(m, 0, 0);
    ASSERT_EQ(query(m).bAbandoned, FALSE);

    for (DWORD i = 1; i <= 32; i++) {
        SetLastError(POISON);
        ASSERT_EQ_U(WaitForSingleObject(m, 0), WAIT_OBJECT_0);
        ASSERT_GLE(POISON);
        check_mutex(m, me, i); /* lCurrentCount 1 - i: 0, -1, -2, ... */
    }
    for (DWORD i = 32; i >= 1; i--) {
        SetLastError(POISON);
        ASSERT(ReleaseMutex(m));
        ASSERT_GLE(POISON);
        check_mutex(m, i - 1 ? me : 0, i - 1);
    }
    SetLastError(POISON);
    ASSERT(!ReleaseMutex(m));
    ASSERT_GLE(ERROR_NOT_OWNER);
    check_mutex(m, 0, 0);

    /* Ownership through WaitForMultipleObjects counts as one level as well. */
    HANDLE arr[2] = {m, m};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, arr, FALSE, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_mutex(m, me, 1);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjectsEx(1, arr, TRUE, 0, FALSE), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_mutex(m, me, 2);
    ASSERT(ReleaseMutex(m));
    ASSERT(ReleaseMutex(m));
    check_mutex(m, 0, 0);
    return 0;
}

static void *try_take_and_release(void *arg)
{
    HANDLE m = arg;
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(m, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(m, 20), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    ASSERT(!ReleaseMutex(m));
    ASSERT_GLE(ERROR_NOT_OWNER);
    return NULL;
}

/* SPEC 72 */
TEST(mutex_release_by_other_thread)
{
    HANDLE m = create_named(NULL, TRUE);
    DWORD me = GetCurrentThreadId();
    check_mutex(m, me, 1);
    in_thread(try_take_and_release, m);
    check_mutex(m, me, 1);

    ASSERT(ReleaseMutex(m));
    check_mutex(m, 0, 0);
    SetLastError(POISON);
    ASSERT(!ReleaseMutex(m));
    ASSERT_GLE(ERROR_NOT_OWNER);
    check_mutex(m, 0, 0);

    /* Low handle bits are ignored by ReleaseMutex. */
    ASSERT_EQ_U(WaitForSingleObject(m, 0), WAIT_OBJECT_0);
    SetLastError(POISON);
    ASSERT(ReleaseMutex(WITH_BITS(m, 3)));
    ASSERT_GLE(POISON);
    check_mutex(m, 0, 0);
    return 0;
}

/* SPEC 27, 88: ReleaseMutex on a bad handle or on another type. */
TEST(mutex_release_bad_handles)
{
    HANDLE sem = CreateSemaphoreA(NULL, 1, 2, NULL), ev = new_event(TRUE, TRUE);
    ASSERT_NOT_NULL(sem);

    SetLastError(POISON);
    ASSERT(!ReleaseMutex(NULL));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT(!ReleaseMutex(BAD_HANDLE));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT(!ReleaseMutex(sem));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    check_sem(sem, 1, 2);
    SetLastError(POISON);
    ASSERT(!ReleaseMutex(ev));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    ASSERT_EQ(query(ev).lCurrentCount, 1);

    HANDLE m = create_named(NULL, TRUE);
    ASSERT(CloseHandle(m));
    SetLastError(POISON);
    ASSERT(!ReleaseMutex(m));
    ASSERT_GLE(ERROR_INVALID_HANDLE);

    /* Mutex operations of other types fail with ERROR_INVALID_HANDLE. */
    HANDLE m2 = create_named(NULL, TRUE);
    SetLastError(POISON);
    ASSERT(!ReleaseSemaphore(m2, 1, NULL));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT(!SetEvent(m2));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    check_mutex(m2, GetCurrentThreadId(), 1);
    return 0;
}

/* =============================================================================================
 * Access
 * =========================================================================================== */

/* SPEC 73, 74: every single access bit, as Wine's test_mutex does; every open that succeeds can
 * ReleaseMutex, the ones that fail are exactly 0x0DE0FFFE. */
static void open_each_bit(int wide)
{
    const char *name = uniq("mutex-bits");
    const wchar_t *wname = uniqw("mutex-bits");
    HANDLE created = create_named(name, FALSE);
    DWORD failed = 0;

    for (int i = 0; i < 32; i++) {
        DWORD access = 1u << i;
        SetLastError(POISON);
        ASSERT_EQ_U(WaitForSingleObject(created, 0), WAIT_OBJECT_0);
        ASSERT_GLE(POISON);

        SetLastError(POISON);
        HANDLE opened = wide ? OpenMutexW(access, FALSE, wname) : OpenMutexA(access, FALSE, name);
        DWORD err = GetLastError();
        if (opened) {
            if (err != POISON) fprintf(stderr, "access 0x%08x\n", access);
            ASSERT_EQ_U(err, POISON);
            SetLastError(POISON);
            BOOL ok = ReleaseMutex(opened);
            if (!ok) fprintf(stderr, "ReleaseMutex through access 0x%08x failed: %u\n", access, GetLastError());
            ASSERT(ok);
            ASSERT_GLE(POISON);
            check_mutex(created, 0, 0);
            ASSERT(CloseHandle(opened));
        } else {
            DWORD want = access == ACCESS_SYSTEM_SECURITY ? ERROR_PRIVILEGE_NOT_HELD : ERROR_ACCESS_DENIED;
            if (err != want) fprintf(stderr, "access 0x%08x\n", access);
            ASSERT_EQ_U(err, want);
            failed |= access;
            ASSERT(ReleaseMutex(created));
        }
    }
    ASSERT_EQ_U(failed, 0x0DE0FFFEu);
    ASSERT(CloseHandle(created));
}

/* SPEC 73, 74 */
TEST(mutex_open_single_access_bits)
{
    open_each_bit(0);
    return 0;
}

/* SPEC 73, 74 */
TEST(mutex_open_single_access_bits_w)
{
    open_each_bit(1);
    return 0;
}

/* SPEC 75, 53 */
TEST(mutex_generic_execute_can_wait)
{
    const char *name = uniq("mutex-gx");
    HANDLE m = create_named(name, FALSE);

    SetLastError(POISON);
    HANDLE gx = OpenMutexA(GENERIC_EXECUTE, FALSE, name);
    ASSERT_NOT_NULL(gx);
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(gx, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_mutex(m, GetCurrentThreadId(), 1);
    /* GENERIC_EXECUTE is SYNCHRONIZE | READ_CONTROL: no MUTANT_QUERY_STATE. */
    NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
    SetLastError(POISON);
    ASSERT(!NsemQueryObject(gx, &info));
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    SetLastError(POISON);
    ASSERT(ReleaseMutex(gx));
    ASSERT_GLE(POISON);
    check_mutex(m, 0, 0);

    /* GENERIC_READ | GENERIC_WRITE opens but cannot wait. */
    SetLastError(POISON);
    HANDLE rw = OpenMutexA(GENERIC_READ | GENERIC_WRITE, FALSE, name);
    ASSERT_NOT_NULL(rw);
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(rw, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_mutex(m, 0, 0);
    /* ...but GENERIC_READ includes MUTANT_QUERY_STATE. */
    info.cbSize = sizeof info;
    SetLastError(POISON);
    ASSERT(NsemQueryObject(rw, &info));
    ASSERT_EQ(info.dwType, NSEM_TYPE_MUTEX);
    return 0;
}

/* SPEC 76 */
TEST(mutex_open_errors)
{
    const char *name = uniq("Mutex-Open");
    HANDLE m = create_named(name, FALSE);

    SetLastError(POISON);
    ASSERT_NULL(OpenMutexA(MUTEX_ALL_ACCESS, FALSE, NULL));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_NULL(OpenMutexW(MUTEX_ALL_ACCESS, FALSE, NULL));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);

    SetLastError(POISON);
    ASSERT_NULL(OpenMutexA(MUTEX_ALL_ACCESS, FALSE, uniq("mutex-missing")));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);

    SetLastError(POISON);
    ASSERT_NULL(OpenMutexA(0, FALSE, name));
    ASSERT_GLE(ERROR_ACCESS_DENIED);

    /* Names are case-sensitive. */
    SetLastError(POISON);
    ASSERT_NULL(OpenMutexA(MUTEX_ALL_ACCESS, FALSE, uniq("MUTEX-OPEN")));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);
    SetLastError(POISON);
    ASSERT_NULL(OpenMutexW(MUTEX_ALL_ACCESS, FALSE, uniqw("mutex-open")));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);

    SetLastError(POISON);
    HANDLE again = CreateMutexA(NULL, FALSE, name);
    ASSERT_NOT_NULL(again);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    ASSERT_NE((uintptr_t)again, (uintptr_t)m);
    SetLastError(POISON);
    HANDLE other = CreateMutexA(NULL, FALSE, uniq("MUTEX-OPEN"));
    ASSERT_NOT_NULL(other);
    ASSERT_GLE(0);

    /* Both handles of the name are one object; the other-case name is another. */
    ASSERT_EQ_U(WaitForSingleObject(again, 0), WAIT_OBJECT_0);
    check_mutex(m, GetCurrentThreadId(), 1);
    check_mutex(other, 0, 0);

    SetLastError(POISON);
    HANDLE w = OpenMutexW(MUTEX_ALL_ACCESS, FALSE, uniqw("Mutex-Open"));
    ASSERT_NOT_NULL(w);
    ASSERT_GLE(POISON);
    check_mutex(w, GetCurrentThreadId(), 1);
    ASSERT(ReleaseMutex(w));
    check_mutex(m, 0, 0);
    return 0;
}

/* =============================================================================================
 * Initial ownership
 * =========================================================================================== */

struct create_args {
    const char *name;
    BOOL ex;
};

static void *create_owned_existing(void *arg)
{
    struct create_args *a = arg;
    SetLastError(POISON);
    HANDLE h = a->ex ? CreateMutexExA(NULL, a->name, CREATE_MUTEX_INITIAL_OWNER, MUTEX_ALL_ACCESS)
                     : CreateMutexA(NULL, TRUE, a->name);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    /* Not the owner: the request of ownership was ignored. */
    NSEM_OBJECT_INFO info = query(h);
    ASSERT_NE(info.dwOwnerThreadId, GetCurrentThreadId());
    SetLastError(POISON);
    ASSERT(!ReleaseMutex(h));
    ASSERT_GLE(ERROR_NOT_OWNER);
    ASSERT(CloseHandle(h));
    return NULL;
}

/* SPEC 77 */
TEST(mutex_existing_ignores_initial_owner)
{
    const char *name = uniq("mutex-initial");
    DWORD me = GetCurrentThreadId();

    /* New and owned: the creator owns it once. */
    HANDLE m = create_named(name, TRUE);
    check_mutex(m, me, 1);
    struct create_args a = {name, FALSE}, ax = {name, TRUE};
    in_thread(create_owned_existing, &a);
    in_thread(create_owned_existing, &ax);
    check_mutex(m, me, 1);

    /* Existing and free: still not taken, by this thread or another. */
    ASSERT(ReleaseMutex(m));
    check_mutex(m, 0, 0);
    in_thread(create_owned_existing, &a);
    in_thread(create_owned_existing, &ax);
    check_mutex(m, 0, 0);
    SetLastError(POISON);
    HANDLE again = CreateMutexA(NULL, TRUE, name);
    ASSERT_NOT_NULL(again);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_mutex(m, 0, 0);
    SetLastError(POISON);
    ASSERT(!ReleaseMutex(again));
    ASSERT_GLE(ERROR_NOT_OWNER);
    return 0;
}

/* CreateMutexEx: only CREATE_MUTEX_INITIAL_OWNER counts; the handle gets the access asked for. */
TEST(mutex_createex_flags_and_access)
{
    DWORD me = GetCurrentThreadId();
    SetLastError(POISON);
    HANDLE a = CreateMutexExA(NULL, NULL, CREATE_MUTEX_INITIAL_OWNER, MUTEX_ALL_ACCESS);
    ASSERT_NOT_NULL(a);
    ASSERT_GLE(0);
    check_mutex(a, me, 1);

    SetLastError(POISON);
    HANDLE b = CreateMutexExA(NULL, NULL, 0xFFFFFFFEu, MUTEX_ALL_ACCESS);
    ASSERT_NOT_NULL(b);
    ASSERT_GLE(0);
    check_mutex(b, 0, 0);

    SetLastError(POISON);
    HANDLE c = CreateMutexExW(NULL, uniqw("mutex-ex"), 0x3, MUTEX_ALL_ACCESS);
    ASSERT_NOT_NULL(c);
    ASSERT_GLE(0);
    check_mutex(c, me, 1);

    /* A new object: the handle has exactly SYNCHRONIZE; it can wait but not query. */
    SetLastError(POISON);
    HANDLE d = CreateMutexExA(NULL, uniq("mutex-ex-sync"), 0, SYNCHRONIZE);
    ASSERT_NOT_NULL(d);
    ASSERT_GLE(0);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(d, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
    SetLastError(POISON);
    ASSERT(!NsemQueryObject(d, &info));
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    SetLastError(POISON);
    ASSERT(ReleaseMutex(d));
    ASSERT_GLE(POISON);

    /* An existing name with no access asked for: access denied (SPEC 12 analogue). */
    SetLastError(POISON);
    ASSERT_NULL(CreateMutexExA(NULL, uniq("mutex-ex-sync"), 0, 0));
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    SetLastError(POISON);
    HANDLE e = CreateMutexExA(NULL, uniq("mutex-ex-sync"), CREATE_MUTEX_INITIAL_OWNER, MUTEX_ALL_ACCESS);
    ASSERT_NOT_NULL(e);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_mutex(e, 0, 0);
    return 0;
}

/* =============================================================================================
 * Waiting and abandonment
 * =========================================================================================== */

/* SPEC 71: a blocked waiter is woken by the release and becomes the owner. */
TEST(mutex_release_wakes_waiter)
{
    HANDLE m = create_named(NULL, TRUE);
    struct mwaiter w = {.mutex = m, .release = 1};
    start_mwaiter(&w);
    wait_waiters(m, 1);
    ASSERT_EQ(atomic_load(&w.done), 0);
    check_mutex(m, GetCurrentThreadId(), 1);
    ASSERT(ReleaseMutex(m));
    join(w.thread);
    ASSERT_EQ_U(w.result, WAIT_OBJECT_0);
    ASSERT_EQ_U(w.error, POISON);
    check_mutex(m, 0, 0);
    return 0;
}

/* SPEC 78, 79: the owner thread ends; the next acquirer is told WAIT_ABANDONED and owns it. */
TEST(mutex_abandoned_by_thread_next_acquirer)
{
    HANDLE m = create_named(uniq("mutex-ab-thread"), FALSE);
    DWORD me = GetCurrentThreadId();
    abandon_by_thread(m);

    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(m, 5000), WAIT_ABANDONED);
    ASSERT_GLE(POISON);
    check_mutex(m, me, 1);
    ASSERT_EQ(query(m).bAbandoned, FALSE);

    /* Told once: the recursive acquisition is a normal one. */
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(m, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_mutex(m, me, 2);
    ASSERT(ReleaseMutex(m));
    ASSERT(ReleaseMutex(m));
    SetLastError(POISON);
    ASSERT(!ReleaseMutex(m));
    ASSERT_GLE(ERROR_NOT_OWNER);
    check_mutex(m, 0, 0);
    struct mwaiter w = {.mutex = m, .release = 1};
    start_mwaiter(&w);
    join(w.thread);
    ASSERT_EQ_U(w.result, WAIT_OBJECT_0);
    return 0;
}

/* SPEC 78: the owner thread ends while two threads wait: exactly one is told WAIT_ABANDONED (and
 * owns it), the other then gets WAIT_OBJECT_0. */
TEST(mutex_abandoned_by_thread_waiters)
{
    HANDLE m = create_named(NULL, FALSE);
    struct owner o = {.mutex = m, .levels = 3, .ready = new_event(TRUE, FALSE), .go = new_event(TRUE, FALSE)};
    start_owner(&o);
    ASSERT_EQ_U(WaitForSingleObject(o.ready, 5000), WAIT_OBJECT_0);
    NSEM_OBJECT_INFO info = query(m);
    ASSERT_EQ(info.dwOwnerThreadId, o.tid);
    ASSERT_EQ(info.dwRecursionCount, 3);

    struct mwaiter w[2] = {{.mutex = m, .release = 1}, {.mutex = m, .release = 1}};
    start_mwaiter(&w[0]);
    start_mwaiter(&w[1]);
    wait_waiters(m, 2);
    ASSERT(SetEvent(o.go));
    join(o.thread);
    join(w[0].thread);
    join(w[1].thread);
    int abandoned = 0, normal = 0;
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ_U(w[i].error, POISON);
        if (w[i].result == WAIT_ABANDONED) abandoned++;
        else if (w[i].result == WAIT_OBJECT_0) normal++;
        else ASSERT_EQ_U(w[i].result, WAIT_OBJECT_0);
    }
    ASSERT_EQ(abandoned, 1);
    ASSERT_EQ(normal, 1);
    check_mutex(m, 0, 0);
    ASSERT_EQ(query(m).bAbandoned, FALSE);
    return 0;
}

/* SPEC 61: WAIT_ABANDONED_0 + i from WaitForMultipleObjects. */
TEST(mutex_abandoned_in_wait_multiple)
{
    DWORD me = GetCurrentThreadId();
    HANDLE m = create_named(NULL, FALSE);
    HANDLE e0 = new_event(FALSE, FALSE), e1 = new_event(TRUE, FALSE);
    HANDLE sem = CreateSemaphoreA(NULL, 1, 1, NULL);
    ASSERT_NOT_NULL(sem);

    /* Wait-any: index 2. */
    abandon_by_thread(m);
    HANDLE arr[3] = {e0, e1, m};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(3, arr, FALSE, 5000), WAIT_ABANDONED_0 + 2);
    ASSERT_GLE(POISON);
    check_mutex(m, me, 1);
    ASSERT_EQ(query(m).bAbandoned, FALSE);
    ASSERT(ReleaseMutex(m));

    /* A lower signalled index wins and the abandoned mutex is left as it was. */
    abandon_by_thread(m);
    HANDLE arr2[2] = {sem, m};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, arr2, FALSE, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_sem(sem, 0, 1);
    wait_abandoned(m, GetCurrentProcessId());

    /* Wait-all with the abandoned mutex: a value in [0x80, 0x81], both taken. */
    ASSERT(ReleaseSemaphore(sem, 1, NULL));
    SetLastError(POISON);
    DWORD r = WaitForMultipleObjects(2, arr2, TRUE, 5000);
    ASSERT_GLE(POISON);
    ASSERT(r == WAIT_ABANDONED_0 || r == WAIT_ABANDONED_0 + 1);
    check_sem(sem, 0, 1);
    check_mutex(m, me, 1);
    ASSERT_EQ(query(m).bAbandoned, FALSE);
    ASSERT(ReleaseMutex(m));

    /* Wait-any at index 0, racing with the end of the owner thread. */
    struct owner o = {.mutex = m, .levels = 1, .ready = new_event(TRUE, FALSE), .go = new_event(TRUE, FALSE)};
    start_owner(&o);
    ASSERT_EQ_U(WaitForSingleObject(o.ready, 5000), WAIT_OBJECT_0);
    HANDLE arr3[2] = {m, e0};
    ASSERT(SetEvent(o.go));
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, arr3, FALSE, 10000), WAIT_ABANDONED_0);
    ASSERT_GLE(POISON);
    join(o.thread);
    check_mutex(m, me, 1);
    return 0;
}

/* SPEC 80: closing the last handle while another thread waits does not disturb the waiter,
 * which is satisfied later (here with WAIT_ABANDONED when the owner thread ends). */
TEST(mutex_close_last_handle_while_waiting)
{
    HANDLE m = create_named(NULL, FALSE);
    struct owner o = {.mutex = m, .levels = 1, .ready = new_event(TRUE, FALSE), .go = new_event(TRUE, FALSE)};
    start_owner(&o);
    ASSERT_EQ_U(WaitForSingleObject(o.ready, 5000), WAIT_OBJECT_0);

    struct mwaiter w = {.mutex = m, .release = 0};
    start_mwaiter(&w);
    wait_waiters(m, 1);
    SetLastError(POISON);
    ASSERT(CloseHandle(m));
    ASSERT_GLE(POISON);
    sleep_ms(20);
    ASSERT_EQ(atomic_load(&w.done), 0);

    ASSERT(SetEvent(o.go));
    join(o.thread);
    join(w.thread);
    ASSERT_EQ_U(w.result, WAIT_ABANDONED);
    ASSERT_EQ_U(w.error, POISON);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Abandonment by a process
 * ------------------------------------------------------------------------------------------- */

/* argv[0]: mutex name; argv[1]: "hang" (own it and stay) or "exit" (own it and exit). */
HELPER(mutex_helper_own)
{
    SetLastError(POISON);
    HANDLE h = OpenMutexA(MUTEX_ALL_ACCESS, FALSE, argv[0]);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(POISON);
    ASSERT_EQ_U(WaitForSingleObject(h, 5000), WAIT_OBJECT_0);
    ASSERT_EQ_U(WaitForSingleObject(h, 0), WAIT_OBJECT_0);
    say("owned");
    if (strcmp(argv[1], "hang") == 0)
        for (;;) sleep_ms(1000);
    return 0;
}

/* argv[0]: mutex name. Waits, reports what it got and what it owns, releases. */
HELPER(mutex_helper_wait)
{
    SetLastError(POISON);
    HANDLE h = OpenMutexA(SYNCHRONIZE | MUTANT_QUERY_STATE, FALSE, argv[0]);
    ASSERT_NOT_NULL(h);
    SetLastError(POISON);
    DWORD r = WaitForSingleObject(h, 10000);
    DWORD err = GetLastError();
    NSEM_OBJECT_INFO info = query(h);
    SetLastError(POISON);
    BOOL released = ReleaseMutex(h);
    say("result=0x%x gle=0x%x mine=%d rec=%u abandoned=%d released=%d", r, err,
        info.dwOwnerProcessId == GetCurrentProcessId() && info.dwOwnerThreadId == GetCurrentThreadId(),
        info.dwRecursionCount, info.bAbandoned, released);
    return 0;
}

/* SPEC 78: the owner process is SIGKILLed while another process waits: the waiter gets
 * WAIT_ABANDONED promptly and owns the mutex; the next acquirer is not told again. */
TEST(mutex_abandoned_by_killed_process_waiter)
{
    const char *name = uniq("mutex-kill");
    HANDLE m = create_named(name, FALSE);

    int ofd, wfd;
    pid_t owner = spawn_helper("mutex_helper_own", &ofd, name, "hang", NULL);
    expect_line(ofd, "owned");
    NSEM_OBJECT_INFO info = query(m);
    ASSERT_EQ(info.dwOwnerProcessId, (DWORD)owner);
    ASSERT_EQ(info.dwRecursionCount, 2);
    ASSERT_EQ(info.lCurrentCount, -1);

    pid_t waiter = spawn_helper("mutex_helper_wait", &wfd, name, NULL);
    wait_waiters(m, 1);
    ASSERT_EQ(kill(owner, SIGKILL), 0);
    ASSERT_EQ(wait_child(owner, 5000), 128 + SIGKILL);
    expect_line(wfd, "result=0x80 gle=0xdeadbeef mine=1 rec=1 abandoned=0 released=1");
    ASSERT_EQ(wait_child(waiter, 5000), 0);

    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(m, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_mutex(m, GetCurrentThreadId(), 1);
    ASSERT_EQ(query(m).bAbandoned, FALSE);
    return 0;
}

/* SPEC 78, 79: a fork()ed owner is SIGKILLed with no waiter: the mutex reports abandoned, and
 * the next acquirer gets WAIT_ABANDONED. */
TEST(mutex_abandoned_by_killed_forked_child)
{
    const char *name = uniq("mutex-fork-kill");
    HANDLE m = create_named(name, FALSE);
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        HANDLE h = OpenMutexA(SYNCHRONIZE, FALSE, name);
        if (!h || WaitForSingleObject(h, 5000) != WAIT_OBJECT_0) _exit(10);
        if (write(p[1], "owned\n", 6) != 6) _exit(11);
        for (;;) pause();
    }
    close(p[1]);
    char line[32];
    read_line(p[0], line, sizeof line, 10000);
    ASSERT(strcmp(line, "owned") == 0);
    NSEM_OBJECT_INFO info = query(m);
    ASSERT_EQ(info.dwOwnerProcessId, (DWORD)pid);
    ASSERT_EQ(info.bAbandoned, FALSE);

    ASSERT_EQ(kill(pid, SIGKILL), 0);
    ASSERT_EQ(wait_child(pid, 5000), 128 + SIGKILL);
    wait_abandoned(m, (DWORD)pid);

    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(m, 5000), WAIT_ABANDONED);
    ASSERT_GLE(POISON);
    check_mutex(m, GetCurrentThreadId(), 1);
    ASSERT_EQ(query(m).bAbandoned, FALSE);
    ASSERT(ReleaseMutex(m));
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(m, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    close(p[0]);
    return 0;
}

/* SPEC 78: an owner process that exits normally abandons the mutex too. */
TEST(mutex_abandoned_by_exiting_process)
{
    const char *name = uniq("mutex-exit");
    HANDLE m = create_named(name, FALSE);
    int fd;
    pid_t pid = spawn_helper("mutex_helper_own", &fd, name, "exit", NULL);
    expect_line(fd, "owned");
    ASSERT_EQ(wait_child(pid, 5000), 0);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(m, 5000), WAIT_ABANDONED);
    ASSERT_GLE(POISON);
    check_mutex(m, GetCurrentThreadId(), 1);
    close(fd);
    return 0;
}

/*
 * test-wait.c — WaitForSingleObject(Ex), WaitForMultipleObjects(Ex) and SignalObjectAndWait
 * (SPEC 1.F rows 48-66, 1.G rows 67-70).
 *
 * Every call is made with GetLastError() poisoned first; a failing call is followed by a re-read
 * of the objects (NsemQueryObject) to prove that nothing was consumed or signalled.
 */
#include "checks.h"
#include "lib/client.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BAD_HANDLE ((HANDLE)(uintptr_t)0xdeadbee0u)
#define WITH_BITS(h, bits) ((HANDLE)((uintptr_t)(h) | (bits)))

/* ---------------------------------------------------------------------------------------------
 * State checks (they keep GetLastError() as it was)
 * ------------------------------------------------------------------------------------------- */

static void check_event_at(int line, HANDLE h, int manual, int signaled)
{
    NSEM_OBJECT_INFO info = query_at(__FILE__, line, h);
    CHECK_EQ_AT(line, "dwType", info.dwType, NSEM_TYPE_EVENT);
    CHECK_EQ_AT(line, "manual reset", (info.dwFlags & NSEM_INFO_MANUAL_RESET) != 0, manual != 0);
    CHECK_EQ_AT(line, "event state (lCurrentCount)", info.lCurrentCount, signaled);
}
#define check_event(h, manual, signaled) check_event_at(__LINE__, (h), (manual), (signaled))

/* owner_tid 0: free. Otherwise owned by that thread of this process with `recursion` levels. */
static void check_mutex_at(int line, HANDLE h, DWORD owner_tid, DWORD recursion)
{
    NSEM_OBJECT_INFO info = query_at(__FILE__, line, h);
    CHECK_EQ_AT(line, "dwType", info.dwType, NSEM_TYPE_MUTEX);
    CHECK_EQ_AT(line, "dwOwnerThreadId", info.dwOwnerThreadId, owner_tid);
    CHECK_EQ_AT(line, "dwOwnerProcessId", info.dwOwnerProcessId, owner_tid ? GetCurrentProcessId() : 0);
    CHECK_EQ_AT(line, "dwRecursionCount", info.dwRecursionCount, recursion);
    CHECK_EQ_AT(line, "mutex lCurrentCount", info.lCurrentCount, 1 - (LONG)recursion);
}
#define check_mutex(h, owner_tid, recursion) check_mutex_at(__LINE__, (h), (owner_tid), (recursion))

static HANDLE new_event(BOOL manual, BOOL initial)
{
    SetLastError(POISON);
    HANDLE h = CreateEventA(NULL, manual, initial, NULL);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(0);
    return h;
}

static HANDLE new_mutex(BOOL owned)
{
    SetLastError(POISON);
    HANDLE h = CreateMutexA(NULL, owned, NULL);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(0);
    return h;
}

/* A second handle to the object of h, with the given access (0 = the same access). */
static HANDLE dup_access(HANDLE h, DWORD access)
{
    HANDLE out = NULL;
    SetLastError(POISON);
    BOOL ok = DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &out, access, FALSE,
                              access ? 0 : DUPLICATE_SAME_ACCESS);
    ASSERT(ok);
    ASSERT_NOT_NULL(out);
    ASSERT_GLE(POISON);
    return out;
}

static void close_ok(HANDLE h)
{
    SetLastError(POISON);
    ASSERT(CloseHandle(h));
    ASSERT_GLE(POISON);
}

/* ---------------------------------------------------------------------------------------------
 * Waiter threads
 * ------------------------------------------------------------------------------------------- */

struct waiter {
    pthread_t thread;
    DWORD count; /* 0: WaitForSingleObject(handles[0]) */
    HANDLE handles[MAXIMUM_WAIT_OBJECTS];
    BOOL wait_all;
    DWORD timeout;
    HANDLE signal; /* non-NULL: SignalObjectAndWait(signal, handles[0]) */
    DWORD result;
    DWORD error;
    atomic_int done;
};

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    SetLastError(POISON);
    if (w->signal)
        w->result = SignalObjectAndWait(w->signal, w->handles[0], w->timeout, FALSE);
    else if (w->count == 0)
        w->result = WaitForSingleObject(w->handles[0], w->timeout);
    else
        w->result = WaitForMultipleObjects(w->count, w->handles, w->wait_all, w->timeout);
    w->error = GetLastError();
    atomic_store(&w->done, 1);
    return NULL;
}

static void start_waiter(struct waiter *w)
{
    atomic_store(&w->done, 0);
    int r = pthread_create(&w->thread, NULL, waiter_main, w);
    ASSERT_EQ(r, 0);
}

static int count_done(struct waiter *w, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) k += atomic_load(&w[i].done);
    return k;
}

/* Waits (bounded) until at least n of the waiters have returned; returns how many did. */
static int wait_done(struct waiter *w, int n, int want)
{
    uint64_t end = now_ms() + 5000;
    while (count_done(w, n) < want && now_ms() < end) sleep_ms(1);
    return count_done(w, n);
}

/* =============================================================================================
 * 1.F Waits
 * =========================================================================================== */

/* SPEC 48, 66 */
TEST(wait_single_unsignalled_times_out)
{
    HANDLE sem = new_sem(0, 1), ev = new_event(TRUE, FALSE), mtx = new_mutex(FALSE);

    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(sem, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    check_sem(sem, 0, 1);

    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(ev, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    check_event(ev, 1, 0);

    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObjectEx(sem, 0, TRUE), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);

    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObjectEx(ev, 20, FALSE), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    check_event(ev, 1, 0);

    /* A free mutex is signalled. */
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(mtx, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_mutex(mtx, GetCurrentThreadId(), 1);
    return 0;
}

/* SPEC 47, 48, 66 */
TEST(wait_single_signalled_consumes_one)
{
    HANDLE sem = new_sem(2, 3), man = new_event(TRUE, TRUE), aut = new_event(FALSE, TRUE);

    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(sem, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_sem(sem, 1, 3);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObjectEx(sem, INFINITE, TRUE), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_sem(sem, 0, 3);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(sem, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    check_sem(sem, 0, 3);

    /* A manual-reset event stays set; an auto-reset event is reset by the wait. */
    for (int i = 0; i < 3; i++) {
        SetLastError(POISON);
        ASSERT_EQ_U(WaitForSingleObject(man, 0), WAIT_OBJECT_0);
        ASSERT_GLE(POISON);
        check_event(man, 1, 1);
    }
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(aut, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_event(aut, 0, 0);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(aut, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    return 0;
}

/* SPEC 49, 87 */
TEST(wait_invalid_handle)
{
    HANDLE sem = new_sem(1, 1);

    for (uintptr_t bits = 0; bits < 4; bits++) {
        SetLastError(POISON);
        ASSERT_EQ_U(WaitForSingleObject(WITH_BITS(BAD_HANDLE, bits), 0), WAIT_FAILED);
        ASSERT_GLE(ERROR_INVALID_HANDLE);
        SetLastError(POISON);
        ASSERT_EQ_U(WaitForSingleObject(WITH_BITS(BAD_HANDLE, bits), 20), WAIT_FAILED);
        ASSERT_GLE(ERROR_INVALID_HANDLE);
    }

    /* An invalid handle anywhere in the array fails the whole wait; nothing is consumed. */
    HANDLE any[2] = {sem, BAD_HANDLE};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, any, FALSE, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    check_sem(sem, 1, 1);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, any, TRUE, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    check_sem(sem, 1, 1);

    /* A closed handle is invalid. */
    HANDLE other = new_sem(1, 1);
    close_ok(other);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(other, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    HANDLE any2[2] = {sem, other};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjectsEx(2, any2, FALSE, 0, FALSE), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    check_sem(sem, 1, 1);
    return 0;
}

/* SPEC 50 */
TEST(wait_handle_low_bits_ignored)
{
    HANDLE sem = new_sem(4, 4);
    ASSERT_NE((uintptr_t)sem, 0);
    ASSERT_EQ((uintptr_t)sem & 3, 0);

    for (uintptr_t bits = 1; bits < 4; bits++) {
        SetLastError(POISON);
        ASSERT_EQ_U(WaitForSingleObject(WITH_BITS(sem, bits), 0), WAIT_OBJECT_0);
        ASSERT_GLE(POISON);
        check_sem(sem, 4 - (LONG)bits, 4);
    }
    HANDLE arr[1] = {WITH_BITS(sem, 2)};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(1, arr, FALSE, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_sem(sem, 0, 4);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(WITH_BITS(sem, 3), 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);

    /* Release through a decorated value too. */
    LONG prev = -5;
    SetLastError(POISON);
    ASSERT(ReleaseSemaphore(WITH_BITS(sem, 1), 2, &prev));
    ASSERT_GLE(POISON);
    ASSERT_EQ(prev, 0);
    check_sem(WITH_BITS(sem, 3), 2, 4);
    return 0;
}

/* SPEC 51 */
TEST(wait_null_handle)
{
    HANDLE sem = new_sem(1, 1);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(NULL, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObjectEx(NULL, 10, FALSE), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);

    HANDLE arr[2] = {sem, NULL};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, arr, FALSE, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    check_sem(sem, 1, 1);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, arr, TRUE, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    check_sem(sem, 1, 1);
    return 0;
}

/* SPEC 52 */
TEST(wait_pseudo_handles)
{
    ASSERT_EQ((intptr_t)GetCurrentProcess(), -1);
    ASSERT_EQ((intptr_t)GetCurrentThread(), -2);

    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(GetCurrentProcess(), 100), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(GetCurrentThread(), 100), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(GetCurrentProcess(), 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);

    /* [WT-todo] In WaitForMultipleObjects they are invalid handles, before anything is consumed. */
    HANDLE sem = new_sem(1, 1);
    HANDLE procs[1] = {GetCurrentProcess()}, threads[1] = {GetCurrentThread()};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(1, procs, FALSE, 100), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(1, threads, TRUE, 100), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    HANDLE mixed[2] = {sem, GetCurrentProcess()};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, mixed, FALSE, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    check_sem(sem, 1, 1);
    HANDLE mixed2[2] = {sem, GetCurrentThread()};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, mixed2, TRUE, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    check_sem(sem, 1, 1);
    return 0;
}

/* SPEC 53 */
TEST(wait_needs_synchronize)
{
    const char *name = uniq("wait-sync-sem");
    SetLastError(POISON);
    HANDLE sem = CreateSemaphoreA(NULL, 2, 2, name);
    ASSERT_NOT_NULL(sem);
    ASSERT_GLE(0);

    SetLastError(POISON);
    HANDLE modify = OpenSemaphoreA(SEMAPHORE_MODIFY_STATE | SEMAPHORE_QUERY_STATE, FALSE, name);
    ASSERT_NOT_NULL(modify);
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(modify, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_sem(sem, 2, 2);

    /* GENERIC_READ maps to READ_CONTROL | QUERY_STATE: no SYNCHRONIZE. */
    HANDLE rd = dup_access(sem, GENERIC_READ);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(rd, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_sem(sem, 2, 2);

    /* In an array, nothing is consumed, whatever the position of the bad handle. */
    HANDLE arr[2] = {sem, modify};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, arr, FALSE, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_sem(sem, 2, 2);
    HANDLE other = new_sem(1, 1);
    HANDLE arr2[2] = {other, rd};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, arr2, TRUE, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_sem(other, 1, 1);
    check_sem(sem, 2, 2);

    /* The Wine mutex case: OpenMutex(GENERIC_READ | GENERIC_WRITE) succeeds but cannot wait. */
    const char *mname = uniq("wait-sync-mutex");
    SetLastError(POISON);
    HANDLE mtx = CreateMutexA(NULL, FALSE, mname);
    ASSERT_NOT_NULL(mtx);
    ASSERT_GLE(0);
    SetLastError(POISON);
    HANDLE mrw = OpenMutexA(GENERIC_READ | GENERIC_WRITE, FALSE, mname);
    ASSERT_NOT_NULL(mrw);
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(mrw, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_mutex(mtx, 0, 0);

    /* A handle with only SYNCHRONIZE can wait. */
    HANDLE syn = dup_access(sem, SYNCHRONIZE);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(syn, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_sem(sem, 1, 2);
    return 0;
}

/* SPEC 54, 55 */
TEST(wait_multiple_bad_count)
{
    HANDLE arr[MAXIMUM_WAIT_OBJECTS + 1];
    HANDLE sem = new_sem(MAXIMUM_WAIT_OBJECTS + 1, 100);
    for (int i = 0; i <= MAXIMUM_WAIT_OBJECTS; i++) arr[i] = new_event(TRUE, TRUE);
    arr[0] = sem;

    static const DWORD counts[] = {0, MAXIMUM_WAIT_OBJECTS + 1, 1000, 0x80000000u, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        for (BOOL all = FALSE; all <= TRUE; all++) {
            SetLastError(POISON);
            ASSERT_EQ_U(WaitForMultipleObjects(counts[i], arr, all, 0), WAIT_FAILED);
            ASSERT_GLE(ERROR_INVALID_PARAMETER);
            SetLastError(POISON);
            ASSERT_EQ_U(WaitForMultipleObjectsEx(counts[i], arr, all, 10, TRUE), WAIT_FAILED);
            ASSERT_GLE(ERROR_INVALID_PARAMETER);
            check_sem(sem, MAXIMUM_WAIT_OBJECTS + 1, 100);
        }
    }
    return 0;
}

/* SPEC 56, 57 */
TEST(wait_multiple_64_handles)
{
    HANDLE ev[MAXIMUM_WAIT_OBJECTS];
    for (int i = 0; i < MAXIMUM_WAIT_OBJECTS; i++) ev[i] = new_event(FALSE, FALSE);

    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(MAXIMUM_WAIT_OBJECTS, ev, FALSE, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(MAXIMUM_WAIT_OBJECTS, ev, TRUE, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);

    /* The last index alone. */
    SetLastError(POISON);
    ASSERT(SetEvent(ev[63]));
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(MAXIMUM_WAIT_OBJECTS, ev, FALSE, 0), WAIT_OBJECT_0 + 63);
    ASSERT_GLE(POISON);
    check_event(ev[63], 0, 0);

    /* As Wine's test: index 0 manual-reset, the others auto-reset, all set; wait-any returns
     * 0 while the manual event is set, then 1..63 in order. */
    SetLastError(POISON);
    HANDLE man = CreateEventA(NULL, TRUE, TRUE, NULL);
    ASSERT_NOT_NULL(man);
    close_ok(ev[0]);
    ev[0] = man;
    for (int i = 1; i < MAXIMUM_WAIT_OBJECTS; i++) ASSERT(SetEvent(ev[i]));
    for (int k = 0; k < 3; k++) {
        SetLastError(POISON);
        ASSERT_EQ_U(WaitForMultipleObjects(MAXIMUM_WAIT_OBJECTS, ev, FALSE, 0), WAIT_OBJECT_0);
        ASSERT_GLE(POISON);
    }
    ASSERT(ResetEvent(ev[0]));
    for (int i = 1; i < MAXIMUM_WAIT_OBJECTS; i++) {
        SetLastError(POISON);
        ASSERT_EQ_U(WaitForMultipleObjects(MAXIMUM_WAIT_OBJECTS, ev, FALSE, 0), WAIT_OBJECT_0 + (DWORD)i);
        ASSERT_GLE(POISON);
        check_event(ev[i], 0, 0);
        if (i + 1 < MAXIMUM_WAIT_OBJECTS) check_event(ev[i + 1], 0, 1);
    }
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(MAXIMUM_WAIT_OBJECTS, ev, FALSE, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);

    /* Wait-all over 64: all set, all consumed at once. */
    for (int i = 0; i < MAXIMUM_WAIT_OBJECTS; i++) ASSERT(SetEvent(ev[i]));
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(MAXIMUM_WAIT_OBJECTS, ev, TRUE, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_event(ev[0], 1, 1);
    for (int i = 1; i < MAXIMUM_WAIT_OBJECTS; i++) check_event(ev[i], 0, 0);
    return 0;
}

/* SPEC 57 */
TEST(wait_any_lowest_index_consumes_only_it)
{
    HANDLE s0 = new_sem(0, 1), s1 = new_sem(1, 1), s2 = new_sem(1, 1);
    HANDLE a3 = new_event(FALSE, TRUE), m4 = new_event(TRUE, TRUE);
    HANDLE arr[5] = {s0, s1, s2, a3, m4};

    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(5, arr, FALSE, 0), WAIT_OBJECT_0 + 1);
    ASSERT_GLE(POISON);
    check_sem(s0, 0, 1);
    check_sem(s1, 0, 1);
    check_sem(s2, 1, 1);
    check_event(a3, 0, 1);
    check_event(m4, 1, 1);

    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjectsEx(5, arr, FALSE, 0, TRUE), WAIT_OBJECT_0 + 2);
    ASSERT_GLE(POISON);
    check_sem(s2, 0, 1);
    check_event(a3, 0, 1);

    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(5, arr, FALSE, 0), WAIT_OBJECT_0 + 3);
    ASSERT_GLE(POISON);
    check_event(a3, 0, 0);
    check_event(m4, 1, 1);

    /* The manual-reset event is returned again and again and stays set. */
    for (int i = 0; i < 3; i++) {
        SetLastError(POISON);
        ASSERT_EQ_U(WaitForMultipleObjects(5, arr, FALSE, 0), WAIT_OBJECT_0 + 4);
        ASSERT_GLE(POISON);
        check_event(m4, 1, 1);
    }

    /* A lower index signalled later wins again. */
    ASSERT(ReleaseSemaphore(s0, 1, NULL));
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(5, arr, FALSE, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_sem(s0, 0, 1);
    check_event(m4, 1, 1);
    return 0;
}

/* SPEC 58 */
TEST(wait_any_duplicates_allowed)
{
    HANDLE sem = new_sem(1, 2);
    HANDLE same[2] = {sem, sem};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, same, FALSE, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_sem(sem, 0, 2);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, same, FALSE, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);

    /* Two handles to one object, after an unsignalled one: the lowest signalled index. */
    HANDLE s0 = new_sem(0, 1);
    HANDLE dup = dup_access(sem, 0);
    ASSERT(ReleaseSemaphore(sem, 2, NULL));
    HANDLE arr[4] = {s0, dup, sem, dup};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(4, arr, FALSE, 0), WAIT_OBJECT_0 + 1);
    ASSERT_GLE(POISON);
    check_sem(sem, 1, 2);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(4, arr, FALSE, 0), WAIT_OBJECT_0 + 1);
    ASSERT_GLE(POISON);
    check_sem(sem, 0, 2);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(4, arr, FALSE, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    check_sem(s0, 0, 1);
    return 0;
}

/* SPEC 59 */
TEST(wait_all_duplicates_rejected)
{
    const char *name = uniq("wait-all-dup");
    SetLastError(POISON);
    HANDLE sem = CreateSemaphoreA(NULL, 2, 2, name);
    ASSERT_NOT_NULL(sem);
    HANDLE other = new_sem(1, 1);

    HANDLE same[2] = {sem, sem};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, same, TRUE, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    check_sem(sem, 2, 2);

    /* The same handle value with other low bits is still the same object. */
    HANDLE bits[3] = {other, sem, WITH_BITS(sem, 1)};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(3, bits, TRUE, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    check_sem(sem, 2, 2);
    check_sem(other, 1, 1);

    /* Two handles to one object: a duplicate, and one opened by name. */
    HANDLE dup = dup_access(sem, 0);
    HANDLE arr[3] = {dup, other, sem};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjectsEx(3, arr, TRUE, 0, FALSE), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    check_sem(sem, 2, 2);
    check_sem(other, 1, 1);

    SetLastError(POISON);
    HANDLE opened = OpenSemaphoreA(SYNCHRONIZE, FALSE, name);
    ASSERT_NOT_NULL(opened);
    HANDLE arr2[2] = {sem, opened};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, arr2, TRUE, 100), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    check_sem(sem, 2, 2);

    /* The same arrays are fine for wait-any. */
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, arr2, FALSE, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_sem(sem, 1, 2);
    return 0;
}

/* SPEC 60 */
TEST(wait_all_atomic_nothing_consumed)
{
    HANDLE sem = new_sem(1, 1), ev = new_event(FALSE, FALSE), mtx = new_mutex(FALSE);
    HANDLE man = new_event(TRUE, TRUE);
    HANDLE arr[4] = {sem, ev, mtx, man};

    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(4, arr, TRUE, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    check_sem(sem, 1, 1);
    check_event(ev, 0, 0);
    check_mutex(mtx, 0, 0);
    check_event(man, 1, 1);

    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(4, arr, TRUE, 30), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    check_sem(sem, 1, 1);
    check_mutex(mtx, 0, 0);

    /* The others still can be taken one by one, proving they were not consumed. */
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(sem, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    ASSERT(ReleaseSemaphore(sem, 1, NULL));

    /* Now all signalled: all are satisfied at once. */
    ASSERT(SetEvent(ev));
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(4, arr, TRUE, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_sem(sem, 0, 1);
    check_event(ev, 0, 0);
    check_mutex(mtx, GetCurrentThreadId(), 1);
    check_event(man, 1, 1);
    ASSERT(ReleaseMutex(mtx));
    return 0;
}

struct holder {
    HANDLE mutex, ready, go;
};

static void *hold_mutex_main(void *arg)
{
    struct holder *h = arg;
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(h->mutex, 0), WAIT_OBJECT_0);
    ASSERT(SetEvent(h->ready));
    ASSERT_EQ_U(WaitForSingleObject(h->go, 10000), WAIT_OBJECT_0);
    ASSERT(ReleaseMutex(h->mutex));
    return NULL;
}

/* SPEC 60: a mutex owned by another thread keeps a wait-all from taking anything. */
TEST(wait_all_mutex_owned_elsewhere)
{
    HANDLE sem = new_sem(1, 1), mtx = new_mutex(FALSE);
    struct holder h = {mtx, new_event(TRUE, FALSE), new_event(TRUE, FALSE)};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, hold_mutex_main, &h), 0);
    ASSERT_EQ_U(WaitForSingleObject(h.ready, 5000), WAIT_OBJECT_0);

    HANDLE arr[2] = {sem, mtx};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, arr, TRUE, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    check_sem(sem, 1, 1);

    /* Blocks until the holder releases, then takes both. */
    struct waiter w = {.count = 2, .handles = {sem, mtx}, .wait_all = TRUE, .timeout = 10000};
    start_waiter(&w);
    wait_waiters(mtx, 1);
    check_sem(sem, 1, 1);
    ASSERT(SetEvent(h.go));
    join(t);
    join(w.thread);
    ASSERT_EQ_U(w.result, WAIT_OBJECT_0);
    ASSERT_EQ_U(w.error, POISON);
    check_sem(sem, 0, 1);
    /* The waiter thread took the mutex and ended owning it, so it is abandoned to us. */
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(mtx, 5000), WAIT_ABANDONED);
    ASSERT_GLE(POISON);
    check_mutex(mtx, GetCurrentThreadId(), 1);
    return 0;
}

/* SPEC 60: a blocked wait-all is completed by another thread signalling the last object; an
 * object signalled while another is not stays signalled (not consumed). */
TEST(wait_all_blocks_until_last_signalled)
{
    HANDLE sem = new_sem(1, 1), ev = new_event(FALSE, FALSE);
    struct waiter w = {.count = 2, .handles = {sem, ev}, .wait_all = TRUE, .timeout = 10000};
    start_waiter(&w);
    wait_waiters(ev, 1);
    wait_waiters(sem, 1);
    check_sem(sem, 1, 1);
    ASSERT_EQ(atomic_load(&w.done), 0);

    /* Someone else takes the semaphore; then the event is set: still not all signalled. */
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(sem, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    ASSERT(SetEvent(ev));
    sleep_ms(50);
    ASSERT_EQ(atomic_load(&w.done), 0);
    check_event(ev, 0, 1);
    check_sem(sem, 0, 1);
    wait_waiters(ev, 1);

    /* Releasing the semaphore completes the wait and consumes both. */
    ASSERT(ReleaseSemaphore(sem, 1, NULL));
    join(w.thread);
    ASSERT_EQ_U(w.result, WAIT_OBJECT_0);
    ASSERT_EQ_U(w.error, POISON);
    check_sem(sem, 0, 1);
    check_event(ev, 0, 0);
    return 0;
}

/* SPEC 57: a blocked wait-any is woken by the object signalled and only that one is consumed. */
TEST(wait_any_blocks_until_signalled)
{
    HANDLE e0 = new_event(FALSE, FALSE), s1 = new_sem(0, 5), e2 = new_event(TRUE, FALSE);
    struct waiter w = {.count = 3, .handles = {e0, s1, e2}, .wait_all = FALSE, .timeout = 10000};
    start_waiter(&w);
    wait_waiters(s1, 1);
    ASSERT(ReleaseSemaphore(s1, 2, NULL));
    join(w.thread);
    ASSERT_EQ_U(w.result, WAIT_OBJECT_0 + 1);
    ASSERT_EQ_U(w.error, POISON);
    check_sem(s1, 1, 5);
    check_event(e0, 0, 0);
    check_event(e2, 1, 0);
    NSEM_OBJECT_INFO info = query(e0);
    ASSERT_EQ(info.dwWaiterCount, 0);
    return 0;
}

/* SPEC 47: releasing n wakes n waiters, each taking one unit. */
TEST(wait_release_wakes_that_many)
{
    HANDLE sem = new_sem(0, 10);
    struct waiter w[3];
    for (int i = 0; i < 3; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].handles[0] = sem;
        w[i].timeout = 10000;
        start_waiter(&w[i]);
    }
    wait_waiters(sem, 3);
    ASSERT(ReleaseSemaphore(sem, 2, NULL));
    ASSERT_EQ(wait_done(w, 3, 2), 2);
    wait_waiters(sem, 1);
    check_sem(sem, 0, 10);
    sleep_ms(50);
    ASSERT_EQ(count_done(w, 3), 2);
    ASSERT(ReleaseSemaphore(sem, 1, NULL));
    for (int i = 0; i < 3; i++) {
        join(w[i].thread);
        ASSERT_EQ_U(w[i].result, WAIT_OBJECT_0);
        ASSERT_EQ_U(w[i].error, POISON);
    }
    check_sem(sem, 0, 10);
    return 0;
}

/* SPEC 63, 66 */
TEST(wait_timeouts)
{
    HANDLE sem = new_sem(0, 1), ev = new_event(TRUE, FALSE);
    HANDLE arr[2] = {sem, ev};

    uint64_t t0 = now_ms();
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(sem, 60), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    ASSERT(now_ms() - t0 >= 50); /* a finite timeout is waited out, not ignored */

    t0 = now_ms();
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, arr, FALSE, 60), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    ASSERT(now_ms() - t0 >= 50);

    t0 = now_ms();
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjectsEx(2, arr, TRUE, 60, TRUE), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    ASSERT(now_ms() - t0 >= 50);
    check_sem(sem, 0, 1);

    /* INFINITE waits until signalled (here by another thread). */
    struct waiter w = {.handles = {ev}, .timeout = INFINITE};
    start_waiter(&w);
    wait_waiters(ev, 1);
    ASSERT(SetEvent(ev));
    join(w.thread);
    ASSERT_EQ_U(w.result, WAIT_OBJECT_0);
    ASSERT_EQ_U(w.error, POISON);
    return 0;
}

/* SPEC 60: cross-process — a wait-all in this process completed by another (exec'd) process
 * signalling the last object. */
HELPER(wait_helper_set_event)
{
    /* argv[0]: event name. Waits until someone blocks on the event, then sets it. */
    SetLastError(POISON);
    HANDLE ev = OpenEventA(EVENT_ALL_ACCESS, FALSE, argv[0]);
    ASSERT_NOT_NULL(ev);
    ASSERT_GLE(POISON);
    wait_waiters(ev, 1);
    SetLastError(POISON);
    ASSERT(SetEvent(ev));
    ASSERT_GLE(POISON);
    say("set");
    return 0;
}

TEST(wait_all_completed_by_other_process)
{
    const char *sname = uniq("wait-xp-sem"), *ename = uniq("wait-xp-ev");
    SetLastError(POISON);
    HANDLE sem = CreateSemaphoreA(NULL, 1, 1, sname);
    ASSERT_NOT_NULL(sem);
    ASSERT_GLE(0);
    SetLastError(POISON);
    HANDLE ev = CreateEventA(NULL, FALSE, FALSE, ename);
    ASSERT_NOT_NULL(ev);
    ASSERT_GLE(0);

    int fd;
    pid_t pid = spawn_helper("wait_helper_set_event", &fd, ename, NULL);
    HANDLE arr[2] = {sem, ev};
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, arr, TRUE, 10000), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    char line[64];
    read_line(fd, line, sizeof line, 5000);
    ASSERT(strcmp(line, "set") == 0);
    ASSERT_EQ(wait_child(pid, 5000), 0);
    check_sem(sem, 0, 1);
    check_event(ev, 0, 0);
    close(fd);
    return 0;
}

/* SPEC 60: cross-process — a wait-all in a fork()ed child completed by this process; the child's
 * blocked wait consumes nothing until then. */
TEST(wait_all_in_forked_child)
{
    const char *sname = uniq("wait-fork-sem"), *ename = uniq("wait-fork-ev");
    SetLastError(POISON);
    HANDLE sem = CreateSemaphoreA(NULL, 1, 1, sname);
    ASSERT_NOT_NULL(sem);
    SetLastError(POISON);
    HANDLE ev = CreateEventA(NULL, TRUE, FALSE, ename);
    ASSERT_NOT_NULL(ev);

    fflush(NULL);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        HANDLE s = OpenSemaphoreA(SYNCHRONIZE, FALSE, sname);
        HANDLE e = OpenEventA(SYNCHRONIZE, FALSE, ename);
        if (!s || !e) _exit(10);
        HANDLE arr[2] = {s, e};
        SetLastError(POISON);
        DWORD r = WaitForMultipleObjects(2, arr, TRUE, 10000);
        if (r != WAIT_OBJECT_0) _exit(r == WAIT_TIMEOUT ? 11 : 12);
        if (GetLastError() != POISON) _exit(13);
        _exit(0);
    }
    wait_waiters(ev, 1);
    check_sem(sem, 1, 1);
    SetLastError(POISON);
    ASSERT(SetEvent(ev));
    ASSERT_GLE(POISON);
    ASSERT_EQ(wait_child(pid, 10000), 0);
    check_sem(sem, 0, 1);
    check_event(ev, 1, 1);
    return 0;
}

/* =============================================================================================
 * 1.G SignalObjectAndWait
 * =========================================================================================== */

/* SPEC 67 */
TEST(wait_soaw_null_handles)
{
    HANDLE ev = new_event(FALSE, FALSE), man = new_event(TRUE, TRUE);

    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(NULL, NULL, 0, FALSE), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);

    /* The wait handle is checked before anything is signalled. */
    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(ev, NULL, 0, FALSE), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    check_event(ev, 0, 0);

    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(NULL, ev, 0, FALSE), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    check_event(ev, 0, 0);

    /* A bad handle on either side: nothing is signalled. */
    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(BAD_HANDLE, man, 0, FALSE), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(ev, BAD_HANDLE, 0, TRUE), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    check_event(ev, 0, 0);
    return 0;
}

/* SPEC 68 */
TEST(wait_soaw_events)
{
    HANDLE a = new_event(FALSE, FALSE), b = new_event(TRUE, TRUE);

    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(a, b, 0, FALSE), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_event(a, 0, 1);
    check_event(b, 1, 1);

    /* Signal and wait on the same auto event: it ends unsignalled, every time. */
    ASSERT(ResetEvent(a));
    for (int i = 0; i < 5; i++) {
        SetLastError(POISON);
        ASSERT_EQ_U(SignalObjectAndWait(a, a, 0, FALSE), WAIT_OBJECT_0);
        ASSERT_GLE(POISON);
        check_event(a, 0, 0);
    }

    ASSERT(ResetEvent(b));
    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(a, b, 0, FALSE), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    check_event(a, 0, 1);
    check_event(b, 1, 0);

    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(a, b, 30, TRUE), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    check_event(a, 0, 1);
    return 0;
}

/* SPEC 69 */
TEST(wait_soaw_semaphores)
{
    HANDLE s0 = new_sem(0, 1), s1 = new_sem(1, 1);

    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(s0, s1, 0, FALSE), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_sem(s0, 1, 1);
    check_sem(s1, 0, 1);

    /* s0 is full: the release fails and s1 is not waited on. */
    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(s0, s1, 0, FALSE), WAIT_FAILED);
    ASSERT_GLE(ERROR_TOO_MANY_POSTS);
    check_sem(s0, 1, 1);
    check_sem(s1, 0, 1);

    SetLastError(POISON);
    ASSERT(ReleaseSemaphore(s1, 1, NULL));
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    ASSERT(!ReleaseSemaphore(s0, 1, NULL));
    ASSERT_GLE(ERROR_TOO_MANY_POSTS);

    /* Even with s1 signalled, a failed release means no wait. */
    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(s0, s1, 0, FALSE), WAIT_FAILED);
    ASSERT_GLE(ERROR_TOO_MANY_POSTS);
    check_sem(s1, 1, 1);

    /* Release then wait on the same semaphore. */
    HANDLE s2 = new_sem(0, 1);
    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(s2, s2, 0, FALSE), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_sem(s2, 0, 1);
    return 0;
}

/* SPEC 70: a mutex is signalled by releasing it (ownership required, SYNCHRONIZE needed). */
TEST(wait_soaw_mutex)
{
    const char *name = uniq("soaw-mutex");
    SetLastError(POISON);
    HANDLE m = CreateMutexA(NULL, TRUE, name);
    ASSERT_NOT_NULL(m);
    ASSERT_GLE(0);
    HANDLE sem = new_sem(1, 1);
    ASSERT_EQ_U(WaitForSingleObject(m, 0), WAIT_OBJECT_0);
    check_mutex(m, GetCurrentThreadId(), 2);

    /* Without SYNCHRONIZE: access denied, still owned twice, semaphore untouched. */
    SetLastError(POISON);
    HANDLE mq = OpenMutexA(MUTANT_QUERY_STATE, FALSE, name);
    ASSERT_NOT_NULL(mq);
    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(mq, sem, 0, FALSE), WAIT_FAILED);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_mutex(m, GetCurrentThreadId(), 2);
    check_sem(sem, 1, 1);

    /* Each call releases one level. */
    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(m, sem, 0, FALSE), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_mutex(m, GetCurrentThreadId(), 1);
    check_sem(sem, 0, 1);
    ASSERT(ReleaseSemaphore(sem, 1, NULL));
    HANDLE msync = dup_access(m, SYNCHRONIZE);
    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(msync, sem, 0, FALSE), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_mutex(m, 0, 0);
    check_sem(sem, 0, 1);

    /* Not the owner: ERROR_NOT_OWNER, and nothing is waited on. */
    ASSERT(ReleaseSemaphore(sem, 1, NULL));
    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(m, sem, 0, FALSE), WAIT_FAILED);
    ASSERT_GLE(ERROR_NOT_OWNER);
    check_sem(sem, 1, 1);
    check_mutex(m, 0, 0);
    return 0;
}

/* SPEC 70 and nsem's "both handles are checked before anything is signalled". */
TEST(wait_soaw_access_checks)
{
    const char *sname = uniq("soaw-acc-sem"), *ename = uniq("soaw-acc-ev");
    SetLastError(POISON);
    HANDLE sem = CreateSemaphoreA(NULL, 0, 2, sname);
    ASSERT_NOT_NULL(sem);
    SetLastError(POISON);
    HANDLE ev = CreateEventA(NULL, FALSE, FALSE, ename);
    ASSERT_NOT_NULL(ev);
    HANDLE target = new_event(FALSE, TRUE);

    /* Semaphore signal needs SEMAPHORE_MODIFY_STATE. */
    SetLastError(POISON);
    HANDLE ssync = OpenSemaphoreA(SYNCHRONIZE, FALSE, sname);
    ASSERT_NOT_NULL(ssync);
    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(ssync, target, 0, FALSE), WAIT_FAILED);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_sem(sem, 0, 2);
    check_event(target, 0, 1);

    /* Event signal needs EVENT_MODIFY_STATE. */
    SetLastError(POISON);
    HANDLE esync = OpenEventA(SYNCHRONIZE | EVENT_QUERY_STATE, FALSE, ename);
    ASSERT_NOT_NULL(esync);
    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(esync, target, 0, FALSE), WAIT_FAILED);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_event(ev, 0, 0);
    check_event(target, 0, 1);

    /* A modify-only handle is enough to signal. */
    SetLastError(POISON);
    HANDLE smod = OpenSemaphoreA(SEMAPHORE_MODIFY_STATE, FALSE, sname);
    ASSERT_NOT_NULL(smod);
    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(smod, target, 0, FALSE), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_sem(sem, 1, 2);
    check_event(target, 0, 0);

    /* The wait handle needs SYNCHRONIZE; then nothing is signalled. */
    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(sem, smod, 0, FALSE), WAIT_FAILED);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_sem(sem, 1, 2);
    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(ev, esync, 0, FALSE), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_event(ev, 0, 0);
    SetLastError(POISON);
    HANDLE emod = OpenEventA(EVENT_MODIFY_STATE, FALSE, ename);
    ASSERT_NOT_NULL(emod);
    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(sem, emod, 0, FALSE), WAIT_FAILED);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_sem(sem, 1, 2);
    SetLastError(POISON);
    ASSERT_EQ_U(SignalObjectAndWait(ev, smod, 0, FALSE), WAIT_FAILED);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_event(ev, 0, 0);
    return 0;
}

/* SPEC 68: a thread blocked in SignalObjectAndWait has signalled first, and is woken later. */
TEST(wait_soaw_blocking)
{
    HANDLE sig = new_event(FALSE, FALSE), wt = new_event(FALSE, FALSE);
    struct waiter w = {.handles = {wt}, .signal = sig, .timeout = 10000};
    start_waiter(&w);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(sig, 5000), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    wait_waiters(wt, 1);
    ASSERT_EQ(atomic_load(&w.done), 0);
    ASSERT(SetEvent(wt));
    join(w.thread);
    ASSERT_EQ_U(w.result, WAIT_OBJECT_0);
    ASSERT_EQ_U(w.error, POISON);
    check_event(wt, 0, 0);
    check_event(sig, 0, 0);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * A stalled lock: a wait-all holds an object's state word for a few instructions, but its thread
 * may be preempted there, or killed (until the server unlocks for it). A wait with a timeout waits
 * that out only until its deadline (or 100 ms, for a shorter one); then the object counts as not
 * signalled. (Chaos found waits with a timeout of 0 blocked for seconds on a busy machine.)
 * ------------------------------------------------------------------------------------------- */

/* Locks h's state word for a wait-all of a thread of no live process; returns the word. */
static uint64_t stall_lock(HANDLE h)
{
    struct nsem_handle nh;
    ASSERT_EQ(nsem__handle_lookup(h, 0, 0, &nh), 0);
    struct nsem_slot *s = nsem__slot(nh.slot);
    uint64_t w = atomic_load(&s->state);
    atomic_store(&s->state, nsem_word(nsem_word_value(w), NSEM_MAKE_TOKEN(NSEM_TOKEN_MAX_CLIENTS, 1)));
    return w;
}

static void unstall_lock(HANDLE h, uint64_t w)
{
    struct nsem_handle nh;
    ASSERT_EQ(nsem__handle_lookup(h, 0, 0, &nh), 0);
    atomic_store(&nsem__slot(nh.slot)->state, w);
    nsem__slot_wake(nsem__slot(nh.slot));
}

struct unstaller {
    HANDLE h;
    uint64_t word;
};

static void *unstall_later(void *arg)
{
    struct unstaller *u = arg;
    sleep_ms(300);
    unstall_lock(u->h, u->word);
    return NULL;
}

/* The wait returns WAIT_TIMEOUT within [min_ms, max_ms). */
#define EXPECT_TIMEOUT_WITHIN(call, min_ms, max_ms) \
    do { \
        uint64_t t0_ = now_ms(); \
        SetLastError(POISON); \
        ASSERT_EQ_U((call), WAIT_TIMEOUT); \
        ASSERT_GLE(POISON); \
        uint64_t took_ = now_ms() - t0_; \
        ASSERT((min_ms) <= took_ && took_ < (max_ms)); \
    } while (0)

TEST(wait_stalled_lock_bounded_by_deadline)
{
    HANDLE sem = new_sem(1, 2), ev = new_event(TRUE, TRUE);
    HANDLE excl = CreateSemaphoreExA(NULL, 1, 1, NULL, SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS);
    HANDLE undo = CreateSemaphoreExA(NULL, 1, 1, NULL, SEMAPHORE_UNDO, SEMAPHORE_ALL_ACCESS);
    ASSERT(excl && undo);
    HANDLE objs[] = {sem, excl, undo};
    for (int i = 0; i < 3; i++) {
        uint64_t w = stall_lock(objs[i]);
        EXPECT_TIMEOUT_WITHIN(WaitForSingleObject(objs[i], 0), 50, 1000); /* waited out a grace, no more */
        EXPECT_TIMEOUT_WITHIN(WaitForSingleObject(objs[i], 300), 250, 1200);
        HANDLE pair[] = {ev, objs[i]};
        EXPECT_TIMEOUT_WITHIN(WaitForMultipleObjects(2, pair, TRUE, 200), 150, 1200);
        unstall_lock(objs[i], w);
        SetLastError(POISON);
        ASSERT_EQ_U(WaitForSingleObject(objs[i], 0), WAIT_OBJECT_0); /* it was signalled all along */
        ASSERT_GLE(POISON);
    }
    /* ...except an exclusive semaphore the caller owns: a wait on it succeeds, so its recursion
     * (changed under the lock) waits for the lock's holder, however late. */
    uint64_t w = stall_lock(excl);
    struct unstaller u = {excl, w};
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, unstall_later, &u), 0);
    HANDLE owned_first[] = {excl, sem};
    uint64_t t0 = now_ms();
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForMultipleObjects(2, owned_first, FALSE, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    ASSERT(now_ms() - t0 >= 250);
    join(t);
    ASSERT_EQ(query(excl).dwRecursionCount, 2);
    ASSERT(ReleaseSemaphore(excl, 1, NULL) && ReleaseSemaphore(excl, 1, NULL));
    ASSERT(ReleaseSemaphore(undo, 1, NULL));
    check_sem(sem, 0, 2);
    return 0;
}

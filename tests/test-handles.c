/*
 * test-handles.c — handles within one process: CloseHandle, Get/SetHandleInformation,
 * DuplicateHandle (access, generic mapping, options, attributes), pseudo handles, and object
 * identity through several handles (SPEC 1.K rows 87-99, 101; also 2, 16, 24, 50).
 *
 * The access a handle was granted is checked by what it can and cannot do: wait (SYNCHRONIZE),
 * NsemQueryObject (QUERY_STATE, value 1), release or set (the type's MODIFY_STATE).
 */
#include "checks.h"

#include <string.h>

#define BAD_HANDLE ((HANDLE)(uintptr_t)0xdeadbee0u)
#define WITH_BITS(h, bits) ((HANDLE)((uintptr_t)(h) | (bits)))
#define PSEUDO(n) ((HANDLE)(intptr_t)(n))
#define SELF GetCurrentProcess()

/* ---------------------------------------------------------------------------------------------
 * Helpers (they keep GetLastError() as it was unless they say otherwise)
 * ------------------------------------------------------------------------------------------- */

/* The handle's flags; GetHandleInformation must succeed without touching GetLastError(). */
static DWORD flags_at(int line, HANDLE h)
{
    DWORD saved = GetLastError(), flags = 0xdeadbeefu;
    SetLastError(POISON);
    BOOL ok = GetHandleInformation(h, &flags);
    if (!ok) {
        char detail[80];
        snprintf(detail, sizeof detail, "GetHandleInformation failed with error %u", GetLastError());
        harness_fail(__FILE__, line, "GetHandleInformation(h, &flags)", detail);
    }
    CHECK_EQ_AT(line, "GetLastError() after GetHandleInformation", GetLastError(), POISON);
    SetLastError(saved);
    return flags;
}
#define hflags(h) flags_at(__LINE__, (h))

static void set_flags_at(int line, HANDLE h, DWORD mask, DWORD value)
{
    SetLastError(POISON);
    BOOL ok = SetHandleInformation(h, mask, value);
    if (!ok) {
        char detail[80];
        snprintf(detail, sizeof detail, "SetHandleInformation failed with error %u", GetLastError());
        harness_fail(__FILE__, line, "SetHandleInformation(h, mask, value)", detail);
    }
    CHECK_EQ_AT(line, "GetLastError() after SetHandleInformation", GetLastError(), POISON);
}
#define set_flags(h, mask, value) set_flags_at(__LINE__, (h), (mask), (value))

static HANDLE dup_at(int line, HANDLE h, DWORD access, BOOL inherit, DWORD options)
{
    HANDLE out = (HANDLE)(uintptr_t)0x1234;
    SetLastError(POISON);
    BOOL ok = DuplicateHandle(SELF, h, SELF, &out, access, inherit, options);
    if (!ok) {
        char detail[80];
        snprintf(detail, sizeof detail, "DuplicateHandle failed with error %u", GetLastError());
        harness_fail(__FILE__, line, "DuplicateHandle", detail);
    }
    CHECK_EQ_AT(line, "GetLastError() after DuplicateHandle", GetLastError(), POISON);
    if (out == NULL || ((uintptr_t)out & 3) != 0) harness_fail(__FILE__, line, "duplicate handle value", "bad value");
    return out;
}
#define dup_h(h, access, inherit, options) dup_at(__LINE__, (h), (access), (inherit), (options))

/* What a handle can do. */
#define CAN_WAIT 1
#define CAN_QUERY 2
#define CAN_MODIFY 4

/* Each probe expects success (leaving GetLastError() alone) or ERROR_ACCESS_DENIED. */
static int probe_wait(HANDLE h, DWORD success)
{
    SetLastError(POISON);
    DWORD r = WaitForSingleObject(h, 0);
    if (r == WAIT_FAILED) {
        ASSERT_GLE(ERROR_ACCESS_DENIED);
        return 0;
    }
    ASSERT_EQ_U(r, success);
    ASSERT_GLE(POISON);
    return CAN_WAIT;
}

static int probe_query(HANDLE h, DWORD type)
{
    NSEM_OBJECT_INFO info;
    memset(&info, 0, sizeof info);
    info.cbSize = sizeof info;
    SetLastError(POISON);
    if (!NsemQueryObject(h, &info)) {
        ASSERT_GLE(ERROR_ACCESS_DENIED);
        return 0;
    }
    ASSERT_EQ(info.dwType, type);
    return CAN_QUERY;
}

/* h: a handle to a semaphore at count 0 (full: a handle with all access to it). */
static int sem_caps(HANDLE h, HANDLE full)
{
    int caps = probe_wait(h, WAIT_TIMEOUT) | probe_query(h, NSEM_TYPE_SEMAPHORE);
    LONG prev = -1;
    SetLastError(POISON);
    if (ReleaseSemaphore(h, 1, &prev)) {
        ASSERT_GLE(POISON);
        ASSERT_EQ(prev, 0);
        caps |= CAN_MODIFY;
        ASSERT_EQ_U(WaitForSingleObject(full, 0), WAIT_OBJECT_0);
    } else {
        ASSERT_GLE(ERROR_ACCESS_DENIED);
        ASSERT_EQ(prev, -1);
    }
    check_sem(full, 0, 5);
    return caps;
}

/* h: a handle to a free mutex. ReleaseMutex needs no right, so is not a capability. */
static int mutex_caps(HANDLE h, HANDLE full)
{
    int caps = probe_wait(h, WAIT_OBJECT_0) | probe_query(h, NSEM_TYPE_MUTEX);
    if (caps & CAN_WAIT) ASSERT(ReleaseMutex(full));
    ASSERT_EQ(query(full).dwOwnerThreadId, 0);
    return caps;
}

/* h: a handle to a reset manual-reset event. */
static int event_caps(HANDLE h, HANDLE full)
{
    int caps = probe_wait(h, WAIT_TIMEOUT) | probe_query(h, NSEM_TYPE_EVENT);
    SetLastError(POISON);
    if (SetEvent(h)) {
        ASSERT_GLE(POISON);
        caps |= CAN_MODIFY;
        ASSERT_EQ(query(full).lCurrentCount, 1);
        ASSERT(ResetEvent(full));
    } else {
        ASSERT_GLE(ERROR_ACCESS_DENIED);
    }
    ASSERT_EQ(query(full).lCurrentCount, 0);
    return caps;
}

/* =============================================================================================
 * Handle values and CloseHandle
 * =========================================================================================== */

/* SPEC 2, 50: handle values are non-zero multiples of 4; every create or open gives a new one. */
TEST(handles_values)
{
    const char *name = uniq("handles-values");
    HANDLE h[6];
    h[0] = new_sem(0, 1);
    h[1] = CreateSemaphoreA(NULL, 0, 1, name);
    SetLastError(POISON);
    h[2] = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    h[3] = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
    h[4] = CreateMutexA(NULL, FALSE, NULL);
    h[5] = CreateEventA(NULL, FALSE, FALSE, NULL);
    for (int i = 0; i < 6; i++) {
        ASSERT_NOT_NULL(h[i]);
        ASSERT_EQ((uintptr_t)h[i] & 3, 0);
        for (int j = 0; j < i; j++) ASSERT_NE((uintptr_t)h[i], (uintptr_t)h[j]);
    }
    return 0;
}

/* SPEC 87 */
TEST(handles_close_valid)
{
    const char *name = uniq("handles-close");
    SetLastError(POISON);
    HANDLE a = CreateSemaphoreA(NULL, 1, 2, name);
    ASSERT_NOT_NULL(a);
    HANDLE b = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
    ASSERT_NOT_NULL(b);
    ASSERT_EQ(query(b).dwHandleCount, 2);

    SetLastError(POISON);
    ASSERT(CloseHandle(a));
    ASSERT_GLE(POISON);
    ASSERT_EQ(query(b).dwHandleCount, 1);
    check_sem(b, 1, 2);

    /* The value is no longer valid for anything. */
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(a, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT(!ReleaseSemaphore(a, 1, NULL));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    DWORD f = 0x55;
    SetLastError(POISON);
    ASSERT(!GetHandleInformation(a, &f));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT(!CloseHandle(a));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    check_sem(b, 1, 2);

    /* Low bits are ignored by CloseHandle too. */
    SetLastError(POISON);
    ASSERT(CloseHandle(WITH_BITS(b, 3)));
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(b, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT(!CloseHandle(b));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    return 0;
}

/* SPEC 88 */
TEST(handles_close_invalid)
{
    HANDLE keep = new_sem(1, 1);
    static const uintptr_t bad[] = {0, 0xdeadbee0u, 0xdeadbee3u, 0x7ffffff0u, (uintptr_t)(intptr_t)-8};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        SetLastError(POISON);
        ASSERT(!CloseHandle((HANDLE)bad[i]));
        ASSERT_GLE(ERROR_INVALID_HANDLE);
    }
    check_sem(keep, 1, 1);
    return 0;
}

/* SPEC 89 */
TEST(handles_close_pseudo)
{
    HANDLE sem = new_sem(0, 5);
    for (int i = -1; i >= -6; i--) {
        SetLastError(POISON);
        ASSERT(CloseHandle(PSEUDO(i)));
        ASSERT_GLE(POISON);
    }
    ASSERT(CloseHandle(GetCurrentProcess()));
    ASSERT(CloseHandle(GetCurrentThread()));
    /* Nothing happened: the process pseudo handle still works, and so does the semaphore. */
    HANDLE d = dup_h(sem, 0, FALSE, DUPLICATE_SAME_ACCESS);
    ASSERT_EQ(sem_caps(d, sem), CAN_WAIT | CAN_QUERY | CAN_MODIFY);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(GetCurrentProcess(), 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    return 0;
}

/* SPEC 90 */
TEST(handles_protect_from_close)
{
    HANDLE h = new_sem(0, 5);
    set_flags(h, HANDLE_FLAG_PROTECT_FROM_CLOSE, HANDLE_FLAG_PROTECT_FROM_CLOSE);
    ASSERT_EQ_U(hflags(h), HANDLE_FLAG_PROTECT_FROM_CLOSE);

    SetLastError(POISON);
    ASSERT(!CloseHandle(h));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT(!CloseHandle(WITH_BITS(h, 1)));
    ASSERT_GLE(ERROR_INVALID_HANDLE);

    /* Still open and fully usable. */
    ASSERT_EQ(query(h).dwHandleCount, 1);
    ASSERT_EQ_U(hflags(h), HANDLE_FLAG_PROTECT_FROM_CLOSE);
    ASSERT_EQ(sem_caps(h, h), CAN_WAIT | CAN_QUERY | CAN_MODIFY);

    /* Changing the other flag keeps protection. */
    set_flags(h, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    SetLastError(POISON);
    ASSERT(!CloseHandle(h));
    ASSERT_GLE(ERROR_INVALID_HANDLE);

    set_flags(h, HANDLE_FLAG_PROTECT_FROM_CLOSE, 0);
    ASSERT_EQ_U(hflags(h), HANDLE_FLAG_INHERIT);
    SetLastError(POISON);
    ASSERT(CloseHandle(h));
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(h, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    return 0;
}

/* =============================================================================================
 * Get/SetHandleInformation
 * =========================================================================================== */

/* SPEC 91 */
TEST(handles_get_set_information)
{
    HANDLE h = new_sem(0, 1);
    ASSERT_EQ_U(hflags(h), 0);
    set_flags(h, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
    ASSERT_EQ_U(hflags(h), HANDLE_FLAG_INHERIT);
    set_flags(h, HANDLE_FLAG_INHERIT | HANDLE_FLAG_PROTECT_FROM_CLOSE,
              HANDLE_FLAG_INHERIT | HANDLE_FLAG_PROTECT_FROM_CLOSE);
    ASSERT_EQ_U(hflags(h), 3);
    /* Only the bits in the mask change. */
    set_flags(h, HANDLE_FLAG_INHERIT, 0);
    ASSERT_EQ_U(hflags(h), HANDLE_FLAG_PROTECT_FROM_CLOSE);
    set_flags(h, 0, HANDLE_FLAG_INHERIT | HANDLE_FLAG_PROTECT_FROM_CLOSE);
    ASSERT_EQ_U(hflags(h), HANDLE_FLAG_PROTECT_FROM_CLOSE);
    set_flags(h, HANDLE_FLAG_PROTECT_FROM_CLOSE, HANDLE_FLAG_INHERIT);
    ASSERT_EQ_U(hflags(h), 0);
    set_flags(h, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT | HANDLE_FLAG_PROTECT_FROM_CLOSE);
    ASSERT_EQ_U(hflags(h), HANDLE_FLAG_INHERIT);

    /* Low bits of the handle value are ignored. */
    set_flags(WITH_BITS(h, 2), HANDLE_FLAG_PROTECT_FROM_CLOSE, HANDLE_FLAG_PROTECT_FROM_CLOSE);
    ASSERT_EQ_U(hflags(WITH_BITS(h, 3)), 3);
    ASSERT_EQ_U(hflags(h), 3);

    /* Flags belong to the handle, not to the object. */
    HANDLE d = dup_h(h, 0, FALSE, DUPLICATE_SAME_ACCESS);
    ASSERT_EQ_U(hflags(d), 0);
    ASSERT_EQ_U(hflags(h), 3);
    return 0;
}

/* SPEC 91 */
TEST(handles_information_invalid)
{
    HANDLE closed = new_sem(0, 1);
    ASSERT(CloseHandle(closed));
    HANDLE bad[3] = {NULL, BAD_HANDLE, closed};
    for (int i = 0; i < 3; i++) {
        DWORD f = 0x55;
        SetLastError(POISON);
        ASSERT(!GetHandleInformation(bad[i], &f));
        ASSERT_GLE(ERROR_INVALID_HANDLE);
        SetLastError(POISON);
        ASSERT(!SetHandleInformation(bad[i], HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT));
        ASSERT_GLE(ERROR_INVALID_HANDLE);
    }
    return 0;
}

/* SPEC 16, 24: bInheritHandle at creation and opening sets HANDLE_FLAG_INHERIT. */
TEST(handles_inherit_flag_at_creation)
{
    SECURITY_ATTRIBUTES inherit = {sizeof inherit, NULL, TRUE}, plain = {sizeof plain, NULL, FALSE};
    const char *sname = uniq("handles-inh-sem"), *mname = uniq("handles-inh-mtx"), *ename = uniq("handles-inh-ev");

    HANDLE s = CreateSemaphoreA(&inherit, 0, 1, sname);
    HANDLE m = CreateMutexA(&inherit, FALSE, mname);
    HANDLE e = CreateEventA(&inherit, FALSE, FALSE, ename);
    ASSERT_NOT_NULL(s);
    ASSERT_NOT_NULL(m);
    ASSERT_NOT_NULL(e);
    ASSERT_EQ_U(hflags(s), HANDLE_FLAG_INHERIT);
    ASSERT_EQ_U(hflags(m), HANDLE_FLAG_INHERIT);
    ASSERT_EQ_U(hflags(e), HANDLE_FLAG_INHERIT);

    HANDLE s2 = CreateSemaphoreA(&plain, 0, 1, NULL), e2 = CreateEventW(&plain, TRUE, FALSE, NULL);
    ASSERT_NOT_NULL(s2);
    ASSERT_NOT_NULL(e2);
    ASSERT_EQ_U(hflags(s2), 0);
    ASSERT_EQ_U(hflags(e2), 0);

    HANDLE os = OpenSemaphoreA(SYNCHRONIZE, TRUE, sname), om = OpenMutexA(SYNCHRONIZE, TRUE, mname);
    HANDLE oe = OpenEventA(SYNCHRONIZE, TRUE, ename), oe0 = OpenEventA(SYNCHRONIZE, FALSE, ename);
    ASSERT_NOT_NULL(os);
    ASSERT_NOT_NULL(om);
    ASSERT_NOT_NULL(oe);
    ASSERT_NOT_NULL(oe0);
    ASSERT_EQ_U(hflags(os), HANDLE_FLAG_INHERIT);
    ASSERT_EQ_U(hflags(om), HANDLE_FLAG_INHERIT);
    ASSERT_EQ_U(hflags(oe), HANDLE_FLAG_INHERIT);
    ASSERT_EQ_U(hflags(oe0), 0);

    /* An existing name opened through Create* with an inheriting sa: the new handle inherits. */
    SetLastError(POISON);
    HANDLE s3 = CreateSemaphoreA(&inherit, 0, 1, sname);
    ASSERT_NOT_NULL(s3);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    ASSERT_EQ_U(hflags(s3), HANDLE_FLAG_INHERIT);
    return 0;
}

/* =============================================================================================
 * DuplicateHandle
 * =========================================================================================== */

/* SPEC 92 */
TEST(handles_dup_same_access)
{
    HANDLE h = new_sem(0, 5);
    set_flags(h, 3, 3);
    HANDLE d = dup_h(h, 0, FALSE, DUPLICATE_SAME_ACCESS);
    ASSERT_NE((uintptr_t)d, (uintptr_t)h);
    ASSERT_EQ_U(hflags(d), 0); /* PROTECT and INHERIT are not copied */
    ASSERT_EQ(sem_caps(d, h), CAN_WAIT | CAN_QUERY | CAN_MODIFY);
    HANDLE di = dup_h(h, 0, TRUE, DUPLICATE_SAME_ACCESS);
    ASSERT_EQ_U(hflags(di), HANDLE_FLAG_INHERIT);
    ASSERT_EQ(query(h).dwHandleCount, 3);

    /* DUPLICATE_SAME_ACCESS ignores dwDesiredAccess, and keeps a restricted source's access. */
    HANDLE d2 = dup_h(h, SYNCHRONIZE, FALSE, DUPLICATE_SAME_ACCESS);
    ASSERT_EQ(sem_caps(d2, h), CAN_WAIT | CAN_QUERY | CAN_MODIFY);
    HANDLE sync = dup_h(h, SYNCHRONIZE, FALSE, 0);
    ASSERT_EQ(sem_caps(sync, h), CAN_WAIT);
    HANDLE sync2 = dup_h(sync, SEMAPHORE_ALL_ACCESS, FALSE, DUPLICATE_SAME_ACCESS);
    ASSERT_EQ(sem_caps(sync2, h), CAN_WAIT);

    /* Closing the original leaves the duplicates working. */
    set_flags(h, HANDLE_FLAG_PROTECT_FROM_CLOSE, 0);
    ASSERT(CloseHandle(h));
    ASSERT_EQ(sem_caps(d, d), CAN_WAIT | CAN_QUERY | CAN_MODIFY);
    return 0;
}

struct mapping {
    DWORD access;
    int caps;
};

/* SPEC 93: semaphore generic mapping (READ 0x20001, WRITE 0x20002, EXECUTE 0x120000, ALL 0x1F0003). */
TEST(handles_dup_generic_mapping_semaphore)
{
    static const struct mapping map[] = {
        {0, 0},
        {GENERIC_READ, CAN_QUERY},
        {GENERIC_WRITE, CAN_MODIFY},
        {GENERIC_EXECUTE, CAN_WAIT},
        {GENERIC_ALL, CAN_WAIT | CAN_QUERY | CAN_MODIFY},
        {GENERIC_READ | GENERIC_EXECUTE, CAN_WAIT | CAN_QUERY},
        {SEMAPHORE_ALL_ACCESS, CAN_WAIT | CAN_QUERY | CAN_MODIFY},
        {SYNCHRONIZE, CAN_WAIT},
        {SEMAPHORE_QUERY_STATE, CAN_QUERY},
        {SEMAPHORE_MODIFY_STATE, CAN_MODIFY},
        {READ_CONTROL | DELETE, 0},
    };
    HANDLE full = new_sem(0, 5);
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        HANDLE d = dup_h(full, map[i].access, FALSE, 0);
        int caps = sem_caps(d, full);
        if (caps != map[i].caps) fprintf(stderr, "access 0x%08x\n", map[i].access);
        ASSERT_EQ(caps, map[i].caps);
        ASSERT_EQ_U(hflags(d), 0);
        ASSERT(CloseHandle(d));
    }
    /* A restricted source can give the same or less. */
    HANDLE rd = dup_h(full, GENERIC_READ, FALSE, 0);
    HANDLE q = dup_h(rd, SEMAPHORE_QUERY_STATE, FALSE, 0);
    ASSERT_EQ(sem_caps(q, full), CAN_QUERY);
    return 0;
}

/* SPEC 93, 73: mutex generic mapping (READ 0x20001, WRITE 0x20000, EXECUTE 0x120000,
 * ALL 0x1F0001); ReleaseMutex works through any of them, even with no access. */
TEST(handles_dup_generic_mapping_mutex)
{
    static const struct mapping map[] = {
        {0, 0},
        {GENERIC_READ, CAN_QUERY},
        {GENERIC_WRITE, 0},
        {GENERIC_EXECUTE, CAN_WAIT},
        {GENERIC_ALL, CAN_WAIT | CAN_QUERY},
        {MUTEX_ALL_ACCESS, CAN_WAIT | CAN_QUERY},
        {SYNCHRONIZE, CAN_WAIT},
        {MUTANT_QUERY_STATE, CAN_QUERY},
    };
    SetLastError(POISON);
    HANDLE full = CreateMutexA(NULL, FALSE, NULL);
    ASSERT_NOT_NULL(full);
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        HANDLE d = dup_h(full, map[i].access, FALSE, 0);
        int caps = mutex_caps(d, full);
        if (caps != map[i].caps) fprintf(stderr, "access 0x%08x\n", map[i].access);
        ASSERT_EQ(caps, map[i].caps);
        ASSERT_EQ_U(WaitForSingleObject(full, 0), WAIT_OBJECT_0);
        SetLastError(POISON);
        ASSERT(ReleaseMutex(d));
        ASSERT_GLE(POISON);
        ASSERT_EQ(query(full).dwOwnerThreadId, 0);
        ASSERT(CloseHandle(d));
    }
    return 0;
}

/* SPEC 93: event generic mapping (READ 0x20001, WRITE 0x20002, EXECUTE 0x120000, ALL 0x1F0003). */
TEST(handles_dup_generic_mapping_event)
{
    static const struct mapping map[] = {
        {0, 0},
        {GENERIC_READ, CAN_QUERY},
        {GENERIC_WRITE, CAN_MODIFY},
        {GENERIC_EXECUTE, CAN_WAIT},
        {GENERIC_ALL, CAN_WAIT | CAN_QUERY | CAN_MODIFY},
        {EVENT_ALL_ACCESS, CAN_WAIT | CAN_QUERY | CAN_MODIFY},
        {EVENT_MODIFY_STATE | SYNCHRONIZE, CAN_WAIT | CAN_MODIFY},
    };
    SetLastError(POISON);
    HANDLE full = CreateEventA(NULL, TRUE, FALSE, NULL);
    ASSERT_NOT_NULL(full);
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        HANDLE d = dup_h(full, map[i].access, FALSE, 0);
        int caps = event_caps(d, full);
        if (caps != map[i].caps) fprintf(stderr, "access 0x%08x\n", map[i].access);
        ASSERT_EQ(caps, map[i].caps);
        ASSERT(CloseHandle(d));
    }
    return 0;
}

/* SPEC 94: DUPLICATE_CLOSE_SOURCE on an unprotected source gives back the same value, with the
 * new access and inherit flag, even when a lower slot is free. */
TEST(handles_dup_close_source_same_value)
{
    HANDLE low = new_sem(0, 1);
    HANDLE src = new_sem(0, 5);
    HANDLE other = new_sem(0, 1);
    ASSERT(CloseHandle(low));

    SetLastError(POISON);
    HANDLE out = NULL;
    ASSERT(DuplicateHandle(SELF, src, SELF, &out, SYNCHRONIZE, TRUE, DUPLICATE_CLOSE_SOURCE));
    ASSERT_GLE(POISON);
    ASSERT_EQ((uintptr_t)out, (uintptr_t)src);
    ASSERT_EQ_U(hflags(out), HANDLE_FLAG_INHERIT);
    int caps = probe_wait(out, WAIT_TIMEOUT) | probe_query(out, NSEM_TYPE_SEMAPHORE);
    ASSERT_EQ(caps, CAN_WAIT);
    SetLastError(POISON);
    ASSERT(!ReleaseSemaphore(out, 1, NULL));
    ASSERT_GLE(ERROR_ACCESS_DENIED);

    /* Again with the same access: still the same value, now not inheritable. */
    HANDLE out2 = NULL;
    SetLastError(POISON);
    ASSERT(DuplicateHandle(SELF, out, SELF, &out2, 0, FALSE, DUPLICATE_CLOSE_SOURCE | DUPLICATE_SAME_ACCESS));
    ASSERT_GLE(POISON);
    ASSERT_EQ((uintptr_t)out2, (uintptr_t)src);
    ASSERT_EQ_U(hflags(out2), 0);
    ASSERT_EQ(probe_wait(out2, WAIT_TIMEOUT) | probe_query(out2, NSEM_TYPE_SEMAPHORE), CAN_WAIT);
    check_sem(other, 0, 1);
    return 0;
}

/* SPEC 95: DUPLICATE_CLOSE_SOURCE on a protected source succeeds with a new value; the source
 * stays open and protected. */
TEST(handles_dup_close_source_protected)
{
    HANDLE src = new_sem(0, 5);
    set_flags(src, HANDLE_FLAG_PROTECT_FROM_CLOSE, HANDLE_FLAG_PROTECT_FROM_CLOSE);

    HANDLE out = NULL;
    SetLastError(POISON);
    ASSERT(DuplicateHandle(SELF, src, SELF, &out, 0, FALSE, DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE));
    ASSERT_GLE(POISON);
    ASSERT_NOT_NULL(out);
    ASSERT_NE((uintptr_t)out, (uintptr_t)src);
    ASSERT_EQ_U(hflags(out), 0);
    ASSERT_EQ_U(hflags(src), HANDLE_FLAG_PROTECT_FROM_CLOSE);
    ASSERT_EQ(sem_caps(src, out), CAN_WAIT | CAN_QUERY | CAN_MODIFY);
    ASSERT_EQ(sem_caps(out, src), CAN_WAIT | CAN_QUERY | CAN_MODIFY);

    HANDLE out2 = NULL;
    SetLastError(POISON);
    ASSERT(DuplicateHandle(SELF, src, SELF, &out2, 0, TRUE, DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE));
    ASSERT_GLE(POISON);
    ASSERT_NE((uintptr_t)out2, (uintptr_t)src);
    ASSERT_NE((uintptr_t)out2, (uintptr_t)out);
    ASSERT_EQ_U(hflags(out2), HANDLE_FLAG_INHERIT);
    ASSERT_EQ(query(src).dwHandleCount, 3);
    return 0;
}

/* SPEC 96, 97: duplicating GetCurrentProcess() gives a real handle. */
TEST(handles_dup_current_process)
{
    HANDLE out = NULL;
    SetLastError(POISON);
    ASSERT(DuplicateHandle(SELF, GetCurrentProcess(), SELF, &out, 0, FALSE,
                           DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE));
    ASSERT_GLE(POISON);
    ASSERT_NOT_NULL(out);
    ASSERT_NE((intptr_t)out, -1);
    ASSERT_EQ((uintptr_t)out & 3, 0);
    ASSERT_EQ_U(hflags(out), 0);

    HANDLE inh = NULL;
    SetLastError(POISON);
    ASSERT(DuplicateHandle(SELF, GetCurrentProcess(), SELF, &inh, 0, TRUE,
                           DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE));
    ASSERT_GLE(POISON);
    ASSERT_NE((uintptr_t)inh, (uintptr_t)out);
    ASSERT_EQ_U(hflags(inh), HANDLE_FLAG_INHERIT);

    /* SPEC 97: a pseudo source has no attributes to copy. */
    HANDLE attr = NULL;
    SetLastError(POISON);
    ASSERT(DuplicateHandle(SELF, GetCurrentProcess(), SELF, &attr, 0, TRUE,
                           DUPLICATE_SAME_ACCESS | DUPLICATE_SAME_ATTRIBUTES));
    ASSERT_GLE(POISON);
    ASSERT_EQ_U(hflags(attr), 0);

    SetLastError(POISON);
    ASSERT(CloseHandle(out));
    ASSERT_GLE(POISON);
    ASSERT(CloseHandle(inh));
    ASSERT(CloseHandle(attr));
    /* The pseudo handle is unaffected by "closing" it as a source. */
    HANDLE sem = new_sem(0, 5);
    HANDLE d = dup_h(sem, 0, FALSE, DUPLICATE_SAME_ACCESS);
    ASSERT_EQ(sem_caps(d, sem), CAN_WAIT | CAN_QUERY | CAN_MODIFY);
    return 0;
}

/* SPEC 97: DUPLICATE_SAME_ATTRIBUTES copies INHERIT and PROTECT and ignores bInheritHandle. */
TEST(handles_dup_same_attributes)
{
    HANDLE src = new_sem(0, 5);
    HANDLE a = dup_h(src, 0, TRUE, DUPLICATE_SAME_ACCESS | DUPLICATE_SAME_ATTRIBUTES);
    ASSERT_EQ_U(hflags(a), 0);

    set_flags(src, 3, 3);
    HANDLE b = dup_h(src, 0, FALSE, DUPLICATE_SAME_ACCESS | DUPLICATE_SAME_ATTRIBUTES);
    ASSERT_EQ_U(hflags(b), 3);
    SetLastError(POISON);
    ASSERT(!CloseHandle(b)); /* protected, as its source */
    ASSERT_GLE(ERROR_INVALID_HANDLE);

    set_flags(src, 3, HANDLE_FLAG_PROTECT_FROM_CLOSE);
    HANDLE c = dup_h(src, SYNCHRONIZE, TRUE, DUPLICATE_SAME_ATTRIBUTES);
    ASSERT_EQ_U(hflags(c), HANDLE_FLAG_PROTECT_FROM_CLOSE);
    ASSERT_EQ(sem_caps(c, src), CAN_WAIT);

    set_flags(src, 3, HANDLE_FLAG_INHERIT);
    HANDLE d = dup_h(src, 0, FALSE, DUPLICATE_SAME_ACCESS | DUPLICATE_SAME_ATTRIBUTES);
    ASSERT_EQ_U(hflags(d), HANDLE_FLAG_INHERIT);
    ASSERT_EQ(sem_caps(d, src), CAN_WAIT | CAN_QUERY | CAN_MODIFY);
    return 0;
}

/* SPEC 99 (WT and WT-todo): a failed duplication writes NULL to the target handle. */
TEST(handles_dup_failures)
{
    HANDLE src = new_sem(0, 5);
    HANDLE out;

    HANDLE bad_sources[3] = {NULL, BAD_HANDLE, NULL};
    HANDLE closed = new_sem(0, 1);
    ASSERT(CloseHandle(closed));
    bad_sources[2] = closed;
    for (int i = 0; i < 3; i++) {
        out = (HANDLE)(uintptr_t)0x1234;
        SetLastError(POISON);
        ASSERT(!DuplicateHandle(SELF, bad_sources[i], SELF, &out, 0, FALSE, DUPLICATE_SAME_ACCESS));
        ASSERT_GLE(ERROR_INVALID_HANDLE);
        ASSERT_NULL(out);
    }

    /* [WT-todo] access ~0u is denied. */
    out = (HANDLE)(uintptr_t)0x1234;
    SetLastError(POISON);
    ASSERT(!DuplicateHandle(SELF, src, SELF, &out, ~0u, FALSE, 0));
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    ASSERT_NULL(out);
    ASSERT_EQ(query(src).dwHandleCount, 1);

    /* Bad process handles (nsem: process handles are GetCurrentProcess()). */
    HANDLE bad_procs[3] = {BAD_HANDLE, NULL, src};
    for (int i = 0; i < 3; i++) {
        out = NULL;
        SetLastError(POISON);
        ASSERT(!DuplicateHandle(bad_procs[i], src, SELF, &out, 0, FALSE, DUPLICATE_SAME_ACCESS));
        ASSERT_GLE(ERROR_INVALID_HANDLE);
        SetLastError(POISON);
        ASSERT(!DuplicateHandle(SELF, src, bad_procs[i], &out, 0, FALSE, DUPLICATE_SAME_ACCESS));
        ASSERT_GLE(ERROR_INVALID_HANDLE);
    }
    ASSERT_EQ(query(src).dwHandleCount, 1);
    check_sem(src, 0, 5);
    return 0;
}

/* nsem.h: unknown option bits are ERROR_INVALID_PARAMETER. */
TEST(handles_dup_unknown_options)
{
    HANDLE src = new_sem(0, 5);
    HANDLE out = NULL;
    SetLastError(POISON);
    ASSERT(!DuplicateHandle(SELF, src, SELF, &out, 0, FALSE, DUPLICATE_SAME_ACCESS | 0x8));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT(!DuplicateHandle(SELF, src, SELF, &out, 0, FALSE, 0x80000000u));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    ASSERT_EQ(query(src).dwHandleCount, 1);
    return 0;
}

/* SPEC 98: DUPLICATE_CLOSE_SOURCE closes the source even when the duplication fails. */
TEST(handles_dup_close_source_on_failure)
{
    HANDLE full = new_sem(0, 5);
    HANDLE src = dup_h(full, SYNCHRONIZE, FALSE, 0);
    ASSERT_EQ(query(full).dwHandleCount, 2);
    HANDLE out = (HANDLE)(uintptr_t)0x1234;
    SetLastError(POISON);
    ASSERT(!DuplicateHandle(SELF, src, SELF, &out, ~0u, FALSE, DUPLICATE_CLOSE_SOURCE));
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    ASSERT_NULL(out);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(src, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    ASSERT_EQ(query(full).dwHandleCount, 1);
    return 0;
}

/* =============================================================================================
 * Identity
 * =========================================================================================== */

/* SPEC 101, 2: handles from create, create-existing, open and duplicate are one object. */
TEST(handles_identity)
{
    const char *name = uniq("handles-identity");
    SetLastError(POISON);
    HANDLE h1 = CreateSemaphoreA(NULL, 0, 5, name);
    ASSERT_NOT_NULL(h1);
    ASSERT_GLE(0);
    SetLastError(POISON);
    HANDLE h2 = CreateSemaphoreW(NULL, 3, 9, uniqw("handles-identity"));
    ASSERT_NOT_NULL(h2);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    HANDLE h3 = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
    ASSERT_NOT_NULL(h3);
    HANDLE h4 = dup_h(h1, 0, FALSE, DUPLICATE_SAME_ACCESS);
    HANDLE other = CreateSemaphoreA(NULL, 0, 5, uniq("handles-identity-2"));
    ASSERT_NOT_NULL(other);

    check_sem(h2, 0, 5);
    ASSERT_EQ(query(h4).dwHandleCount, 4);
    ASSERT(ReleaseSemaphore(h2, 2, NULL));
    check_sem(h1, 2, 5);
    check_sem(h3, 2, 5);
    check_sem(other, 0, 5);
    ASSERT_EQ_U(WaitForSingleObject(h3, 0), WAIT_OBJECT_0);
    check_sem(h4, 1, 5);
    LONG prev = -1;
    ASSERT(ReleaseSemaphore(h4, 1, &prev));
    ASSERT_EQ(prev, 1);
    check_sem(h1, 2, 5);
    ASSERT(CloseHandle(h1));
    ASSERT_EQ(query(h2).dwHandleCount, 3);
    check_sem(h2, 2, 5);

    /* A mutex owned through one handle is released through another. */
    SetLastError(POISON);
    HANDLE m1 = CreateMutexA(NULL, FALSE, uniq("handles-identity-m"));
    ASSERT_NOT_NULL(m1);
    HANDLE m2 = OpenMutexA(SYNCHRONIZE, FALSE, uniq("handles-identity-m"));
    ASSERT_NOT_NULL(m2);
    ASSERT_EQ_U(WaitForSingleObject(m2, 0), WAIT_OBJECT_0);
    ASSERT_EQ(query(m1).dwOwnerThreadId, GetCurrentThreadId());
    SetLastError(POISON);
    ASSERT(ReleaseMutex(m1));
    ASSERT_GLE(POISON);
    ASSERT_EQ(query(m1).dwOwnerThreadId, 0);

    /* An event set through one handle is consumed through another. */
    HANDLE e1 = CreateEventA(NULL, FALSE, FALSE, NULL);
    ASSERT_NOT_NULL(e1);
    HANDLE e2 = dup_h(e1, SYNCHRONIZE, FALSE, 0);
    ASSERT(SetEvent(e1));
    ASSERT_EQ_U(WaitForSingleObject(e2, 0), WAIT_OBJECT_0);
    ASSERT_EQ(query(e1).lCurrentCount, 0);
    return 0;
}

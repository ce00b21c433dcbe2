/*
 * test-semaphore.c — semaphore creation and its parameters, OpenSemaphore, ReleaseSemaphore and
 * counts (SPEC 1.A, 1.B, 1.E), and the TCHAR names (the A functions without UNICODE).
 *
 * Every failing call is followed by a re-read of the object's state (NsemQueryObject) to prove
 * that nothing changed, as ntsync's selftests do with check_sem_state().
 */
#include "checks.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

/* Windows' LONG is 32 bits (the C LONG_MAX is not). */
#define SEM_LONG_MAX ((LONG)0x7FFFFFFF)
#define SEM_LONG_MIN ((LONG)(-0x7FFFFFFF - 1))

/*
 * The handle h has exactly the semaphore rights in `mask` (NsemGetHandleAccess, Windows'
 * GrantedAccess; duplication cannot tell, as asking for more than the source has is an access
 * check that the default descriptor passes).
 */
static void check_access_at(const char *file, int line, HANDLE h, DWORD mask)
{
    DWORD granted = POISON, saved = GetLastError();
    SetLastError(POISON);
    if (!NsemGetHandleAccess(h, &granted)) harness_fail(file, line, "NsemGetHandleAccess", "failed");
    check_eq_at(file, line, "GetLastError() after NsemGetHandleAccess", "POISON", GetLastError(), POISON);
    check_eq_at(file, line, "granted access", "mask", granted, mask);
    SetLastError(saved);
}
#define check_access(h, mask) check_access_at(__FILE__, __LINE__, (h), (mask))

/* Opening `name` as a semaphore fails with ERROR_FILE_NOT_FOUND: no such object exists. */
static void check_no_sem_at(const char *file, int line, const char *name)
{
    SetLastError(POISON);
    HANDLE h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
    DWORD err = GetLastError();
    if (h != NULL || err != ERROR_FILE_NOT_FOUND) {
        char d[300];
        snprintf(d, sizeof d, "OpenSemaphoreA(\"%s\") gave %p, error %u; expected NULL, 2", name, h, (unsigned)err);
        harness_fail(file, line, "check_no_sem", d);
    }
}
#define check_no_sem(name) check_no_sem_at(__FILE__, __LINE__, (name))

/* ---------------------------------------------------------------------------------------------
 * 1.A Creation and parameters
 * ------------------------------------------------------------------------------------------- */

/* SPEC 1 */
TEST(sem_create_new_a)
{
    const char *name = uniq("create-new-a");
    SetLastError(POISON);
    HANDLE h = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(ERROR_SUCCESS);
    ASSERT_EQ((uintptr_t)h % 4, 0);
    check_sem(h, 0, 1);
    check_handles(h, 1);
    ASSERT_EQ(CloseHandle(h), TRUE);
    return 0;
}

/* SPEC 1 */
TEST(sem_create_new_w)
{
    const wchar_t *name = uniqw("create-new-w");
    SetLastError(POISON);
    HANDLE h = CreateSemaphoreW(NULL, 2, 5, name);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(ERROR_SUCCESS);
    ASSERT_EQ((uintptr_t)h % 4, 0);
    check_sem(h, 2, 5);
    check_handles(h, 1);

    /* The Ex forms likewise. */
    SetLastError(POISON);
    HANDLE h2 = CreateSemaphoreExA(NULL, 1, 3, uniq("create-new-exa"), 0, SEMAPHORE_ALL_ACCESS);
    ASSERT_NOT_NULL(h2);
    ASSERT_GLE(ERROR_SUCCESS);
    check_sem(h2, 1, 3);
    SetLastError(POISON);
    HANDLE h3 = CreateSemaphoreExW(NULL, 3, 4, uniqw("create-new-exw"), 0, SEMAPHORE_ALL_ACCESS);
    ASSERT_NOT_NULL(h3);
    ASSERT_GLE(ERROR_SUCCESS);
    check_sem(h3, 3, 4);
    ASSERT_EQ(CloseHandle(h), TRUE);
    ASSERT_EQ(CloseHandle(h2), TRUE);
    ASSERT_EQ(CloseHandle(h3), TRUE);
    return 0;
}

/* SPEC 2 */
TEST(sem_create_existing_a)
{
    const char *name = uniq("create-existing");
    SetLastError(POISON);
    HANDLE h1 = CreateSemaphoreA(NULL, 1, 3, name);
    ASSERT_NOT_NULL(h1);
    ASSERT_GLE(ERROR_SUCCESS);

    SetLastError(POISON);
    HANDLE h2 = CreateSemaphoreA(NULL, 1, 3, name);
    ASSERT_NOT_NULL(h2);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    ASSERT_NE(h1, h2);
    ASSERT_EQ((uintptr_t)h2 % 4, 0);
    check_handles(h1, 2);

    /* The same object: a release through one handle shows through the other. */
    LONG prev = -7;
    ASSERT_EQ(ReleaseSemaphore(h2, 1, &prev), TRUE);
    ASSERT_EQ(prev, 1);
    check_sem(h1, 2, 3);
    ASSERT_EQ_U(WaitForSingleObject(h1, 0), WAIT_OBJECT_0);
    check_sem(h2, 1, 3);

    ASSERT_EQ(CloseHandle(h1), TRUE);
    check_handles(h2, 1);
    ASSERT_EQ(CloseHandle(h2), TRUE);
    return 0;
}

/* SPEC 2 */
TEST(sem_create_existing_w_and_ex)
{
    const char *name = uniq("create-existing-w");
    wchar_t wname[200];
    to_wide(wname, 200, name);

    SetLastError(POISON);
    HANDLE h1 = CreateSemaphoreW(NULL, 0, 2, wname);
    ASSERT_NOT_NULL(h1);
    ASSERT_GLE(ERROR_SUCCESS);

    /* The A and W names are the same name. */
    SetLastError(POISON);
    HANDLE h2 = CreateSemaphoreA(NULL, 0, 2, name);
    ASSERT_NOT_NULL(h2);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    SetLastError(POISON);
    HANDLE h3 = CreateSemaphoreW(NULL, 0, 2, wname);
    ASSERT_NOT_NULL(h3);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    SetLastError(POISON);
    HANDLE h4 = CreateSemaphoreExA(NULL, 0, 2, name, 0, SEMAPHORE_ALL_ACCESS);
    ASSERT_NOT_NULL(h4);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    SetLastError(POISON);
    HANDLE h5 = CreateSemaphoreExW(NULL, 0, 2, wname, 0, SEMAPHORE_ALL_ACCESS);
    ASSERT_NOT_NULL(h5);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);

    ASSERT(h1 != h2 && h1 != h3 && h1 != h4 && h1 != h5 && h2 != h3 && h2 != h4 && h2 != h5 && h3 != h4 &&
           h3 != h5 && h4 != h5);
    check_handles(h1, 5);
    ASSERT_EQ(ReleaseSemaphore(h5, 2, NULL), TRUE);
    check_sem(h1, 2, 2);
    check_sem(h2, 2, 2);
    check_sem(h3, 2, 2);
    check_sem(h4, 2, 2);
    HANDLE hs[] = {h1, h2, h3, h4, h5};
    for (int i = 0; i < 5; i++) ASSERT_EQ(CloseHandle(hs[i]), TRUE);
    check_no_sem(name);
    return 0;
}

/* SPEC 3 */
TEST(sem_create_existing_ignores_counts)
{
    const char *name = uniq("ignore-counts");
    HANDLE h1 = CreateSemaphoreA(NULL, 1, 2, name);
    ASSERT_NOT_NULL(h1);

    SetLastError(POISON);
    HANDLE h2 = CreateSemaphoreA(NULL, 5, 10, name);
    ASSERT_NOT_NULL(h2);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_sem(h2, 1, 2);
    check_sem(h1, 1, 2);

    SetLastError(POISON);
    HANDLE h3 = CreateSemaphoreExA(NULL, 0, 1, name, 0, SEMAPHORE_ALL_ACCESS);
    ASSERT_NOT_NULL(h3);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_sem(h3, 1, 2);

    /* The maximum stays 2: releasing 1 works, a second release is past the maximum. */
    ASSERT_EQ(ReleaseSemaphore(h3, 1, NULL), TRUE);
    LONG prev = 0x5a5a;
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(h2, 1, &prev), FALSE);
    ASSERT_GLE(ERROR_TOO_MANY_POSTS);
    ASSERT_EQ(prev, 0x5a5a);
    check_sem(h1, 2, 2);
    CloseHandle(h1);
    CloseHandle(h2);
    CloseHandle(h3);
    return 0;
}

/* SPEC 4 */
TEST(sem_create_case_sensitive)
{
    char lower[200], upper[200];
    snprintf(lower, sizeof lower, "%s", uniq("x: test semaphore"));
    snprintf(upper, sizeof upper, "%s", lower);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');

    SetLastError(POISON);
    HANDLE h1 = CreateSemaphoreA(NULL, 0, 1, lower);
    ASSERT_NOT_NULL(h1);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE h2 = CreateSemaphoreA(NULL, 1, 3, upper);
    ASSERT_NOT_NULL(h2);
    ASSERT_GLE(ERROR_SUCCESS);

    /* Two objects. */
    check_sem(h1, 0, 1);
    check_sem(h2, 1, 3);
    check_handles(h1, 1);
    check_handles(h2, 1);

    /* And the W names likewise. */
    wchar_t wlower[200], wupper[200];
    snprintf(lower, sizeof lower, "%s", uniq("w-case"));
    snprintf(upper, sizeof upper, "%s", lower);
    upper[strlen(upper) - 1] = 'E';
    to_wide(wlower, 200, lower);
    to_wide(wupper, 200, upper);
    SetLastError(POISON);
    HANDLE h3 = CreateSemaphoreW(NULL, 0, 1, wlower);
    ASSERT_NOT_NULL(h3);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE h4 = CreateSemaphoreW(NULL, 0, 1, wupper);
    ASSERT_NOT_NULL(h4);
    ASSERT_GLE(ERROR_SUCCESS);
    check_handles(h3, 1);
    check_handles(h4, 1);
    CloseHandle(h1);
    CloseHandle(h2);
    CloseHandle(h3);
    CloseHandle(h4);
    return 0;
}

/* SPEC 5 */
TEST(sem_name_characters)
{
    static const char *const suffixes[] = {
        ": Test Semaphore", "om.c-test", "a b  c", "dots...", "slash/forward/", "star*?|<>\"'%$#@!~`",
        "tab\there", "caf\xc3\xa9 \xe2\x82\xac", "emoji \xf0\x9f\x98\x80", "{braces}[brackets](parens);,=+&^",
    };
    HANDLE hs[10];
    for (int i = 0; i < 10; i++) {
        char name[300];
        snprintf(name, sizeof name, "%s%s", uniq("chars"), suffixes[i]);
        SetLastError(POISON);
        hs[i] = CreateSemaphoreA(NULL, i, 20, name);
        if (hs[i] == NULL) fprintf(stderr, "name \"%s\"\n", name);
        ASSERT_NOT_NULL(hs[i]);
        ASSERT_GLE(ERROR_SUCCESS);
        SetLastError(POISON);
        HANDLE o = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
        ASSERT_NOT_NULL(o);
        ASSERT_GLE(POISON);
        check_sem(o, i, 20);
        check_handles(o, 2);
        CloseHandle(o);
    }
    /* Ten different objects. */
    for (int i = 0; i < 10; i++) {
        check_sem(hs[i], i, 20);
        check_handles(hs[i], 1);
    }

    /* A (UTF-8) and W name the same object for non-ASCII characters. */
    char name[300];
    snprintf(name, sizeof name, "%s-caf\xc3\xa9-\xe2\x82\xac", uniq("utf8"));
    wchar_t wname[300];
    to_wide(wname, 300, uniq("utf8"));
    size_t n = wcslen(wname);
    wname[n++] = L'-';
    wname[n++] = L'c';
    wname[n++] = L'a';
    wname[n++] = L'f';
    wname[n++] = 0xe9;
    wname[n++] = L'-';
    wname[n++] = 0x20ac;
    wname[n] = 0;
    SetLastError(POISON);
    HANDLE a = CreateSemaphoreA(NULL, 4, 9, name);
    ASSERT_NOT_NULL(a);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE w = OpenSemaphoreW(SEMAPHORE_ALL_ACCESS, FALSE, wname);
    ASSERT_NOT_NULL(w);
    ASSERT_GLE(POISON);
    check_sem(w, 4, 9);
    check_handles(a, 2);
    SetLastError(POISON);
    HANDLE w2 = CreateSemaphoreW(NULL, 0, 1, wname);
    ASSERT_NOT_NULL(w2);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    CloseHandle(w2);
    CloseHandle(w);
    CloseHandle(a);
    for (int i = 0; i < 10; i++) CloseHandle(hs[i]);
    return 0;
}

/* SPEC 6 */
TEST(sem_create_initial_above_max)
{
    const char *name = uniq("init-above-max");
    wchar_t wname[200];
    to_wide(wname, 200, name);

    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreA(NULL, 2, 1, name));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreW(NULL, 2, 1, wname));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreExA(NULL, 11, 10, name, 0, SEMAPHORE_ALL_ACCESS));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreExW(NULL, SEM_LONG_MAX, SEM_LONG_MAX - 1, wname, 0, SEMAPHORE_ALL_ACCESS));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    /* Anonymous too. */
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreA(NULL, 2, 1, NULL));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreW(NULL, 2, 1, NULL));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);

    /* Nothing was created under the name. */
    check_no_sem(name);
    SetLastError(POISON);
    HANDLE h = CreateSemaphoreA(NULL, 1, 1, name);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(ERROR_SUCCESS);
    check_sem(h, 1, 1);
    CloseHandle(h);
    return 0;
}

/* SPEC 7 */
TEST(sem_create_bad_maximum)
{
    const char *name = uniq("bad-max");
    static const LONG maxes[] = {0, -1, -2, SEM_LONG_MIN};
    for (int i = 0; i < 4; i++) {
        SetLastError(POISON);
        ASSERT_NULL(CreateSemaphoreA(NULL, 0, maxes[i], name));
        ASSERT_GLE(ERROR_INVALID_PARAMETER);
        SetLastError(POISON);
        ASSERT_NULL(CreateSemaphoreW(NULL, 0, maxes[i], uniqw("bad-max")));
        ASSERT_GLE(ERROR_INVALID_PARAMETER);
        SetLastError(POISON);
        ASSERT_NULL(CreateSemaphoreExA(NULL, 0, maxes[i], NULL, 0, SEMAPHORE_ALL_ACCESS));
        ASSERT_GLE(ERROR_INVALID_PARAMETER);
    }
    check_no_sem(name);
    return 0;
}

/* SPEC 7 */
TEST(sem_create_negative_initial)
{
    const char *name = uniq("neg-initial");
    static const LONG inits[] = {-1, -100, SEM_LONG_MIN};
    static const LONG maxes[] = {1, 100, SEM_LONG_MAX};
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            SetLastError(POISON);
            ASSERT_NULL(CreateSemaphoreA(NULL, inits[i], maxes[j], name));
            ASSERT_GLE(ERROR_INVALID_PARAMETER);
            SetLastError(POISON);
            ASSERT_NULL(CreateSemaphoreExW(NULL, inits[i], maxes[j], uniqw("neg-initial"), 0, SEMAPHORE_ALL_ACCESS));
            ASSERT_GLE(ERROR_INVALID_PARAMETER);
            SetLastError(POISON);
            ASSERT_NULL(CreateSemaphoreA(NULL, inits[i], maxes[j], NULL));
            ASSERT_GLE(ERROR_INVALID_PARAMETER);
        }
    }
    check_no_sem(name);
    return 0;
}

/* SPEC 8 */
TEST(sem_create_bad_counts_before_name)
{
    /* An existing semaphore: 87, not 183, and the object is untouched. */
    const char *name = uniq("bad-counts-existing");
    HANDLE h = CreateSemaphoreA(NULL, 1, 4, name);
    ASSERT_NOT_NULL(h);
    static const LONG bad[][2] = {{2, 1}, {0, 0}, {-1, 1}, {0, -5}, {5, 4}};
    for (int i = 0; i < 5; i++) {
        SetLastError(POISON);
        ASSERT_NULL(CreateSemaphoreA(NULL, bad[i][0], bad[i][1], name));
        ASSERT_GLE(ERROR_INVALID_PARAMETER);
        SetLastError(POISON);
        ASSERT_NULL(CreateSemaphoreExA(NULL, bad[i][0], bad[i][1], name, 0, 0));
        ASSERT_GLE(ERROR_INVALID_PARAMETER);
        check_sem(h, 1, 4);
        check_handles(h, 1);
    }

    /* A name held by a mutex: 87, not 6. */
    const char *mname = uniq("bad-counts-mutex");
    HANDLE m = CreateMutexA(NULL, FALSE, mname);
    ASSERT_NOT_NULL(m);
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreA(NULL, 3, 2, mname));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);

    /* A bad name (leading backslash, empty element, missing path): 87 as well. */
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreA(NULL, 3, 2, "\\semtests-bad"));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreA(NULL, 0, 0, "Global\\"));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreW(NULL, -1, 1, L"semtests-no-such-dir\\x"));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);

    CloseHandle(m);
    CloseHandle(h);
    return 0;
}

/* SPEC 9 */
TEST(sem_create_valid_extremes)
{
    static const LONG cases[][2] = {
        {0, 1}, {1, 1}, {0, SEM_LONG_MAX}, {SEM_LONG_MAX, SEM_LONG_MAX}, {1, SEM_LONG_MAX},
        {SEM_LONG_MAX - 1, SEM_LONG_MAX}, {7, 7},
    };
    for (int i = 0; i < 7; i++) {
        SetLastError(POISON);
        HANDLE h = CreateSemaphoreA(NULL, cases[i][0], cases[i][1], uniq("extremes"));
        ASSERT_NOT_NULL(h);
        ASSERT_GLE(ERROR_SUCCESS);
        check_sem(h, cases[i][0], cases[i][1]);
        ASSERT_EQ(CloseHandle(h), TRUE);
        SetLastError(POISON);
        h = CreateSemaphoreW(NULL, cases[i][0], cases[i][1], NULL);
        ASSERT_NOT_NULL(h);
        ASSERT_GLE(ERROR_SUCCESS);
        check_sem(h, cases[i][0], cases[i][1]);
        ASSERT_EQ(CloseHandle(h), TRUE);
    }
    return 0;
}

/* SPEC 10 */
TEST(sem_create_handle_has_all_access)
{
    const char *name = uniq("all-access");
    HANDLE a = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(a);
    check_access(a, SEMAPHORE_ALL_ACCESS);
    HANDLE w = CreateSemaphoreW(NULL, 0, 1, uniqw("all-access-w"));
    ASSERT_NOT_NULL(w);
    check_access(w, SEMAPHORE_ALL_ACCESS);
    HANDLE anon = CreateSemaphoreA(NULL, 0, 1, NULL);
    ASSERT_NOT_NULL(anon);
    check_access(anon, SEMAPHORE_ALL_ACCESS);
    /* Opening the existing object through CreateSemaphore asks for all access too. */
    SetLastError(POISON);
    HANDLE again = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(again);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_access(again, SEMAPHORE_ALL_ACCESS);
    /* More than all access is refused. */
    HANDLE d = NULL;
    SetLastError(POISON);
    ASSERT_EQ(DuplicateHandle(GetCurrentProcess(), a, GetCurrentProcess(), &d, SEMAPHORE_ALL_ACCESS | 0x4, FALSE, 0),
              FALSE);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    CloseHandle(a);
    CloseHandle(w);
    CloseHandle(anon);
    CloseHandle(again);
    return 0;
}

/* SPEC 11 */
TEST(sem_createex_new_object_access)
{
    /* Access 0 on a new object: the handle exists and can do nothing. */
    const char *name = uniq("ex-new-zero");
    SetLastError(POISON);
    HANDLE h = CreateSemaphoreExA(NULL, 1, 2, name, 0, 0);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(ERROR_SUCCESS);
    HANDLE all = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
    ASSERT_NOT_NULL(all);
    check_access(h, 0);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(h, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(h, 1, NULL), FALSE);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    NSEM_OBJECT_INFO info;
    memset(&info, 0, sizeof info);
    info.cbSize = sizeof info;
    SetLastError(POISON);
    ASSERT_EQ(NsemQueryObject(h, &info), FALSE);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_sem(all, 1, 2);
    check_handles(all, 2);
    CloseHandle(all);
    CloseHandle(h);

    /* Exactly the (mapped) access asked for. */
    static const DWORD asked[] = {SYNCHRONIZE, SEMAPHORE_MODIFY_STATE, GENERIC_READ, GENERIC_WRITE,
                                  GENERIC_EXECUTE, GENERIC_ALL, MAXIMUM_ALLOWED, SEMAPHORE_ALL_ACCESS};
    static const DWORD granted[] = {SYNCHRONIZE, SEMAPHORE_MODIFY_STATE, 0x00020001, 0x00020002,
                                    0x00120000, SEMAPHORE_ALL_ACCESS, SEMAPHORE_ALL_ACCESS, SEMAPHORE_ALL_ACCESS};
    for (int i = 0; i < 8; i++) {
        SetLastError(POISON);
        h = CreateSemaphoreExW(NULL, 1, 2, uniqw("ex-new-access"), 0, asked[i]);
        ASSERT_NOT_NULL(h);
        ASSERT_GLE(ERROR_SUCCESS);
        check_access(h, granted[i]);
        CloseHandle(h);
    }

    /* A SYNCHRONIZE-only handle waits but cannot release. */
    name = uniq("ex-new-sync");
    h = CreateSemaphoreExA(NULL, 1, 2, name, 0, SYNCHRONIZE);
    ASSERT_NOT_NULL(h);
    all = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
    ASSERT_NOT_NULL(all);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(h, 0), WAIT_OBJECT_0);
    ASSERT_GLE(POISON);
    check_sem(all, 0, 2);
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(h, 1, NULL), FALSE);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_sem(all, 0, 2);
    CloseHandle(all);
    CloseHandle(h);
    return 0;
}

/* SPEC 12 */
TEST(sem_createex_existing_object_access)
{
    const char *name = uniq("ex-existing");
    wchar_t wname[200];
    to_wide(wname, 200, name);
    HANDLE h = CreateSemaphoreA(NULL, 1, 3, name);
    ASSERT_NOT_NULL(h);

    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreExA(NULL, 0, 1, name, 0, 0));
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreExW(NULL, 0, 1, wname, 0, 0));
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_sem(h, 1, 3);
    check_handles(h, 1);

    SetLastError(POISON);
    HANDLE h2 = CreateSemaphoreExA(NULL, 0, 1, name, 0, SEMAPHORE_ALL_ACCESS);
    ASSERT_NOT_NULL(h2);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_access(h2, SEMAPHORE_ALL_ACCESS);
    check_handles(h, 2);

    SetLastError(POISON);
    HANDLE h3 = CreateSemaphoreExW(NULL, 0, 1, wname, 0, SYNCHRONIZE);
    ASSERT_NOT_NULL(h3);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_access(h3, SYNCHRONIZE);

    SetLastError(POISON);
    HANDLE h4 = CreateSemaphoreExA(NULL, 0, 1, name, 0, GENERIC_WRITE);
    ASSERT_NOT_NULL(h4);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_access(h4, 0x00020002);
    check_handles(h, 4);
    check_sem(h, 1, 3);
    CloseHandle(h2);
    CloseHandle(h3);
    CloseHandle(h4);
    CloseHandle(h);
    return 0;
}

/* SPEC 13 */
TEST(sem_create_anonymous)
{
    SetLastError(POISON);
    HANDLE a = CreateSemaphoreA(NULL, 0, 5, NULL);
    ASSERT_NOT_NULL(a);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE b = CreateSemaphoreA(NULL, 0, 5, NULL);
    ASSERT_NOT_NULL(b);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE c = CreateSemaphoreW(NULL, 0, 5, NULL);
    ASSERT_NOT_NULL(c);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE d = CreateSemaphoreExW(NULL, 0, 5, NULL, 0, SEMAPHORE_ALL_ACCESS);
    ASSERT_NOT_NULL(d);
    ASSERT_GLE(ERROR_SUCCESS);
    ASSERT(a != b && a != c && a != d && b != c && b != d && c != d);

    /* Four objects: a release of one leaves the others alone. */
    ASSERT_EQ(ReleaseSemaphore(b, 3, NULL), TRUE);
    check_sem(a, 0, 5);
    check_sem(b, 3, 5);
    check_sem(c, 0, 5);
    check_sem(d, 0, 5);
    check_handles(a, 1);
    check_handles(b, 1);
    CloseHandle(a);
    CloseHandle(b);
    CloseHandle(c);
    CloseHandle(d);
    return 0;
}

/* nsem (SPEC 15 leaves Windows open): CreateSemaphoreEx with dwFlags bits nsem does not define ->
 * NULL, ERROR_INVALID_PARAMETER. Bits 1 and 2 are left out: EXCLUSIVE.md gives them a meaning. */
TEST(sem_createex_unknown_flags)
{
    const char *name = uniq("ex-flags");
    static const DWORD flags[] = {0x4, 0x10, 0x100, 0x80000000u};
    for (int i = 0; i < 4; i++) {
        SetLastError(POISON);
        ASSERT_NULL(CreateSemaphoreExA(NULL, 0, 1, name, flags[i], SEMAPHORE_ALL_ACCESS));
        ASSERT_GLE(ERROR_INVALID_PARAMETER);
        SetLastError(POISON);
        ASSERT_NULL(CreateSemaphoreExW(NULL, 0, 1, NULL, flags[i], SEMAPHORE_ALL_ACCESS));
        ASSERT_GLE(ERROR_INVALID_PARAMETER);
    }
    check_no_sem(name);

    /* With an existing object too: nothing is opened, nothing changes. */
    HANDLE h = CreateSemaphoreA(NULL, 1, 2, name);
    ASSERT_NOT_NULL(h);
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreExA(NULL, 0, 1, name, 0x80000000u, SEMAPHORE_ALL_ACCESS));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    check_sem(h, 1, 2);
    check_handles(h, 1);
    CloseHandle(h);
    return 0;
}

/* SPEC 16 */
TEST(sem_create_inherit_flag)
{
    SECURITY_ATTRIBUTES sa = {.nLength = sizeof sa, .lpSecurityDescriptor = NULL, .bInheritHandle = TRUE};
    const char *name = uniq("inherit");
    DWORD flags;

    SetLastError(POISON);
    HANDLE h = CreateSemaphoreA(&sa, 0, 1, name);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(ERROR_SUCCESS);
    flags = 0xdead;
    ASSERT_EQ(GetHandleInformation(h, &flags), TRUE);
    ASSERT_EQ_U(flags, HANDLE_FLAG_INHERIT);

    sa.bInheritHandle = FALSE;
    SetLastError(POISON);
    HANDLE h2 = CreateSemaphoreA(&sa, 0, 1, name);
    ASSERT_NOT_NULL(h2);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    flags = 0xdead;
    ASSERT_EQ(GetHandleInformation(h2, &flags), TRUE);
    ASSERT_EQ_U(flags, 0);

    sa.bInheritHandle = TRUE;
    SetLastError(POISON);
    HANDLE h3 = CreateSemaphoreExW(&sa, 0, 1, uniqw("inherit"), 0, SEMAPHORE_ALL_ACCESS);
    ASSERT_NOT_NULL(h3);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    flags = 0xdead;
    ASSERT_EQ(GetHandleInformation(h3, &flags), TRUE);
    ASSERT_EQ_U(flags, HANDLE_FLAG_INHERIT);

    HANDLE h4 = CreateSemaphoreA(NULL, 0, 1, NULL);
    ASSERT_NOT_NULL(h4);
    flags = 0xdead;
    ASSERT_EQ(GetHandleInformation(h4, &flags), TRUE);
    ASSERT_EQ_U(flags, 0);

    HANDLE h5 = CreateSemaphoreA(&sa, 0, 1, NULL);
    ASSERT_NOT_NULL(h5);
    flags = 0xdead;
    ASSERT_EQ(GetHandleInformation(h5, &flags), TRUE);
    ASSERT_EQ_U(flags, HANDLE_FLAG_INHERIT);
    CloseHandle(h);
    CloseHandle(h2);
    CloseHandle(h3);
    CloseHandle(h4);
    CloseHandle(h5);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * 1.B Open
 * ------------------------------------------------------------------------------------------- */

/* SPEC 17 */
TEST(sem_open_existing)
{
    const char *name = uniq("open-existing");
    wchar_t wname[200];
    to_wide(wname, 200, name);
    HANDLE h = CreateSemaphoreA(NULL, 2, 4, name);
    ASSERT_NOT_NULL(h);

    SetLastError(POISON);
    HANDLE a = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
    ASSERT_NOT_NULL(a);
    ASSERT_GLE(POISON);
    ASSERT_NE(a, h);
    ASSERT_EQ((uintptr_t)a % 4, 0);
    check_access(a, SEMAPHORE_ALL_ACCESS);

    SetLastError(POISON);
    HANDLE w = OpenSemaphoreW(SEMAPHORE_ALL_ACCESS, FALSE, wname);
    ASSERT_NOT_NULL(w);
    ASSERT_GLE(POISON);
    ASSERT(w != a && w != h);
    check_handles(h, 3);

    /* All three are the same object. */
    ASSERT_EQ_U(WaitForSingleObject(a, 0), WAIT_OBJECT_0);
    check_sem(h, 1, 4);
    LONG prev = -1;
    ASSERT_EQ(ReleaseSemaphore(w, 3, &prev), TRUE);
    ASSERT_EQ(prev, 1);
    check_sem(a, 4, 4);
    CloseHandle(a);
    CloseHandle(w);
    check_handles(h, 1);
    CloseHandle(h);
    return 0;
}

/* SPEC 18 */
TEST(sem_open_missing)
{
    const char *name = uniq("open-missing");
    static const DWORD access[] = {SEMAPHORE_ALL_ACCESS, 0, SYNCHRONIZE, GENERIC_ALL, MAXIMUM_ALLOWED};
    for (int i = 0; i < 5; i++) {
        SetLastError(POISON);
        ASSERT_NULL(OpenSemaphoreA(access[i], FALSE, name));
        ASSERT_GLE(ERROR_FILE_NOT_FOUND);
        SetLastError(POISON);
        ASSERT_NULL(OpenSemaphoreW(access[i], TRUE, uniqw("open-missing")));
        ASSERT_GLE(ERROR_FILE_NOT_FOUND);
    }
    /* Opening does not create. */
    SetLastError(POISON);
    HANDLE h = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(ERROR_SUCCESS);
    CloseHandle(h);
    return 0;
}

/* SPEC 19 */
TEST(sem_open_null_name)
{
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, NULL));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreW(SEMAPHORE_ALL_ACCESS, FALSE, NULL));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreA(0, TRUE, NULL));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    return 0;
}

/* SPEC 20 */
TEST(sem_open_wrong_case)
{
    char name[200], other[200];
    snprintf(name, sizeof name, "%s", uniq("Open Case"));
    snprintf(other, sizeof other, "%s", name);
    for (char *p = other; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
        else if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
    HANDLE h = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(h);
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, other));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);
    wchar_t wother[200];
    to_wide(wother, 200, other);
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreW(SEMAPHORE_ALL_ACCESS, FALSE, wother));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);
    check_handles(h, 1);
    CloseHandle(h);
    return 0;
}

/* SPEC 21 */
TEST(sem_open_zero_access)
{
    const char *name = uniq("open-zero");
    HANDLE h = CreateSemaphoreA(NULL, 1, 1, name);
    ASSERT_NOT_NULL(h);
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreA(0, FALSE, name));
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreW(0, TRUE, uniqw("open-zero")));
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_handles(h, 1);
    check_sem(h, 1, 1);
    CloseHandle(h);
    return 0;
}

/* SPEC 24 */
TEST(sem_open_inherit_flag)
{
    const char *name = uniq("open-inherit");
    HANDLE h = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(h);
    DWORD flags = 0xdead;
    HANDLE a = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, TRUE, name);
    ASSERT_NOT_NULL(a);
    ASSERT_EQ(GetHandleInformation(a, &flags), TRUE);
    ASSERT_EQ_U(flags, HANDLE_FLAG_INHERIT);
    HANDLE b = OpenSemaphoreW(SYNCHRONIZE, FALSE, uniqw("open-inherit"));
    ASSERT_NOT_NULL(b);
    flags = 0xdead;
    ASSERT_EQ(GetHandleInformation(b, &flags), TRUE);
    ASSERT_EQ_U(flags, 0);
    HANDLE c = OpenSemaphoreW(SYNCHRONIZE, TRUE, uniqw("open-inherit"));
    ASSERT_NOT_NULL(c);
    flags = 0xdead;
    ASSERT_EQ(GetHandleInformation(c, &flags), TRUE);
    ASSERT_EQ_U(flags, HANDLE_FLAG_INHERIT);
    /* The creating handle is unaffected. */
    flags = 0xdead;
    ASSERT_EQ(GetHandleInformation(h, &flags), TRUE);
    ASSERT_EQ_U(flags, 0);
    CloseHandle(a);
    CloseHandle(b);
    CloseHandle(c);
    CloseHandle(h);
    return 0;
}

/* SPEC 25 */
TEST(sem_open_generic_mapping)
{
    const char *name = uniq("open-mapping");
    HANDLE h = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(h);
    static const DWORD asked[] = {GENERIC_READ, GENERIC_WRITE, GENERIC_EXECUTE, GENERIC_ALL, MAXIMUM_ALLOWED,
                                  SYNCHRONIZE, SEMAPHORE_MODIFY_STATE, SEMAPHORE_QUERY_STATE, READ_CONTROL,
                                  DELETE | WRITE_DAC, GENERIC_READ | GENERIC_EXECUTE};
    static const DWORD granted[] = {0x00020001, 0x00020002, 0x00120000, SEMAPHORE_ALL_ACCESS,
                                    SEMAPHORE_ALL_ACCESS, SYNCHRONIZE, SEMAPHORE_MODIFY_STATE,
                                    SEMAPHORE_QUERY_STATE, READ_CONTROL, DELETE | WRITE_DAC, 0x00120001};
    for (size_t i = 0; i < sizeof asked / sizeof asked[0]; i++) {
        SetLastError(POISON);
        HANDLE o = OpenSemaphoreA(asked[i], FALSE, name);
        ASSERT_NOT_NULL(o);
        ASSERT_GLE(POISON);
        check_access(o, granted[i]);
        CloseHandle(o);
    }
    check_handles(h, 1);
    CloseHandle(h);
    return 0;
}

/* SPEC 74 (by analogy, as nsem.h states for OpenSemaphore): a right the type does not have -> 5;
 * ACCESS_SYSTEM_SECURITY -> ERROR_PRIVILEGE_NOT_HELD. */
TEST(sem_open_invalid_access_bits)
{
    const char *name = uniq("open-bad-bits");
    HANDLE h = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(h);
    for (int bit = 0; bit < 32; bit++) {
        DWORD access = 1u << bit;
        int valid = bit <= 1 || (bit >= 16 && bit <= 20) || bit == 25 || bit >= 28;
        SetLastError(POISON);
        HANDLE o = OpenSemaphoreA(access, FALSE, name);
        if (valid) {
            if (!o) fprintf(stderr, "access 0x%x\n", (unsigned)access);
            ASSERT_NOT_NULL(o);
            ASSERT_GLE(POISON);
            CloseHandle(o);
        } else {
            if (o) fprintf(stderr, "access 0x%x\n", (unsigned)access);
            ASSERT_NULL(o);
            if (bit == 24) ASSERT_GLE(ERROR_PRIVILEGE_NOT_HELD);
            else ASSERT_GLE(ERROR_ACCESS_DENIED);
        }
    }
    check_handles(h, 1);
    CloseHandle(h);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * 1.E ReleaseSemaphore and counts
 * ------------------------------------------------------------------------------------------- */

/* SPEC 40 */
TEST(sem_release_prev_count)
{
    HANDLE h = CreateSemaphoreA(NULL, 0, 2, uniq("release-prev"));
    ASSERT_NOT_NULL(h);
    LONG prev = 0x5a5a;
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(h, 1, &prev), TRUE);
    ASSERT_GLE(POISON);
    ASSERT_EQ(prev, 0);
    check_sem(h, 1, 2);
    prev = 0x5a5a;
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(h, 1, &prev), TRUE);
    ASSERT_GLE(POISON);
    ASSERT_EQ(prev, 1);
    check_sem(h, 2, 2);
    CloseHandle(h);

    h = CreateSemaphoreW(NULL, 0, 10, NULL);
    ASSERT_NOT_NULL(h);
    prev = 0x5a5a;
    ASSERT_EQ(ReleaseSemaphore(h, 7, &prev), TRUE);
    ASSERT_EQ(prev, 0);
    check_sem(h, 7, 10);
    prev = 0x5a5a;
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(h, 3, &prev), TRUE);
    ASSERT_GLE(POISON);
    ASSERT_EQ(prev, 7);
    check_sem(h, 10, 10);
    CloseHandle(h);
    return 0;
}

/* SPEC 41 */
TEST(sem_release_over_max)
{
    HANDLE h = CreateSemaphoreA(NULL, 0, 2, uniq("over-max"));
    ASSERT_NOT_NULL(h);
    LONG prev = 0x5a5a;
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(h, 3, &prev), FALSE);
    ASSERT_GLE(ERROR_TOO_MANY_POSTS);
    ASSERT_EQ(prev, 0x5a5a);
    check_sem(h, 0, 2);

    ASSERT_EQ(ReleaseSemaphore(h, 1, NULL), TRUE);
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(h, 2, &prev), FALSE);
    ASSERT_GLE(ERROR_TOO_MANY_POSTS);
    ASSERT_EQ(prev, 0x5a5a);
    check_sem(h, 1, 2);

    ASSERT_EQ(ReleaseSemaphore(h, 1, NULL), TRUE);
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(h, 1, &prev), FALSE);
    ASSERT_GLE(ERROR_TOO_MANY_POSTS);
    ASSERT_EQ(prev, 0x5a5a);
    check_sem(h, 2, 2);
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(h, 1, NULL), FALSE);
    ASSERT_GLE(ERROR_TOO_MANY_POSTS);
    check_sem(h, 2, 2);

    /* Still usable afterwards. */
    ASSERT_EQ_U(WaitForSingleObject(h, 0), WAIT_OBJECT_0);
    prev = 0x5a5a;
    ASSERT_EQ(ReleaseSemaphore(h, 1, &prev), TRUE);
    ASSERT_EQ(prev, 1);
    check_sem(h, 2, 2);
    CloseHandle(h);
    return 0;
}

/* SPEC 42 */
TEST(sem_release_overflow)
{
    HANDLE h = CreateSemaphoreA(NULL, 1, SEM_LONG_MAX, NULL);
    ASSERT_NOT_NULL(h);
    LONG prev = 0x5a5a;
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(h, SEM_LONG_MAX, &prev), FALSE);
    ASSERT_GLE(ERROR_TOO_MANY_POSTS);
    ASSERT_EQ(prev, 0x5a5a);
    check_sem(h, 1, SEM_LONG_MAX);
    CloseHandle(h);

    h = CreateSemaphoreA(NULL, SEM_LONG_MAX, SEM_LONG_MAX, NULL);
    ASSERT_NOT_NULL(h);
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(h, 1, &prev), FALSE);
    ASSERT_GLE(ERROR_TOO_MANY_POSTS);
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(h, SEM_LONG_MAX, &prev), FALSE);
    ASSERT_GLE(ERROR_TOO_MANY_POSTS);
    ASSERT_EQ(prev, 0x5a5a);
    check_sem(h, SEM_LONG_MAX, SEM_LONG_MAX);
    CloseHandle(h);

    h = CreateSemaphoreA(NULL, 0, SEM_LONG_MAX, NULL);
    ASSERT_NOT_NULL(h);
    ASSERT_EQ(ReleaseSemaphore(h, SEM_LONG_MAX, &prev), TRUE);
    ASSERT_EQ(prev, 0);
    check_sem(h, SEM_LONG_MAX, SEM_LONG_MAX);
    CloseHandle(h);

    h = CreateSemaphoreA(NULL, SEM_LONG_MAX - 5, SEM_LONG_MAX, NULL);
    ASSERT_NOT_NULL(h);
    prev = 0x5a5a;
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(h, 6, &prev), FALSE);
    ASSERT_GLE(ERROR_TOO_MANY_POSTS);
    ASSERT_EQ(prev, 0x5a5a);
    check_sem(h, SEM_LONG_MAX - 5, SEM_LONG_MAX);
    ASSERT_EQ(ReleaseSemaphore(h, 5, &prev), TRUE);
    ASSERT_EQ(prev, SEM_LONG_MAX - 5);
    check_sem(h, SEM_LONG_MAX, SEM_LONG_MAX);
    CloseHandle(h);
    return 0;
}

/* SPEC 43 */
TEST(sem_release_null_prev)
{
    HANDLE h = CreateSemaphoreA(NULL, 0, 3, uniq("null-prev"));
    ASSERT_NOT_NULL(h);
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(h, 2, NULL), TRUE);
    ASSERT_GLE(POISON);
    check_sem(h, 2, 3);
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(h, 1, NULL), TRUE);
    ASSERT_GLE(POISON);
    check_sem(h, 3, 3);
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(h, 1, NULL), FALSE);
    ASSERT_GLE(ERROR_TOO_MANY_POSTS);
    check_sem(h, 3, 3);
    CloseHandle(h);
    return 0;
}

/* SPEC 44 */
TEST(sem_release_nonpositive_count)
{
    HANDLE h = CreateSemaphoreA(NULL, 1, 3, uniq("nonpositive"));
    ASSERT_NOT_NULL(h);
    HANDLE ev = CreateEventA(NULL, TRUE, FALSE, NULL);
    ASSERT_NOT_NULL(ev);
    HANDLE closed = CreateSemaphoreA(NULL, 0, 1, NULL);
    ASSERT_NOT_NULL(closed);
    ASSERT_EQ(CloseHandle(closed), TRUE);
    HANDLE sync_only = OpenSemaphoreA(SYNCHRONIZE, FALSE, uniq("nonpositive"));
    ASSERT_NOT_NULL(sync_only);

    static const LONG counts[] = {0, -1, -2, SEM_LONG_MIN};
    HANDLE targets[] = {h, NULL, (HANDLE)(uintptr_t)0xdeadbee0u, closed, ev, sync_only, GetCurrentProcess()};
    for (int i = 0; i < 4; i++) {
        for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
            LONG prev = 0x5a5a;
            SetLastError(POISON);
            ASSERT_EQ(ReleaseSemaphore(targets[t], counts[i], &prev), FALSE);
            ASSERT_GLE(ERROR_INVALID_PARAMETER);
            ASSERT_EQ(prev, 0x5a5a);
            SetLastError(POISON);
            ASSERT_EQ(ReleaseSemaphore(targets[t], counts[i], NULL), FALSE);
            ASSERT_GLE(ERROR_INVALID_PARAMETER);
        }
        check_sem(h, 1, 3);
    }
    CloseHandle(sync_only);
    CloseHandle(ev);
    CloseHandle(h);
    return 0;
}

/* SPEC 45 */
TEST(sem_release_needs_modify_state)
{
    const char *name = uniq("needs-modify");
    HANDLE h = CreateSemaphoreA(NULL, 1, 2, name);
    ASSERT_NOT_NULL(h);
    static const DWORD without[] = {SYNCHRONIZE, GENERIC_READ, GENERIC_EXECUTE, SEMAPHORE_QUERY_STATE,
                                    READ_CONTROL | DELETE | WRITE_DAC | WRITE_OWNER | SYNCHRONIZE | 1};
    for (size_t i = 0; i < sizeof without / sizeof without[0]; i++) {
        HANDLE o = OpenSemaphoreA(without[i], FALSE, name);
        ASSERT_NOT_NULL(o);
        LONG prev = 0x5a5a;
        SetLastError(POISON);
        ASSERT_EQ(ReleaseSemaphore(o, 1, &prev), FALSE);
        ASSERT_GLE(ERROR_ACCESS_DENIED);
        ASSERT_EQ(prev, 0x5a5a);
        check_sem(h, 1, 2);
        CloseHandle(o);
    }

    /* A duplicate with only SYNCHRONIZE likewise. */
    HANDLE d = NULL;
    ASSERT_EQ(DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &d, SYNCHRONIZE, FALSE, 0), TRUE);
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(d, 1, NULL), FALSE);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_sem(h, 1, 2);

    /* The access check comes before the limit: a full semaphore still gives 5. */
    ASSERT_EQ(ReleaseSemaphore(h, 1, NULL), TRUE);
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(d, 1, NULL), FALSE);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    check_sem(h, 2, 2);

    /* SEMAPHORE_MODIFY_STATE alone is enough (and GENERIC_WRITE maps to it). */
    HANDLE m = OpenSemaphoreA(SEMAPHORE_MODIFY_STATE, FALSE, name);
    ASSERT_NOT_NULL(m);
    HANDLE g = OpenSemaphoreA(GENERIC_WRITE, FALSE, name);
    ASSERT_NOT_NULL(g);
    ASSERT_EQ_U(WaitForSingleObject(h, 0), WAIT_OBJECT_0);
    ASSERT_EQ_U(WaitForSingleObject(h, 0), WAIT_OBJECT_0);
    LONG prev = 0x5a5a;
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(m, 1, &prev), TRUE);
    ASSERT_GLE(POISON);
    ASSERT_EQ(prev, 0);
    ASSERT_EQ(ReleaseSemaphore(g, 1, &prev), TRUE);
    ASSERT_EQ(prev, 1);
    check_sem(h, 2, 2);
    CloseHandle(m);
    CloseHandle(g);
    CloseHandle(d);
    CloseHandle(h);
    return 0;
}

/* SPEC 27 (and nsem.h ReleaseSemaphore: bad handle or not a semaphore -> ERROR_INVALID_HANDLE) */
TEST(sem_release_bad_or_wrong_type_handle)
{
    HANDLE ev = CreateEventA(NULL, TRUE, FALSE, uniq("release-event"));
    ASSERT_NOT_NULL(ev);
    HANDLE mx = CreateMutexA(NULL, FALSE, uniq("release-mutex"));
    ASSERT_NOT_NULL(mx);
    HANDLE ev_sync = OpenEventA(SYNCHRONIZE, FALSE, uniq("release-event"));
    ASSERT_NOT_NULL(ev_sync);
    HANDLE closed = CreateSemaphoreA(NULL, 0, 1, NULL);
    ASSERT_NOT_NULL(closed);
    ASSERT_EQ(CloseHandle(closed), TRUE);

    HANDLE bad[] = {NULL, (HANDLE)(uintptr_t)0xdeadbee0u, (HANDLE)(uintptr_t)0x7ffffff0u, closed, ev, mx, ev_sync,
                    GetCurrentProcess(), GetCurrentThread()};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        LONG prev = 0x5a5a;
        SetLastError(POISON);
        ASSERT_EQ(ReleaseSemaphore(bad[i], 1, &prev), FALSE);
        ASSERT_GLE(ERROR_INVALID_HANDLE);
        ASSERT_EQ(prev, 0x5a5a);
    }

    /* The event and mutex are untouched: the event is still reset, the mutex still free. */
    NSEM_OBJECT_INFO info;
    info = query(ev);
    ASSERT_EQ_U(info.dwType, NSEM_TYPE_EVENT);
    ASSERT_EQ(info.lCurrentCount, 0);
    info = query(mx);
    ASSERT_EQ_U(info.dwType, NSEM_TYPE_MUTEX);
    ASSERT_EQ(info.lCurrentCount, 1);
    ASSERT_EQ_U(info.dwOwnerThreadId, 0);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(ev, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    CloseHandle(ev_sync);
    CloseHandle(ev);
    CloseHandle(mx);
    return 0;
}

/* SPEC 47 */
TEST(sem_wait_decrements_by_one)
{
    HANDLE h = CreateSemaphoreA(NULL, 3, 5, uniq("decrement"));
    ASSERT_NOT_NULL(h);
    for (LONG c = 3; c > 0; c--) {
        SetLastError(POISON);
        ASSERT_EQ_U(WaitForSingleObject(h, 0), WAIT_OBJECT_0);
        ASSERT_GLE(POISON);
        check_sem(h, c - 1, 5);
    }
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(h, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    check_sem(h, 0, 5);
    LONG prev = -1;
    ASSERT_EQ(ReleaseSemaphore(h, 5, &prev), TRUE);
    ASSERT_EQ(prev, 0);
    ASSERT_EQ_U(WaitForSingleObject(h, 0), WAIT_OBJECT_0);
    check_sem(h, 4, 5);
    CloseHandle(h);
    return 0;
}

/* SPEC 46 (NtQuerySemaphore; nsem's NsemQueryObject): needs SEMAPHORE_QUERY_STATE, reports
 * count and maximum, rejects a NULL or too small buffer and a bad handle. */
TEST(sem_query_state)
{
    const char *name = uniq("query");
    HANDLE h = CreateSemaphoreA(NULL, 3, 9, name);
    ASSERT_NOT_NULL(h);
    NSEM_OBJECT_INFO info;
    memset(&info, 0xcc, sizeof info);
    info.cbSize = sizeof info;
    ASSERT_EQ(NsemQueryObject(h, &info), TRUE);
    ASSERT_EQ_U(info.dwType, NSEM_TYPE_SEMAPHORE);
    ASSERT_EQ(info.lCurrentCount, 3);
    ASSERT_EQ(info.lMaximumCount, 9);
    ASSERT_EQ_U(info.dwHandleCount, 1);
    ASSERT_EQ_U(info.dwWaiterCount, 0);

    /* SEMAPHORE_QUERY_STATE alone is enough; without it: access denied. */
    HANDLE q = OpenSemaphoreA(SEMAPHORE_QUERY_STATE, FALSE, name);
    ASSERT_NOT_NULL(q);
    check_sem(q, 3, 9);
    static const DWORD without[] = {SYNCHRONIZE, SEMAPHORE_MODIFY_STATE, GENERIC_WRITE, GENERIC_EXECUTE,
                                    READ_CONTROL};
    for (size_t i = 0; i < sizeof without / sizeof without[0]; i++) {
        HANDLE o = OpenSemaphoreA(without[i], FALSE, name);
        ASSERT_NOT_NULL(o);
        memset(&info, 0, sizeof info);
        info.cbSize = sizeof info;
        SetLastError(POISON);
        ASSERT_EQ(NsemQueryObject(o, &info), FALSE);
        ASSERT_GLE(ERROR_ACCESS_DENIED);
        CloseHandle(o);
    }

    /* Bad arguments. */
    SetLastError(POISON);
    ASSERT_EQ(NsemQueryObject(h, NULL), FALSE);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    memset(&info, 0, sizeof info);
    info.cbSize = 0;
    SetLastError(POISON);
    ASSERT_EQ(NsemQueryObject(h, &info), FALSE);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    info.cbSize = 4;
    SetLastError(POISON);
    ASSERT_EQ(NsemQueryObject(h, &info), FALSE);
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    info.cbSize = sizeof info;
    SetLastError(POISON);
    ASSERT_EQ(NsemQueryObject(NULL, &info), FALSE);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_EQ(NsemQueryObject((HANDLE)(uintptr_t)0xdeadbee0u, &info), FALSE);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    check_sem(h, 3, 9);
    check_handles(h, 2);
    CloseHandle(q);
    CloseHandle(h);
    return 0;
}

struct waiter {
    HANDLE h;
    DWORD result;
    DWORD gle;
    atomic_int *done;
};

static void *waiter_thread(void *arg)
{
    struct waiter *w = arg;
    SetLastError(POISON);
    w->result = WaitForSingleObject(w->h, 20000);
    w->gle = GetLastError();
    atomic_fetch_add(w->done, 1);
    return NULL;
}

/* SPEC 40 (release of n wakes exactly n waiters; SPEC 47 each takes one) */
TEST(sem_release_wakes_n_waiters)
{
    HANDLE h = CreateSemaphoreA(NULL, 0, 10, uniq("wakes"));
    ASSERT_NOT_NULL(h);
    atomic_int done = 0;
    struct waiter w[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        w[i] = (struct waiter){.h = h, .result = 0x1234, .gle = 0, .done = &done};
        ASSERT_EQ(pthread_create(&t[i], NULL, waiter_thread, &w[i]), 0);
    }
    wait_waiters(h, 3);
    check_sem(h, 0, 10);

    LONG prev = 0x5a5a;
    SetLastError(POISON);
    ASSERT_EQ(ReleaseSemaphore(h, 2, &prev), TRUE);
    ASSERT_GLE(POISON);
    ASSERT_EQ(prev, 0);
    uint64_t end = now_ms() + 5000;
    while (atomic_load(&done) < 2) {
        ASSERT(now_ms() < end);
        sleep_ms(2);
    }
    /* Two took a permit each; the third still waits. */
    wait_waiters(h, 1);
    check_sem(h, 0, 10);
    ASSERT_EQ(atomic_load(&done), 2);

    prev = 0x5a5a;
    ASSERT_EQ(ReleaseSemaphore(h, 1, &prev), TRUE);
    ASSERT_EQ(prev, 0);
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(pthread_join(t[i], NULL), 0);
        ASSERT_EQ_U(w[i].result, WAIT_OBJECT_0);
        ASSERT_EQ_U(w[i].gle, POISON);
    }
    check_sem(h, 0, 10);
    wait_waiters(h, 0);
    CloseHandle(h);
    return 0;
}

/* Opens argv[0], says "ready", waits for one permit, says the wait result, releases 3 and says the
 * previous count. */
HELPER(sem_helper_wait_release)
{
    if (argc < 1) return 2;
    SetLastError(POISON);
    HANDLE h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, argv[0]);
    if (!h) {
        say("open failed %u", (unsigned)GetLastError());
        return 3;
    }
    say("ready");
    DWORD r = WaitForSingleObject(h, 20000);
    say("wait %u", (unsigned)r);
    LONG prev = -1;
    SetLastError(POISON);
    BOOL ok = ReleaseSemaphore(h, 3, &prev);
    say("release %d %d %u", ok, (int)prev, (unsigned)GetLastError());
    return 0;
}

/* SPEC 40, 47 across processes: a release in one process wakes a waiter in another, and a release
 * in the other is seen here. */
TEST(sem_release_cross_process)
{
    const char *name = uniq("cross-process");
    HANDLE h = CreateSemaphoreA(NULL, 0, 5, name);
    ASSERT_NOT_NULL(h);
    int fd;
    pid_t pid = spawn_helper("sem_helper_wait_release", &fd, name, NULL);
    char line[100];
    read_line(fd, line, sizeof line, 10000);
    ASSERT(strcmp(line, "ready") == 0);
    wait_waiters(h, 1);
    check_handles(h, 2);
    LONG prev = 0x5a5a;
    ASSERT_EQ(ReleaseSemaphore(h, 1, &prev), TRUE);
    ASSERT_EQ(prev, 0);
    read_line(fd, line, sizeof line, 10000);
    ASSERT(strcmp(line, "wait 0") == 0);
    read_line(fd, line, sizeof line, 10000);
    if (strcmp(line, "release 1 0 3735928559") != 0) fprintf(stderr, "helper said: %s\n", line);
    ASSERT(strcmp(line, "release 1 0 3735928559") == 0);
    ASSERT_EQ(wait_child(pid, 10000), 0);
    check_sem(h, 3, 5);
    CloseHandle(h);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * TCHAR names
 * ------------------------------------------------------------------------------------------- */

/* nsem.h: without UNICODE the TCHAR names are the A functions. */
TEST(sem_tchar_names_are_a)
{
    _Static_assert(sizeof(TCHAR) == sizeof(char), "TCHAR is char without UNICODE");
    _Static_assert(sizeof(TEXT("ab")) == 3, "TEXT() is a narrow literal without UNICODE");
    ASSERT(&CreateSemaphore == &CreateSemaphoreA);
    ASSERT(&CreateSemaphoreEx == &CreateSemaphoreExA);
    ASSERT(&OpenSemaphore == &OpenSemaphoreA);
    ASSERT(&CreateMutex == &CreateMutexA);
    ASSERT(&CreateMutexEx == &CreateMutexExA);
    ASSERT(&OpenMutex == &OpenMutexA);
    ASSERT(&CreateEvent == &CreateEventA);
    ASSERT(&CreateEventEx == &CreateEventExA);
    ASSERT(&OpenEvent == &OpenEventA);

    /* A narrow literal compiles (with -Werror) and works. */
    SetLastError(POISON);
    HANDLE h = CreateSemaphore(NULL, 0, 1, "x");
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE o = OpenSemaphore(SEMAPHORE_ALL_ACCESS, FALSE, TEXT("x"));
    ASSERT_NOT_NULL(o);
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    HANDLE e = CreateSemaphoreEx(NULL, 0, 1, "x", 0, SEMAPHORE_ALL_ACCESS);
    ASSERT_NOT_NULL(e);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_handles(h, 3);
    LPCTSTR name = TEXT("x");
    SetLastError(POISON);
    HANDLE w = OpenSemaphoreA(SYNCHRONIZE, FALSE, name);
    ASSERT_NOT_NULL(w);
    ASSERT_GLE(POISON);
    CloseHandle(w);
    CloseHandle(e);
    CloseHandle(o);
    CloseHandle(h);
    check_no_sem("x");
    return 0;
}

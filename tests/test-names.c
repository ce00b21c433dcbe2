/*
 * test-names.c — the object namespace: one namespace shared by semaphores, mutexes and events
 * (SPEC 1.C), the Global\ Local\ Session\ prefixes, backslashes, case sensitivity, length limits of
 * A and W names, and empty names (SPEC 1.D, 14, 22, 23).
 *
 * The runner puts the tests in session 1, so "Global\x" and "x" are different objects.
 */
#include "checks.h"

#include <signal.h>
#include <string.h>

/* The mutex behind h is free and not abandoned. */
static void check_mutex_free_at(const char *file, int line, HANDLE h)
{
    NSEM_OBJECT_INFO info;
    info = query_at(file, line, h);
    if (info.dwType != NSEM_TYPE_MUTEX || info.lCurrentCount != 1 || info.dwOwnerThreadId != 0 ||
        info.dwRecursionCount != 0) {
        char d[300];
        snprintf(d, sizeof d, "type %u count %d owner tid %u recursion %u; expected a free mutex",
                 (unsigned)info.dwType, (int)info.lCurrentCount, (unsigned)info.dwOwnerThreadId,
                 (unsigned)info.dwRecursionCount);
        harness_fail(file, line, "check_mutex_free", d);
    }
}
#define check_mutex_free(h) check_mutex_free_at(__FILE__, __LINE__, (h))

/* The event behind h has this state (1 set, 0 reset). */
static void check_event_at(const char *file, int line, HANDLE h, LONG state)
{
    NSEM_OBJECT_INFO info;
    info = query_at(file, line, h);
    if (info.dwType != NSEM_TYPE_EVENT || info.lCurrentCount != state) {
        char d[300];
        snprintf(d, sizeof d, "type %u state %d; expected an event with state %d", (unsigned)info.dwType,
                 (int)info.lCurrentCount, (int)state);
        harness_fail(file, line, "check_event", d);
    }
}
#define check_event(h, state) check_event_at(__FILE__, __LINE__, (h), (state))

/* Reports a call that did not fail with the expected code. */
static void expect_fail_at(const char *file, int line, const char *call, const char *name, HANDLE h, DWORD err,
                           DWORD code)
{
    if (h == NULL && err == code) return;
    char d[600];
    snprintf(d, sizeof d, "%s(\"%.300s\") gave %p, error %u; expected NULL, error %u", call, name, h,
             (unsigned)err, (unsigned)code);
    if (h) CloseHandle(h);
    harness_fail(file, line, call, d);
}

/*
 * Every create and open function (A and W, semaphore, mutex, event) fails on the ASCII `name`
 * with NULL and `code`.
 */
static void check_name_error_at(const char *file, int line, const char *name, DWORD code)
{
    wchar_t w[600];
    to_wide(w, 600, name);
    HANDLE h;
#define TRY(call, expr) \
    do { \
        SetLastError(POISON); \
        h = (expr); \
        expect_fail_at(file, line, call, name, h, GetLastError(), code); \
    } while (0)
    TRY("CreateSemaphoreA", CreateSemaphoreA(NULL, 0, 1, name));
    TRY("CreateSemaphoreW", CreateSemaphoreW(NULL, 0, 1, w));
    TRY("CreateSemaphoreExA", CreateSemaphoreExA(NULL, 0, 1, name, 0, SEMAPHORE_ALL_ACCESS));
    TRY("CreateSemaphoreExW", CreateSemaphoreExW(NULL, 0, 1, w, 0, SEMAPHORE_ALL_ACCESS));
    TRY("OpenSemaphoreA", OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name));
    TRY("OpenSemaphoreW", OpenSemaphoreW(SEMAPHORE_ALL_ACCESS, FALSE, w));
    TRY("CreateMutexA", CreateMutexA(NULL, FALSE, name));
    TRY("CreateMutexW", CreateMutexW(NULL, FALSE, w));
    TRY("CreateMutexExA", CreateMutexExA(NULL, name, 0, MUTEX_ALL_ACCESS));
    TRY("OpenMutexA", OpenMutexA(MUTEX_ALL_ACCESS, FALSE, name));
    TRY("OpenMutexW", OpenMutexW(MUTEX_ALL_ACCESS, FALSE, w));
    TRY("CreateEventA", CreateEventA(NULL, TRUE, FALSE, name));
    TRY("CreateEventW", CreateEventW(NULL, TRUE, FALSE, w));
    TRY("CreateEventExW", CreateEventExW(NULL, w, 0, EVENT_ALL_ACCESS));
    TRY("OpenEventA", OpenEventA(EVENT_ALL_ACCESS, FALSE, name));
    TRY("OpenEventW", OpenEventW(EVENT_ALL_ACCESS, FALSE, w));
#undef TRY
}
#define check_name_error(name, code) check_name_error_at(__FILE__, __LINE__, (name), (code))

/* Puts this test process in session 1 (the runner's default) before its first nsem call, for the
 * tests whose expectations depend on being in a non-zero session. */
static void in_session_1(void)
{
    setenv("NSEM_SESSION", "1", 1);
}

/* Builds "<prefix><name>" in buf. */
static const char *cat(char *buf, size_t size, const char *prefix, const char *name)
{
    size_t a = strlen(prefix), b = strlen(name);
    if (a + b >= size) harness_fail(__FILE__, __LINE__, "cat", "name too long for the buffer");
    memcpy(buf, prefix, a);
    memcpy(buf + a, name, b + 1);
    return buf;
}

/* ---------------------------------------------------------------------------------------------
 * 1.C One namespace for all types
 * ------------------------------------------------------------------------------------------- */

/* SPEC 22 */
TEST(names_open_other_type)
{
    char mname[300], ename[300], sname[300];
    snprintf(mname, sizeof mname, "%s", uniq("other-mutex"));
    snprintf(ename, sizeof ename, "%s", uniq("other-event"));
    snprintf(sname, sizeof sname, "%s", uniq("other-sem"));
    HANDLE m = CreateMutexA(NULL, FALSE, mname);
    ASSERT_NOT_NULL(m);
    HANDLE e = CreateEventA(NULL, TRUE, FALSE, ename);
    ASSERT_NOT_NULL(e);
    HANDLE s = CreateSemaphoreA(NULL, 1, 2, sname);
    ASSERT_NOT_NULL(s);
    wchar_t wm[200], we[200], ws[200];
    to_wide(wm, 200, mname);
    to_wide(we, 200, ename);
    to_wide(ws, 200, sname);

    static const DWORD access[] = {SEMAPHORE_ALL_ACCESS, SYNCHRONIZE, GENERIC_ALL, 0};
    for (int i = 0; i < 4; i++) {
        /* The type check comes before the access check: even access 0 gives 6. */
        SetLastError(POISON);
        ASSERT_NULL(OpenSemaphoreA(access[i], FALSE, mname));
        ASSERT_GLE(ERROR_INVALID_HANDLE);
        SetLastError(POISON);
        ASSERT_NULL(OpenSemaphoreW(access[i], FALSE, wm));
        ASSERT_GLE(ERROR_INVALID_HANDLE);
        SetLastError(POISON);
        ASSERT_NULL(OpenSemaphoreA(access[i], TRUE, ename));
        ASSERT_GLE(ERROR_INVALID_HANDLE);
        SetLastError(POISON);
        ASSERT_NULL(OpenSemaphoreW(access[i], FALSE, we));
        ASSERT_GLE(ERROR_INVALID_HANDLE);
        SetLastError(POISON);
        ASSERT_NULL(OpenMutexA(access[i], FALSE, sname));
        ASSERT_GLE(ERROR_INVALID_HANDLE);
        SetLastError(POISON);
        ASSERT_NULL(OpenMutexW(access[i], FALSE, we));
        ASSERT_GLE(ERROR_INVALID_HANDLE);
        SetLastError(POISON);
        ASSERT_NULL(OpenEventA(access[i], FALSE, sname));
        ASSERT_GLE(ERROR_INVALID_HANDLE);
        SetLastError(POISON);
        ASSERT_NULL(OpenEventW(access[i], FALSE, wm));
        ASSERT_GLE(ERROR_INVALID_HANDLE);
    }
    /* Nothing changed and no handle was added. */
    check_mutex_free(m);
    check_event(e, 0);
    check_sem(s, 1, 2);
    check_handles(m, 1);
    check_handles(e, 1);
    check_handles(s, 1);
    CloseHandle(m);
    CloseHandle(e);
    CloseHandle(s);
    return 0;
}

/* SPEC 26 */
TEST(names_create_other_type)
{
    char mname[300], ename[300], sname[300];
    snprintf(mname, sizeof mname, "%s", uniq("create-other-mutex"));
    snprintf(ename, sizeof ename, "%s", uniq("create-other-event"));
    snprintf(sname, sizeof sname, "%s", uniq("create-other-sem"));
    HANDLE m = CreateMutexA(NULL, FALSE, mname);
    ASSERT_NOT_NULL(m);
    HANDLE e = CreateEventA(NULL, FALSE, FALSE, ename);
    ASSERT_NOT_NULL(e);
    HANDLE s = CreateSemaphoreA(NULL, 1, 2, sname);
    ASSERT_NOT_NULL(s);
    wchar_t wm[200], we[200], ws[200];
    to_wide(wm, 200, mname);
    to_wide(we, 200, ename);
    to_wide(ws, 200, sname);

    /* A semaphore over a mutex or an event. */
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreA(NULL, 0, 1, mname));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreW(NULL, 0, 1, wm));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreA(NULL, 0, 1, ename));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreExW(NULL, 0, 1, we, 0, SEMAPHORE_ALL_ACCESS));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreExA(NULL, 0, 1, mname, 0, 0)); /* type before access */
    ASSERT_GLE(ERROR_INVALID_HANDLE);

    /* A mutex or an event over a semaphore (and over each other). */
    SetLastError(POISON);
    ASSERT_NULL(CreateMutexA(NULL, FALSE, sname));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_NULL(CreateMutexA(NULL, TRUE, sname));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_NULL(CreateMutexW(NULL, TRUE, ws));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_NULL(CreateMutexExA(NULL, sname, CREATE_MUTEX_INITIAL_OWNER, MUTEX_ALL_ACCESS));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_NULL(CreateEventA(NULL, TRUE, TRUE, sname));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_NULL(CreateEventW(NULL, FALSE, TRUE, ws));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_NULL(CreateEventExA(NULL, sname, CREATE_EVENT_INITIAL_SET, EVENT_ALL_ACCESS));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_NULL(CreateEventA(NULL, TRUE, TRUE, mname));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_NULL(CreateMutexA(NULL, TRUE, ename));
    ASSERT_GLE(ERROR_INVALID_HANDLE);

    /* Nothing changed: the semaphore keeps its count, the mutex is not owned, the event not set. */
    check_sem(s, 1, 2);
    check_mutex_free(m);
    check_event(e, 0);
    check_handles(s, 1);
    check_handles(m, 1);
    check_handles(e, 1);
    CloseHandle(m);
    CloseHandle(e);
    CloseHandle(s);
    return 0;
}

/* SPEC 4, 26: names differing only in case are different names, for every type. */
TEST(names_case_sensitive_across_types)
{
    char base[300], upper[300], mixed[300];
    snprintf(base, sizeof base, "%s", uniq("abc"));
    snprintf(upper, sizeof upper, "%s", base);
    snprintf(mixed, sizeof mixed, "%s", base);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
    mixed[strlen(mixed) - 3] = 'A';

    SetLastError(POISON);
    HANDLE s = CreateSemaphoreA(NULL, 0, 1, base);
    ASSERT_NOT_NULL(s);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE m = CreateMutexA(NULL, FALSE, upper);
    ASSERT_NOT_NULL(m);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE e = CreateEventA(NULL, FALSE, FALSE, mixed);
    ASSERT_NOT_NULL(e);
    ASSERT_GLE(ERROR_SUCCESS);

    SetLastError(POISON);
    ASSERT_NULL(OpenMutexA(MUTEX_ALL_ACCESS, FALSE, base));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    HANDLE m2 = OpenMutexA(MUTEX_ALL_ACCESS, FALSE, upper);
    ASSERT_NOT_NULL(m2);
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    HANDLE e2 = OpenEventA(EVENT_ALL_ACCESS, FALSE, mixed);
    ASSERT_NOT_NULL(e2);
    ASSERT_GLE(POISON);
    CloseHandle(m2);
    CloseHandle(e2);
    CloseHandle(s);
    CloseHandle(m);
    CloseHandle(e);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * 1.D Prefixes
 * ------------------------------------------------------------------------------------------- */

/* SPEC 28 */
TEST(names_local_prefix_same_object)
{
    in_session_1();
    char name[300], local[300];
    snprintf(name, sizeof name, "%s", uniq("local"));
    cat(local, sizeof local, "Local\\", name);

    SetLastError(POISON);
    HANDLE h = CreateSemaphoreA(NULL, 1, 5, name);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE l = CreateSemaphoreA(NULL, 0, 1, local);
    ASSERT_NOT_NULL(l);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_sem(l, 1, 5);
    SetLastError(POISON);
    HANDLE o = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, local);
    ASSERT_NOT_NULL(o);
    ASSERT_GLE(POISON);
    wchar_t wlocal[300];
    to_wide(wlocal, 300, local);
    SetLastError(POISON);
    HANDLE w = OpenSemaphoreW(SEMAPHORE_ALL_ACCESS, FALSE, wlocal);
    ASSERT_NOT_NULL(w);
    ASSERT_GLE(POISON);
    check_handles(h, 4);
    ASSERT_EQ(ReleaseSemaphore(o, 2, NULL), TRUE);
    check_sem(h, 3, 5);
    CloseHandle(h);
    CloseHandle(l);
    CloseHandle(o);
    CloseHandle(w);

    /* Created through Local\, opened without it; other types likewise. */
    char name2[300], local2[300];
    snprintf(name2, sizeof name2, "%s", uniq("local-mutex"));
    cat(local2, sizeof local2, "Local\\", name2);
    SetLastError(POISON);
    HANDLE m = CreateMutexA(NULL, FALSE, local2);
    ASSERT_NOT_NULL(m);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE m2 = OpenMutexA(MUTEX_ALL_ACCESS, FALSE, name2);
    ASSERT_NOT_NULL(m2);
    ASSERT_GLE(POISON);
    SetLastError(POISON);
    ASSERT_NULL(CreateEventA(NULL, FALSE, FALSE, name2));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    check_handles(m, 2);
    CloseHandle(m);
    CloseHandle(m2);
    return 0;
}

/* SPEC 29 */
TEST(names_global_prefix_differs_in_session)
{
    in_session_1();
    char name[300], global[300];
    snprintf(name, sizeof name, "%s", uniq("global"));
    cat(global, sizeof global, "Global\\", name);

    SetLastError(POISON);
    HANDLE s = CreateSemaphoreA(NULL, 1, 10, name);
    ASSERT_NOT_NULL(s);
    ASSERT_GLE(ERROR_SUCCESS);
    /* Not visible as Global\name ... */
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, global));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);
    /* ... which is a new object. */
    SetLastError(POISON);
    HANDLE g = CreateSemaphoreA(NULL, 7, 10, global);
    ASSERT_NOT_NULL(g);
    ASSERT_GLE(ERROR_SUCCESS);
    check_sem(s, 1, 10);
    check_sem(g, 7, 10);
    check_handles(s, 1);
    check_handles(g, 1);

    SetLastError(POISON);
    HANDLE go = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, global);
    ASSERT_NOT_NULL(go);
    ASSERT_GLE(POISON);
    check_sem(go, 7, 10);
    wchar_t wglobal[300];
    to_wide(wglobal, 300, global);
    SetLastError(POISON);
    HANDLE gw = CreateSemaphoreW(NULL, 0, 1, wglobal);
    ASSERT_NOT_NULL(gw);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_handles(g, 3);
    check_handles(s, 1);

    /* A global name can hold another type than the session name of the same text. */
    char name2[300], global2[300];
    snprintf(name2, sizeof name2, "%s", uniq("global-types"));
    cat(global2, sizeof global2, "Global\\", name2);
    HANDLE m = CreateMutexA(NULL, FALSE, global2);
    ASSERT_NOT_NULL(m);
    SetLastError(POISON);
    HANDLE e = CreateEventA(NULL, FALSE, FALSE, name2);
    ASSERT_NOT_NULL(e);
    ASSERT_GLE(ERROR_SUCCESS);
    CloseHandle(m);
    CloseHandle(e);
    CloseHandle(s);
    CloseHandle(g);
    CloseHandle(go);
    CloseHandle(gw);
    return 0;
}

/* SPEC 30 */
TEST(names_session_prefix)
{
    in_session_1();
    char name[300], global[300], s1[300], s0[300], buf[300];
    snprintf(name, sizeof name, "%s", uniq("session"));
    cat(global, sizeof global, "Global\\", name);
    cat(s1, sizeof s1, "Session\\1\\", name);
    cat(s0, sizeof s0, "Session\\0\\", name);

    HANDLE local = CreateSemaphoreA(NULL, 3, 10, name);
    ASSERT_NOT_NULL(local);
    HANDLE glob = CreateSemaphoreA(NULL, 7, 10, global);
    ASSERT_NOT_NULL(glob);

    /* Session\1\name is this session's name; Session\0\name is the global one. */
    SetLastError(POISON);
    HANDLE a = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, s1);
    ASSERT_NOT_NULL(a);
    ASSERT_GLE(POISON);
    check_sem(a, 3, 10);
    SetLastError(POISON);
    HANDLE b = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, s0);
    ASSERT_NOT_NULL(b);
    ASSERT_GLE(POISON);
    check_sem(b, 7, 10);
    SetLastError(POISON);
    HANDLE c = CreateSemaphoreA(NULL, 0, 1, s1);
    ASSERT_NOT_NULL(c);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_handles(local, 3);
    check_handles(glob, 2);

    /* Created through Session\1\, opened without a prefix. */
    char name2[300];
    snprintf(name2, sizeof name2, "%s", uniq("session-create"));
    SetLastError(POISON);
    HANDLE d = CreateSemaphoreA(NULL, 2, 3, cat(buf, sizeof buf, "Session\\1\\", name2));
    ASSERT_NOT_NULL(d);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE e = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name2);
    ASSERT_NOT_NULL(e);
    ASSERT_GLE(POISON);
    check_sem(e, 2, 3);
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, cat(buf, sizeof buf, "Session\\0\\", name2)));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);

    /* A session that does not exist: the path is not found. */
    check_name_error(cat(buf, sizeof buf, "Session\\424242\\", name), ERROR_PATH_NOT_FOUND);
    check_name_error(cat(buf, sizeof buf, "Session\\nosuch\\", name), ERROR_PATH_NOT_FOUND);
    /* A missing name in an existing session: not found. */
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, cat(buf, sizeof buf, "Session\\1\\", uniq("nope"))));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);

    HANDLE hs[] = {local, glob, a, b, c, d, e};
    for (int i = 0; i < 7; i++) CloseHandle(hs[i]);
    return 0;
}

/* Opens each argument as a semaphore and says "ok <count>" or "err <code>" for it. */
HELPER(names_helper_probe)
{
    for (int i = 0; i < argc; i++) {
        SetLastError(POISON);
        HANDLE h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, argv[i]);
        if (!h) {
            say("err %u", (unsigned)GetLastError());
            continue;
        }
        NSEM_OBJECT_INFO info;
        memset(&info, 0, sizeof info);
        info.cbSize = sizeof info;
        if (!NsemQueryObject(h, &info)) say("query-err %u", (unsigned)GetLastError());
        else say("ok %d", (int)info.lCurrentCount);
        CloseHandle(h);
    }
    return 0;
}

/* Creates semaphore argv[0] with count argv[1] (maximum 10), says "ready <error>", and waits to be
 * killed. */
HELPER(names_helper_create_hold)
{
    if (argc < 2) return 2;
    SetLastError(POISON);
    HANDLE h = CreateSemaphoreA(NULL, atoi(argv[1]), 10, argv[0]);
    if (!h) {
        say("failed %u", (unsigned)GetLastError());
        return 3;
    }
    say("ready %u", (unsigned)GetLastError());
    for (int i = 0; i < 3000; i++) sleep_ms(10);
    return 4;
}

/* Starts a helper in session `session` (the parent stays in session 1). */
static pid_t spawn_in_session(const char *session, const char *helper, int *fd, const char *a, const char *b,
                              const char *c, const char *d)
{
    setenv("NSEM_SESSION", session, 1);
    pid_t pid = spawn_helper(helper, fd, a, b, c, d, NULL);
    setenv("NSEM_SESSION", "1", 1);
    return pid;
}

/* SPEC 29, 30: seen from session 0, the plain name is the global one, and Session\1\ reaches
 * session 1. */
TEST(names_session0_view)
{
    in_session_1();
    char name[300], global[300], local0[300], s1[300];
    snprintf(name, sizeof name, "%s", uniq("s0-view"));
    cat(global, sizeof global, "Global\\", name);
    cat(local0, sizeof local0, "Local\\", name);
    cat(s1, sizeof s1, "Session\\1\\", name);

    HANDLE local = CreateSemaphoreA(NULL, 3, 10, name);
    ASSERT_NOT_NULL(local);
    HANDLE glob = CreateSemaphoreA(NULL, 7, 10, global);
    ASSERT_NOT_NULL(glob);

    int fd;
    pid_t pid = spawn_in_session("0", "names_helper_probe", &fd, name, global, local0, s1);
    char line[100];
    static const char *const want[] = {"ok 7", "ok 7", "ok 7", "ok 3"};
    for (int i = 0; i < 4; i++) {
        read_line(fd, line, sizeof line, 10000);
        if (strcmp(line, want[i]) != 0)
            fprintf(stderr, "probe %d: helper said \"%s\", expected \"%s\"\n", i, line, want[i]);
        ASSERT(strcmp(line, want[i]) == 0);
    }
    ASSERT_EQ(wait_child(pid, 10000), 0);
    CloseHandle(local);
    CloseHandle(glob);
    return 0;
}

/* nsem (SPEC 30): Session\<n>\ reaches the session of another connected client. */
TEST(names_session_of_other_client)
{
    in_session_1();
    char name[300], buf[300];
    snprintf(name, sizeof name, "%s", uniq("s5"));
    HANDLE self = CreateSemaphoreA(NULL, 0, 1, uniq("s5-self")); /* this process is connected (session 1) */
    ASSERT_NOT_NULL(self);
    int fd;
    pid_t pid = spawn_in_session("5", "names_helper_create_hold", &fd, name, "4", NULL, NULL);
    char line[100];
    read_line(fd, line, sizeof line, 10000);
    ASSERT(strcmp(line, "ready 0") == 0);

    SetLastError(POISON);
    HANDLE h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, cat(buf, sizeof buf, "Session\\5\\", name));
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(POISON);
    check_sem(h, 4, 10);
    check_handles(h, 2);
    /* Not in this session, nor global. */
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, cat(buf, sizeof buf, "Global\\", name)));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);

    kill(pid, SIGKILL);
    ASSERT_EQ(wait_child(pid, 10000), 128 + SIGKILL);
    CloseHandle(h);
    CloseHandle(self);
    return 0;
}

/* SPEC 31 */
TEST(names_prefix_case_sensitive)
{
    static const char *const prefixes[] = {"global\\", "GLOBAL\\", "GlObAl\\", "local\\", "LOCAL\\",
                                           "session\\1\\", "SESSION\\0\\", "session\\0\\"};
    const char *name = uniq("prefix-case");
    char buf[300];
    for (int i = 0; i < 8; i++) check_name_error(cat(buf, sizeof buf, prefixes[i], name), ERROR_PATH_NOT_FOUND);
    /* Even when the plain name exists. */
    HANDLE h = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(h);
    check_name_error(cat(buf, sizeof buf, "local\\", name), ERROR_PATH_NOT_FOUND);
    check_name_error(cat(buf, sizeof buf, "LOCAL\\", name), ERROR_PATH_NOT_FOUND);
    check_handles(h, 1);
    CloseHandle(h);
    return 0;
}

/* SPEC 32 (and nsem.h: a '\' after an element that is not a namespace -> ERROR_PATH_NOT_FOUND) */
TEST(names_backslash_after_missing_element)
{
    in_session_1();
    const char *name = uniq("nosuch");
    char buf[300];
    check_name_error(cat(buf, sizeof buf, name, "\\bar"), ERROR_PATH_NOT_FOUND);
    check_name_error(cat(buf, sizeof buf, name, "\\"), ERROR_PATH_NOT_FOUND);
    check_name_error(cat(buf, sizeof buf, name, "\\a\\b\\c"), ERROR_PATH_NOT_FOUND);
    check_name_error(cat(buf, sizeof buf, "Global\\", "semtests-nosuch\\bar"), ERROR_PATH_NOT_FOUND);
    check_name_error(cat(buf, sizeof buf, "Local\\", "semtests-nosuch\\"), ERROR_PATH_NOT_FOUND);
    check_name_error(cat(buf, sizeof buf, "Session\\1\\", "semtests-nosuch\\bar"), ERROR_PATH_NOT_FOUND);

    /* An existing semaphore is not a namespace either. */
    const char *sname = uniq("not-a-dir");
    HANDLE h = CreateSemaphoreA(NULL, 1, 2, sname);
    ASSERT_NOT_NULL(h);
    check_name_error(cat(buf, sizeof buf, sname, "\\bar"), ERROR_PATH_NOT_FOUND);
    check_sem(h, 1, 2);
    check_handles(h, 1);
    CloseHandle(h);
    return 0;
}

/* SPEC 33 */
TEST(names_leading_backslash)
{
    const char *name = uniq("leading");
    char buf[300];
    check_name_error(cat(buf, sizeof buf, "\\", name), ERROR_BAD_PATHNAME);
    check_name_error("\\", ERROR_BAD_PATHNAME);
    check_name_error(cat(buf, sizeof buf, "\\Global\\", name), ERROR_BAD_PATHNAME);
    check_name_error(cat(buf, sizeof buf, "\\\\", name), ERROR_BAD_PATHNAME);
    /* Even when the name without the backslash exists. */
    HANDLE h = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(h);
    check_name_error(cat(buf, sizeof buf, "\\", name), ERROR_BAD_PATHNAME);
    check_handles(h, 1);
    CloseHandle(h);
    return 0;
}

/* SPEC 34 */
TEST(names_empty_element)
{
    in_session_1();
    const char *name = uniq("empty-elem");
    char buf[300];
    check_name_error("Global\\", ERROR_INVALID_NAME);
    check_name_error("Local\\", ERROR_INVALID_NAME);
    check_name_error("Session\\1\\", ERROR_INVALID_NAME);
    check_name_error(cat(buf, sizeof buf, "Global\\\\", name), ERROR_INVALID_NAME);
    check_name_error(cat(buf, sizeof buf, "Local\\\\", name), ERROR_INVALID_NAME);
    check_name_error(cat(buf, sizeof buf, "Session\\1\\\\", name), ERROR_INVALID_NAME);
    return 0;
}

/* SPEC 35 (nsem.h: a namespace link such as "Global" itself -> ERROR_INVALID_HANDLE) */
TEST(names_namespace_link_names)
{
    in_session_1();
    check_name_error("Global", ERROR_INVALID_HANDLE);
    check_name_error("Local", ERROR_INVALID_HANDLE);
    check_name_error("Session", ERROR_INVALID_HANDLE);
    check_name_error("Session\\1", ERROR_INVALID_HANDLE);
    check_name_error("Session\\0", ERROR_INVALID_HANDLE);
    /* The links are case-sensitive: "global" is an ordinary name. */
    SetLastError(POISON);
    HANDLE h = CreateSemaphoreA(NULL, 0, 1, "global");
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(ERROR_SUCCESS);
    CloseHandle(h);
    return 0;
}

/* SPEC 14 */
TEST(names_empty_name_is_anonymous)
{
    SetLastError(POISON);
    HANDLE a = CreateSemaphoreA(NULL, 0, 4, "");
    ASSERT_NOT_NULL(a);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE b = CreateSemaphoreA(NULL, 2, 4, "");
    ASSERT_NOT_NULL(b);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE c = CreateSemaphoreW(NULL, 1, 4, L"");
    ASSERT_NOT_NULL(c);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE d = CreateSemaphoreExW(NULL, 3, 4, L"", 0, SEMAPHORE_ALL_ACCESS);
    ASSERT_NOT_NULL(d);
    ASSERT_GLE(ERROR_SUCCESS);
    check_sem(a, 0, 4);
    check_sem(b, 2, 4);
    check_sem(c, 1, 4);
    check_sem(d, 3, 4);
    check_handles(a, 1);
    check_handles(b, 1);

    /* No type collision among anonymous objects either. */
    SetLastError(POISON);
    HANDLE m = CreateMutexA(NULL, FALSE, "");
    ASSERT_NOT_NULL(m);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE m2 = CreateMutexW(NULL, FALSE, L"");
    ASSERT_NOT_NULL(m2);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE e = CreateEventA(NULL, TRUE, TRUE, "");
    ASSERT_NOT_NULL(e);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE e2 = CreateEventW(NULL, TRUE, FALSE, L"");
    ASSERT_NOT_NULL(e2);
    ASSERT_GLE(ERROR_SUCCESS);
    check_event(e, 1);
    check_event(e2, 0);
    check_handles(m, 1);
    check_handles(m2, 1);
    HANDLE hs[] = {a, b, c, d, m, m2, e, e2};
    for (int i = 0; i < 8; i++) ASSERT_EQ(CloseHandle(hs[i]), TRUE);
    return 0;
}

/* SPEC 23 */
TEST(names_open_empty_name)
{
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, ""));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreW(SEMAPHORE_ALL_ACCESS, FALSE, L""));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_NULL(OpenMutexA(MUTEX_ALL_ACCESS, FALSE, ""));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(POISON);
    ASSERT_NULL(OpenEventW(EVENT_ALL_ACCESS, FALSE, L""));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Length limits
 * ------------------------------------------------------------------------------------------- */

#define W_NAME_MAX 32766

/* A wide name of `len` units: the test's unique prefix, then `fill`. */
static wchar_t *long_wname(const char *tag, size_t len, wchar_t fill)
{
    wchar_t *w = malloc((len + 1) * sizeof *w);
    ASSERT_NOT_NULL(w);
    const char *p = uniq(tag);
    size_t i = 0;
    for (; p[i] && i < len; i++) w[i] = (unsigned char)p[i];
    for (; i < len; i++) w[i] = fill;
    w[len] = 0;
    return w;
}

/* SPEC 36 */
TEST(names_w_max_length)
{
    wchar_t *w = long_wname("wmax", W_NAME_MAX, L'w');
    SetLastError(POISON);
    HANDLE h = CreateSemaphoreW(NULL, 2, 3, w);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE o = OpenSemaphoreW(SEMAPHORE_ALL_ACCESS, FALSE, w);
    ASSERT_NOT_NULL(o);
    ASSERT_GLE(POISON);
    check_sem(o, 2, 3);
    SetLastError(POISON);
    HANDLE c = CreateSemaphoreW(NULL, 0, 1, w);
    ASSERT_NOT_NULL(c);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_handles(h, 3);
    /* One unit shorter is another name. */
    w[W_NAME_MAX - 1] = 0;
    SetLastError(POISON);
    ASSERT_NULL(OpenSemaphoreW(SEMAPHORE_ALL_ACCESS, FALSE, w));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);
    /* Mutexes and events take such names too. */
    wchar_t *wm = long_wname("wmax-mutex", W_NAME_MAX, L'm');
    SetLastError(POISON);
    HANDLE m = CreateMutexW(NULL, FALSE, wm);
    ASSERT_NOT_NULL(m);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE m2 = OpenMutexW(MUTEX_ALL_ACCESS, FALSE, wm);
    ASSERT_NOT_NULL(m2);
    ASSERT_GLE(POISON);
    wchar_t *we = long_wname("wmax-event", W_NAME_MAX, L'e');
    SetLastError(POISON);
    HANDLE e = CreateEventW(NULL, FALSE, FALSE, we);
    ASSERT_NOT_NULL(e);
    ASSERT_GLE(ERROR_SUCCESS);
    CloseHandle(h);
    CloseHandle(o);
    CloseHandle(c);
    CloseHandle(m);
    CloseHandle(m2);
    CloseHandle(e);
    free(w);
    free(wm);
    free(we);
    return 0;
}

/* SPEC 36 (nsem: W names longer than 32766 units are truncated to 32766) */
TEST(names_w_truncated)
{
    wchar_t *a = long_wname("wtrunc", W_NAME_MAX + 1, L't');
    wchar_t *b = long_wname("wtrunc", W_NAME_MAX + 1, L't');
    wchar_t *c = long_wname("wtrunc", 40000, L'x');
    for (size_t i = 0; i < W_NAME_MAX; i++) c[i] = a[i];
    a[W_NAME_MAX] = L'A';
    b[W_NAME_MAX] = L'B';

    SetLastError(POISON);
    HANDLE h = CreateSemaphoreW(NULL, 1, 4, a);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(ERROR_SUCCESS);
    /* Differs only after unit 32766: the same name. */
    SetLastError(POISON);
    HANDLE h2 = CreateSemaphoreW(NULL, 0, 1, b);
    ASSERT_NOT_NULL(h2);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_sem(h2, 1, 4);
    SetLastError(POISON);
    HANDLE h3 = OpenSemaphoreW(SEMAPHORE_ALL_ACCESS, FALSE, c);
    ASSERT_NOT_NULL(h3);
    ASSERT_GLE(POISON);
    /* The stored name is the first 32766 units. */
    a[W_NAME_MAX] = 0;
    SetLastError(POISON);
    HANDLE h4 = OpenSemaphoreW(SEMAPHORE_ALL_ACCESS, FALSE, a);
    ASSERT_NOT_NULL(h4);
    ASSERT_GLE(POISON);
    check_handles(h, 4);
    ASSERT_EQ(ReleaseSemaphore(h4, 3, NULL), TRUE);
    check_sem(h, 4, 4);
    CloseHandle(h);
    CloseHandle(h2);
    CloseHandle(h3);
    CloseHandle(h4);
    free(a);
    free(b);
    free(c);
    return 0;
}

/* SPEC 36, 37: the 260-unit limit is the A functions' only; a W name of 1000 units is fine. */
TEST(names_w_long_name_ok)
{
    wchar_t *w = long_wname("wlong", 1000, L'k');
    SetLastError(POISON);
    HANDLE h = CreateSemaphoreW(NULL, 0, 1, w);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    HANDLE o = OpenSemaphoreW(SEMAPHORE_ALL_ACCESS, FALSE, w);
    ASSERT_NOT_NULL(o);
    ASSERT_GLE(POISON);
    check_handles(h, 2);
    CloseHandle(h);
    CloseHandle(o);
    free(w);
    return 0;
}

/* An A name: the test's unique prefix (ASCII), then `n` copies of the UTF-8 sequence `unit`. */
static char *long_aname(const char *tag, size_t prefix_len, size_t n, const char *unit)
{
    size_t ul = strlen(unit);
    char *s = malloc(prefix_len + n * ul + 1);
    ASSERT_NOT_NULL(s);
    const char *p = uniq(tag);
    size_t plen = strlen(p), i = 0;
    for (; i < prefix_len; i++) s[i] = i < plen ? p[i] : '_';
    for (size_t k = 0; k < n; k++, i += ul) memcpy(s + i, unit, ul);
    s[i] = 0;
    return s;
}

/* Every A create and open function fails on `name` with ERROR_FILENAME_EXCED_RANGE. */
static void check_a_too_long_at(const char *file, int line, const char *name)
{
    HANDLE h;
#define TRY(call, expr) \
    do { \
        SetLastError(POISON); \
        h = (expr); \
        expect_fail_at(file, line, call, name, h, GetLastError(), ERROR_FILENAME_EXCED_RANGE); \
    } while (0)
    TRY("CreateSemaphoreA", CreateSemaphoreA(NULL, 0, 1, name));
    TRY("CreateSemaphoreExA", CreateSemaphoreExA(NULL, 0, 1, name, 0, SEMAPHORE_ALL_ACCESS));
    TRY("OpenSemaphoreA", OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name));
    TRY("CreateMutexA", CreateMutexA(NULL, FALSE, name));
    TRY("CreateMutexExA", CreateMutexExA(NULL, name, 0, MUTEX_ALL_ACCESS));
    TRY("OpenMutexA", OpenMutexA(MUTEX_ALL_ACCESS, FALSE, name));
    TRY("CreateEventA", CreateEventA(NULL, FALSE, FALSE, name));
    TRY("CreateEventExA", CreateEventExA(NULL, name, 0, EVENT_ALL_ACCESS));
    TRY("OpenEventA", OpenEventA(EVENT_ALL_ACCESS, FALSE, name));
#undef TRY
}
#define check_a_too_long(name) check_a_too_long_at(__FILE__, __LINE__, (name))

/* The A name works: created new, then opened. */
static void check_a_ok_at(const char *file, int line, const char *name)
{
    SetLastError(POISON);
    HANDLE h = CreateSemaphoreA(NULL, 1, 2, name);
    DWORD err = GetLastError();
    if (!h || err != ERROR_SUCCESS) {
        char d[120];
        snprintf(d, sizeof d, "CreateSemaphoreA of a %zu-byte name gave %p, error %u", strlen(name), h,
                 (unsigned)err);
        harness_fail(file, line, "check_a_ok", d);
    }
    SetLastError(POISON);
    HANDLE o = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
    err = GetLastError();
    if (!o || err != POISON) {
        char d[120];
        snprintf(d, sizeof d, "OpenSemaphoreA of a %zu-byte name gave %p, error %u", strlen(name), o, (unsigned)err);
        harness_fail(file, line, "check_a_ok", d);
    }
    check_handles_at(file, line, h, 2);
    CloseHandle(o);
    CloseHandle(h);
}
#define check_a_ok(name) check_a_ok_at(__FILE__, __LINE__, (name))

/* SPEC 37 */
TEST(names_a_length_limit)
{
    char *ok = long_aname("alen-ok", 30, 229, "a"); /* 259 */
    check_a_ok(ok);
    static const size_t too_long[] = {261, 262, 300, 1000, 40000};
    for (int i = 0; i < 5; i++) {
        char *s = long_aname("alen-long", 30, too_long[i] - 30, "a");
        check_a_too_long(s);
        /* Nothing was created under a shortened name. */
        s[259] = 0;
        SetLastError(POISON);
        ASSERT_NULL(OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, s));
        ASSERT_GLE(ERROR_FILE_NOT_FOUND);
        free(s);
    }
    /* The prefix counts: Local\ + 253 = 259 works, Local\ + 255 = 261 does not. */
    char *body = long_aname("alen-prefix", 30, 223, "p");
    char *buf = malloc(300);
    ASSERT_NOT_NULL(buf);
    snprintf(buf, 300, "Local\\%s", body);
    ASSERT_EQ(strlen(buf), 259);
    check_a_ok(buf);
    snprintf(buf, 300, "Local\\%sqq", body);
    ASSERT_EQ(strlen(buf), 261);
    check_a_too_long(buf);
    snprintf(buf, 300, "Global\\%sq", body);
    ASSERT_EQ(strlen(buf), 261);
    check_a_too_long(buf);
    free(buf);
    free(body);
    free(ok);
    return 0;
}

/* SPEC 37 (nsem.h: A names may have at most 260 UTF-16 units, not bytes) */
TEST(names_a_length_counts_utf16_units)
{
    /* U+00E9 is 2 bytes of UTF-8 and 1 UTF-16 unit: 30 + 229 = 259 units (488 bytes) work. */
    char *s = long_aname("alen-e", 30, 229, "\xc3\xa9");
    check_a_ok(s);
    free(s);
    s = long_aname("alen-e-long", 30, 231, "\xc3\xa9"); /* 261 units */
    check_a_too_long(s);
    free(s);
    /* U+20AC is 3 bytes, 1 unit. */
    s = long_aname("alen-euro", 30, 228, "\xe2\x82\xac"); /* 258 units, 714 bytes */
    check_a_ok(s);
    free(s);
    /* U+1F600 is 4 bytes and 2 UTF-16 units: 30 + 2 * 114 = 258 units work, 30 + 2 * 116 = 262 do not. */
    s = long_aname("alen-emoji", 30, 114, "\xf0\x9f\x98\x80");
    check_a_ok(s);
    free(s);
    s = long_aname("alen-emoji-long", 30, 116, "\xf0\x9f\x98\x80");
    check_a_too_long(s);
    free(s);
    return 0;
}

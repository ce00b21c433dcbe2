/*
 * test-lifetime.c — object lifetime (SPEC 1.J): a named object lives while any process holds a
 * handle to it, and its name goes with the last handle, however that handle ends (CloseHandle in
 * this or another process, exit, SIGKILL). Also the error-name table (NsemErrorName).
 *
 * The name of an object whose last handle was in a process that ended goes when the server has
 * seen the process end; those checks poll with a generous bound (a process end is not a call that
 * returns), while a CloseHandle() that has returned must have removed the name at once.
 */
#include "checks.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Opens `name` as an object of type `kind` ('s', 'm' or 'e') with all access. */
static HANDLE open_kind(char kind, DWORD access, const char *name)
{
    switch (kind) {
    case 's':
        return OpenSemaphoreA(access ? access : SEMAPHORE_ALL_ACCESS, FALSE, name);
    case 'm':
        return OpenMutexA(access ? access : MUTEX_ALL_ACCESS, FALSE, name);
    default:
        return OpenEventA(access ? access : EVENT_ALL_ACCESS, FALSE, name);
    }
}

/* The name is gone now: opening it (READ_CONTROL, as SPEC 84) fails with ERROR_FILE_NOT_FOUND. */
static void check_gone_at(const char *file, int line, char kind, const char *name)
{
    SetLastError(POISON);
    HANDLE h = open_kind(kind, READ_CONTROL, name);
    DWORD err = GetLastError();
    if (h != NULL || err != ERROR_FILE_NOT_FOUND) {
        char d[300];
        snprintf(d, sizeof d, "open of %c \"%s\" gave %p, error %u; expected NULL, 2", kind, name, h, (unsigned)err);
        if (h) CloseHandle(h);
        harness_fail(file, line, "check_gone", d);
    }
}
#define check_gone(kind, name) check_gone_at(__FILE__, __LINE__, (kind), (name))

/* The name exists: opening it succeeds (leaving GetLastError alone); the handle is closed again. */
static void check_exists_at(const char *file, int line, char kind, const char *name)
{
    SetLastError(POISON);
    HANDLE h = open_kind(kind, READ_CONTROL, name);
    DWORD err = GetLastError();
    if (h == NULL || err != POISON) {
        char d[300];
        snprintf(d, sizeof d, "open of %c \"%s\" gave %p, error %u; expected a handle", kind, name, h, (unsigned)err);
        harness_fail(file, line, "check_exists", d);
    }
    CloseHandle(h);
}
#define check_exists(kind, name) check_exists_at(__FILE__, __LINE__, (kind), (name))

/* Polls (up to 5 s) until the name is gone, for a last handle that a process end closes. */
static void wait_gone_at(const char *file, int line, char kind, const char *name)
{
    uint64_t end = now_ms() + 5000;
    for (;;) {
        SetLastError(POISON);
        HANDLE h = open_kind(kind, READ_CONTROL, name);
        DWORD err = GetLastError();
        if (h == NULL) {
            if (err != ERROR_FILE_NOT_FOUND) {
                char d[300];
                snprintf(d, sizeof d, "open of %c \"%s\" failed with error %u; expected 2", kind, name, (unsigned)err);
                harness_fail(file, line, "wait_gone", d);
            }
            return;
        }
        CloseHandle(h);
        if (now_ms() > end) {
            char d[300];
            snprintf(d, sizeof d, "%c \"%s\" still exists 5 s after its last holder ended", kind, name);
            harness_fail(file, line, "wait_gone", d);
        }
        sleep_ms(5);
    }
}
#define wait_gone(kind, name) wait_gone_at(__FILE__, __LINE__, (kind), (name))

/* Opens event `name` (SYNCHRONIZE) and waits for it (up to 20 s); returns 0 when signalled. */
static int wait_event_named(const char *name)
{
    HANDLE e = OpenEventA(SYNCHRONIZE, FALSE, name);
    if (!e) return -1;
    DWORD r = WaitForSingleObject(e, 20000);
    CloseHandle(e);
    return r == WAIT_OBJECT_0 ? 0 : -2;
}

/* ---------------------------------------------------------------------------------------------
 * Within one process
 * ------------------------------------------------------------------------------------------- */

/* SPEC 84 */
TEST(lifetime_name_gone_after_close)
{
    char s[200], m[200], e[200];
    snprintf(s, sizeof s, "%s", uniq("gone-sem"));
    snprintf(m, sizeof m, "%s", uniq("gone-mutex"));
    snprintf(e, sizeof e, "%s", uniq("gone-event"));
    HANDLE hs = CreateSemaphoreA(NULL, 2, 3, s);
    HANDLE hm = CreateMutexA(NULL, FALSE, m);
    HANDLE he = CreateEventA(NULL, TRUE, TRUE, e);
    ASSERT(hs && hm && he);
    check_exists('s', s);
    check_exists('m', m);
    check_exists('e', e);
    ASSERT_EQ(CloseHandle(hs), TRUE);
    ASSERT_EQ(CloseHandle(hm), TRUE);
    ASSERT_EQ(CloseHandle(he), TRUE);
    check_gone('s', s);
    check_gone('m', m);
    check_gone('e', e);

    /* A new create makes a new object with the new parameters. */
    SetLastError(POISON);
    hs = CreateSemaphoreA(NULL, 0, 7, s);
    ASSERT_NOT_NULL(hs);
    ASSERT_GLE(ERROR_SUCCESS);
    check_sem(hs, 0, 7);
    check_handles(hs, 1);
    SetLastError(POISON);
    he = CreateEventA(NULL, FALSE, FALSE, e);
    ASSERT_NOT_NULL(he);
    ASSERT_GLE(ERROR_SUCCESS);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(he, 0), WAIT_TIMEOUT);
    ASSERT_GLE(POISON);
    CloseHandle(hs);
    CloseHandle(he);
    check_gone('s', s);
    return 0;
}

/* SPEC 84: the object lives while any handle of this process is open (create, open, duplicate). */
TEST(lifetime_survives_while_any_handle)
{
    const char *name = uniq("any-handle");
    HANDLE a = CreateSemaphoreA(NULL, 1, 5, name);
    ASSERT_NOT_NULL(a);
    HANDLE b = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
    ASSERT_NOT_NULL(b);
    HANDLE c = NULL;
    ASSERT_EQ(DuplicateHandle(GetCurrentProcess(), a, GetCurrentProcess(), &c, 0, FALSE, DUPLICATE_SAME_ACCESS),
              TRUE);
    SetLastError(POISON);
    HANDLE d = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(d);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_handles(a, 4);
    ASSERT_EQ(ReleaseSemaphore(b, 2, NULL), TRUE);

    ASSERT_EQ(CloseHandle(a), TRUE);
    check_exists('s', name);
    check_handles(b, 3);
    ASSERT_EQ(CloseHandle(d), TRUE);
    check_exists('s', name);
    ASSERT_EQ(CloseHandle(b), TRUE);
    check_exists('s', name);
    /* The object kept its state through all that. */
    check_sem(c, 3, 5);
    check_handles(c, 1);
    ASSERT_EQ(CloseHandle(c), TRUE);
    check_gone('s', name);
    return 0;
}

/* SPEC 84, 26: once the last handle is closed the name is free for any type. */
TEST(lifetime_name_reusable_by_other_type)
{
    const char *name = uniq("reuse");
    HANDLE s = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(s);
    SetLastError(POISON);
    ASSERT_NULL(CreateMutexA(NULL, FALSE, name));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    ASSERT_EQ(CloseHandle(s), TRUE);
    SetLastError(POISON);
    HANDLE m = CreateMutexA(NULL, FALSE, name);
    ASSERT_NOT_NULL(m);
    ASSERT_GLE(ERROR_SUCCESS);
    ASSERT_EQ(CloseHandle(m), TRUE);
    SetLastError(POISON);
    HANDLE e = CreateEventA(NULL, FALSE, FALSE, name);
    ASSERT_NOT_NULL(e);
    ASSERT_GLE(ERROR_SUCCESS);
    ASSERT_EQ(CloseHandle(e), TRUE);
    SetLastError(POISON);
    s = CreateSemaphoreA(NULL, 1, 1, name);
    ASSERT_NOT_NULL(s);
    ASSERT_GLE(ERROR_SUCCESS);
    ASSERT_EQ(CloseHandle(s), TRUE);
    check_gone('s', name);
    return 0;
}

/* SPEC 84: an object with no name lives by its handles too (a duplicate keeps it). */
TEST(lifetime_anonymous_object_lives_by_handles)
{
    HANDLE a = CreateSemaphoreA(NULL, 2, 4, NULL);
    ASSERT_NOT_NULL(a);
    HANDLE b = NULL;
    ASSERT_EQ(DuplicateHandle(GetCurrentProcess(), a, GetCurrentProcess(), &b, 0, FALSE, DUPLICATE_SAME_ACCESS),
              TRUE);
    check_handles(a, 2);
    ASSERT_EQ(CloseHandle(a), TRUE);
    check_sem(b, 2, 4);
    check_handles(b, 1);
    ASSERT_EQ_U(WaitForSingleObject(b, 0), WAIT_OBJECT_0);
    check_sem(b, 1, 4);
    ASSERT_EQ(CloseHandle(b), TRUE);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(b, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Across processes
 * ------------------------------------------------------------------------------------------- */

/* Opens semaphore argv[0], releases 1, says "ready"; after event argv[1] closes it and says
 * "closed <result>"; after event argv[2] exits 0. */
HELPER(lifetime_helper_open_close)
{
    if (argc < 3) return 2;
    HANDLE h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, argv[0]);
    if (!h) {
        say("open failed %u", (unsigned)GetLastError());
        return 3;
    }
    if (!ReleaseSemaphore(h, 1, NULL)) {
        say("release failed %u", (unsigned)GetLastError());
        return 4;
    }
    say("ready");
    if (wait_event_named(argv[1]) != 0) return 5;
    BOOL ok = CloseHandle(h);
    say("closed %d", ok);
    if (wait_event_named(argv[2]) != 0) return 6;
    return 0;
}

/* SPEC 84: the object lives while another process holds the only handle, and goes when that
 * process closes it (while it keeps running). */
TEST(lifetime_last_handle_closed_in_other_process)
{
    char name[200], go1[200], go2[200];
    snprintf(name, sizeof name, "%s", uniq("other-close"));
    snprintf(go1, sizeof go1, "%s", uniq("other-close-go1"));
    snprintf(go2, sizeof go2, "%s", uniq("other-close-go2"));
    HANDLE e1 = CreateEventA(NULL, TRUE, FALSE, go1);
    HANDLE e2 = CreateEventA(NULL, TRUE, FALSE, go2);
    ASSERT(e1 && e2);
    HANDLE h = CreateSemaphoreA(NULL, 2, 5, name);
    ASSERT_NOT_NULL(h);

    int fd;
    pid_t pid = spawn_helper("lifetime_helper_open_close", &fd, name, go1, go2, NULL);
    char line[100];
    read_line(fd, line, sizeof line, 10000);
    ASSERT(strcmp(line, "ready") == 0);
    check_sem(h, 3, 5);
    check_handles(h, 2);

    /* Our handle goes; the helper's keeps the object and its state. */
    ASSERT_EQ(CloseHandle(h), TRUE);
    SetLastError(POISON);
    h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(POISON);
    check_sem(h, 3, 5);
    check_handles(h, 2);
    ASSERT_EQ(CloseHandle(h), TRUE);

    /* The helper closes the last handle: the name is gone as soon as that CloseHandle returned. */
    ASSERT_EQ(SetEvent(e1), TRUE);
    read_line(fd, line, sizeof line, 10000);
    ASSERT(strcmp(line, "closed 1") == 0);
    check_gone('s', name);

    ASSERT_EQ(SetEvent(e2), TRUE);
    ASSERT_EQ(wait_child(pid, 10000), 0);
    /* A new object of that name starts afresh. */
    SetLastError(POISON);
    h = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(ERROR_SUCCESS);
    check_sem(h, 0, 1);
    CloseHandle(h);
    CloseHandle(e1);
    CloseHandle(e2);
    return 0;
}

/* Opens (or with argv[0] "create", creates) each object named in argv[1..] ("s:NAME", "m:NAME",
 * "e:NAME"; a semaphore is created 2/10 and given one release when opened), says "ready", then
 * stays until killed or until 30 s have passed. */
HELPER(lifetime_helper_hold)
{
    if (argc < 2) return 2;
    int create = strcmp(argv[0], "create") == 0;
    for (int i = 1; i < argc; i++) {
        char kind = argv[i][0];
        const char *name = argv[i] + 2;
        HANDLE h;
        SetLastError(POISON);
        if (create) {
            if (kind == 's') h = CreateSemaphoreA(NULL, 2, 10, name);
            else if (kind == 'm') h = CreateMutexA(NULL, FALSE, name);
            else h = CreateEventA(NULL, TRUE, FALSE, name);
            if (h && GetLastError() != ERROR_SUCCESS) {
                say("not new %u", (unsigned)GetLastError());
                return 3;
            }
        } else {
            h = open_kind(kind, 0, name);
            if (h && kind == 's' && !ReleaseSemaphore(h, 1, NULL)) h = NULL;
        }
        if (!h) {
            say("failed %s %u", argv[i], (unsigned)GetLastError());
            return 4;
        }
    }
    say("ready");
    for (int i = 0; i < 3000; i++) sleep_ms(10);
    return 5;
}

/* Opens semaphore argv[0], says "ready", and blocks in a wait on it that nobody satisfies. */
HELPER(lifetime_helper_block)
{
    if (argc < 1) return 2;
    HANDLE h = OpenSemaphoreA(SYNCHRONIZE, FALSE, argv[0]);
    if (!h) {
        say("failed %u", (unsigned)GetLastError());
        return 3;
    }
    say("ready");
    DWORD r = WaitForSingleObject(h, 30000);
    say("woke %u", (unsigned)r);
    return 4;
}

/* Opens semaphore argv[0], releases 1, says "ready", waits for event argv[1], and returns without
 * closing its handle. */
HELPER(lifetime_helper_exit_holding)
{
    if (argc < 2) return 2;
    HANDLE h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, argv[0]);
    if (!h || !ReleaseSemaphore(h, 1, NULL)) {
        say("failed %u", (unsigned)GetLastError());
        return 3;
    }
    say("ready");
    if (wait_event_named(argv[1]) != 0) return 4;
    return 0; /* the handle is left open: the process end closes it */
}

/* SPEC 84: the last holder exits without closing: its handle goes with it, and the name too. */
TEST(lifetime_last_holder_exits)
{
    char name[200], go[200];
    snprintf(name, sizeof name, "%s", uniq("exit-holder"));
    snprintf(go, sizeof go, "%s", uniq("exit-holder-go"));
    HANDLE e = CreateEventA(NULL, TRUE, FALSE, go);
    ASSERT_NOT_NULL(e);
    HANDLE h = CreateSemaphoreA(NULL, 0, 3, name);
    ASSERT_NOT_NULL(h);
    int fd;
    pid_t pid = spawn_helper("lifetime_helper_exit_holding", &fd, name, go, NULL);
    char line[100];
    read_line(fd, line, sizeof line, 10000);
    ASSERT(strcmp(line, "ready") == 0);
    ASSERT_EQ(CloseHandle(h), TRUE);
    check_exists('s', name);

    ASSERT_EQ(SetEvent(e), TRUE);
    ASSERT_EQ(wait_child(pid, 10000), 0);
    wait_gone('s', name);
    CloseHandle(e);
    return 0;
}

/* SPEC 84 (DESIGN: handles are closed however a process ends, SIGKILL included) */
TEST(lifetime_sigkill_last_holder)
{
    char s[200], m[200], e[200], as[220], am[220], ae[220];
    snprintf(s, sizeof s, "%s", uniq("kill-sem"));
    snprintf(m, sizeof m, "%s", uniq("kill-mutex"));
    snprintf(e, sizeof e, "%s", uniq("kill-event"));
    snprintf(as, sizeof as, "s:%s", s);
    snprintf(am, sizeof am, "m:%s", m);
    snprintf(ae, sizeof ae, "e:%s", e);
    /* This process is a client too, so that the server is not merely left without clients. */
    HANDLE self = CreateSemaphoreA(NULL, 0, 1, uniq("kill-self"));
    ASSERT_NOT_NULL(self);

    int fd;
    pid_t pid = spawn_helper("lifetime_helper_hold", &fd, "create", as, am, ae, NULL);
    char line[100];
    read_line(fd, line, sizeof line, 10000);
    ASSERT(strcmp(line, "ready") == 0);
    check_exists('s', s);
    check_exists('m', m);
    check_exists('e', e);

    ASSERT_EQ(kill(pid, SIGKILL), 0);
    ASSERT_EQ(wait_child(pid, 10000), 128 + SIGKILL);
    wait_gone('s', s);
    wait_gone('m', m);
    wait_gone('e', e);

    /* The names are free: new objects, not ones left over. */
    SetLastError(POISON);
    HANDLE h = CreateSemaphoreA(NULL, 0, 4, s);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(ERROR_SUCCESS);
    check_sem(h, 0, 4);
    CloseHandle(h);
    SetLastError(POISON);
    h = CreateEventA(NULL, FALSE, FALSE, m); /* was a mutex */
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(ERROR_SUCCESS);
    CloseHandle(h);
    CloseHandle(self);
    return 0;
}

/* SPEC 84: the last holder is killed while blocked in a wait on the object. */
TEST(lifetime_sigkill_blocked_last_holder)
{
    const char *name = uniq("kill-blocked");
    HANDLE h = CreateSemaphoreA(NULL, 0, 1, name);
    ASSERT_NOT_NULL(h);
    int fd;
    pid_t pid = spawn_helper("lifetime_helper_block", &fd, name, NULL);
    char line[100];
    read_line(fd, line, sizeof line, 10000);
    ASSERT(strcmp(line, "ready") == 0);
    /* Wait until the helper is blocked on it. */
    uint64_t end = now_ms() + 5000;
    NSEM_OBJECT_INFO info;
    for (;;) {
        info = query(h);
        if (info.dwWaiterCount == 1) break;
        ASSERT(now_ms() < end);
        sleep_ms(2);
    }
    check_handles(h, 2);
    ASSERT_EQ(CloseHandle(h), TRUE);
    check_exists('s', name);

    ASSERT_EQ(kill(pid, SIGKILL), 0);
    ASSERT_EQ(wait_child(pid, 10000), 128 + SIGKILL);
    wait_gone('s', name);
    return 0;
}

/* SPEC 84: killing one holder leaves the object to the others, state intact; the last one's death
 * removes it. */
TEST(lifetime_survives_while_other_process_holds)
{
    char name[200], arg[220];
    snprintf(name, sizeof name, "%s", uniq("two-holders"));
    snprintf(arg, sizeof arg, "s:%s", name);
    HANDLE h = CreateSemaphoreA(NULL, 0, 10, name);
    ASSERT_NOT_NULL(h);

    int fa, fb;
    char line[100];
    pid_t a = spawn_helper("lifetime_helper_hold", &fa, "open", arg, NULL);
    read_line(fa, line, sizeof line, 10000);
    ASSERT(strcmp(line, "ready") == 0);
    pid_t b = spawn_helper("lifetime_helper_hold", &fb, "open", arg, NULL);
    read_line(fb, line, sizeof line, 10000);
    ASSERT(strcmp(line, "ready") == 0);
    check_sem(h, 2, 10);
    check_handles(h, 3);

    /* Our handle goes, then A dies: B keeps the object. */
    ASSERT_EQ(CloseHandle(h), TRUE);
    ASSERT_EQ(kill(a, SIGKILL), 0);
    ASSERT_EQ(wait_child(a, 10000), 128 + SIGKILL);
    SetLastError(POISON);
    h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
    ASSERT_NOT_NULL(h);
    ASSERT_GLE(POISON);
    wait_handles(h, 2); /* B's and this one */
    check_sem(h, 2, 10);
    /* The object still works. */
    ASSERT_EQ_U(WaitForSingleObject(h, 0), WAIT_OBJECT_0);
    check_sem(h, 1, 10);
    ASSERT_EQ(CloseHandle(h), TRUE);
    check_exists('s', name);

    ASSERT_EQ(kill(b, SIGKILL), 0);
    ASSERT_EQ(wait_child(b, 10000), 128 + SIGKILL);
    wait_gone('s', name);
    return 0;
}

/* SPEC 84: the creator dies; this process's handle keeps the object, its state and its name. */
TEST(lifetime_creator_killed_object_survives)
{
    char s[200], m[200], e[200], as[220], am[220], ae[220];
    snprintf(s, sizeof s, "%s", uniq("creator-sem"));
    snprintf(m, sizeof m, "%s", uniq("creator-mutex"));
    snprintf(e, sizeof e, "%s", uniq("creator-event"));
    snprintf(as, sizeof as, "s:%s", s);
    snprintf(am, sizeof am, "m:%s", m);
    snprintf(ae, sizeof ae, "e:%s", e);
    int fd;
    pid_t pid = spawn_helper("lifetime_helper_hold", &fd, "create", as, am, ae, NULL);
    char line[100];
    read_line(fd, line, sizeof line, 10000);
    ASSERT(strcmp(line, "ready") == 0);

    SetLastError(POISON);
    HANDLE hs = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, s);
    HANDLE hm = OpenMutexA(MUTEX_ALL_ACCESS, FALSE, m);
    HANDLE he = OpenEventA(EVENT_ALL_ACCESS, FALSE, e);
    ASSERT(hs && hm && he);
    ASSERT_GLE(POISON);
    check_sem(hs, 2, 10);
    check_handles(hs, 2);

    ASSERT_EQ(kill(pid, SIGKILL), 0);
    ASSERT_EQ(wait_child(pid, 10000), 128 + SIGKILL);
    wait_handles(hs, 1);
    wait_handles(hm, 1);
    wait_handles(he, 1);
    check_sem(hs, 2, 10);
    check_exists('s', s);
    check_exists('m', m);
    check_exists('e', e);
    SetLastError(POISON);
    HANDLE again = CreateSemaphoreA(NULL, 0, 1, s);
    ASSERT_NOT_NULL(again);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    check_sem(again, 2, 10);
    CloseHandle(again);

    /* Fully usable. */
    LONG prev = -1;
    ASSERT_EQ(ReleaseSemaphore(hs, 3, &prev), TRUE);
    ASSERT_EQ(prev, 2);
    ASSERT_EQ_U(WaitForSingleObject(hm, 0), WAIT_OBJECT_0);
    ASSERT_EQ(ReleaseMutex(hm), TRUE);
    ASSERT_EQ(SetEvent(he), TRUE);
    ASSERT_EQ_U(WaitForSingleObject(he, 0), WAIT_OBJECT_0);

    ASSERT_EQ(CloseHandle(hs), TRUE);
    ASSERT_EQ(CloseHandle(hm), TRUE);
    ASSERT_EQ(CloseHandle(he), TRUE);
    check_gone('s', s);
    check_gone('m', m);
    check_gone('e', e);
    return 0;
}

/* SPEC 84 with plain fork(): a forked child opens the object by name and is its last holder. */
TEST(lifetime_fork_child_last_holder)
{
    const char *name = uniq("fork");
    HANDLE h = CreateSemaphoreA(NULL, 1, 4, name);
    ASSERT_NOT_NULL(h);
    int up[2], down[2];
    ASSERT_EQ(pipe(up), 0);
    ASSERT_EQ(pipe(down), 0);
    fflush(NULL);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        close(up[0]);
        close(down[1]);
        SetLastError(POISON);
        HANDLE c = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
        char r = 'r';
        if (!c || GetLastError() != POISON || !ReleaseSemaphore(c, 2, NULL)) r = 'f';
        if (write(up[1], &r, 1) != 1) _exit(3);
        char go;
        if (read(down[0], &go, 1) != 1) _exit(4);
        _exit(r == 'r' ? 0 : 5); /* leaves its handle open */
    }
    close(up[1]);
    close(down[0]);
    char r = 0;
    ASSERT_EQ(read(up[0], &r, 1), 1);
    ASSERT_EQ(r, 'r');
    check_sem(h, 3, 4);
    ASSERT_EQ(CloseHandle(h), TRUE);
    check_exists('s', name);

    ASSERT_EQ(write(down[1], "g", 1), 1);
    ASSERT_EQ(wait_child(pid, 10000), 0);
    wait_gone('s', name);
    close(up[0]);
    close(down[1]);
    return 0;
}

/* ---- a blocked wait keeps its objects (SPEC 80), recorded per thread (lib/blocked.c) -------- */

struct blocked_waiter {
    HANDLE objs[2];
    pthread_t thread;
    DWORD result;
};

static void *blocked_waiter_main(void *arg)
{
    struct blocked_waiter *w = arg;
    w->result = WaitForMultipleObjects(2, w->objs, FALSE, 10000);
    return NULL;
}

/* Two threads block on {a, b}; the last handle of a is closed under them: a is pinned, not
 * destroyed, until the later of the two waits ends, whichever ends first. */
TEST(lifetime_blocked_waits_keep_object_after_last_close)
{
    use_private_server("blocked");
    HANDLE a = CreateSemaphoreA(NULL, 0, 1, uniq("blocked-a"));
    HANDLE b = CreateSemaphoreA(NULL, 0, 2, uniq("blocked-b"));
    ASSERT(a && b);
    struct blocked_waiter w[2] = {{.objs = {a, b}}, {.objs = {a, b}}};
    for (int i = 0; i < 2; i++) ASSERT_EQ(pthread_create(&w[i].thread, NULL, blocked_waiter_main, &w[i]), 0);
    wait_waiters(b, 2);
    ASSERT(CloseHandle(a));
    NSEM_SERVER_STATS st = stats();
    ASSERT_EQ_U(st.dwObjects, 2);
    ASSERT_EQ_U(st.dwPins, 1);
    ASSERT(ReleaseSemaphore(b, 1, NULL)); /* one waiter ends: the other still keeps a */
    for (uint64_t end = now_ms() + 5000; w[0].result == 0 && w[1].result == 0 && now_ms() < end;) sleep_ms(2);
    sleep_ms(20);
    st = stats();
    ASSERT_EQ_U(st.dwObjects, 2);
    ASSERT_EQ_U(st.dwPins, 1);
    ASSERT(ReleaseSemaphore(b, 1, NULL));
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ(pthread_join(w[i].thread, NULL), 0);
        ASSERT_EQ_U(w[i].result, WAIT_OBJECT_0 + 1);
    }
    st = stats(); /* the pin went with the second wait, before its WaitForMultipleObjects returned */
    ASSERT_EQ_U(st.dwObjects, 1);
    ASSERT_EQ_U(st.dwPins, 0);
    ASSERT(CloseHandle(b));
    wait_server_clean();
    return 0;
}

/* A forked child has none of its parent's blocked waits: closing its last handle of an object a
 * parent's thread is blocked on destroys nothing of the parent's and pins nothing. */
TEST(lifetime_fork_child_has_no_blocked_waits)
{
    use_private_server("blockfork");
    HANDLE a = CreateSemaphoreA(NULL, 0, 1, uniq("blockfork-a"));
    HANDLE b = CreateSemaphoreA(NULL, 0, 1, uniq("blockfork-b"));
    ASSERT(a && b);
    struct blocked_waiter w = {.objs = {a, b}};
    ASSERT_EQ(pthread_create(&w.thread, NULL, blocked_waiter_main, &w), 0);
    wait_waiters(b, 1);
    fflush(NULL);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        if (!CloseHandle(a)) _exit(2);
        NSEM_SERVER_STATS cs = {.cbSize = sizeof cs};
        if (!NsemGetServerStats(&cs)) _exit(3);
        _exit(cs.dwPins == 0 ? 0 : 4);
    }
    ASSERT_EQ(wait_child(pid, 10000), 0);
    ASSERT(ReleaseSemaphore(a, 1, NULL)); /* the parent's a is whole */
    ASSERT_EQ(pthread_join(w.thread, NULL), 0);
    ASSERT_EQ_U(w.result, WAIT_OBJECT_0);
    ASSERT(CloseHandle(a));
    ASSERT(CloseHandle(b));
    wait_server_clean();
    return 0;
}

/* Threads that blocked and ended leave no record behind that a close could take for a wait. */
TEST(lifetime_ended_waits_pin_nothing)
{
    use_private_server("blockend");
    HANDLE b = CreateSemaphoreA(NULL, 0, 64, NULL);
    ASSERT_NOT_NULL(b);
    for (int round = 0; round < 20; round++) {
        HANDLE a = CreateSemaphoreA(NULL, 0, 1, NULL);
        ASSERT_NOT_NULL(a);
        struct blocked_waiter w[3] = {{.objs = {a, b}}, {.objs = {a, b}}, {.objs = {a, b}}};
        for (int i = 0; i < 3; i++) ASSERT_EQ(pthread_create(&w[i].thread, NULL, blocked_waiter_main, &w[i]), 0);
        wait_waiters(b, 3);
        ASSERT(ReleaseSemaphore(b, 3, NULL));
        for (int i = 0; i < 3; i++) {
            ASSERT_EQ(pthread_join(w[i].thread, NULL), 0);
            ASSERT_EQ_U(w[i].result, WAIT_OBJECT_0 + 1);
        }
        ASSERT(CloseHandle(a)); /* no wait is blocked: a goes at once */
        NSEM_SERVER_STATS st = stats();
        ASSERT_EQ_U(st.dwPins, 0);
        ASSERT_EQ_U(st.dwObjects, 1);
    }
    ASSERT(CloseHandle(b));
    wait_server_clean();
    return 0;
}

/* A thread's own later thread-specific destructor may block after the library's has freed the
 * thread's record: that wait has a record of its own, so another thread that takes the freed one
 * does not hide it from a close (which would then destroy the object under the wait). */
struct dtor_waiter {
    HANDLE objs[2]; /* e, stop */
    HANDLE first;
    pthread_key_t key;
    DWORD result;
};

static void dtor_waiter_dtor(void *arg)
{
    struct dtor_waiter *d = arg;
    d->result = WaitForMultipleObjects(2, d->objs, FALSE, 10000);
}

static void *dtor_waiter_main(void *arg)
{
    struct dtor_waiter *d = arg;
    WaitForSingleObject(d->first, 1); /* blocks once: the thread has a record, and the library its key */
    /* a key created later: its destructor runs after the library's */
    if (pthread_key_create(&d->key, dtor_waiter_dtor) == 0) pthread_setspecific(d->key, d);
    return NULL;
}

static void *short_waiter_main(void *arg)
{
    WaitForSingleObject((HANDLE)arg, 10000);
    return NULL;
}

TEST(lifetime_wait_in_thread_destructor_keeps_object)
{
    use_private_server("blockdtor");
    HANDLE first = new_sem(0, 1), stop = new_sem(0, 1), g = new_sem(0, 8);
    struct dtor_waiter d = {.objs = {CreateEventA(NULL, TRUE, FALSE, NULL), stop}, .first = first};
    ASSERT_NOT_NULL(d.objs[0]);
    pthread_t a;
    ASSERT_EQ(pthread_create(&a, NULL, dtor_waiter_main, &d), 0);
    wait_waiters(stop, 1); /* blocked in its destructor */
    pthread_t b[8];        /* take every free record, the one a's thread had among them */
    for (int i = 0; i < 8; i++) ASSERT_EQ(pthread_create(&b[i], NULL, short_waiter_main, g), 0);
    wait_waiters(g, 8);
    ASSERT(ReleaseSemaphore(g, 8, NULL));
    for (int i = 0; i < 8; i++) join(b[i]);
    ASSERT(CloseHandle(d.objs[0])); /* the last handle of e, under a's wait */
    NSEM_SERVER_STATS st = stats();
    ASSERT_EQ_U(st.dwPins, 1);
    ASSERT(ReleaseSemaphore(stop, 1, NULL));
    join(a);
    ASSERT_EQ_U(d.result, WAIT_OBJECT_0 + 1);
    st = stats();
    ASSERT_EQ_U(st.dwPins, 0);
    pthread_key_delete(d.key);
    ASSERT(CloseHandle(first));
    ASSERT(CloseHandle(stop));
    ASSERT(CloseHandle(g));
    wait_server_clean();
    return 0;
}

/* A close that starts while another thread is blocked (so that it looks through the records) and
 * finds a wait recorded during its look, on the object it closes, pins it for that wait: the wait
 * gives the pin back as it ends, however the two interleave. Many free records ahead of the
 * waiter's make the look long; the close comes at a different moment in each round. */
struct race_waiter {
    HANDLE first, b;
    _Atomic(HANDLE) x;
    _Atomic int go, done;
    DWORD result;
};

static void *race_waiter_main(void *arg)
{
    struct race_waiter *r = arg;
    WaitForSingleObject(r->first, 1); /* blocks once: its record is the first, the last looked at */
    atomic_store(&r->done, 0);
    for (int round = 1;; round++) {
        int go;
        while ((go = atomic_load(&r->go)) >= 0 && go < round) sched_yield();
        if (go < 0) return NULL;
        HANDLE objs[2] = {atomic_load(&r->x), r->b};
        r->result = WaitForMultipleObjects(2, objs, FALSE, 10000);
        atomic_store(&r->done, round);
    }
}

TEST(lifetime_close_racing_a_new_wait_leaves_no_pin)
{
    use_private_server("blockrace");
    struct race_waiter r = {.first = new_sem(0, 1), .b = new_sem(0, 1), .done = -1};
    HANDLE g = new_sem(0, 256), u = new_sem(0, 1);
    pthread_t t, many[256], other;
    ASSERT_EQ(pthread_create(&t, NULL, race_waiter_main, &r), 0);
    while (atomic_load(&r.done) < 0) sleep_ms(1);
    for (int i = 0; i < 256; i++) ASSERT_EQ(pthread_create(&many[i], NULL, short_waiter_main, g), 0);
    wait_waiters(g, 256);
    ASSERT(ReleaseSemaphore(g, 256, NULL));
    for (int i = 0; i < 256; i++) join(many[i]);
    ASSERT_EQ(pthread_create(&other, NULL, short_waiter_main, u), 0); /* a close looks at the records */
    wait_waiters(u, 1);
    int rounds = getenv("NSEM_TEST_VALGRIND") ? 100 : 3000;
    for (int round = 1; round <= rounds; round++) {
        HANDLE x = new_sem(0, 1);
        atomic_store(&r.x, x);
        atomic_store(&r.go, round);
        for (volatile int spin = 0; spin < (round * 7) % 400; spin++) {
        }
        ASSERT(CloseHandle(x));
        ASSERT(ReleaseSemaphore(r.b, 1, NULL));
        while (atomic_load(&r.done) < round) sched_yield();
        if (r.result != WAIT_OBJECT_0 + 1) ASSERT_EQ_U(WaitForSingleObject(r.b, 0), WAIT_OBJECT_0);
        NSEM_SERVER_STATS st = stats();
        if (st.dwPins != 0) printf("round %d: a pin is left\n", round);
        ASSERT_EQ_U(st.dwPins, 0);
    }
    atomic_store(&r.go, -1);
    join(t);
    ASSERT(ReleaseSemaphore(u, 1, NULL));
    join(other);
    ASSERT(CloseHandle(r.first));
    ASSERT(CloseHandle(r.b));
    ASSERT(CloseHandle(g));
    ASSERT(CloseHandle(u));
    wait_server_clean();
    return 0;
}

/* As above, with a first wait blocked on the object, for which the close pins it, and a second
 * wait recorded after the close has looked: the first, ending first, leaves the pin to the second,
 * which must then give it back. The two start in either order, at a different distance each round. */
struct race_pair {
    HANDLE b[2];
    _Atomic(HANDLE) x;
    _Atomic int go[2], done[2], spin;
    DWORD result[2];
};

struct race_pair_waiter {
    struct race_pair *p;
    int i;
};

static void *race_pair_main(void *arg)
{
    struct race_pair_waiter *w = arg;
    struct race_pair *p = w->p;
    for (int round = 1;; round++) {
        int go;
        while ((go = atomic_load(&p->go[w->i])) >= 0 && go < round) sched_yield();
        if (go < 0) return NULL;
        if (w->i == 1)
            for (volatile int spin = atomic_load(&p->spin); spin > 0; spin--) {
            }
        HANDLE objs[2] = {atomic_load(&p->x), p->b[w->i]};
        p->result[w->i] = WaitForMultipleObjects(2, objs, FALSE, 10000);
        atomic_store(&p->done[w->i], round);
    }
}

TEST(lifetime_close_racing_a_second_wait_leaves_no_pin)
{
    use_private_server("blockpair");
    struct race_pair p = {.b = {new_sem(0, 1), new_sem(0, 1)}};
    struct race_pair_waiter w[2] = {{&p, 0}, {&p, 1}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) ASSERT_EQ(pthread_create(&t[i], NULL, race_pair_main, &w[i]), 0);
    int rounds = getenv("NSEM_TEST_VALGRIND") ? 100 : 3000;
    for (int round = 1; round <= rounds; round++) {
        HANDLE x = new_sem(0, 1);
        atomic_store(&p.x, x);
        atomic_store(&p.go[0], round);
        while (query(p.b[0]).dwWaiterCount != 1) sched_yield();
        int d = (round * 13) % 600;
        atomic_store(&p.spin, round % 2 ? d : 0);
        atomic_store(&p.go[1], round);
        for (volatile int spin = round % 2 ? 0 : d; spin > 0; spin--) {
        }
        ASSERT(CloseHandle(x));
        for (int i = 0; i < 2; i++) { /* the first wait ends first */
            ASSERT(ReleaseSemaphore(p.b[i], 1, NULL));
            while (atomic_load(&p.done[i]) < round) sched_yield();
            if (p.result[i] != WAIT_OBJECT_0 + 1) ASSERT_EQ_U(WaitForSingleObject(p.b[i], 0), WAIT_OBJECT_0);
        }
        ASSERT_EQ_U(p.result[0], WAIT_OBJECT_0 + 1);
        NSEM_SERVER_STATS st = stats();
        if (st.dwPins != 0) printf("round %d: a pin is left\n", round);
        ASSERT_EQ_U(st.dwPins, 0);
    }
    for (int i = 0; i < 2; i++) {
        atomic_store(&p.go[i], -1);
        join(t[i]);
        ASSERT(CloseHandle(p.b[i]));
    }
    wait_server_clean();
    return 0;
}

/* SPEC 84: the handle count covers the handles of every process. */
TEST(lifetime_handle_count_across_processes)
{
    char name[200], arg[220];
    snprintf(name, sizeof name, "%s", uniq("count"));
    snprintf(arg, sizeof arg, "s:%s", name);
    HANDLE h = CreateSemaphoreA(NULL, 0, 10, name);
    ASSERT_NOT_NULL(h);
    pid_t pids[3];
    char line[100];
    for (int i = 0; i < 3; i++) {
        int fd;
        pids[i] = spawn_helper("lifetime_helper_hold", &fd, "open", arg, NULL);
        read_line(fd, line, sizeof line, 10000);
        ASSERT(strcmp(line, "ready") == 0);
        check_handles(h, (DWORD)i + 2);
    }
    check_sem(h, 3, 10);
    for (int i = 0; i < 3; i++) {
        ASSERT_EQ(kill(pids[i], SIGKILL), 0);
        ASSERT_EQ(wait_child(pids[i], 10000), 128 + SIGKILL);
        wait_handles(h, 3 - (DWORD)i);
    }
    check_sem(h, 3, 10);
    check_handles(h, 1);
    ASSERT_EQ(CloseHandle(h), TRUE);
    check_gone('s', name);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Error names (nsem.h NsemErrorName)
 * ------------------------------------------------------------------------------------------- */

#define ERR(name) {name, #name}
static const struct {
    DWORD code;
    const char *name;
} error_table[] = {
    ERR(ERROR_SUCCESS),
    ERR(ERROR_INVALID_FUNCTION),
    ERR(ERROR_FILE_NOT_FOUND),
    ERR(ERROR_PATH_NOT_FOUND),
    ERR(ERROR_ACCESS_DENIED),
    ERR(ERROR_INVALID_HANDLE),
    ERR(ERROR_NOT_ENOUGH_MEMORY),
    ERR(ERROR_BAD_LENGTH),
    ERR(ERROR_INVALID_PARAMETER),
    ERR(ERROR_EXCL_SEM_ALREADY_OWNED),
    ERR(ERROR_TOO_MANY_SEM_REQUESTS),
    ERR(ERROR_SEM_OWNER_DIED),
    ERR(ERROR_CALL_NOT_IMPLEMENTED),
    ERR(ERROR_SEM_TIMEOUT),
    ERR(ERROR_INSUFFICIENT_BUFFER),
    ERR(ERROR_INVALID_NAME),
    ERR(ERROR_BAD_PATHNAME),
    ERR(ERROR_ALREADY_EXISTS),
    ERR(ERROR_FILENAME_EXCED_RANGE),
    ERR(ERROR_NOT_OWNER),
    ERR(ERROR_TOO_MANY_POSTS),
    ERR(ERROR_MUTANT_LIMIT_EXCEEDED),
    ERR(ERROR_OBJECT_NAME_EXISTS),
    ERR(ERROR_ABANDONED_WAIT_0),
    ERR(ERROR_NOACCESS),
    ERR(ERROR_SERVICE_NOT_ACTIVE),
    ERR(ERROR_PRIVILEGE_NOT_HELD),
    ERR(ERROR_NO_SYSTEM_RESOURCES),
    ERR(ERROR_TIMEOUT),
};
#undef ERR

/* NsemErrorName(code) is exactly `name`. */
static void check_error_name_at(const char *file, int line, DWORD code, const char *name)
{
    const char *got = NsemErrorName(code);
    if (!got || strcmp(got, name) != 0) {
        char d[200];
        snprintf(d, sizeof d, "NsemErrorName(%u) is %s%s%s, expected \"%s\"", (unsigned)code, got ? "\"" : "",
                 got ? got : "NULL", got ? "\"" : "", name);
        harness_fail(file, line, "NsemErrorName", d);
    }
    const char *msg = NsemErrorMessage(code);
    if (!msg || !msg[0]) {
        char d[200];
        snprintf(d, sizeof d, "NsemErrorMessage(%u) (%s) is NULL or empty", (unsigned)code, name);
        harness_fail(file, line, "NsemErrorMessage", d);
    }
}
#define check_error_name(code, name) check_error_name_at(__FILE__, __LINE__, (code), (name))

/* nsem.h NsemErrorName (EXCLUSIVE.md: ERROR_EXCL_SEM_ALREADY_OWNED is 101) */
TEST(lifetime_error_name_excl_sem)
{
    ASSERT_EQ_U(ERROR_EXCL_SEM_ALREADY_OWNED, 101);
    const char *n = NsemErrorName(ERROR_EXCL_SEM_ALREADY_OWNED);
    ASSERT_NOT_NULL(n);
    ASSERT(strcmp(n, "ERROR_EXCL_SEM_ALREADY_OWNED") == 0);
    return 0;
}

/* nsem.h NsemErrorName: every ERROR_* code of nsem.h has its own name (and a message). */
TEST(lifetime_error_name_table)
{
    for (size_t i = 0; i < sizeof error_table / sizeof error_table[0]; i++)
        check_error_name(error_table[i].code, error_table[i].name);
    ASSERT_EQ_U(NO_ERROR, ERROR_SUCCESS);
    return 0;
}

/* Opens the nsem.h this binary was built from (<root>/<build dir>/tests/run-tests, or the current
 * directory's include/nsem.h). */
static FILE *open_header(void)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 40);
    if (n > 0) {
        exe[n] = 0;
        for (int up = 0; up < 3; up++) {
            char *slash = strrchr(exe, '/');
            if (!slash) break;
            *slash = 0;
        }
        strcat(exe, "/include/nsem.h");
        FILE *f = fopen(exe, "r");
        if (f) return f;
    }
    return fopen("include/nsem.h", "r");
}

/* nsem.h NsemErrorName: also every ERROR_* #define in the header as it is now, so that a code added
 * to nsem.h without a name is caught. */
TEST(lifetime_error_name_every_header_code)
{
    FILE *f = open_header();
    if (!f) {
        printf("include/nsem.h not found next to the test binary: nothing to scan\n");
        return TEST_SKIP;
    }
    char line[512];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        char name[128];
        char value[64];
        if (sscanf(line, "#define %127s %63s", name, value) != 2) continue;
        if (strncmp(name, "ERROR_", 6) != 0) continue;
        char *end;
        unsigned long code = strtoul(value, &end, 0);
        if (end == value) continue; /* an alias of another macro, not a number */
        check_error_name((DWORD)code, name);
        found++;
    }
    fclose(f);
    ASSERT(found >= (int)(sizeof error_table / sizeof error_table[0]));
    return 0;
}

/* nsem.h NsemErrorName: NULL for a code nsem does not know. */
TEST(lifetime_error_name_unknown)
{
    ASSERT_NULL(NsemErrorName(12345));
    ASSERT_NULL(NsemErrorMessage(12345));
    ASSERT_NULL(NsemErrorName(0xdeadbeefu));
    return 0;
}

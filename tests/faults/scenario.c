/*
 * scenario.c — the realistic client the fault driver runs again and again, in two parts.
 *
 * The walk (in a fork child): named objects created and opened, waits (one blocked in a thread),
 * releases, a duplicate, an undo semaphore; security descriptors (created from SDDL, read with
 * GetSecurityInfo and GetKernelObjectSecurity, changed with SetKernelObjectSecurity); a private
 * namespace (boundary, create, open under a second alias, an object named alias\name, destroy); a
 * fork child using inherited handles, a fork child killed while it owns a mutex; an exec'd image
 * and a posix_spawn child (this program again, in its helper mode) using an inheritable handle;
 * every handle closed. Once it is gone, the parent checks that the server holds nothing.
 *
 * The crash (with a private server only: $NSEM_SERVER set): the parent SIGKILLs the server while it
 * holds handles, a permit, an owned mutex, an undo permit, a changed DACL and a blocked wait; its
 * next calls reach a restarted server that recovered them, and a fork child uses them there.
 *
 * Linked with the faulty library (tests/faults/faultinj.c), any call may fail. The contract
 * checked: a call that fails sets a Windows error (GetLastError() not 0), and one that succeeds
 * leaves a coherent object (checked where the state is known: a release seen by another process,
 * what survives the crash). A step that fails is skipped with what depends on it; the scenario
 * never waits without a timeout. Without faults (neither NSEM_FAULT nor NSEMD_FAULT set: the
 * driver's counting run) every call must succeed, so that the count walks every call site.
 * Exit 0: contract kept; 1: broken (printed); a signal or the driver's timeout: a crash or a hang.
 * Lines on stdout: "server <pid>" first, or "server 0" when the first connection failed (then it
 * stops there); after the crash, "server <pid>" of the restarted server, or "server 0" if none
 * could start.
 *
 *   scenario [TAG]                         the scenario
 *   scenario --child exec|spawn H N        the helper: H an inherited handle, N a handle it must
 *                                          not have (non-inheritable); exit 0 released H, 2 a call
 *                                          failed with a Windows error, 1 contract broken
 */
#include <nsem.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int broken;
static int strict; /* no fault anywhere: every call must succeed */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A failed call must say why: GetLastError() is poisoned before each call and checked after. */
static int ok_at(int line, BOOL success)
{
    DWORD e = GetLastError();
    if (!success && (e == 0 || e == 0xdeadbeef)) {
        printf("line %d: failed without a Windows error (%lu)\n", line, (unsigned long)e);
        broken = 1;
    } else if (!success && strict) {
        printf("line %d: failed with %lu, and nothing was made to fail\n", line, (unsigned long)e);
        broken = 1;
    }
    SetLastError(0xdeadbeef);
    return success;
}
#define OK(call) ok_at(__LINE__, (call) ? TRUE : FALSE)

static void contract(int line, const char *what)
{
    printf("line %d: %s\n", line, what);
    broken = 1;
}
#define BROKEN(what) contract(__LINE__, (what))

/* Waits for a child at most ms, then kills it: nothing here waits without a timeout. Returns its
 * exit status (-1: it had to be killed, or ended by a signal). */
static int wait_child(pid_t pid, long ms)
{
    for (long waited = 0;; waited += 5) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid && WIFSIGNALED(status)) printf("child %d killed by signal %d\n", (int)pid, WTERMSIG(status));
        if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (r < 0 && errno != EINTR) return -1;
        if (waited >= ms) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            printf("child %d still running after %ld ms: killed\n", (int)pid, ms);
            broken = 1;
            return -1;
        }
        sleep_ms(5);
    }
}

static void *set_later(void *arg)
{
    sleep_ms(20);
    OK(SetEvent((HANDLE)arg));
    return NULL;
}

/* ---- security descriptors ---------------------------------------------------------------- */

/* The object's DACL as SDDL (LocalFree it), NULL if a call failed (with a Windows error). */
static char *dacl_sddl(HANDLE h)
{
    PACL dacl;
    PSECURITY_DESCRIPTOR got = NULL;
    DWORD r = GetSecurityInfo(h, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, &dacl, NULL, &got);
    SetLastError(r);
    if (!OK(r == ERROR_SUCCESS)) return NULL;
    char *s = NULL;
    if (!OK(ConvertSecurityDescriptorToStringSecurityDescriptorA(got, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &s,
                                                                 NULL)))
        s = NULL;
    LocalFree(got);
    return s;
}

/* GetKernelObjectSecurity (the size query, then the copy), and SetKernelObjectSecurity of a DACL
 * that adds Everyone: read back, the ACE is there. Returns the DACL now set (LocalFree it). */
static char *security_walk(HANDLE d)
{
    DWORD need = 0;
    SetLastError(0xdeadbeef);
    if (GetKernelObjectSecurity(d, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, NULL, 0, &need)) {
        BROKEN("GetKernelObjectSecurity into no buffer succeeded");
    } else if (GetLastError() == ERROR_INSUFFICIENT_BUFFER) {
        void *buf = malloc(need);
        DWORD need2 = 0;
        SetLastError(0xdeadbeef);
        if (buf && OK(GetKernelObjectSecurity(d, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, buf, need,
                                              &need2)) &&
            (need2 != need || !IsValidSecurityDescriptor(buf)))
            BROKEN("GetKernelObjectSecurity gave another length or an invalid descriptor");
        free(buf);
    } else {
        OK(FALSE); /* failed: with a Windows error */
    }
    SetLastError(0xdeadbeef);
    PSECURITY_DESCRIPTOR sd = NULL;
    if (!OK(ConvertStringSecurityDescriptorToSecurityDescriptorA("D:P(A;;GA;;;OW)(A;;GR;;;WD)", SDDL_REVISION_1, &sd,
                                                                 NULL)))
        return NULL;
    BOOL set = SetKernelObjectSecurity(d, DACL_SECURITY_INFORMATION, sd);
    OK(set);
    LocalFree(sd);
    char *now = dacl_sddl(d);
    if (set && now && !strstr(now, ";;;WD)")) {
        printf("DACL after SetKernelObjectSecurity: %s\n", now);
        BROKEN("SetKernelObjectSecurity succeeded, and its ACE is not there");
    }
    return now;
}

/* ---- private namespaces ------------------------------------------------------------------- */

/* A boundary of this user, a namespace made under one alias and opened under another, a mutex in
 * it by both names, the second alias closed, the namespace destroyed: it can no longer be opened. */
static void private_namespace(const char *tag)
{
    char name[64], sid[64];
    snprintf(name, sizeof name, "%s-boundary", tag);
    snprintf(sid, sizeof sid, "S-1-22-1-%u", (unsigned)getuid());
    HANDLE bd = CreateBoundaryDescriptorA(name, 0);
    if (!OK(bd)) return;
    PSID psid = NULL;
    BOOL added = FALSE;
    if (OK(ConvertStringSidToSidA(sid, &psid))) {
        added = OK(AddSIDToBoundaryDescriptor(&bd, psid));
        LocalFree(psid);
    }
    HANDLE ns = added ? CreatePrivateNamespaceA(NULL, bd, "fa") : NULL;
    if (added) OK(ns);
    HANDLE o = ns ? CreateMutexA(NULL, FALSE, "fa\\mutex") : NULL;
    if (ns) OK(o);
    HANDLE ns2 = ns ? OpenPrivateNamespaceA(bd, "fb") : NULL;
    if (ns) OK(ns2);
    HANDLE o2 = ns2 ? OpenMutexA(SYNCHRONIZE, FALSE, "fb\\mutex") : NULL;
    if (ns2) {
        DWORD e = GetLastError();
        /* without the mutex (its create failed), the name is not found: that is right */
        if (o2 || o || e != ERROR_FILE_NOT_FOUND) OK(o2);
        SetLastError(0xdeadbeef);
    }
    if (o && o2) {
        /* one object under both names: owned through one, released through the other */
        DWORD r = WaitForSingleObject(o2, 1000);
        OK(r != WAIT_FAILED);
        if (r == WAIT_OBJECT_0 && !ReleaseMutex(o)) BROKEN("alias\\name opened another mutex than it created");
        SetLastError(0xdeadbeef);
    }
    if (ns2) OK(ClosePrivateNamespace(ns2, 0));
    if (ns && OK(ClosePrivateNamespace(ns, PRIVATE_NAMESPACE_FLAG_DESTROY))) {
        HANDLE again = OpenPrivateNamespaceA(bd, "fc");
        if (again) {
            BROKEN("a destroyed namespace opened again");
            ClosePrivateNamespace(again, 0);
        } else if (GetLastError() != ERROR_PATH_NOT_FOUND) {
            OK(FALSE);
        }
        SetLastError(0xdeadbeef);
    }
    if (o) OK(CloseHandle(o));
    if (o2) OK(CloseHandle(o2));
    DeleteBoundaryDescriptor(bd);
}

/* ---- inheritance over exec and posix_spawn ------------------------------------------------ */

/* The helper: an exec'd image or a spawned child, given the value of an inheritable semaphore it
 * releases and of a non-inheritable handle it must not have. */
static int child_main(char **argv)
{
    SetLastError(0xdeadbeef);
    HANDLE h = (HANDLE)(uintptr_t)strtoul(argv[1], NULL, 0);
    HANDLE n = (HANDLE)(uintptr_t)strtoul(argv[2], NULL, 0);
    int failed = 0;
    if (!OK(ReleaseSemaphore(h, 1, NULL))) failed = 1;
    DWORD flags;
    SetLastError(0xdeadbeef);
    if (n && GetHandleInformation(n, &flags)) BROKEN("a non-inheritable handle came through");
    else if (n && GetLastError() != ERROR_INVALID_HANDLE && !OK(FALSE)) failed = 1;
    if (broken) return 1;
    return failed ? 2 : 0;
}

/* Runs the helper (by fork + exec, or by posix_spawn) on an inheritable semaphore, and checks the
 * release it reports. */
static void inherit_walk(const char *how, HANDLE other)
{
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE h = CreateSemaphoreA(&sa, 0, 1, NULL);
    if (!OK(h)) return;
    char hv[32], nv[32];
    snprintf(hv, sizeof hv, "%lu", (unsigned long)(uintptr_t)h);
    snprintf(nv, sizeof nv, "%lu", (unsigned long)(uintptr_t)other);
    char *argv[] = {"scenario", "--child", (char *)how, hv, nv, NULL};
    pid_t pid = -1;
    if (!strcmp(how, "exec")) {
        pid = fork();
        if (pid == 0) {
            execve("/proc/self/exe", argv, environ);
            _exit(127);
        }
    } else if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ) != 0) {
        pid = -1;
        if (strict) BROKEN("posix_spawn failed");
    }
    if (pid > 0) {
        int status = wait_child(pid, 15000);
        if (status == 1 || status == 127) {
            printf("%s child: status %d\n", how, status);
            broken = 1;
        } else if (status == 2 && strict) {
            BROKEN("a child's call failed without a fault");
        }
        /* released there: the count is here (the same object) */
        DWORD r = WaitForSingleObject(h, 0);
        OK(r != WAIT_FAILED);
        if (status == 0 && r == WAIT_TIMEOUT) {
            printf("%s child released the semaphore, and it is not signalled here\n", how);
            broken = 1;
        }
    }
    OK(CloseHandle(h));
}

/* ---- the server killed -------------------------------------------------------------------- */

/* Whether pid has exited (a zombie counts: the server is not our child). */
static int exited(pid_t pid)
{
    char path[64], state = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 1;
    if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1) state = 0;
    fclose(f);
    return state == 'Z' || state == 'X';
}

struct blocked {
    HANDLE h;
    DWORD result, error;
};

static void *wait_blocked(void *arg)
{
    struct blocked *b = arg;
    SetLastError(0xdeadbeef);
    b->result = WaitForSingleObject(b->h, 5000);
    b->error = GetLastError();
    return NULL;
}

/* The server holds nothing but this process's connection (once the processes of the walk are
 * gone: their cleanup is asynchronous): polled up to 15 s, as the driver's witness does. Says what
 * is left; a stats call failing (a fault) is tried again a few times. */
static void expect_nothing_left(DWORD server)
{
    NSEM_SERVER_STATS st = {.cbSize = sizeof st};
    int failures = 0;
    for (long waited = 0;; waited += 20) {
        SetLastError(0xdeadbeef);
        if (!NsemGetServerStats(&st)) {
            OK(FALSE);
            if (++failures == 5) return;
            continue;
        }
        if (st.dwServerProcessId != server) {
            printf("server %lu gave way to %lu during the walk\n", (unsigned long)server,
                   (unsigned long)st.dwServerProcessId);
            broken = 1;
            return;
        }
        if (!st.dwObjects && !st.dwHandles && !st.dwPins && st.dwClients == 1 && !st.dwRecords && !st.dwUndoRecords &&
            !st.dwTickets && !st.dwCleanups && !st.dwArenaSlots)
            return;
        if (waited >= 15000) break;
        sleep_ms(20);
    }
    printf("left after the walk: objects %lu handles %lu pins %lu clients %lu records %lu undo %lu tickets %lu "
           "cleanups %lu arena slots %lu\n",
           (unsigned long)st.dwObjects, (unsigned long)st.dwHandles, (unsigned long)st.dwPins,
           (unsigned long)st.dwClients, (unsigned long)st.dwRecords, (unsigned long)st.dwUndoRecords,
           (unsigned long)st.dwTickets, (unsigned long)st.dwCleanups, (unsigned long)st.dwArenaSlots);
    broken = 1;
}

/* The crash: this process holds a semaphore (one permit taken), a named mutex it owns, an undo
 * semaphore it took, an event with a changed DACL, and has a thread blocked on a reset event, when
 * it SIGKILLs the server. The next calls reach a restarted server that recovered them: counts,
 * ownership, names and descriptors as they were; a fork child uses them through the new server.
 * Returns 0 if no server could start after it (then it stops there). */
static int crash(const char *tag, pid_t server)
{
    char sn[64], mn[64], dn[64];
    snprintf(sn, sizeof sn, "%s-crash-sem", tag);
    snprintf(mn, sizeof mn, "%s-crash-mutex", tag);
    snprintf(dn, sizeof dn, "%s-crash-sd", tag);
    HANDLE s = CreateSemaphoreA(NULL, 2, 5, sn);
    OK(s);
    LONG count = -1; /* known after a successful take */
    if (s) {
        DWORD r = WaitForSingleObject(s, 0);
        OK(r != WAIT_FAILED);
        if (r == WAIT_OBJECT_0) count = 1;
    }
    HANDLE m = CreateMutexA(NULL, TRUE, mn); /* new: owned */
    OK(m);
    HANDLE u = CreateSemaphoreExA(NULL, 1, 1, NULL, SEMAPHORE_UNDO, SEMAPHORE_ALL_ACCESS);
    OK(u);
    if (u) OK(WaitForSingleObject(u, 0) != WAIT_FAILED);
    HANDLE e = CreateEventA(NULL, TRUE, FALSE, NULL);
    OK(e);
    PSECURITY_DESCRIPTOR sd = NULL;
    HANDLE d = NULL;
    char *dacl = NULL;
    if (OK(ConvertStringSecurityDescriptorToSecurityDescriptorA("D:P(A;;GA;;;OW)", SDDL_REVISION_1, &sd, NULL))) {
        SECURITY_ATTRIBUTES sa = {sizeof sa, sd, FALSE};
        d = CreateEventA(&sa, FALSE, FALSE, dn);
        OK(d);
        LocalFree(sd);
    }
    if (d) dacl = security_walk(d);

    struct blocked b = {e, 0, 0};
    pthread_t t;
    int started = e && pthread_create(&t, NULL, wait_blocked, &b) == 0;
    sleep_ms(50); /* most often, the thread is blocked by now */
    kill(server, SIGKILL);
    for (int i = 0; i < 1000 && !exited(server); i++) sleep_ms(5);
    if (started) {
        pthread_join(t, NULL);
        if (b.result == WAIT_OBJECT_0) BROKEN("a wait on an event nobody set returned WAIT_OBJECT_0");
        if (b.result == WAIT_FAILED && (b.error == 0 || b.error == 0xdeadbeef)) BROKEN("a wait failed without an error");
        if (strict && (b.result != WAIT_FAILED || b.error != ERROR_PROCESS_ABORTED)) {
            printf("wait at the crash: %#lx, error %lu\n", (unsigned long)b.result, (unsigned long)b.error);
            BROKEN("a wait blocked at the crash did not fail with ERROR_PROCESS_ABORTED");
        }
    }
    NSEM_SERVER_STATS st = {.cbSize = sizeof st};
    if (!OK(NsemGetServerStats(&st))) {
        printf("server 0\n");
        LocalFree(dacl);
        return 0;
    }
    printf("server %lu\n", (unsigned long)st.dwServerProcessId);
    fflush(stdout);

    /* What survives: the count, the name, the ownership, the descriptor. */
    if (s) {
        NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
        BOOL known = OK(NsemQueryObject(s, &info));
        if (known && (info.lMaximumCount != 5 || (count >= 0 && info.lCurrentCount != count))) {
            printf("semaphore after the crash: count %ld of %ld, was %ld of 5\n", (long)info.lCurrentCount,
                   (long)info.lMaximumCount, (long)count);
            BROKEN("a semaphore's count changed in the crash");
        }
        HANDLE again = OpenSemaphoreA(SYNCHRONIZE, FALSE, sn);
        /* While our handle keeps the object, its name leads to it. (A connection the library
         * dropped on an error of its own took the handle with it: then the name goes too.) */
        DWORD why = GetLastError();
        if (!again && known && why == ERROR_FILE_NOT_FOUND && NsemQueryObject(s, &info))
            BROKEN("a name was lost in the crash");
        SetLastError(why);
        if (OK(again)) OK(CloseHandle(again));
    }
    if (m) {
        SetLastError(0xdeadbeef);
        if (!ReleaseMutex(m) && GetLastError() == ERROR_NOT_OWNER) BROKEN("a mutex's ownership was lost in the crash");
        else OK(TRUE);
    }
    if (u) OK(ReleaseSemaphore(u, 1, NULL));
    if (d && dacl) {
        char *now = dacl_sddl(d);
        if (now && strcmp(now, dacl) != 0) {
            printf("DACL before the crash %s, after %s\n", dacl, now);
            BROKEN("a descriptor changed in the crash");
        }
        LocalFree(now);
    }
    LocalFree(dacl);
    /* A fork child of the new server's time uses the recovered semaphore. */
    pid_t child = fork();
    if (child == 0) {
        broken = 0; /* its own contract only */
        SetLastError(0xdeadbeef);
        if (s) {
            DWORD r = WaitForSingleObject(s, 1000);
            OK(r != WAIT_FAILED);
            if (r == WAIT_OBJECT_0) OK(ReleaseSemaphore(s, 1, NULL));
        }
        _exit(broken);
    }
    if (child > 0 && wait_child(child, 15000) != 0) BROKEN("fork child after the crash failed");
    HANDLE hs[] = {s, m, u, e, d};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
        if (hs[i]) OK(CloseHandle(hs[i]));
    return 1;
}

/* The walk: every part but the crash. */
static void walk(const char *tag)
{
    char sn[64], mn[64], en[64];
    snprintf(sn, sizeof sn, "%s-sem", tag);
    snprintf(mn, sizeof mn, "%s-mutex", tag);
    snprintf(en, sizeof en, "%s-event", tag);
    HANDLE s = CreateSemaphoreA(NULL, 1, 5, sn);
    OK(s);
    HANDLE m = CreateMutexA(NULL, FALSE, mn);
    OK(m);
    HANDLE e = CreateEventA(NULL, TRUE, FALSE, en);
    OK(e);
    HANDLE u = CreateSemaphoreExA(NULL, 2, 2, NULL, SEMAPHORE_UNDO, SEMAPHORE_ALL_ACCESS);
    OK(u);
    /* A named object with a security descriptor from SDDL, queried, its descriptor read and
     * changed: the library's allocations for descriptors and replies, the server's store. */
    PSECURITY_DESCRIPTOR sd = NULL;
    HANDLE d = NULL;
    if (OK(ConvertStringSecurityDescriptorToSecurityDescriptorA("D:P(A;;GA;;;OW)", SDDL_REVISION_1, &sd, NULL))) {
        char dn[64];
        snprintf(dn, sizeof dn, "%s-sd", tag);
        SECURITY_ATTRIBUTES sa = {sizeof sa, sd, FALSE};
        d = CreateEventA(&sa, FALSE, FALSE, dn);
        OK(d);
        LocalFree(sd);
    }
    if (d) {
        NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
        OK(NsemQueryObject(d, &info));
        LocalFree(dacl_sddl(d));
        LocalFree(security_walk(d));
    }
    HANDLE s2 = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, sn);
    OK(s2);
    HANDLE dup = NULL;
    if (s && !OK(DuplicateHandle(GetCurrentProcess(), s, GetCurrentProcess(), &dup, 0, FALSE, DUPLICATE_SAME_ACCESS)))
        dup = NULL;

    if (s) {
        DWORD r = WaitForSingleObject(s, 0);
        OK(r != WAIT_FAILED);
        if (r == WAIT_OBJECT_0) OK(ReleaseSemaphore(s2 ? s2 : s, 1, NULL));
    }
    if (u) OK(WaitForSingleObject(u, 0) != WAIT_FAILED); /* undone when we exit */
    if (m && e) {
        pthread_t t;
        if (pthread_create(&t, NULL, set_later, e) == 0) {
            HANDLE both[] = {m, e};
            DWORD r = WaitForMultipleObjects(2, both, TRUE, 5000);
            OK(r != WAIT_FAILED);
            if (r == WAIT_OBJECT_0) OK(ReleaseMutex(m));
            pthread_join(t, NULL);
        }
        OK(ResetEvent(e));
    }

    private_namespace(tag);

    /* A fork child inherits every handle and uses them. */
    pid_t child = fork();
    if (child == 0) {
        broken = 0; /* its own contract only */
        SetLastError(0xdeadbeef);
        if (s) {
            DWORD r = WaitForSingleObject(s, 1000);
            OK(r != WAIT_FAILED);
            if (r == WAIT_OBJECT_0) OK(ReleaseSemaphore(s, 1, NULL));
        }
        if (dup) OK(CloseHandle(dup));
        _exit(broken);
    }
    if (child > 0 && wait_child(child, 15000) != 0) {
        printf("fork child failed\n");
        broken = 1;
    }

    /* A fork child killed while it owns the mutex and waits: the server must clean up after it. */
    int pfd[2];
    if (m && e && pipe(pfd) == 0) {
        child = fork();
        if (child == 0) {
            close(pfd[0]);
            char c = WaitForSingleObject(m, 1000) == WAIT_OBJECT_0 ? 'o' : 'f';
            HANDLE extra = CreateSemaphoreA(NULL, 0, 1, NULL);
            (void)!write(pfd[1], &c, 1);
            WaitForSingleObject(e, 10000);
            (void)extra;
            _exit(0);
        }
        close(pfd[1]);
        if (child > 0) {
            char c = 'f'; /* the child died before it told */
            (void)!read(pfd[0], &c, 1);
            sleep_ms(10); /* most often, the child is blocked in its wait by now */
            kill(child, SIGKILL);
            waitpid(child, NULL, 0);
            DWORD r = WaitForSingleObject(m, 5000);
            OK(r != WAIT_FAILED);
            if (c == 'o' && r != WAIT_ABANDONED && r != WAIT_FAILED) {
                printf("killed owner's mutex: wait returned %#lx, not WAIT_ABANDONED\n", (unsigned long)r);
                broken = 1;
            }
            if (r == WAIT_OBJECT_0 || r == WAIT_ABANDONED) OK(ReleaseMutex(m));
        }
        close(pfd[0]);
    }

    /* An exec'd image and a posix_spawn child use an inheritable handle; s2 is not inherited. */
    inherit_walk("exec", s2);
    inherit_walk("spawn", s2);

    HANDLE hs[] = {s, m, e, u, s2, dup, d};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
        if (hs[i]) OK(CloseHandle(hs[i]));
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "--child")) return child_main(argv + 2);
    const char *tag = argc > 1 ? argv[1] : "fi";
    const char *f1 = getenv("NSEM_FAULT"), *f2 = getenv("NSEMD_FAULT");
    strict = !(f1 && *f1) && !(f2 && *f2);
    SetLastError(0xdeadbeef);

    NSEM_SERVER_STATS st = {.cbSize = sizeof st};
    /* No server (it could not start): every call would fail the same way; one Windows error
     * says it. */
    if (!OK(NsemGetServerStats(&st))) {
        printf("server 0\n");
        return broken;
    }
    printf("server %lu\n", (unsigned long)st.dwServerProcessId);
    fflush(stdout);

    /* The walk runs in a child: once it is gone, this process, which holds nothing, checks that
     * the server holds nothing either (the crash would hide what the server leaked). */
    pid_t child = fork();
    if (child == 0) {
        broken = 0; /* its own contract only */
        SetLastError(0xdeadbeef);
        walk(tag);
        fflush(stdout);
        _exit(broken);
    }
    if (child < 0 || wait_child(child, 40000) != 0) BROKEN("the walk failed");
    expect_nothing_left(st.dwServerProcessId);

    /* The crash, with a private server only. */
    if (getenv("NSEM_SERVER")) crash(tag, (pid_t)st.dwServerProcessId);
    return broken;
}

/*
 * scenario.c — the realistic client the fault driver runs again and again: named objects created
 * and opened, one with a security descriptor read back, waits (one blocked in a thread), releases, a duplicate, an undo semaphore, a fork
 * child using inherited handles, a fork child killed while it owns a mutex, and every handle
 * closed. Linked with the faulty library (tests/faults/faultinj.c), any call may fail.
 *
 * The contract checked: a call that fails sets a Windows error (GetLastError() not 0), and one
 * that succeeds leaves a coherent object. A step that fails is skipped with what depends on it;
 * the scenario never waits without a timeout. Exit 0: contract kept; 1: broken (printed);
 * a signal or the driver's timeout: a crash or a hang.
 * First line on stdout: "server <pid>", or "server 0" when the first connection failed (then it
 * stops there).
 */
#include <nsem.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int broken;

/* A failed call must say why: GetLastError() is poisoned before each call and checked after. */
static int ok_at(int line, BOOL success)
{
    DWORD e = GetLastError();
    if (!success && (e == 0 || e == 0xdeadbeef)) {
        printf("line %d: failed without a Windows error (%lu)\n", line, (unsigned long)e);
        broken = 1;
    }
    SetLastError(0xdeadbeef);
    return success;
}
#define OK(call) ok_at(__LINE__, (call) ? TRUE : FALSE)

static void *set_later(void *arg)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    OK(SetEvent((HANDLE)arg));
    return NULL;
}

int main(int argc, char **argv)
{
    const char *tag = argc > 1 ? argv[1] : "fi";
    char sn[64], mn[64], en[64];
    snprintf(sn, sizeof sn, "%s-sem", tag);
    snprintf(mn, sizeof mn, "%s-mutex", tag);
    snprintf(en, sizeof en, "%s-event", tag);
    SetLastError(0xdeadbeef);

    NSEM_SERVER_STATS st = {.cbSize = sizeof st};
    /* No server (it could not start): every call would fail the same way, after the library's
     * 10 s of connection attempts each; one Windows error says it. */
    if (!OK(NsemGetServerStats(&st))) {
        printf("server 0\n");
        return broken;
    }
    printf("server %lu\n", (unsigned long)st.dwServerProcessId);
    fflush(stdout);

    HANDLE s = CreateSemaphoreA(NULL, 1, 5, sn);
    OK(s);
    HANDLE m = CreateMutexA(NULL, FALSE, mn);
    OK(m);
    HANDLE e = CreateEventA(NULL, TRUE, FALSE, en);
    OK(e);
    HANDLE u = CreateSemaphoreExA(NULL, 2, 2, NULL, SEMAPHORE_UNDO, SEMAPHORE_ALL_ACCESS);
    OK(u);
    /* A named object with a security descriptor from SDDL, queried and its DACL read back: the
     * library's allocations for descriptors and replies. */
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
        PACL dacl;
        PSECURITY_DESCRIPTOR got = NULL;
        DWORD r = GetSecurityInfo(d, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, &dacl, NULL, &got);
        SetLastError(r);
        OK(r == ERROR_SUCCESS);
        if (got) LocalFree(got);
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

    /* A fork child inherits every handle and uses them. */
    pid_t child = fork();
    if (child == 0) {
        SetLastError(0xdeadbeef);
        if (s) {
            DWORD r = WaitForSingleObject(s, 1000);
            OK(r != WAIT_FAILED);
            if (r == WAIT_OBJECT_0) OK(ReleaseSemaphore(s, 1, NULL));
        }
        if (dup) OK(CloseHandle(dup));
        _exit(broken);
    }
    if (child > 0) {
        int status;
        waitpid(child, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            printf("fork child ended with status %#x\n", status);
            broken = 1;
        }
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
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL); /* most often, the child is blocked in its wait by now */
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

    HANDLE hs[] = {s, m, e, u, s2, dup, d};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
        if (hs[i]) OK(CloseHandle(hs[i]));
    return broken;
}

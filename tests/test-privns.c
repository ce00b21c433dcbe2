/*
 * test-privns.c — private namespaces: boundary descriptors, CreatePrivateNamespace,
 * OpenPrivateNamespace, ClosePrivateNamespace, and "alias\name" object names, across processes,
 * with Windows' error codes for every misuse. (No Wine oracle exists: SPEC 102.)
 */
#include "checks.h"

#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <wchar.h>

/* A boundary named after the test process (so that tests do not meet), holding SID `sid`. */
static HANDLE boundary_with(const char *tag, const char *sid)
{
    char name[128];
    snprintf(name, sizeof name, "nsem-test-%d-%s", (int)getpid(), tag);
    HANDLE bd = CreateBoundaryDescriptorA(name, 0);
    ASSERT_NOT_NULL(bd);
    PSID s;
    ASSERT(ConvertStringSidToSidA(sid, &s));
    ASSERT(AddSIDToBoundaryDescriptor(&bd, s));
    LocalFree(s);
    return bd;
}

static const char *my_sid(void)
{
    static char sid[64];
    snprintf(sid, sizeof sid, "S-1-22-1-%u", (unsigned)getuid());
    return sid;
}

HELPER(privns_peer)
{
    /* argv: boundary tag, owner pid, alias */
    char name[128];
    snprintf(name, sizeof name, "nsem-test-%s-%s", argv[1], argv[0]);
    HANDLE bd = CreateBoundaryDescriptorA(name, 0);
    PSID s;
    char sid[64];
    snprintf(sid, sizeof sid, "S-1-22-1-%u", (unsigned)getuid());
    if (!bd || !ConvertStringSidToSidA(sid, &s) || !AddSIDToBoundaryDescriptor(&bd, s)) return 10;
    LocalFree(s);
    char full[64];
    snprintf(full, sizeof full, "%s\\sem", argv[2]);
    /* Before opening the namespace, the alias means nothing here. */
    SetLastError(0xdead);
    if (OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, full) || GetLastError() != ERROR_PATH_NOT_FOUND) return 11;
    HANDLE ns = OpenPrivateNamespaceA(bd, argv[2]);
    if (!ns) return 12;
    HANDLE sem = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, full);
    if (!sem || !ReleaseSemaphore(sem, 1, NULL)) return 13;
    DeleteBoundaryDescriptor(bd);
    say("released");
    return 0;
}

TEST(privns_names_inside_are_apart_and_shared_by_boundary)
{
    HANDLE bd = boundary_with("shared", my_sid());
    SetLastError(0xdead);
    HANDLE ns = CreatePrivateNamespaceA(NULL, bd, "p");
    ASSERT_NOT_NULL(ns);
    SetLastError(0xdead);
    HANDLE inside = CreateSemaphoreA(NULL, 0, 1, "p\\sem");
    ASSERT_NOT_NULL(inside);
    ASSERT_GLE(0);
    /* the same leaf outside is another object */
    char outside_name[64];
    snprintf(outside_name, sizeof outside_name, "sem-%d", (int)getpid());
    HANDLE outside = CreateSemaphoreA(NULL, 0, 1, outside_name);
    ASSERT_NOT_NULL(outside);
    SetLastError(0xdead);
    HANDLE again = CreateSemaphoreA(NULL, 0, 1, "p\\sem");
    ASSERT_NOT_NULL(again);
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    ASSERT(CloseHandle(again));
    /* another process opens it by its boundary, under an alias of its own */
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    int fd;
    pid_t peer = spawn_helper("privns_peer", &fd, "shared", pid, "other", NULL);
    expect_line(fd, "released");
    ASSERT_EQ(wait_child(peer, 10000), 0);
    check_sem(inside, 1, 1);
    check_sem(outside, 0, 1);
    /* no session reaches it: its names live under a key of the private range */
    SetLastError(0xdead);
    ASSERT_NULL(OpenSemaphoreA(SYNCHRONIZE, FALSE, "Session\\2147483648\\sem"));
    ASSERT_GLE(ERROR_PATH_NOT_FOUND);
    /* an alias names objects, not directories */
    SetLastError(0xdead);
    ASSERT_NULL(OpenSemaphoreA(SYNCHRONIZE, FALSE, "p\\a\\b"));
    ASSERT_GLE(ERROR_PATH_NOT_FOUND);
    SetLastError(0xdead);
    ASSERT_NULL(CreateSemaphoreA(NULL, 0, 1, "p\\"));
    ASSERT_GLE(ERROR_INVALID_NAME);
    /* a namespace handle is not waitable */
    SetLastError(0xdead);
    ASSERT_EQ_U(WaitForSingleObject(ns, 0), WAIT_FAILED);
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    /* closing it takes the alias away; the objects live on */
    ASSERT(ClosePrivateNamespace(ns, 0));
    SetLastError(0xdead);
    ASSERT_NULL(OpenSemaphoreA(SYNCHRONIZE, FALSE, "p\\sem"));
    ASSERT_GLE(ERROR_PATH_NOT_FOUND);
    ASSERT(ReleaseSemaphore(outside, 1, NULL));
    ASSERT_EQ_U(WaitForSingleObject(inside, 0), WAIT_OBJECT_0);
    ASSERT(CloseHandle(inside));
    ASSERT(CloseHandle(outside));
    DeleteBoundaryDescriptor(bd);
    return 0;
}

TEST(privns_errors)
{
    HANDLE bd = boundary_with("errors", my_sid());
    HANDLE ns = CreatePrivateNamespaceA(NULL, bd, "e");
    ASSERT_NOT_NULL(ns);
    /* the same boundary again */
    SetLastError(0xdead);
    ASSERT_NULL(CreatePrivateNamespaceA(NULL, bd, "e2"));
    ASSERT_GLE(ERROR_ALREADY_EXISTS);
    /* the same alias in this process, for another boundary */
    HANDLE other = boundary_with("errors-other", my_sid());
    SetLastError(0xdead);
    ASSERT_NULL(CreatePrivateNamespaceA(NULL, other, "e"));
    ASSERT_GLE(ERROR_DUP_NAME);
    SetLastError(0xdead);
    ASSERT_NULL(OpenPrivateNamespaceA(bd, "e"));
    ASSERT_GLE(ERROR_DUP_NAME);
    /* no namespace of that boundary */
    SetLastError(0xdead);
    ASSERT_NULL(OpenPrivateNamespaceA(other, "o"));
    ASSERT_GLE(ERROR_PATH_NOT_FOUND);
    /* aliases */
    SetLastError(0xdead);
    ASSERT_NULL(CreatePrivateNamespaceA(NULL, other, "a\\b"));
    ASSERT_GLE(ERROR_INVALID_NAME);
    SetLastError(0xdead);
    ASSERT_NULL(CreatePrivateNamespaceA(NULL, other, "Global"));
    ASSERT_GLE(ERROR_INVALID_NAME);
    SetLastError(0xdead);
    ASSERT_NULL(CreatePrivateNamespaceA(NULL, other, ""));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(0xdead);
    ASSERT_NULL(CreatePrivateNamespaceA(NULL, other, NULL));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    /* boundaries: none, without a SID, with a SID the caller lacks */
    SetLastError(0xdead);
    ASSERT_NULL(CreatePrivateNamespaceA(NULL, NULL, "x"));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    HANDLE empty = CreateBoundaryDescriptorA("empty", 0);
    ASSERT_NOT_NULL(empty);
    SetLastError(0xdead);
    ASSERT_NULL(CreatePrivateNamespaceA(NULL, empty, "x"));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    char stranger[64];
    snprintf(stranger, sizeof stranger, "S-1-22-1-%u", (unsigned)getuid() + 4242u);
    HANDLE foreign = boundary_with("foreign", stranger);
    SetLastError(0xdead);
    ASSERT_NULL(CreatePrivateNamespaceA(NULL, foreign, "x"));
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    /* the descriptor calls */
    SetLastError(0xdead);
    ASSERT_NULL(CreateBoundaryDescriptorA(NULL, 0));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(0xdead);
    ASSERT_NULL(CreateBoundaryDescriptorA("x", CREATE_BOUNDARY_DESCRIPTOR_ADD_APPCONTAINER_SID));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    PSID s;
    ASSERT(ConvertStringSidToSidA("S-1-1-0", &s));
    SetLastError(0xdead);
    ASSERT(!AddSIDToBoundaryDescriptor(NULL, s));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    SetLastError(0xdead);
    ASSERT(!AddSIDToBoundaryDescriptor(&empty, NULL));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    unsigned char bad_sid[8] = {2, 0}; /* revision 2 */
    SetLastError(0xdead);
    ASSERT(!AddSIDToBoundaryDescriptor(&empty, bad_sid));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    LocalFree(s);
    /* ClosePrivateNamespace of what is not a namespace, or with unknown flags */
    HANDLE sem = new_sem(0, 1);
    SetLastError(0xdead);
    ASSERT(!ClosePrivateNamespace(sem, 0));
    ASSERT_GLE(ERROR_INVALID_HANDLE);
    SetLastError(0xdead);
    ASSERT(!ClosePrivateNamespace(ns, 2));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    ASSERT(CloseHandle(sem));
    ASSERT(ClosePrivateNamespace(ns, 0));
    DeleteBoundaryDescriptor(bd);
    DeleteBoundaryDescriptor(other);
    DeleteBoundaryDescriptor(empty);
    DeleteBoundaryDescriptor(foreign);
    return 0;
}

/* Everyone (S-1-1-0) is a SID every caller has; the W forms take wide names. */
TEST(privns_wide_and_everyone)
{
    wchar_t name[64], alias[] = L"w";
    swprintf(name, 64, L"nsem-test-%d-wide", (int)getpid());
    HANDLE bd = CreateBoundaryDescriptorW(name, 0);
    ASSERT_NOT_NULL(bd);
    PSID s;
    ASSERT(ConvertStringSidToSidA("S-1-1-0", &s));
    ASSERT(AddSIDToBoundaryDescriptor(&bd, s));
    LocalFree(s);
    HANDLE ns = CreatePrivateNamespaceW(NULL, bd, alias);
    ASSERT_NOT_NULL(ns);
    HANDLE e = CreateEventW(NULL, TRUE, TRUE, L"w\\event");
    ASSERT_NOT_NULL(e);
    HANDLE e2 = OpenEventA(SYNCHRONIZE, FALSE, "w\\event");
    ASSERT_NOT_NULL(e2);
    ASSERT_EQ_U(WaitForSingleObject(e2, 0), WAIT_OBJECT_0);
    ASSERT(CloseHandle(e2));
    ASSERT(CloseHandle(e));
    ASSERT(ClosePrivateNamespace(ns, 0));
    DeleteBoundaryDescriptor(bd);
    return 0;
}

HELPER(privns_holder)
{
    /* argv: boundary tag, owner pid */
    char name[128];
    snprintf(name, sizeof name, "nsem-test-%s-%s", argv[1], argv[0]);
    HANDLE bd = CreateBoundaryDescriptorA(name, 0);
    PSID s;
    if (!bd || !ConvertStringSidToSidA("S-1-1-0", &s) || !AddSIDToBoundaryDescriptor(&bd, s)) return 10;
    HANDLE ns = OpenPrivateNamespaceA(bd, "h");
    if (!ns) return 11;
    say("holding");
    for (;;) pause();
}

/* DESTROY: nobody can open the namespace any more, even while others hold handles to it. Without
 * it, the namespace lives while any handle does. */
TEST(privns_destroy)
{
    char name[128];
    snprintf(name, sizeof name, "nsem-test-%d-destroy", (int)getpid());
    HANDLE bd = CreateBoundaryDescriptorA(name, 0);
    PSID s;
    ASSERT(ConvertStringSidToSidA("S-1-1-0", &s));
    ASSERT(AddSIDToBoundaryDescriptor(&bd, s));
    LocalFree(s);
    HANDLE ns = CreatePrivateNamespaceA(NULL, bd, "d");
    ASSERT_NOT_NULL(ns);
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    int fd;
    pid_t holder = spawn_helper("privns_holder", &fd, "destroy", pid, NULL);
    expect_line(fd, "holding");
    /* closed here, held there: still found */
    ASSERT(ClosePrivateNamespace(ns, 0));
    ns = OpenPrivateNamespaceA(bd, "d");
    ASSERT_NOT_NULL(ns);
    HANDLE sem = CreateSemaphoreA(NULL, 1, 1, "d\\sem");
    ASSERT_NOT_NULL(sem);
    ASSERT(ClosePrivateNamespace(ns, PRIVATE_NAMESPACE_FLAG_DESTROY));
    SetLastError(0xdead);
    ASSERT_NULL(OpenPrivateNamespaceA(bd, "d"));
    ASSERT_GLE(ERROR_PATH_NOT_FOUND);
    /* a new one of the same boundary is another namespace */
    ns = CreatePrivateNamespaceA(NULL, bd, "d");
    ASSERT_NOT_NULL(ns);
    SetLastError(0xdead);
    ASSERT_NULL(OpenSemaphoreA(SYNCHRONIZE, FALSE, "d\\sem"));
    ASSERT_GLE(ERROR_FILE_NOT_FOUND);
    ASSERT_EQ_U(WaitForSingleObject(sem, 0), WAIT_OBJECT_0); /* the object in the old one lives on */
    ASSERT(CloseHandle(sem));
    ASSERT(ClosePrivateNamespace(ns, 0));
    kill(holder, SIGKILL);
    wait_child(holder, 10000);
    DeleteBoundaryDescriptor(bd);
    return 0;
}

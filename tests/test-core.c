/*
 * test-core.c — the core's own guarantees: the pure state machine and name resolver (unit tests,
 * no server), the uncontended fast path making no syscall, on-demand start of exactly one server,
 * the server's handling of malformed messages and of other users, and thread-exit abandonment.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/objstate.h"
#include "common/protocol.h"
#include "checks.h"
#include "server/server.h"

/* ---- the pure state machine ---------------------------------------------------------------- */

TEST(core_state_semaphore)
{
    uint32_t nv = 0xdeadbeef;
    ASSERT_EQ(nsem_state_take(NSEM_TYPE_SEMAPHORE, 0, 0, 1, &nv), NSEM_TAKE_BUSY);
    ASSERT_EQ_U(nv, 0xdeadbeef); /* untouched when busy */
    ASSERT_EQ(nsem_state_take(NSEM_TYPE_SEMAPHORE, 0, 2, 1, &nv), NSEM_TAKE_OK);
    ASSERT_EQ(nv, 1);
    ASSERT_EQ_U(nsem_state_sem_release(1, 2, 1, &nv), 0);
    ASSERT_EQ(nv, 2);
    nv = 77;
    ASSERT_EQ_U(nsem_state_sem_release(2, 2, 1, &nv), ERROR_TOO_MANY_POSTS);
    ASSERT_EQ(nv, 77);
    ASSERT_EQ_U(nsem_state_sem_release(0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, &nv), ERROR_TOO_MANY_POSTS);
    ASSERT_EQ_U(nsem_state_sem_release(0, 0x7FFFFFFF, 0x7FFFFFFF, &nv), 0);
    ASSERT_EQ(nv, 0x7FFFFFFF);
    ASSERT_EQ_U(nsem_state_sem_release(0, 5, 0, &nv), ERROR_INVALID_PARAMETER);
    return 0;
}

TEST(core_state_mutex)
{
    const uint32_t a = NSEM_MAKE_TOKEN(1, 1), b = NSEM_MAKE_TOKEN(2, 1);
    uint32_t nv;
    ASSERT_EQ(nsem_state_take(NSEM_TYPE_MUTEX, 0, 0, a, &nv), NSEM_TAKE_OK);
    ASSERT_EQ_U(nv, a);
    ASSERT_EQ(nsem_state_take(NSEM_TYPE_MUTEX, 0, a, a, &nv), NSEM_TAKE_RECURSE);
    ASSERT_EQ_U(nv, a);
    ASSERT_EQ(nsem_state_take(NSEM_TYPE_MUTEX, 0, a, b, &nv), NSEM_TAKE_BUSY);
    ASSERT_EQ_U(nsem_state_mutex_check_owner(a, b), ERROR_NOT_OWNER);
    ASSERT_EQ_U(nsem_state_mutex_check_owner(0, a), ERROR_NOT_OWNER);
    ASSERT_EQ_U(nsem_state_mutex_check_owner(a, a), 0);
    ASSERT_EQ_U(nsem_state_mutex_check_owner(0, 0), ERROR_NOT_OWNER); /* no token owns nothing */
    /* abandoned: the next taker is told once, and the flag is gone from its value */
    ASSERT_EQ(nsem_state_take(NSEM_TYPE_MUTEX, 0, nsem_state_mutex_abandon(), b, &nv), NSEM_TAKE_ABANDONED);
    ASSERT_EQ_U(nv, b);
    ASSERT_EQ(nsem_state_take(NSEM_TYPE_MUTEX, 0, nv, b, &nv), NSEM_TAKE_RECURSE);
    return 0;
}

TEST(core_state_event)
{
    uint32_t nv;
    ASSERT_EQ(nsem_state_take(NSEM_TYPE_EVENT, 0, 0, 1, &nv), NSEM_TAKE_BUSY);
    ASSERT_EQ(nsem_state_take(NSEM_TYPE_EVENT, 0, NSEM_EVENT_SET, 1, &nv), NSEM_TAKE_OK);
    ASSERT_EQ_U(nv, 0); /* auto reset consumes */
    ASSERT_EQ(nsem_state_take(NSEM_TYPE_EVENT, NSEM_SLOT_MANUAL_RESET, NSEM_EVENT_SET, 1, &nv), NSEM_TAKE_OK);
    ASSERT_EQ_U(nv, NSEM_EVENT_SET); /* manual reset stays set */
    uint32_t v = nsem_state_event_set(0);
    ASSERT_EQ_U(nsem_state_event_pulse_manual(v) & NSEM_EVENT_SET, 0);
    ASSERT_NE(nsem_state_event_pulses(nsem_state_event_pulse_manual(v)), nsem_state_event_pulses(v));
    ASSERT_EQ_U(nsem_state_event_reset(v), 0);
    return 0;
}

/* ---- name resolution (SPEC 1.D) ----------------------------------------------------------- */

static bool sessions_0_1_7(uint32_t s)
{
    return s == 0 || s == 1 || s == 7;
}

static void check_resolve(const char *name, uint32_t session, DWORD error, uint32_t want_session, const char *leaf)
{
    struct nsem_resolved r = {99, NULL, 0};
    DWORD e = nsem__resolve_name(name, (uint32_t)strlen(name), session, sessions_0_1_7, &r);
    if (e != error) {
        fprintf(stderr, "resolve(\"%s\", session %u): error %u, expected %u\n", name, session, e, error);
        ASSERT_EQ_U(e, error);
    }
    if (error) return;
    ASSERT_EQ(r.session, want_session);
    ASSERT_EQ(r.leaf_len, strlen(leaf));
    ASSERT(memcmp(r.leaf, leaf, r.leaf_len) == 0);
}

TEST(core_resolve_names)
{
    check_resolve("foo", 1, 0, 1, "foo");
    check_resolve("Local\\foo", 1, 0, 1, "foo");                 /* SPEC 28 */
    check_resolve("Global\\foo", 1, 0, 0, "foo");                /* SPEC 29 */
    check_resolve("Global\\foo", 0, 0, 0, "foo");
    check_resolve("foo", 0, 0, 0, "foo");                        /* session 0: Local is Global */
    check_resolve("Session\\7\\foo", 1, 0, 7, "foo");            /* SPEC 30 */
    check_resolve("Session\\8\\foo", 1, ERROR_PATH_NOT_FOUND, 0, NULL);
    check_resolve("Session\\07\\foo", 1, ERROR_PATH_NOT_FOUND, 0, NULL);
    check_resolve("Global\\Local\\foo", 1, 0, 0, "foo");         /* Local inside the global namespace */
    check_resolve("Local\\Global\\foo", 1, 0, 0, "foo");
    check_resolve("global\\foo", 1, ERROR_PATH_NOT_FOUND, 0, NULL); /* SPEC 31: case-sensitive */
    check_resolve("LOCAL\\foo", 1, ERROR_PATH_NOT_FOUND, 0, NULL);
    check_resolve("foo\\bar", 1, ERROR_PATH_NOT_FOUND, 0, NULL);    /* SPEC 32 */
    check_resolve("foo\\", 1, ERROR_PATH_NOT_FOUND, 0, NULL);
    check_resolve("\\foo", 1, ERROR_BAD_PATHNAME, 0, NULL);         /* SPEC 33 */
    check_resolve("\\", 1, ERROR_BAD_PATHNAME, 0, NULL);
    check_resolve("Global\\", 1, ERROR_INVALID_NAME, 0, NULL);      /* SPEC 34 */
    check_resolve("Local\\", 1, ERROR_INVALID_NAME, 0, NULL);
    check_resolve("Global\\\\foo", 1, ERROR_INVALID_NAME, 0, NULL);
    check_resolve("Local", 1, ERROR_INVALID_HANDLE, 0, NULL);       /* SPEC 35 */
    check_resolve("Global", 1, ERROR_INVALID_HANDLE, 0, NULL);
    check_resolve("Session", 1, ERROR_INVALID_HANDLE, 0, NULL);
    check_resolve("Session\\1", 1, ERROR_INVALID_HANDLE, 0, NULL);
    check_resolve("a b:c.d-e", 1, 0, 1, "a b:c.d-e");              /* SPEC 5 */
    return 0;
}

/* ---- the fast path makes no syscall ------------------------------------------------------- */

/* The child runs: getppid (start mark), ITER waits and releases, getppid (end mark). The parent
 * traces it and counts the syscalls between the marks. */
#define FAST_PATH_ITER 1000

static int fast_path_child(HANDLE sem, HANDLE mutex, HANDLE event)
{
    ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    raise(SIGSTOP);
    getppid();
    for (int i = 0; i < FAST_PATH_ITER; i++) {
        if (WaitForSingleObject(sem, INFINITE) != WAIT_OBJECT_0) return 10;
        if (!ReleaseSemaphore(sem, 1, NULL)) return 11;
        if (WaitForSingleObject(mutex, INFINITE) != WAIT_OBJECT_0) return 12;
        if (!ReleaseMutex(mutex)) return 13;
        if (WaitForSingleObject(event, 0) != WAIT_OBJECT_0) return 14;
        if (!SetEvent(event)) return 15;
    }
    getppid();
    return 0;
}

TEST(core_fast_path_no_syscall)
{
    if (getenv("NSEM_TEST_VALGRIND")) {
        printf("skipped: under valgrind the traced child's syscalls are valgrind's own\n");
        return TEST_SKIP;
    }
    char sem_name[200], mutex_name[200], event_name[200]; /* fixed before fork: uniq() uses the pid */
    snprintf(sem_name, sizeof sem_name, "%s", uniq("fast"));
    snprintf(mutex_name, sizeof mutex_name, "%s", uniq("fastm"));
    snprintf(event_name, sizeof event_name, "%s", uniq("faste"));
    HANDLE sem = CreateSemaphoreA(NULL, 1, 1, sem_name);
    HANDLE mutex = CreateMutexA(NULL, FALSE, mutex_name);
    HANDLE event = CreateEventA(NULL, FALSE, TRUE, event_name);
    ASSERT_NOT_NULL(sem);
    ASSERT_NOT_NULL(mutex);
    ASSERT_NOT_NULL(event);
    /* Open by name too: the loop runs on an opened handle, as the issue asks. */
    HANDLE opened = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, sem_name);
    ASSERT_NOT_NULL(opened);
    /* Warm up in this process, so the child inherits a connected, mapped library state. */
    ASSERT_EQ_U(WaitForSingleObject(opened, 0), WAIT_OBJECT_0);
    ASSERT(ReleaseSemaphore(opened, 1, NULL));
    ASSERT_EQ_U(WaitForSingleObject(mutex, 0), WAIT_OBJECT_0);
    ASSERT(ReleaseMutex(mutex));
    /* A forked child is a new process with no handles: it opens its own, then is traced. */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        HANDLE s = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, sem_name);
        HANDLE m = OpenMutexA(SYNCHRONIZE, FALSE, mutex_name);
        HANDLE e = OpenEventA(EVENT_ALL_ACCESS, FALSE, event_name);
        if (!s || !m || !e) _exit(20);
        /* one round first: the thread's token, tid and the pid cache are set up on first use */
        WaitForSingleObject(s, 0);
        ReleaseSemaphore(s, 1, NULL);
        WaitForSingleObject(m, 0);
        ReleaseMutex(m);
        _exit(fast_path_child(s, m, e));
    }
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    if (!WIFSTOPPED(status)) fprintf(stderr, "child status 0x%x\n", status);
    ASSERT(WIFSTOPPED(status));
    ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)PTRACE_O_TRACESYSGOOD);
    int marks = 0;
    long inside = 0;
    bool entering = true;
    for (;;) {
        ASSERT_EQ(ptrace(PTRACE_SYSCALL, pid, NULL, NULL), 0);
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status)) break;
        if (!(WIFSTOPPED(status) && WSTOPSIG(status) == (SIGTRAP | 0x80))) continue;
        if (entering) {
            struct user_regs_struct regs;
            ptrace(PTRACE_GETREGS, pid, NULL, &regs);
            if ((long)regs.orig_rax == __NR_getppid) marks++;
            else if (marks == 1) {
                inside++;
                fprintf(stderr, "syscall %ld inside the loop\n", (long)regs.orig_rax);
            }
        }
        entering = !entering;
    }
    ASSERT_EQ(WEXITSTATUS(status), 0);
    ASSERT_EQ(marks, 2);
    ASSERT_EQ(inside, 0);
    return 0;
}

/* ---- exactly one server is started, however many start at once --------------------------- */

HELPER(core_racer)
{
    HANDLE h = CreateSemaphoreA(NULL, 0, 100, argv[0]);
    if (!h) {
        fprintf(stderr, "racer: CreateSemaphore failed %u\n", GetLastError());
        return 1;
    }
    if (!ReleaseSemaphore(h, 1, NULL)) return 2;
    say("ok");
    sleep_ms(300); /* hold the handle while the others start */
    return 0;
}

static int count_servers(const char *sock)
{
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *de;
    while (d && (de = readdir(d))) {
        char path[300], buf[4096];
        snprintf(path, sizeof path, "/proc/%s/cmdline", de->d_name);
        int fd = open(path, O_RDONLY);
        if (fd < 0) continue;
        ssize_t len = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (len <= 0) continue;
        buf[len] = 0;
        if (!strstr(buf, "nsemd")) continue;
        for (ssize_t i = 0; i < len; i++)
            if (!buf[i]) buf[i] = ' ';
        if (strstr(buf, sock)) n++;
    }
    if (d) closedir(d);
    return n;
}

TEST(core_twenty_start_one_server)
{
    char dir[] = "/tmp/nsem-race.XXXXXX", sock[200];
    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(sock, sizeof sock, "%s/s.sock", dir);
    setenv("NSEM_SERVER", sock, 1);
    setenv("NSEMD_GRACE_MS", "500", 1);
    pid_t pids[20];
    int fds[20];
    for (int i = 0; i < 20; i++) pids[i] = spawn_helper("core_racer", &fds[i], uniq("race"), NULL);
    for (int i = 0; i < 20; i++) {
        char line[32];
        read_line(fds[i], line, sizeof line, 15000);
        ASSERT(strcmp(line, "ok") == 0);
    }
    ASSERT_EQ(count_servers(sock), 1);
    for (int i = 0; i < 20; i++) ASSERT_EQ(wait_child(pids[i], 10000), 0);
    /* and it goes away a grace period after its last client */
    uint64_t end = now_ms() + 5000;
    while (count_servers(sock) && now_ms() < end) sleep_ms(20);
    ASSERT_EQ(count_servers(sock), 0);
    return 0;
}

/* ---- the server against bad clients ------------------------------------------------------- */

/* true when the server closed the connection (EOF) rather than replying */
static bool closed_by_server(int fd)
{
    char buf[256];
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
    }
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

struct bad_case {
    const char *what;
    bool hello_first;
    unsigned char bytes[64];
    size_t len;
};

TEST(core_server_rejects_malformed)
{
    /* a good client holds an object throughout */
    HANDLE keep = CreateSemaphoreA(NULL, 2, 5, uniq("keep"));
    ASSERT_NOT_NULL(keep);

    struct bad_case cases[32];
    int n = 0;
    struct nsem_req_hdr h;
    /* request before HELLO */
    struct nsem_req_query q = {{sizeof q, NSEM_OP_QUERY}, 4, 0};
    cases[n] = (struct bad_case){"query before hello", false, {0}, sizeof q};
    memcpy(cases[n++].bytes, &q, sizeof q);
    /* unknown op */
    h = (struct nsem_req_hdr){sizeof h, 999};
    cases[n] = (struct bad_case){"unknown op", true, {0}, sizeof h};
    memcpy(cases[n++].bytes, &h, sizeof h);
    /* op 0 */
    h = (struct nsem_req_hdr){sizeof h, 0};
    cases[n] = (struct bad_case){"op 0", true, {0}, sizeof h};
    memcpy(cases[n++].bytes, &h, sizeof h);
    /* every op number below the count must have a handler or be refused: try each, bare */
    for (uint32_t op = 1; op < NSEM_OP_COUNT && n < 20; op++) {
        if (op == NSEM_OP_HELLO) continue;
        h = (struct nsem_req_hdr){sizeof h, op};
        cases[n] = (struct bad_case){"bare op", true, {0}, sizeof h};
        memcpy(cases[n++].bytes, &h, sizeof h);
    }
    /* short fixed part */
    h = (struct nsem_req_hdr){sizeof h, NSEM_OP_QUERY};
    cases[n] = (struct bad_case){"short query", true, {0}, sizeof h};
    memcpy(cases[n++].bytes, &h, sizeof h);
    /* non-zero pad */
    q = (struct nsem_req_query){{sizeof q, NSEM_OP_QUERY}, 4, 1};
    cases[n] = (struct bad_case){"pad", true, {0}, sizeof q};
    memcpy(cases[n++].bytes, &q, sizeof q);
    /* second HELLO */
    struct nsem_req_hello hello = {{sizeof hello, NSEM_OP_HELLO}, NSEM_PROTOCOL_VERSION, 1, 0, 0, 0, 0};
    cases[n] = (struct bad_case){"second hello", true, {0}, sizeof hello};
    memcpy(cases[n++].bytes, &hello, sizeof hello);
    /* length below a header */
    uint32_t tiny[2] = {3, NSEM_OP_QUERY};
    cases[n] = (struct bad_case){"len 3", true, {0}, sizeof tiny};
    memcpy(cases[n++].bytes, tiny, sizeof tiny);
    /* length above the maximum */
    uint32_t huge[2] = {NSEM_MSG_MAX + 1, NSEM_OP_OPEN};
    cases[n] = (struct bad_case){"len over max", true, {0}, sizeof huge};
    memcpy(cases[n++].bytes, huge, sizeof huge);
    /* OPEN whose name_len disagrees with len */
    struct nsem_req_open o = {{sizeof o + 3, NSEM_OP_OPEN}, NSEM_TYPE_SEMAPHORE, SYNCHRONIZE, 0, 100};
    cases[n] = (struct bad_case){"name_len mismatch", true, {0}, sizeof o + 3};
    memcpy(cases[n].bytes, &o, sizeof o);
    memcpy(cases[n++].bytes + sizeof o, "abc", 3);
    /* name with a NUL byte */
    o = (struct nsem_req_open){{sizeof o + 3, NSEM_OP_OPEN}, NSEM_TYPE_SEMAPHORE, SYNCHRONIZE, 0, 3};
    cases[n] = (struct bad_case){"NUL in name", true, {0}, sizeof o + 3};
    memcpy(cases[n].bytes, &o, sizeof o);
    memcpy(cases[n++].bytes + sizeof o, "a\0c", 3);
    /* CREATE whose descriptor is longer than any can be, or than the frame carries */
    struct nsem_req_create cr = {.hdr = {sizeof cr, NSEM_OP_CREATE}, .type = NSEM_TYPE_SEMAPHORE, .max = 1,
                                 .sd_len = NSEM_SD_MAX_BYTES + 1};
    cases[n] = (struct bad_case){"CREATE sd_len over max", true, {0}, sizeof cr};
    memcpy(cases[n++].bytes, &cr, sizeof cr);
    cr.sd_len = 20;
    cr.hdr.len = sizeof cr + 8;
    cases[n] = (struct bad_case){"CREATE sd_len over len", true, {0}, sizeof cr + 8};
    memcpy(cases[n++].bytes, &cr, sizeof cr);
    /* RECOVER with more entries than a frame may carry, or fewer bytes than its count says */
    struct nsem_req_recover rc = {{sizeof rc, NSEM_OP_RECOVER}, NSEM_RECOVER_MAX_ENTRIES + 1, 0};
    cases[n] = (struct bad_case){"recover count over max", true, {0}, sizeof rc};
    memcpy(cases[n++].bytes, &rc, sizeof rc);
    rc = (struct nsem_req_recover){{sizeof rc, NSEM_OP_RECOVER}, 1, 0};
    cases[n] = (struct bad_case){"recover count over len", true, {0}, sizeof rc};
    memcpy(cases[n++].bytes, &rc, sizeof rc);

    for (int i = 0; i < n; i++) {
        int fd = raw_connect();
        if (cases[i].hello_first) raw_hello(fd, 1);
        ASSERT_EQ(send(fd, cases[i].bytes, cases[i].len, MSG_NOSIGNAL), (ssize_t)cases[i].len);
        if (!closed_by_server(fd)) {
            fprintf(stderr, "case \"%s\": connection not closed\n", cases[i].what);
            ASSERT(0);
        }
        close(fd);
        /* nobody else noticed: the good client's object is intact and usable */
        NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
        ASSERT(NsemQueryObject(keep, &info));
        ASSERT_EQ(info.lCurrentCount, 2);
        ASSERT_EQ(info.dwHandleCount, 1);
    }
    /* every op with a pad field refuses a non-zero one (in each the pad is the last field) */
    static const struct {
        uint32_t op, size;
    } padded[] = {{NSEM_OP_SET_SECURITY, sizeof(struct nsem_req_set_security)},
                  {NSEM_OP_UNPIN, sizeof(struct nsem_req_unpin)},
                  {NSEM_OP_SET_HANDLE_INFO, sizeof(struct nsem_req_set_handle_info)},
                  {NSEM_OP_QUERY, sizeof(struct nsem_req_query)},
                  {NSEM_OP_LIST, sizeof(struct nsem_req_list)},
                  {NSEM_OP_HOLDERS, sizeof(struct nsem_req_holders)},
                  {NSEM_OP_FORK, sizeof(struct nsem_req_fork)},
                  {NSEM_OP_HANDLES, sizeof(struct nsem_req_handles)},
                  {NSEM_OP_OPEN_PROCESS, sizeof(struct nsem_req_open_process)}};
    for (size_t i = 0; i < sizeof padded / sizeof padded[0]; i++) {
        unsigned char b[256] = {0};
        struct nsem_req_hdr ph = {padded[i].size, padded[i].op};
        memcpy(b, &ph, sizeof ph);
        b[padded[i].size - 1] = 1;
        int fd = raw_connect();
        raw_hello(fd, 1);
        ASSERT_EQ(send(fd, b, padded[i].size, MSG_NOSIGNAL), (ssize_t)padded[i].size);
        if (!closed_by_server(fd)) {
            fprintf(stderr, "op %u: a non-zero pad did not close the connection\n", padded[i].op);
            ASSERT(0);
        }
        close(fd);
    }
    /* values that are merely wrong get a Windows error and keep the connection */
    int fd = raw_connect();
    raw_hello(fd, 1);
    struct nsem_req_create c;
    memset(&c, 0, sizeof c);
    c.hdr = (struct nsem_req_hdr){sizeof c, NSEM_OP_CREATE};
    c.type = 42;
    ASSERT_EQ(send(fd, &c, sizeof c, MSG_NOSIGNAL), (ssize_t)sizeof c);
    struct nsem_rep_status st;
    ASSERT_EQ(recv(fd, &st, sizeof st, MSG_WAITALL), (ssize_t)sizeof st);
    ASSERT_EQ_U(st.hdr.error, ERROR_INVALID_PARAMETER);
    /* a malformed descriptor (20 bytes of revision 0) */
    unsigned char with_sd[sizeof c + 20] = {0};
    c.type = NSEM_TYPE_EVENT;
    c.sd_len = 20;
    c.hdr.len = sizeof with_sd;
    memcpy(with_sd, &c, sizeof c);
    ASSERT_EQ(send(fd, with_sd, sizeof with_sd, MSG_NOSIGNAL), (ssize_t)sizeof with_sd);
    ASSERT_EQ(recv(fd, &st, sizeof st, MSG_WAITALL), (ssize_t)sizeof st);
    ASSERT_EQ_U(st.hdr.error, ERROR_INVALID_SECURITY_DESCR);
    q = (struct nsem_req_query){{sizeof q, NSEM_OP_QUERY}, 0x1000, 0};
    ASSERT_EQ(send(fd, &q, sizeof q, MSG_NOSIGNAL), (ssize_t)sizeof q);
    ASSERT_EQ(recv(fd, &st, sizeof st, MSG_WAITALL), (ssize_t)sizeof st);
    ASSERT_EQ_U(st.hdr.error, ERROR_INVALID_HANDLE);
    /* RECOVER from a client that is not recovering anything */
    struct nsem_req_recover rq = {{sizeof rq, NSEM_OP_RECOVER}, 0, NSEM_RECOVER_DONE};
    ASSERT_EQ(send(fd, &rq, sizeof rq, MSG_NOSIGNAL), (ssize_t)sizeof rq);
    ASSERT_EQ(recv(fd, &st, sizeof st, MSG_WAITALL), (ssize_t)sizeof st);
    ASSERT_EQ_U(st.hdr.error, ERROR_INVALID_PARAMETER);
    close(fd);
    /* a HELLO whose handle floor is beyond any handle */
    fd = raw_connect();
    struct nsem_req_hello hf = {{sizeof hf, NSEM_OP_HELLO}, NSEM_PROTOCOL_VERSION, 1, 0, 0, 1u << 20, 0};
    ASSERT_EQ(send(fd, &hf, sizeof hf, MSG_NOSIGNAL), (ssize_t)sizeof hf);
    ASSERT_EQ(recv(fd, &st, sizeof st, MSG_WAITALL), (ssize_t)sizeof st);
    ASSERT_EQ_U(st.hdr.error, ERROR_INVALID_PARAMETER);
    close(fd);
    ASSERT(CloseHandle(keep));
    return 0;
}

TEST(core_server_refuses_other_users)
{
    if (geteuid() != 0) {
        printf("skipped: needs root to act as another user\n");
        return TEST_SKIP;
    }
    char dir[] = "/tmp/nsem-uid.XXXXXX", sock[200];
    ASSERT_NOT_NULL(mkdtemp(dir));
    ASSERT_EQ(chmod(dir, 0755), 0);
    snprintf(sock, sizeof sock, "%s/s.sock", dir);
    setenv("NSEM_SERVER", sock, 1);
    pid_t server = fork();
    if (server == 0) {
        execl(harness_server_path(), "nsemd", "--foreground", "--socket", sock, "--grace", "60000", (char *)NULL);
        _exit(127);
    }
    uint64_t end = now_ms() + 5000;
    while (access(sock, F_OK) != 0 && now_ms() < end) sleep_ms(5);
    ASSERT_EQ(chmod(sock, 0666), 0); /* let the other user reach the socket: the server must refuse */
    pid_t child = fork();
    if (child == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
        int fd = raw_connect();
        struct nsem_req_hello hello = {{sizeof hello, NSEM_OP_HELLO}, NSEM_PROTOCOL_VERSION, 0, 0, 0, 0, 0};
        send(fd, &hello, sizeof hello, MSG_NOSIGNAL);
        _exit(closed_by_server(fd) ? 0 : 4);
    }
    ASSERT_EQ(wait_child(child, 10000), 0);
    /* the owner is still served (raw: the library itself refuses a directory others can enter) */
    int fd = raw_connect();
    raw_hello(fd, 1);
    close(fd);
    kill(server, SIGTERM);
    ASSERT_EQ(wait_child(server, 5000), 0);
    return 0;
}

/* A server that cannot open its lock file (here a directory stands in its way) says so and exits
 * with 1; it must not leave in silence as when another server holds the lock (a fault found by
 * make faults-check: open failing with EMFILE). */
TEST(core_server_says_why_without_lock_file)
{
    char dir[] = "/tmp/nsem-lock.XXXXXX", sock[200], lock[220], log[220];
    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(sock, sizeof sock, "%s/s.sock", dir);
    snprintf(lock, sizeof lock, "%s.lock", sock);
    snprintf(log, sizeof log, "%s/log", dir);
    ASSERT_EQ(mkdir(lock, 0700), 0);
    pid_t server = fork();
    if (server == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 2);
        execl(harness_server_path(), "nsemd", "--foreground", "--socket", sock, (char *)NULL);
        _exit(127);
    }
    ASSERT_EQ(wait_child(server, 10000), 1);
    char text[512] = "";
    int fd = open(log, O_RDONLY);
    ASSERT(fd >= 0);
    ASSERT(read(fd, text, sizeof text - 1) > 0);
    close(fd);
    ASSERT_NOT_NULL(strstr(text, "cannot open the lock file"));
    unlink(log);
    rmdir(lock);
    rmdir(dir);
    return 0;
}

/* A client whose server cannot start (the same lock file in the way) learns it when the server
 * exits, and fails at once with ERROR_SERVICE_NOT_ACTIVE: it used to try again and again for its
 * whole 10 s deadline. */
TEST(core_client_fails_fast_when_its_server_cannot_start)
{
    use_private_server("nostart");
    char lock[220];
    snprintf(lock, sizeof lock, "%s.lock", getenv("NSEM_SERVER"));
    ASSERT_EQ(mkdir(lock, 0700), 0);
    uint64_t start = now_ms();
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreA(NULL, 1, 1, NULL));
    ASSERT_GLE(ERROR_SERVICE_NOT_ACTIVE);
    uint64_t took = now_ms() - start;
    if (took >= 5000) fprintf(stderr, "the call failed after %llu ms\n", (unsigned long long)took);
    ASSERT(took < 5000);
    rmdir(lock);
    return 0;
}

/* ---- a thread that ends owning a mutex abandons it ---------------------------------------- */

static void *own_and_exit(void *m)
{
    return (void *)(uintptr_t)WaitForSingleObject((HANDLE)m, 0);
}

TEST(core_thread_exit_abandons)
{
    HANDLE m = CreateMutexA(NULL, FALSE, NULL);
    ASSERT_NOT_NULL(m);
    pthread_t t;
    void *r;
    ASSERT_EQ(pthread_create(&t, NULL, own_and_exit, m), 0);
    ASSERT_EQ(pthread_join(t, &r), 0);
    ASSERT_EQ_U((uintptr_t)r, WAIT_OBJECT_0);
    NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
    ASSERT(NsemQueryObject(m, &info));
    ASSERT(info.bAbandoned);
    ASSERT_EQ(info.dwLastOwnerProcessId, getpid());
    ASSERT_EQ(info.lCurrentCount, 1);
    SetLastError(POISON);
    ASSERT_EQ_U(WaitForSingleObject(m, 0), WAIT_ABANDONED_0);
    ASSERT_GLE(POISON);
    ASSERT_EQ_U(WaitForSingleObject(m, 0), WAIT_OBJECT_0); /* told once */
    ASSERT(ReleaseMutex(m));
    ASSERT(ReleaseMutex(m));
    ASSERT(CloseHandle(m));
    return 0;
}

/* ---- errors when no server can be had ----------------------------------------------------- */

TEST(core_insecure_directory_refused)
{
    char dir[] = "/tmp/nsem-open.XXXXXX", sock[200];
    ASSERT_NOT_NULL(mkdtemp(dir));
    ASSERT_EQ(chmod(dir, 0777), 0); /* anyone could plant a fake server here */
    snprintf(sock, sizeof sock, "%s/s.sock", dir);
    setenv("NSEM_SERVER", sock, 1);
    SetLastError(POISON);
    ASSERT_NULL(CreateSemaphoreA(NULL, 0, 1, "x"));
    ASSERT_GLE(ERROR_ACCESS_DENIED);
    rmdir(dir);
    return 0;
}

/* ---- pins: an object kept for a wait after its last close goes when the wait ends ---------- */

HELPER(core_name_keeper)
{
    HANDLE h = OpenSemaphoreA(SYNCHRONIZE, FALSE, argv[0]);
    if (!h) return 10;
    say("holding");
    for (;;) pause();
}

static void *wait_on(void *h)
{
    return (void *)(uintptr_t)WaitForSingleObject((HANDLE)h, 10000);
}

static BOOL count_objects(const NSEM_OBJECT_INFO *info, DWORD session, LPCSTR name, LPVOID n)
{
    ++*(int *)n;
    return TRUE;
}

static int objects_on_server(void)
{
    int n = 0;
    ASSERT(NsemEnumObjects(count_objects, &n));
    return n;
}

/* Close the last handle while a thread waits (a pin), open the object again by name (another
 * process keeps the name), end the wait, close again: when that other process goes, the object
 * must go too — the pin must not outlive the wait. */
TEST(core_pin_dropped_after_reopen)
{
    char dir[] = "/tmp/nsem-pin.XXXXXX", sock[200];
    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(sock, sizeof sock, "%s/s.sock", dir);
    setenv("NSEM_SERVER", sock, 1); /* a server of our own: we count its objects */
    setenv("NSEMD_GRACE_MS", "300", 1);
    HANDLE h1 = CreateSemaphoreA(NULL, 0, 1, uniq("pinned"));
    ASSERT_NOT_NULL(h1);
    int fd;
    char line[32];
    pid_t keeper = spawn_helper("core_name_keeper", &fd, uniq("pinned"), NULL);
    read_line(fd, line, sizeof line, 10000);
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, wait_on, h1), 0);
    NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
    for (uint64_t end = now_ms() + 5000; now_ms() < end; sleep_ms(1)) {
        ASSERT(NsemQueryObject(h1, &info));
        if (info.dwWaiterCount == 1) break;
    }
    ASSERT_EQ(info.dwWaiterCount, 1);
    ASSERT(CloseHandle(h1)); /* last handle of ours, while our thread waits: pinned */
    HANDLE h2 = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, uniq("pinned"));
    ASSERT_NOT_NULL(h2);
    ASSERT(ReleaseSemaphore(h2, 1, NULL));
    void *r;
    ASSERT_EQ(pthread_join(t, &r), 0);
    ASSERT_EQ_U((uintptr_t)r, WAIT_OBJECT_0);
    ASSERT(CloseHandle(h2));
    ASSERT_EQ(objects_on_server(), 1); /* the keeper's */
    kill(keeper, SIGKILL);
    ASSERT_EQ(wait_child(keeper, 5000), 128 + SIGKILL);
    uint64_t end = now_ms() + 5000;
    while (objects_on_server() != 0 && now_ms() < end) sleep_ms(5);
    ASSERT_EQ(objects_on_server(), 0);
    return 0;
}

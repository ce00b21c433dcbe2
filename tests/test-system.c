/*
 * test-system.c — the system server (`nsemd --system`) with real users. Two unprivileged users,
 * nsemtest-a (A) and nsemtest-b (B), each drive a client of one system server: B gets exactly what
 * the DACLs of A's objects grant it, through brokered handles, and nothing else — no open or create
 * the DACL denies, no right it did not grant, no change to A's objects by writing garbage over every
 * shared mapping it has; another user's exclusive and undo semaphores are not shared. Waits wake,
 * and mutexes are abandoned, across users, also when B closed its handles through its close ring.
 * Every failure is checked for its exact Windows code.
 *
 * Needs root (skipped otherwise), and an nsemd that knows --system (skipped when the build's nsemd
 * refuses the option with its usage, exit 2). Each test starts its own system server, on a socket in
 * a fresh directory (0755, root), and stops it with SIGTERM at its end; the users are created once,
 * if missing (useradd --system), and left for later runs.
 *
 * The root test process never calls nsem, so it is connected to no server and its fork()s run no
 * handler of the library. A scenario runs in a child process (still root, still no nsem call); A
 * and B are agents (HELPER(system_agent)), each forked, switched to its user (setgroups, setgid,
 * setuid) and exec'd before its first nsem call, with NSEM_SERVER naming the system server's
 * socket. The scenario drives them through pipes, one command line and one reply line at a time
 * (the commands are listed above agent_run). The test process stops the server, removes the
 * directory and ends every agent whatever the scenario's outcome, and prints the server's log when
 * it failed. Nothing here is timed: every wait is bounded (10 s), no duration is asserted.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/shm.h"
#include "lib/client.h"

/* The system server's answer when another user's exclusive or undo semaphore is opened. */
#ifndef ERROR_NOT_SUPPORTED
#define ERROR_NOT_SUPPORTED 50u
#endif

extern const char *harness_argv0;

enum { A, B };
static const char *const user_name[2] = {"nsemtest-a", "nsemtest-b"};
static uid_t uid_of[2];
static gid_t gid_of[2];

/* The server of the running test: its directory (with its log), socket and pid. */
static char dir[64], sock[96], server_log[96];
static pid_t server = -1;

/* ---------------------------------------------------------------------------------------------
 * The users
 * ------------------------------------------------------------------------------------------- */

/* Runs useradd for `name`, quietly; returns its exit status (127: no useradd). */
static int useradd(const char *name)
{
    const char *exe = access("/usr/sbin/useradd", X_OK) == 0 ? "/usr/sbin/useradd" : "/sbin/useradd";
    /* A group of that name left by an interrupted earlier run: use it rather than fail on it. */
    bool group_exists = getgrnam(name) != NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        if (group_exists)
            execl(exe, "useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--gid", name, name,
                  (char *)NULL);
        else
            execl(exe, "useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group",
                  name, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Looks user `who` up: true if it exists (and then its ids are known). */
static bool find_user(int who)
{
    struct passwd *pw = getpwnam(user_name[who]);
    if (!pw) return false;
    uid_of[who] = pw->pw_uid;
    gid_of[who] = pw->pw_gid;
    return true;
}

/* Finds user `who`, creating it if missing; false with the reason in `why` if there is no usable
 * user. A useradd that fails (the name was taken meanwhile, or the database is locked) is followed
 * by another look. */
static bool ensure_user(int who, char *why, size_t size)
{
    const char *name = user_name[who];
    int status = -1;
    for (int attempt = 0; attempt < 40 && !find_user(who); attempt++) {
        status = useradd(name);
        if (status == 127) break;
        if (status != 0) sleep_ms(50);
    }
    if (find_user(who)) {
        if (uid_of[who] != 0 && gid_of[who] != 0) return true;
        snprintf(why, size, "user %s exists with uid %u and gid %u: not an unprivileged user", name,
                 (unsigned)uid_of[who], (unsigned)gid_of[who]);
    } else if (status == 127) {
        snprintf(why, size, "no useradd to create user %s", name);
    } else {
        snprintf(why, size, "cannot create user %s (useradd exit status %d)", name, status);
    }
    return false;
}

/* Holds the name "nsem-test-users" in the abstract socket namespace (waiting up to 10 s for it):
 * a lock among test processes that leaves nothing behind. Its descriptor, or -1 (then go on
 * without it). */
static int users_lock(void)
{
    static const char name[] = "nsem-test-users";
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path + 1, name, sizeof name - 1); /* sun_path[0] == 0: abstract */
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + sizeof name);
    for (uint64_t end = now_ms() + 10000; now_ms() < end; sleep_ms(10)) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return -1;
        if (bind(fd, (struct sockaddr *)&sa, len) == 0) return fd;
        int e = errno;
        close(fd);
        if (e != EADDRINUSE) return -1;
    }
    return -1;
}

/* Both users, created if missing. Test processes that run at once create them one at a time:
 * useradd's own lock is not enough everywhere (on an overlay file system, two concurrent useradds
 * of one name were both seen to succeed, with different uids, one update lost). */
static bool ensure_users(char *why, size_t size)
{
    if (find_user(A) && find_user(B) && uid_of[A] && gid_of[A] && uid_of[B] && gid_of[B]) return true;
    int lock = users_lock();
    bool ok = ensure_user(A, why, size) && ensure_user(B, why, size);
    if (lock >= 0) close(lock);
    return ok;
}

/* ---------------------------------------------------------------------------------------------
 * The server
 * ------------------------------------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    remove(path);
    return 0;
}

static void remove_dir(void)
{
    if (dir[0]) nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    dir[0] = 0;
}

static void show_server_log(void)
{
    FILE *f = fopen(server_log, "r");
    if (!f) return;
    fprintf(stderr, "---- nsemd --system log ----\n");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stderr);
    fprintf(stderr, "---- end of log ----\n");
    fclose(f);
}

/* Stops the server with SIGTERM (SIGKILL after 5 s) and reaps it: its exit status, or 128 + signal. */
static int stop_server(void)
{
    if (server <= 0) return 0;
    kill(server, SIGTERM);
    uint64_t end = now_ms() + 5000;
    int st = 0;
    for (;;) {
        pid_t r = waitpid(server, &st, WNOHANG);
        if (r == server) break;
        if (r < 0 && errno != EINTR) break;
        if (now_ms() > end) {
            fprintf(stderr, "nsemd --system did not stop within 5 s of SIGTERM\n");
            kill(server, SIGKILL);
            waitpid(server, &st, 0);
            break;
        }
        sleep_ms(2);
    }
    server = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Ends the test in failure after putting everything away. */
static void setup_failed(int line, const char *what)
{
    stop_server();
    show_server_log();
    remove_dir();
    harness_fail(__FILE__, line, what, NULL);
}

static bool listening(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

/* Starts the build's nsemd --system on a socket in a fresh directory and waits until it listens.
 * 0, or TEST_SKIP (said why) when this nsemd refuses --system. The grace period only matters if the
 * test process dies: the test stops the server itself; it is long enough that the server does not
 * leave between the probe of its socket and the first agent's connection. */
static int start_server(void)
{
    snprintf(dir, sizeof dir, "/tmp/nsem-system.XXXXXX");
    if (!mkdtemp(dir)) harness_fail(__FILE__, __LINE__, "mkdtemp", strerror(errno));
    if (chmod(dir, 0755) != 0) setup_failed(__LINE__, "chmod 0755 of the server's directory");
    snprintf(sock, sizeof sock, "%s/s.sock", dir);
    snprintf(server_log, sizeof server_log, "%s/nsemd.log", dir);
    int log = open(server_log, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (log < 0) setup_failed(__LINE__, "cannot create the server's log");
    const char *exe = harness_server_path();
    fflush(NULL);
    server = fork();
    if (server == 0) {
        int null = open("/dev/null", O_RDONLY);
        dup2(null, 0);
        dup2(log, 1);
        dup2(log, 2);
        execl(exe, "nsemd", "--system", "--foreground", "--grace", "2000", "--socket", sock, (char *)NULL);
        _exit(127);
    }
    close(log);
    if (server < 0) setup_failed(__LINE__, "fork");
    uint64_t end = now_ms() + 5000;
    for (;;) {
        int st;
        if (waitpid(server, &st, WNOHANG) == server) {
            server = -1;
            if (WIFEXITED(st) && WEXITSTATUS(st) == 2) {
                printf("skipped: %s refuses --system (usage, exit 2): this build has no system server\n", exe);
                remove_dir();
                return TEST_SKIP;
            }
            fprintf(stderr, "nsemd --system ended with status %d before it listened\n",
                    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
            setup_failed(__LINE__, "nsemd --system did not start");
        }
        if (listening()) return 0;
        if (now_ms() > end) setup_failed(__LINE__, "nsemd --system did not listen within 5 s");
        sleep_ms(5);
    }
}

/* Runs one scenario: checks root, starts the server, makes sure of the users, then runs
 * `scenario` in a child process of its own process group (the agents join it), and whatever
 * happens there, ends the group's stragglers, stops the server (which must exit with 0) and removes
 * its directory. */
static int system_test(void (*scenario)(void))
{
    if (geteuid() != 0) {
        printf("skipped: needs root, to create the users %s and %s and to run nsemd --system\n", user_name[A],
               user_name[B]);
        return TEST_SKIP;
    }
    int r = start_server();
    if (r) return r;
    char why[256];
    if (!ensure_users(why, sizeof why)) {
        stop_server();
        remove_dir();
        printf("skipped: %s\n", why);
        return TEST_SKIP;
    }
    if (uid_of[A] == uid_of[B] || gid_of[A] == gid_of[B]) {
        stop_server();
        remove_dir();
        printf("skipped: %s and %s share a uid or a primary group\n", user_name[A], user_name[B]);
        return TEST_SKIP;
    }

    /* Agents orphaned by a failed scenario become our children, to be reaped here. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        setpgid(0, 0);
        signal(SIGPIPE, SIG_IGN); /* an agent that died is reported by the write that found it */
        scenario();
        fflush(NULL);
        _exit(0);
    }
    if (child < 0) setup_failed(__LINE__, "fork");
    setpgid(child, child);
    int st = 0;
    uint64_t end = now_ms() + 45000;
    for (;;) {
        pid_t w = waitpid(child, &st, WNOHANG);
        if (w == child) break;
        if (now_ms() > end) {
            fprintf(stderr, "the scenario did not end within 45 s\n");
            kill(-child, SIGKILL);
            waitpid(child, &st, 0);
            break;
        }
        sleep_ms(2);
    }
    kill(-child, SIGKILL); /* agents a failed scenario left behind */
    while (waitpid(-child, NULL, 0) > 0 || errno == EINTR) {
    }
    int outcome = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    int server_status = stop_server();
    if (server_status != 0) fprintf(stderr, "nsemd --system exited with status %d after SIGTERM\n", server_status);
    if ((outcome != 0 && outcome != TEST_SKIP) || server_status != 0) show_server_log();
    remove_dir();
    if (outcome == TEST_SKIP) return TEST_SKIP;
    return outcome == 0 && server_status == 0 ? 0 : 1;
}

/* ---------------------------------------------------------------------------------------------
 * Driving the agents (in the scenario process)
 * ------------------------------------------------------------------------------------------- */

struct agent {
    int who; /* A or B */
    pid_t pid;
    int cmd; /* its standard input */
    int rep; /* its standard output */
};

/* A line from fd within timeout_ms; false on end of file or timeout. */
static bool try_read_line(int fd, char *buf, size_t size, int timeout_ms)
{
    size_t n = 0;
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    while (n + 1 < size) {
        uint64_t now = now_ms();
        if (now >= end) return false;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, (int)(end - now));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        char c;
        ssize_t k = read(fd, &c, 1);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return false;
        if (c == '\n') break;
        buf[n++] = c;
    }
    buf[n] = 0;
    return true;
}

/* Ends the scenario as skipped. */
static void scenario_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void scenario_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("skipped: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(NULL);
    _exit(TEST_SKIP);
}

/* In the forked agent, before exec: becomes user `who`, for good. */
static bool become(int who, pid_t parent)
{
    gid_t g = gid_of[who];
    if (setgroups(1, &g) != 0 || setgid(g) != 0 || setuid(uid_of[who]) != 0) return false;
    if (setuid(0) == 0 || getuid() != uid_of[who] || geteuid() != uid_of[who] || getegid() != g) return false;
    /* Dies with the scenario, so that none is left blocked (set after setuid, which clears it). */
    return prctl(PR_SET_PDEATHSIG, SIGKILL) == 0 && getppid() == parent;
}

/* Starts an agent as user `who`, connected to nothing yet, and reads its "ready" line. */
static struct agent agent_start(int who)
{
    int cmd[2], rep[2];
    ASSERT_EQ(pipe2(cmd, O_CLOEXEC), 0);
    ASSERT_EQ(pipe2(rep, O_CLOEXEC), 0);
    /* If the build tree is out of the user's reach, the binary is still run through this. */
    int exe = open(harness_argv0, O_RDONLY | O_CLOEXEC);
    char server_env[128];
    snprintf(server_env, sizeof server_env, "NSEM_SERVER=%s", sock);
    char *argv[] = {(char *)harness_argv0, "--helper", "system_agent", NULL};
    char *envp[] = {server_env, "NSEM_SESSION=1", "PATH=/usr/bin:/bin", "HOME=/", "LC_ALL=C", NULL};
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        dup2(cmd[0], 0);
        dup2(rep[1], 1);
        signal(SIGPIPE, SIG_DFL);
        if (!become(who, parent)) _exit(125);
        execve(harness_argv0, argv, envp);
        if (errno == EACCES && exe >= 0) fexecve(exe, argv, envp);
        _exit(126);
    }
    close(cmd[0]);
    close(rep[1]);
    if (exe >= 0) close(exe);
    struct agent a = {who, pid, cmd[1], rep[0]};
    char line[128];
    if (!try_read_line(a.rep, line, sizeof line, 10000)) {
        int st = wait_child(pid, 5000);
        if (st == 125) scenario_skip("cannot become user %s (setgroups, setgid or setuid refused)", user_name[who]);
        if (st == 126) scenario_skip("user %s cannot execute %s", user_name[who], harness_argv0);
        fprintf(stderr, "agent %s ended with status %d before it was ready\n", user_name[who], st);
        ASSERT(!"agent ready");
    }
    int pid_said = 0;
    unsigned uid_said = 0, gid_said = 0;
    ASSERT_EQ(sscanf(line, "ready %d %u %u", &pid_said, &uid_said, &gid_said), 3);
    ASSERT_EQ(pid_said, pid);
    ASSERT_EQ(uid_said, uid_of[who]);
    ASSERT_EQ(gid_said, gid_of[who]);
    return a;
}

/* Reaps an agent killed by the scenario, or any agent after its last command; returns its status. */
static int agent_reap(struct agent *a, int timeout_ms)
{
    close(a->cmd);
    close(a->rep);
    a->cmd = a->rep = -1;
    return wait_child(a->pid, timeout_ms);
}

/* Ends an agent: at the end of its input it exits, with 0 if nothing went wrong in it. */
#define agent_end(a) \
    do { \
        int st_ = agent_reap((a), 10000); \
        if (st_ != 0) harness_fail_eq(__FILE__, __LINE__, "agent exit status", "0", st_, 0, 0); \
    } while (0)

/* Writes a command line; false if the agent is gone (its input closed). */
static bool vtry_tell(struct agent *a, const char *fmt, va_list ap)
{
    char buf[1024];
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    ASSERT(n > 0 && n < (int)sizeof buf - 1);
    buf[n++] = '\n';
    for (int off = 0; off < n;) {
        ssize_t k = write(a->cmd, buf + off, (size_t)(n - off));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return false;
        off += (int)k;
    }
    return true;
}

static void vtell(struct agent *a, const char *fmt, va_list ap)
{
    if (!vtry_tell(a, fmt, ap)) {
        fprintf(stderr, "%s (pid %d) is gone\n", user_name[a->who], (int)a->pid);
        harness_fail(__FILE__, __LINE__, "write to agent", strerror(errno));
    }
}

/* Sends a command line, if the agent is still there to read it. */
static bool try_tell(struct agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool try_tell(struct agent *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool sent = vtry_tell(a, fmt, ap);
    va_end(ap);
    return sent;
}

/* Reads the agent's next reply (within 10 s) and fails at `line` unless it is exactly `want`. */
static void expect_at(int line, struct agent *a, const char *want)
{
    char got[512];
    if (!try_read_line(a->rep, got, sizeof got, 10000)) {
        fprintf(stderr, "%s (pid %d) gave no reply within 10 s; expected \"%s\"\n", user_name[a->who], (int)a->pid,
                want);
        harness_fail(__FILE__, line, "agent reply", "none");
    }
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "%s said:  \"%s\"\nexpected:      \"%s\"\n", user_name[a->who], got, want);
        harness_fail(__FILE__, line, "agent reply", "mismatch");
    }
}
#define expect(a, want) expect_at(__LINE__, (a), (want))

/* Sends a command and checks its reply. */
static void ask_at(int line, struct agent *a, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void ask_at(int line, struct agent *a, const char *want, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vtell(a, fmt, ap);
    va_end(ap);
    expect_at(line, a, want);
}
#define ASK(a, want, ...) ask_at(__LINE__, (a), (want), __VA_ARGS__)

/* Sends a command and returns its reply, or NULL if the agent is gone or gave none within
 * timeout_ms. */
static const char *ask_any(struct agent *a, int timeout_ms, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static const char *ask_any(struct agent *a, int timeout_ms, const char *fmt, ...)
{
    static char got[512];
    va_list ap;
    va_start(ap, fmt);
    bool sent = vtry_tell(a, fmt, ap);
    va_end(ap);
    return sent && try_read_line(a->rep, got, sizeof got, timeout_ms) ? got : NULL;
}

/* Best effort, never a check: gives `pid` up to 2 s to fall asleep in a futex wait, so that what
 * follows exercises a wake rather than a wait that finds the object already signaled. Either order
 * must give the same outcome; this only makes the interesting one the likely one. Returns early
 * when the agent is back reading its commands (fd 0): its wait is over. */
static void let_block(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
    for (uint64_t end = now_ms() + 2000; now_ms() < end; sleep_ms(1)) {
        FILE *f = fopen(path, "r");
        if (!f) return;
        long nr = -1;
        unsigned long arg0 = 1;
        if (fscanf(f, "%ld %lx", &nr, &arg0) < 1) nr = -1;
        fclose(f);
        if (nr == SYS_futex || (nr == SYS_read && arg0 == 0)) return;
#ifdef SYS_futex_waitv
        if (nr == SYS_futex_waitv) return;
#endif
    }
}

/* Sends a wait command with a timeout that is not 0 and returns once the agent said "blocking"
 * and (best effort) sleeps in it; its outcome is read later with expect(). */
static void start_wait_at(int line, struct agent *a, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void start_wait_at(int line, struct agent *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vtell(a, fmt, ap);
    va_end(ap);
    expect_at(line, a, "blocking");
    let_block(a->pid);
}
#define START_WAIT(a, ...) start_wait_at(__LINE__, (a), __VA_ARGS__)

/* printf into one of 16 rotating buffers: the texts of expected replies and commands. */
static const char *text(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *text(const char *f, ...)
{
    static char bufs[16][256];
    static unsigned next;
    char *b = bufs[next++ % 16];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, sizeof bufs[0], f, ap);
    va_end(ap);
    return b;
}

/* The replies. */
#define OK "ok"
#define CREATED "ok 0" /* a create that made a new object */
#define fail(e) text("fail %u", (unsigned)(e))
#define sem_is(count, max) text("sem %d/%d", (count), (max))
#define mutex_is(owner, rec) text("mutex owner=%d rec=%u", (int)(owner), (unsigned)(rec))
#define event_is(signaled) text("event %d", (signaled))

/* A name in Global\ (the namespace every user shares), unique to this scenario (16 buffers of
 * their own: a scenario keeps its names). */
static const char *obj_name(const char *tag)
{
    static char bufs[16][96];
    static unsigned next;
    char *b = bufs[next++ % 16];
    snprintf(b, sizeof bufs[0], "Global\\nsem-system-%d-%s", (int)getpid(), tag);
    return b;
}

/* Descriptors. OW (Owner Rights) is the creator here: the owner of a new object is its creator. */
#define SD_OWNER_ONLY "D:(A;;GA;;;OW)"
#define SD_EVERYONE_SYNC "D:(A;;GA;;;OW)(A;;0x100000;;;WD)"       /* SYNCHRONIZE */
#define SD_EVERYONE_QUERY "D:(A;;GA;;;OW)(A;;0x1;;;WD)"           /* *_QUERY_STATE */
#define SD_EVERYONE_SYNC_QUERY "D:(A;;GA;;;OW)(A;;0x100001;;;WD)" /* both */
#define SD_EVERYONE_ALL "D:(A;;GA;;;WD)"

/* ---------------------------------------------------------------------------------------------
 * The scenarios
 * ------------------------------------------------------------------------------------------- */

/* One server for every user: a root socket 0666 in a root directory no user can write to; A and B
 * both reach it, and neither can put a file beside it. */
static void serves_every_user(void)
{
    struct stat st;
    ASSERT_EQ(stat(sock, &st), 0);
    ASSERT(S_ISSOCK(st.st_mode));
    ASSERT_EQ(st.st_uid, 0);
    ASSERT_EQ(st.st_mode & 07777, 0666);
    struct agent a = agent_start(A), b = agent_start(B);
    ASK(&a, text("ok %d", (int)server), "stats");
    ASK(&b, text("ok %d", (int)server), "stats");
    ASK(&a, OK, "nocreate %s", dir);
    ASK(&b, OK, "nocreate %s", dir);
    /* each one's objects work, side by side */
    ASK(&a, CREATED, "sem s %s - 1 1 0", obj_name("a"));
    ASK(&b, CREATED, "sem s %s - 1 1 0", obj_name("b"));
    ASK(&a, "object 0", "wait s 0");
    ASK(&b, "object 0", "wait s 0");
    ASK(&a, sem_is(0, 1), "query s");
    ASK(&b, sem_is(0, 1), "query s");
    agent_end(&a);
    agent_end(&b);
}

TEST(system_serves_every_user)
{
    return system_test(serves_every_user);
}

/* B cannot open what A's DACL denies it — owner-only, denied to B's user SID, denied to B's group
 * SID, or A's default descriptor — for each type; nor create an object of that name (Windows: a
 * create of an existing object is an open with all access). Nothing of A's changes. */
static void open_denied(void)
{
    struct agent a = agent_start(A), b = agent_start(B);
    const char *s = obj_name("s"), *m = obj_name("m"), *e = obj_name("e");
    const char *by_user = obj_name("by-user"), *by_group = obj_name("by-group"), *by_default = obj_name("default");
    ASK(&a, CREATED, "sem s %s %s 1 2 0", s, SD_OWNER_ONLY);
    ASK(&a, CREATED, "mutex m %s %s 0", m, SD_OWNER_ONLY);
    ASK(&a, CREATED, "event e %s %s 1 0", e, SD_OWNER_ONLY);
    ASK(&a, CREATED, "sem u %s D:(D;;GA;;;S-1-22-1-%u)(A;;GA;;;WD) 1 2 0", by_user, (unsigned)uid_of[B]);
    ASK(&a, CREATED, "sem g %s D:(D;;GA;;;S-1-22-2-%u)(A;;GA;;;WD) 1 2 0", by_group, (unsigned)gid_of[B]);
    ASK(&a, CREATED, "sem d %s - 1 2 0", by_default);

    ASK(&b, fail(ERROR_ACCESS_DENIED), "open sem x %s 0x%x", s, SYNCHRONIZE);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "open sem x %s 0x%x", s, SEMAPHORE_QUERY_STATE);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "open sem x %s 0x%x", s, MAXIMUM_ALLOWED);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "open mutex x %s 0x%x", m, SYNCHRONIZE);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "open event x %s 0x%x", e, SYNCHRONIZE);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "open sem x %s 0x%x", by_user, SYNCHRONIZE);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "open sem x %s 0x%x", by_group, SYNCHRONIZE);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "open sem x %s 0x%x", by_default, SYNCHRONIZE);

    /* creates of the existing names, with no descriptor or one granting everything */
    ASK(&b, fail(ERROR_ACCESS_DENIED), "sem x %s - 0 1 0", s);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "sem x %s %s 0 1 0", s, SD_EVERYONE_ALL);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "mutex x %s - 1", m);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "mutex x %s %s 1", m, SD_EVERYONE_ALL);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "event x %s - 1 1", e);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "event x %s %s 1 1", e, SD_EVERYONE_ALL);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "sem x %s - 0 1 0", by_default);

    /* the other way round: A cannot open B's object made with the default descriptor */
    const char *bs = obj_name("b-default");
    ASK(&b, CREATED, "sem own %s - 0 1 0", bs);
    ASK(&a, fail(ERROR_ACCESS_DENIED), "open sem x %s 0x%x", bs, SYNCHRONIZE);

    /* nothing changed; B holds no handle */
    ASK(&a, sem_is(1, 2), "query s");
    ASK(&a, mutex_is(0, 0), "query m");
    ASK(&a, event_is(0), "query e");
    ASK(&a, sem_is(1, 2), "query u");
    ASK(&a, sem_is(1, 2), "query g");
    ASK(&a, sem_is(1, 2), "query d");
    const char *vars[] = {"s", "m", "e", "u", "g", "d"};
    for (int i = 0; i < 6; i++) ASK(&a, "ok 1", "handles %s", vars[i]);
    agent_end(&a);
    agent_end(&b);
}

TEST(system_open_denied_to_other_user)
{
    return system_test(open_denied);
}

/* B gets exactly the rights granted: SYNCHRONIZE only to Everyone means every request for more
 * fails, a wait through the handle takes A's permit, and a release or a SetEvent through it fails
 * and changes nothing; QUERY_STATE only means no wait. */
static void exact_rights(void)
{
    struct agent a = agent_start(A), b = agent_start(B);
    const char *s = obj_name("s"), *e = obj_name("e"), *m = obj_name("m");
    ASK(&a, CREATED, "sem s %s %s 1 2 0", s, SD_EVERYONE_SYNC);
    ASK(&a, CREATED, "event e %s %s 1 0", e, SD_EVERYONE_SYNC);
    ASK(&a, CREATED, "mutex m %s %s 0", m, SD_EVERYONE_QUERY);

    /* a semaphore: SYNCHRONIZE and nothing more */
    ASK(&b, fail(ERROR_ACCESS_DENIED), "open sem s %s 0x%x", s, SEMAPHORE_ALL_ACCESS);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "open sem s %s 0x%x", s, SEMAPHORE_MODIFY_STATE);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "open sem s %s 0x%x", s, SYNCHRONIZE | SEMAPHORE_MODIFY_STATE);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "open sem s %s 0x%x", s, SYNCHRONIZE | SEMAPHORE_QUERY_STATE);
    ASK(&b, OK, "open sem smax %s 0x%x", s, MAXIMUM_ALLOWED);
    ASK(&b, text("ok 0x%x", SYNCHRONIZE), "access smax");
    ASK(&b, OK, "open sem s %s 0x%x", s, SYNCHRONIZE);
    ASK(&b, text("ok 0x%x", SYNCHRONIZE), "access s");
    ASK(&b, fail(ERROR_ACCESS_DENIED), "release s 1");
    ASK(&a, sem_is(1, 2), "query s");
    ASK(&b, fail(ERROR_ACCESS_DENIED), "query s");
    START_WAIT(&b, "wait s 10000");
    expect(&b, "object 0");
    ASK(&a, sem_is(0, 2), "query s");
    ASK(&b, "timeout", "wait s 0");
    ASK(&a, sem_is(0, 2), "query s");

    /* an event: SYNCHRONIZE, so no SetEvent, ResetEvent or PulseEvent */
    ASK(&b, fail(ERROR_ACCESS_DENIED), "open event e %s 0x%x", e, EVENT_MODIFY_STATE);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "open event e %s 0x%x", e, EVENT_ALL_ACCESS);
    ASK(&b, OK, "open event e %s 0x%x", e, SYNCHRONIZE);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "set e");
    ASK(&b, fail(ERROR_ACCESS_DENIED), "pulse e");
    ASK(&a, event_is(0), "query e");
    ASK(&a, OK, "set e");
    ASK(&b, fail(ERROR_ACCESS_DENIED), "reset e");
    ASK(&a, event_is(1), "query e");
    ASK(&b, "object 0", "wait e 0");

    /* a mutex: MUTANT_QUERY_STATE only, so no wait, alone or among others */
    ASK(&b, fail(ERROR_ACCESS_DENIED), "open mutex m %s 0x%x", m, SYNCHRONIZE);
    ASK(&b, OK, "open mutex m %s 0x%x", m, MUTANT_QUERY_STATE);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "wait m 0");
    ASK(&b, fail(ERROR_ACCESS_DENIED), "waitmulti any 0 e m");
    ASK(&b, fail(ERROR_ACCESS_DENIED), "waitmulti all 0 e m");
    ASK(&b, mutex_is(0, 0), "query m");
    ASK(&a, mutex_is(0, 0), "query m");
    ASK(&a, event_is(1), "query e");
    agent_end(&a);
    agent_end(&b);
}

TEST(system_other_user_gets_exactly_the_rights_granted)
{
    return system_test(exact_rights);
}

/* Waits wake across users: B on A's event, alone, with one of its own semaphores in a wait-all and
 * in a wait-any; A on B's event. Timeouts time out, and a wait-all that times out takes nothing. */
static void cross_user_wake(void)
{
    struct agent a = agent_start(A), b = agent_start(B);
    const char *e = obj_name("e"), *f = obj_name("f"), *be = obj_name("b-event");
    ASK(&a, CREATED, "event e %s %s 1 0", e, SD_EVERYONE_SYNC); /* manual reset */
    ASK(&a, CREATED, "event f %s %s 0 0", f, SD_EVERYONE_SYNC); /* auto reset */
    ASK(&b, OK, "open event e %s 0x%x", e, SYNCHRONIZE);
    ASK(&b, OK, "open event f %s 0x%x", f, SYNCHRONIZE);
    ASK(&b, CREATED, "sem own - - 1 1 0");

    START_WAIT(&b, "wait e 10000");
    ASK(&a, OK, "set e");
    expect(&b, "object 0");
    ASK(&a, OK, "reset e");

    START_WAIT(&b, "waitmulti all 10000 own f");
    ASK(&a, OK, "set f");
    expect(&b, "object 0");
    ASK(&b, sem_is(0, 1), "query own");
    ASK(&a, event_is(0), "query f"); /* B's wait consumed it */

    START_WAIT(&b, "waitmulti any 10000 own f");
    ASK(&a, OK, "set f");
    expect(&b, "object 1");
    ASK(&a, event_is(0), "query f");

    /* timeouts */
    START_WAIT(&b, "wait f 200");
    expect(&b, "timeout");
    ASK(&a, OK, "set e");
    START_WAIT(&b, "waitmulti all 200 own e"); /* e is set, own is not */
    expect(&b, "timeout");
    ASK(&b, sem_is(0, 1), "query own");
    ASK(&a, event_is(1), "query e");
    START_WAIT(&b, "waitmulti any 200 own f");
    expect(&b, "timeout");

    /* and the other way: A waits on B's event */
    ASK(&b, CREATED, "event be %s %s 0 0", be, SD_EVERYONE_SYNC);
    ASK(&a, OK, "open event be %s 0x%x", be, SYNCHRONIZE);
    START_WAIT(&a, "wait be 10000");
    ASK(&b, OK, "set be");
    expect(&a, "object 0");
    ASK(&b, event_is(0), "query be");
    agent_end(&a);
    agent_end(&b);
}

TEST(system_waits_wake_across_users)
{
    return system_test(cross_user_wake);
}

/* B, granted SEMAPHORE_MODIFY_STATE through its primary group, releases A's semaphore: A's blocked
 * wait returns. A release past the maximum fails ERROR_TOO_MANY_POSTS and changes nothing. */
static void release_by_other_user(void)
{
    struct agent a = agent_start(A), b = agent_start(B);
    const char *r = obj_name("r");
    ASK(&a, CREATED, "sem r %s D:(A;;GA;;;OW)(A;;0x100003;;;S-1-22-2-%u) 0 2 0", r, (unsigned)gid_of[B]);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "open sem r %s 0x%x", r, SEMAPHORE_ALL_ACCESS);
    ASK(&b, OK, "open sem r %s 0x%x", r, SYNCHRONIZE | SEMAPHORE_MODIFY_STATE | SEMAPHORE_QUERY_STATE);
    ASK(&b, text("ok 0x%x", SYNCHRONIZE | SEMAPHORE_MODIFY_STATE | SEMAPHORE_QUERY_STATE), "access r");

    START_WAIT(&a, "wait r 10000");
    ASK(&b, "ok 0", "release r 1");
    expect(&a, "object 0");
    ASK(&a, sem_is(0, 2), "query r");

    ASK(&b, fail(ERROR_INVALID_PARAMETER), "release r 0");
    ASK(&b, "ok 0", "release r 2");
    ASK(&a, sem_is(2, 2), "query r");
    ASK(&b, fail(ERROR_TOO_MANY_POSTS), "release r 1");
    ASK(&b, sem_is(2, 2), "query r");
    ASK(&a, sem_is(2, 2), "query r");
    ASK(&a, "object 0", "wait r 0");
    ASK(&b, fail(ERROR_TOO_MANY_POSTS), "release r 2"); /* all or nothing */
    ASK(&a, sem_is(1, 2), "query r");
    ASK(&b, "ok 1", "release r 1");
    ASK(&a, sem_is(2, 2), "query r");
    agent_end(&a);
    agent_end(&b);
}

TEST(system_other_user_releases_semaphore)
{
    return system_test(release_by_other_user);
}

/* B owns A's mutex: A cannot release it (ERROR_NOT_OWNER) nor take it; B dies owning it (SIGKILL)
 * and A's blocked wait returns WAIT_ABANDONED, A owning it. */
static void mutex_abandoned_by_other_user(void)
{
    struct agent a = agent_start(A), b = agent_start(B);
    const char *m = obj_name("m");
    ASK(&a, CREATED, "mutex m %s %s 0", m, SD_EVERYONE_SYNC);
    ASK(&b, OK, "open mutex m %s 0x%x", m, SYNCHRONIZE);
    ASK(&b, "object 0", "wait m 0");
    ASK(&a, mutex_is(b.pid, 1), "query m");
    ASK(&a, fail(ERROR_NOT_OWNER), "relmutex m");
    ASK(&a, "timeout", "wait m 0");
    ASK(&b, "object 0", "wait m 0"); /* recursion */
    ASK(&a, mutex_is(b.pid, 2), "query m");
    ASK(&b, OK, "relmutex m"); /* needs no right, as on Windows */
    ASK(&a, mutex_is(b.pid, 1), "query m");

    START_WAIT(&a, "wait m 10000");
    ASSERT_EQ(kill(b.pid, SIGKILL), 0);
    ASSERT_EQ(agent_reap(&b, 10000), 128 + SIGKILL);
    expect(&a, "abandoned 0");
    ASK(&a, mutex_is(a.pid, 1), "query m");
    ASK(&a, OK, "relmutex m");
    ASK(&a, mutex_is(0, 0), "query m");
    ASK(&a, fail(ERROR_NOT_OWNER), "relmutex m");
    agent_end(&a);
}

TEST(system_other_user_abandons_mutex)
{
    return system_test(mutex_abandoned_by_other_user);
}

/* The shared mappings of a reply of "shmaps": "ok DEV:INODE ..." (at most 32). */
static int parse_maps(const char *reply, char maps[][48])
{
    ASSERT_EQ(strncmp(reply, "ok", 2), 0);
    int n = 0;
    const char *p = reply + 2;
    while (*p == ' ' && n < 32) {
        p++;
        size_t len = strcspn(p, " ");
        ASSERT(len > 0 && len < 48);
        memcpy(maps[n], p, len);
        maps[n++][len] = 0;
        p += len;
    }
    return n;
}

/* Every way B has to reach A's objects besides the API changes nothing of them: B maps none of the
 * memory A maps; B can write no file of root or A in the server's directory or /dev/shm, nor put
 * one there, nor open A's or the server's memory through /proc; B overwrites every shared mapping it
 * has with garbage, then tries every operation on A's objects through the handles it has (whatever
 * they do in B is B's business). A's objects keep their counts, states, owner and names, and the
 * server serves a fresh client of A. */
static void garbage_changes_nothing(void)
{
    struct agent a = agent_start(A), b = agent_start(B);
    const char *s = obj_name("s"), *z = obj_name("z"), *m = obj_name("m");
    const char *e = obj_name("e"), *f = obj_name("f"), *d = obj_name("d");
    ASK(&a, CREATED, "sem s %s %s 2 5 0", s, SD_EVERYONE_QUERY);
    ASK(&a, CREATED, "sem z %s %s 0 3 0", z, SD_EVERYONE_SYNC_QUERY);
    ASK(&a, CREATED, "mutex m %s %s 1", m, SD_EVERYONE_SYNC_QUERY); /* owned by A */
    ASK(&a, CREATED, "event e %s %s 1 1", e, SD_EVERYONE_QUERY);    /* manual, set */
    ASK(&a, CREATED, "event f %s %s 0 0", f, SD_EVERYONE_QUERY);    /* auto, reset */
    ASK(&a, CREATED, "sem d %s %s 1 1 0", d, SD_OWNER_ONLY);

    /* B's own objects, so that its arena holds something, and its handles to A's */
    ASK(&b, CREATED, "sem own %s - 1 3 0", obj_name("b-own"));
    ASK(&b, CREATED, "event ownev - - 1 0");
    ASK(&b, CREATED, "mutex ownm - - 1");
    ASK(&b, CREATED, "event gone - - 1 0");
    ASK(&b, OK, "close gone"); /* B has a close ring (if the server was not idle): garbage too, later */
    ASK(&b, OK, "open sem s %s 0x%x", s, SEMAPHORE_QUERY_STATE);
    ASK(&b, OK, "open sem z %s 0x%x", z, SYNCHRONIZE | SEMAPHORE_QUERY_STATE);
    ASK(&b, OK, "open mutex m %s 0x%x", m, SYNCHRONIZE | MUTANT_QUERY_STATE);
    ASK(&b, OK, "open event e %s 0x%x", e, EVENT_QUERY_STATE);
    ASK(&b, OK, "open event f %s 0x%x", f, EVENT_QUERY_STATE);
    ASK(&b, fail(ERROR_ACCESS_DENIED), "open sem d %s 0x%x", d, SYNCHRONIZE);
    ASK(&b, "timeout", "wait z 0");
    ASK(&b, "timeout", "wait m 0");

    /* no memory in common */
    char amaps[32][48], bmaps[32][48];
    const char *reply = ask_any(&a, 10000, "shmaps");
    ASSERT_NOT_NULL(reply);
    int na = parse_maps(reply, amaps);
    reply = ask_any(&b, 10000, "shmaps");
    ASSERT_NOT_NULL(reply);
    int nb = parse_maps(reply, bmaps);
    ASSERT(nb >= 1);
    for (int i = 0; i < na; i++)
        for (int j = 0; j < nb; j++)
            if (strcmp(amaps[i], bmaps[j]) == 0) {
                fprintf(stderr, "A and B both map %s\n", amaps[i]);
                ASSERT(!"B maps memory A maps");
            }

    /* no file to write, none to make, no memory through /proc */
    ASK(&b, OK, "files %u %s /dev/shm", (unsigned)uid_of[A], dir);
    ASK(&b, OK, "nocreate %s", dir);
    ASK(&b, OK, "procmem %d %d", (int)a.pid, (int)server);

    /* garbage over all of B's shared memory, then every operation through B's handles */
    reply = ask_any(&b, 10000, "scribble");
    ASSERT_NOT_NULL(reply);
    int written = 0;
    ASSERT_EQ(sscanf(reply, "scribbling %d", &written), 1);
    ASSERT(written >= 1);
    const char *const attacks[] = {
        /* through the handles B had before */
        "release s 1", "release z 3", "wait s 0", "wait z 0", "wait m 0", "relmutex m", "reset e", "pulse e",
        "set f", "waitmulti all 0 s z m e f", "waitmulti any 0 z m", "query z", "query m", "close m", "close z",
        /* through handles opened into the garbage */
        text("open sem s2 %s 0x%x", s, SEMAPHORE_QUERY_STATE), text("open sem z2 %s 0x%x", z, SYNCHRONIZE),
        text("open mutex m2 %s 0x%x", m, SYNCHRONIZE), text("open event e2 %s 0x%x", e, EVENT_QUERY_STATE),
        text("open event f2 %s 0x%x", f, EVENT_QUERY_STATE), "release s2 1", "release z2 1", "wait z2 0",
        "wait m2 0", "relmutex m2", "reset e2", "set f2", "waitmulti all 0 z2 m2", "waitmulti any 0 z2 m2",
        text("open sem d %s 0x%x", d, SYNCHRONIZE), text("sem d %s - 1 1 0", d),
        /* and B's own objects, last: B may well hang in its own garbage */
        "waitmulti any 0 z2 m2 own ownev", "wait own 0", "release own 1", "set ownev", "wait ownm 0",
    };
    char line[512];
    bool alive = try_read_line(b.rep, line, sizeof line, 10000); /* "ok BYTES": done scribbling */
    for (size_t i = 0; alive && i < sizeof attacks / sizeof attacks[0]; i++)
        alive = ask_any(&b, 2000, "%s", attacks[i]) != NULL;
    /* B ends however it ends: exiting, killed by its own garbage, or stuck in it (killed here) */
    pid_t ended = 0;
    if (alive && try_tell(&b, "exit")) {
        for (uint64_t end = now_ms() + 3000; (ended = waitpid(b.pid, NULL, WNOHANG)) == 0 && now_ms() < end;)
            sleep_ms(2);
    }
    if (ended == 0) {
        kill(b.pid, SIGKILL);
        waitpid(b.pid, NULL, 0);
    }
    close(b.cmd);
    close(b.rep);

    /* A's objects are as they were, by A's handles */
    ASK(&a, sem_is(2, 5), "query s");
    ASK(&a, sem_is(0, 3), "query z");
    ASK(&a, mutex_is(a.pid, 1), "query m");
    ASK(&a, event_is(1), "query e");
    ASK(&a, event_is(0), "query f");
    ASK(&a, sem_is(1, 1), "query d");
    /* by their names, from a fresh client of A, which the server serves */
    struct agent a2 = agent_start(A);
    ASK(&a2, text("ok %d", (int)server), "stats");
    ASK(&a2, OK, "open sem s %s 0x%x", s, SEMAPHORE_ALL_ACCESS);
    ASK(&a2, OK, "open sem z %s 0x%x", z, SEMAPHORE_ALL_ACCESS);
    ASK(&a2, OK, "open mutex m %s 0x%x", m, MUTEX_ALL_ACCESS);
    ASK(&a2, OK, "open event e %s 0x%x", e, EVENT_ALL_ACCESS);
    ASK(&a2, OK, "open event f %s 0x%x", f, EVENT_ALL_ACCESS);
    ASK(&a2, OK, "open sem d %s 0x%x", d, SEMAPHORE_ALL_ACCESS);
    ASK(&a2, sem_is(2, 5), "query s");
    ASK(&a2, sem_is(0, 3), "query z");
    ASK(&a2, mutex_is(a.pid, 1), "query m");
    ASK(&a2, event_is(1), "query e");
    ASK(&a2, event_is(0), "query f");
    ASK(&a2, sem_is(1, 1), "query d");
    /* and they still work */
    ASK(&a2, "timeout", "wait m 0");
    ASK(&a, OK, "relmutex m");
    ASK(&a2, "object 0", "wait m 0");
    ASK(&a2, OK, "relmutex m");
    ASK(&a2, "ok 2", "release s 1");
    ASK(&a, sem_is(3, 5), "query s");
    agent_end(&a2);
    agent_end(&a);
}

TEST(system_other_users_garbage_changes_nothing)
{
    return system_test(garbage_changes_nothing);
}

/* Another user's exclusive semaphore, through the server as through shared memory: owned by a
 * thread of B (A's NsemRequestSemaphore says ERROR_EXCL_SEM_ALREADY_OWNED, A's release
 * ERROR_EXCL_SEM_ALREADY_OWNED), released only one at a time, first come first served, abandoned
 * when B dies owning it. And an undo semaphore: what B took comes back when B dies. A wait may mix
 * B's own exclusive semaphore with A's objects. */
static void exclusive_and_undo_shared(void)
{
    struct agent a = agent_start(A), b = agent_start(B);
    const char *x = obj_name("x"), *u = obj_name("u"), *n = obj_name("n");
    ASK(&a, CREATED, "sem x %s %s 1 1 %u", x, SD_EVERYONE_ALL, SEMAPHORE_EXCLUSIVE);
    ASK(&a, CREATED, "sem u %s %s 2 2 %u", u, SD_EVERYONE_ALL, SEMAPHORE_UNDO);
    ASK(&a, CREATED, "sem n %s %s 1 1 0", n, SD_EVERYONE_ALL);
    ASK(&b, OK, "open sem x %s 0x%x", x, SEMAPHORE_ALL_ACCESS);
    ASK(&b, OK, "open sem u %s 0x%x", u, SEMAPHORE_ALL_ACCESS);
    ASK(&b, OK, "open sem n %s 0x%x", n, SYNCHRONIZE);

    /* exclusive: B's thread owns it */
    ASK(&b, "object 0", "wait x 0");
    ASK(&a, sem_is(0, 1), "query x");
    ASK(&a, text("code %u", ERROR_EXCL_SEM_ALREADY_OWNED), "request x 0");
    ASK(&a, fail(ERROR_EXCL_SEM_ALREADY_OWNED), "release x 1");
    ASK(&b, "object 0", "wait x 0"); /* recursion */
    ASK(&b, fail(ERROR_INVALID_PARAMETER), "release x 2");
    ASK(&b, "ok 0", "release x 1");
    ASK(&a, sem_is(0, 1), "query x");
    ASK(&b, "ok 0", "release x 1");
    ASK(&a, sem_is(1, 1), "query x");
    ASK(&b, fail(ERROR_NOT_OWNER), "release x 1");
    /* first come, first served: B waits for A's release, which hands it to B */
    ASK(&a, "object 0", "wait x 0");
    START_WAIT(&b, "wait x 10000");
    ASK(&a, "ok 0", "release x 1");
    expect(&b, "object 0");
    ASK(&a, sem_is(0, 1), "query x");
    ASK(&a, "timeout", "wait x 0");
    /* a waiter that times out leaves the queue: the next release hands it to no one */
    ASK(&b, "ok 0", "release x 1");
    ASK(&a, "object 0", "wait x 0");
    START_WAIT(&b, "wait x 300");
    expect(&b, "timeout");
    ASK(&a, "ok 0", "release x 1");
    ASK(&a, sem_is(1, 1), "query x");
    ASK(&b, "object 0", "wait x 0");

    /* undo: B takes both permits */
    ASK(&b, "object 0", "wait u 0");
    ASK(&b, "object 0", "wait u 0");
    ASK(&a, sem_is(0, 2), "query u");
    /* a wait mixing B's own exclusive semaphore with A's object, made by the server */
    ASK(&b, CREATED, "sem bx - - 1 1 %u", SEMAPHORE_EXCLUSIVE);
    ASK(&b, "object 0", "waitmulti all 0 bx n");
    ASK(&b, sem_is(0, 1), "query bx");
    ASK(&a, sem_is(0, 1), "query n");

    /* B dies owning x and holding u's permits: x is abandoned to A's waiting thread, u comes back */
    START_WAIT(&a, "wait x 10000");
    ASSERT_EQ(kill(b.pid, SIGKILL), 0);
    ASSERT_EQ(agent_reap(&b, 10000), 128 + SIGKILL);
    expect(&a, "abandoned 0");
    START_WAIT(&a, "wait u 10000");
    expect(&a, "object 0");
    START_WAIT(&a, "wait u 10000");
    expect(&a, "object 0");
    ASK(&a, "ok 1", "handles x");
    ASK(&a, "ok 1", "handles u");
    ASK(&a, "ok 1", "handles n");
    agent_end(&a);
}

TEST(system_exclusive_and_undo_shared)
{
    return system_test(exclusive_and_undo_shared);
}

/* B closes handles to A's objects (brokered: slot 0) through its close ring, which is in B's own
 * arena: 200 handles to A's mutex, more than the ring's 64 entries, twice over, leave A's object
 * with A's handle and B's one (so do 200 to A's semaphore, which go as requests: another user's
 * semaphore may be exclusive, abandoned at the last close at once), and B's remaining handles
 * still work. B then owns A's mutex
 * and closes its last handle to it through the ring (the server, not B's library, keeps the mutex
 * pinned for B); SIGKILLed, B abandons it all the same: A's blocked wait returns WAIT_ABANDONED. */
static void ring_closes_of_brokered_handles(void)
{
    struct agent a = agent_start(A), b = agent_start(B);
    const char *s = obj_name("s"), *m = obj_name("m");
    ASK(&a, CREATED, "sem s %s %s 1 2 0", s, SD_EVERYONE_SYNC_QUERY);
    ASK(&a, CREATED, "mutex m %s %s 0", m, SD_EVERYONE_SYNC_QUERY);
    ASK(&b, OK, "open sem s %s 0x%x", s, SYNCHRONIZE | SEMAPHORE_QUERY_STATE);
    ASK(&b, OK, "open mutex mq %s 0x%x", m, SYNCHRONIZE | MUTANT_QUERY_STATE);
    for (int round = 0; round < 4; round++) {
        bool sem = round % 2;
        const char *var = sem ? "s" : "mq";
        ASK(&b, OK, "opens %s %s 0x%x 200", sem ? "sem" : "mutex", sem ? s : m,
            SYNCHRONIZE | (sem ? SEMAPHORE_QUERY_STATE : MUTANT_QUERY_STATE));
        ASK(&a, "ok 202", "handles %s", sem ? "s" : "m");
        ASK(&b, "ok 202", "handles %s", var);
        const char *reply = ask_any(&b, 10000, "ringcloses");
        ASSERT_NOT_NULL(reply);
        unsigned posted = 0;
        ASSERT_EQ(sscanf(reply, "ok %u", &posted), 1);
        if (sem) ASSERT_EQ(posted, 0u); /* as requests */
        else ASSERT(posted > 0 && posted <= 200); /* through the ring, the rest as CLOSE when it was full */
        /* A's request comes after B's posts: the server takes B's ring first */
        ASK(&a, "ok 2", "handles %s", sem ? "s" : "m");
        ASK(&b, "ok 2", "handles %s", var);
    }
    ASK(&b, OK, "close mq");
    ASK(&b, "object 0", "wait s 0");
    ASK(&a, sem_is(0, 2), "query s");
    ASK(&b, "timeout", "wait s 0");

    /* B owns A's mutex, and its last handle to it is closed through the ring (a close sent as a
     * request instead, when the server was idle, is done again with a new handle) */
    ASK(&b, OK, "open mutex m %s 0x%x", m, SYNCHRONIZE);
    ASK(&b, "object 0", "wait m 0");
    ASK(&a, mutex_is(b.pid, 1), "query m");
    bool posted = false;
    for (int i = 0; i < 20 && !posted; i++) {
        if (i) ASK(&b, OK, "open mutex m %s 0x%x", m, SYNCHRONIZE);
        const char *reply = ask_any(&b, 10000, "ringclose m");
        ASSERT_NOT_NULL(reply);
        ASSERT(strcmp(reply, "posted") == 0 || strcmp(reply, "sent") == 0);
        posted = strcmp(reply, "posted") == 0;
    }
    ASSERT(posted);
    START_WAIT(&a, "wait m 10000");
    ASSERT_EQ(kill(b.pid, SIGKILL), 0);
    ASSERT_EQ(agent_reap(&b, 10000), 128 + SIGKILL);
    expect(&a, "abandoned 0");
    ASK(&a, mutex_is(a.pid, 1), "query m");
    ASK(&a, "ok 1", "handles m");
    ASK(&a, OK, "relmutex m");
    ASK(&a, "ok 1", "handles s");
    ASK(&a, sem_is(0, 2), "query s");
    agent_end(&a);
}

TEST(system_ring_closes_of_brokered_handles)
{
    return system_test(ring_closes_of_brokered_handles);
}

/* ---------------------------------------------------------------------------------------------
 * The agent: one user's client, run as that user
 * ------------------------------------------------------------------------------------------- */

static struct {
    char name[16];
    HANDLE h;
} vars[32];

static HANDLE var(const char *name)
{
    for (int i = 0; i < 32; i++)
        if (vars[i].h && strcmp(vars[i].name, name) == 0) return vars[i].h;
    return NULL;
}

static void var_set(const char *name, HANDLE h)
{
    int slot = -1;
    for (int i = 0; i < 32 && slot < 0; i++)
        if (vars[i].h && strcmp(vars[i].name, name) == 0) slot = i;
    for (int i = 0; i < 32 && slot < 0; i++)
        if (!vars[i].h) slot = i;
    if (slot < 0) return;
    snprintf(vars[slot].name, sizeof vars[slot].name, "%s", name);
    vars[slot].h = h;
}

static void say_bool(BOOL ok)
{
    if (ok) say("ok");
    else say("fail %u", GetLastError());
}

static void say_wait(DWORD r, DWORD n)
{
    if (r < WAIT_OBJECT_0 + n) say("object %u", r - WAIT_OBJECT_0);
    else if (r >= WAIT_ABANDONED_0 && r < WAIT_ABANDONED_0 + n) say("abandoned %u", r - WAIT_ABANDONED_0);
    else if (r == WAIT_TIMEOUT) say("timeout");
    else if (r == WAIT_FAILED) say("fail %u", GetLastError());
    else say("result 0x%x", r);
}

/* The head of this process's close ring (lib/closering.c), found in its arena by its client id; 0
 * while it has none (a new ring starts at 0). It moves by one for each close posted there. */
static uint32_t ring_head(void)
{
    const struct nsem_arena_header *h = (const struct nsem_arena_header *)(const void *)nsem__slot(0);
    uint32_t high = h->high_water < NSEM_ARENA_SLOTS ? h->high_water : NSEM_ARENA_SLOTS;
    for (uint32_t i = NSEM_ARENA_FIRST_SLOT; i < high; i++) {
        struct nsem_close_ring *r = (struct nsem_close_ring *)(void *)nsem__slot(i);
        /* relaxed: the server wrote the slot before its SETUP reply */
        if (atomic_load_explicit(&r->type, memory_order_relaxed) == NSEM_TYPE_CLOSE_RING &&
            r->client_id == nsem__client_id())
            return atomic_load(&r->head); /* seq_cst, as every access to head */
    }
    return 0;
}

/* Handles of the opens command, closed by ringcloses. */
static HANDLE many[512];
static int nmany;

/* Creates object `type` from the arguments of the sem, mutex and event commands. */
static void agent_create(const char *type, char **arg)
{
    const char *name = strcmp(arg[1], "-") == 0 ? NULL : arg[1];
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, FALSE};
    PSECURITY_DESCRIPTOR sd = NULL;
    if (strcmp(arg[2], "-") != 0 &&
        !ConvertStringSecurityDescriptorToSecurityDescriptorA(arg[2], SDDL_REVISION_1, &sd, NULL)) {
        say("sddl %u", GetLastError());
        return;
    }
    sa.lpSecurityDescriptor = sd;
    LPSECURITY_ATTRIBUTES psa = sa.lpSecurityDescriptor ? &sa : NULL;
    HANDLE h;
    SetLastError(POISON);
    if (strcmp(type, "sem") == 0)
        h = CreateSemaphoreExA(psa, atoi(arg[3]), atoi(arg[4]), name, (DWORD)strtoul(arg[5], NULL, 0),
                               SEMAPHORE_ALL_ACCESS);
    else if (strcmp(type, "mutex") == 0) h = CreateMutexA(psa, atoi(arg[3]), name);
    else h = CreateEventA(psa, atoi(arg[3]), atoi(arg[4]), name);
    DWORD e = GetLastError();
    if (sa.lpSecurityDescriptor) LocalFree(sa.lpSecurityDescriptor);
    if (!h) {
        say("fail %u", e);
        return;
    }
    var_set(arg[0], h);
    say("ok %u", e);
}

static void agent_query(HANDLE h, bool handles)
{
    NSEM_OBJECT_INFO i;
    memset(&i, 0xcc, sizeof i);
    i.cbSize = sizeof i;
    SetLastError(POISON);
    if (!NsemQueryObject(h, &i)) say("fail %u", GetLastError());
    else if (handles) say("ok %u", i.dwHandleCount);
    else if (i.dwType == NSEM_TYPE_SEMAPHORE) say("sem %d/%d", (int)i.lCurrentCount, (int)i.lMaximumCount);
    else if (i.dwType == NSEM_TYPE_MUTEX)
        say("mutex owner=%u rec=%u%s", i.dwOwnerProcessId, i.dwRecursionCount, i.bAbandoned ? " abandoned" : "");
    else if (i.dwType == NSEM_TYPE_EVENT) say("event %d", (int)i.lCurrentCount);
    else say("type %u", i.dwType);
}

/* The shared mappings of this process (its arena, and whatever else the library maps shared). */
struct shmap {
    uintptr_t lo, hi;
    bool writable;
    char id[48]; /* DEV:INODE */
};

static int shared_maps(struct shmap *maps, int max)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return 0;
    char line[1024];
    int n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        unsigned long lo, hi, off, ino;
        char perms[8], dev[16];
        if (sscanf(line, "%lx-%lx %7s %lx %15s %lu", &lo, &hi, perms, &off, dev, &ino) != 6 || perms[3] != 's')
            continue;
        maps[n] = (struct shmap){lo, hi, perms[1] == 'w', ""};
        snprintf(maps[n].id, sizeof maps[n].id, "%s:%lu", dev, ino);
        n++;
    }
    fclose(f);
    return n;
}

/* Overwrites every shared mapping with pseudo-random bytes (made writable first if it can be).
 * Says "scribbling N" (mappings it will write) before, "ok BYTES" after. */
static void agent_scribble(void)
{
    struct shmap maps[32];
    int n = shared_maps(maps, 32), writable = 0;
    for (int i = 0; i < n; i++) {
        if (!maps[i].writable)
            maps[i].writable = mprotect((void *)maps[i].lo, maps[i].hi - maps[i].lo, PROT_READ | PROT_WRITE) == 0;
        writable += maps[i].writable;
    }
    say("scribbling %d", writable);
    uint64_t x = 0x9e3779b97f4a7c15u ^ (uint64_t)getpid();
    size_t bytes = 0;
    for (int i = 0; i < n; i++) {
        if (!maps[i].writable) continue;
        for (uint64_t *p = (uint64_t *)maps[i].lo; p < (uint64_t *)maps[i].hi; p++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *p = x;
        }
        bytes += maps[i].hi - maps[i].lo;
    }
    say("ok %zu", bytes);
}

/* For "files": the other user, and the first file of root or of that user opened for writing. A
 * file of a third user (another program's shared memory in /dev/shm) is not this test's business. */
static uid_t files_other;
static char files_found[1024];

static int files_visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    if (type != FTW_F && type != FTW_SL) return 0;
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return 0;
    struct stat fst;
    bool theirs = fstat(fd, &fst) == 0 && fst.st_uid != getuid() && (fst.st_uid == 0 || fst.st_uid == files_other);
    close(fd);
    if (!theirs) return 0;
    snprintf(files_found, sizeof files_found, "%s", path);
    return 1;
}

/*
 * The commands, one a line, each answered with one line ("fail E" is a failure with
 * GetLastError() E; a wait whose timeout is not 0 says "blocking" first):
 *   sem VAR NAME SDDL INITIAL MAXIMUM FLAGS  CreateSemaphoreEx ("-": no name, no descriptor):
 *                                            "ok GLE" (0 new, 183 existing) or "fail E"
 *   mutex VAR NAME SDDL OWNED                CreateMutex
 *   event VAR NAME SDDL MANUAL INITIAL       CreateEvent
 *   open sem|mutex|event VAR NAME ACCESS     Open*: "ok" or "fail E"
 *   access VAR                               NsemGetHandleAccess: "ok 0xACCESS"
 *   release VAR COUNT                        ReleaseSemaphore: "ok PREVIOUS"
 *   set|reset|pulse|relmutex|close VAR       SetEvent, ResetEvent, PulseEvent, ReleaseMutex, CloseHandle
 *   ringclose VAR                            CloseHandle: "posted" (through the close ring) or "sent"
 *                                            (as a CLOSE request)
 *   opens sem|mutex|event NAME ACCESS N      N more handles to NAME, for ringcloses: "ok" or "fail E"
 *   ringcloses                               closes them: "ok POSTED" (how many went through the ring)
 *   wait VAR MS                              WaitForSingleObject: "object 0", "abandoned 0", "timeout"
 *   request VAR MS                           NsemRequestSemaphore: "code E"
 *   waitmulti any|all MS VAR...              WaitForMultipleObjects: "object I", "abandoned I", "timeout"
 *   query VAR                                NsemQueryObject: "sem COUNT/MAX", "mutex owner=PID rec=N",
 *                                            "event 0|1"
 *   handles VAR                              its handle count: "ok N"
 *   stats                                    NsemGetServerStats: "ok SERVER_PID"
 *   shmaps                                   "ok DEV:INODE..." of the shared mappings
 *   scribble                                 see agent_scribble
 *   files OTHER_UID PATH...                  opens each file under PATH for writing: "ok", or
 *                                            "writable FILE" for one of root's or OTHER_UID's
 *   nocreate DIR                             "ok" if no file can be created in DIR
 *   procmem PID...                           "ok" if no /proc/PID/mem opens for writing and no
 *                                            /proc/PID/fd can be listed
 *   exit                                     exits with 0 (so does the end of input)
 */
static void agent_run(int n, char **t)
{
    const char *c = t[0];
    if ((strcmp(c, "sem") == 0 && n == 7) || (strcmp(c, "mutex") == 0 && n == 5) ||
        (strcmp(c, "event") == 0 && n == 6)) {
        agent_create(c, t + 1);
    } else if (strcmp(c, "open") == 0 && n == 5) {
        DWORD access = (DWORD)strtoul(t[4], NULL, 0);
        SetLastError(POISON);
        HANDLE h = strcmp(t[1], "sem") == 0     ? OpenSemaphoreA(access, FALSE, t[3])
                   : strcmp(t[1], "mutex") == 0 ? OpenMutexA(access, FALSE, t[3])
                                                : OpenEventA(access, FALSE, t[3]);
        if (h) var_set(t[2], h);
        say_bool(h != NULL);
    } else if (strcmp(c, "access") == 0 && n == 2) {
        DWORD access = POISON;
        if (NsemGetHandleAccess(var(t[1]), &access)) say("ok 0x%x", access);
        else say("fail %u", GetLastError());
    } else if (strcmp(c, "release") == 0 && n == 3) {
        LONG prev = (LONG)POISON;
        SetLastError(POISON);
        if (ReleaseSemaphore(var(t[1]), atoi(t[2]), &prev)) say("ok %d", (int)prev);
        else if (prev != (LONG)POISON) say("fail %u, but the previous count was written", GetLastError());
        else say("fail %u", GetLastError());
    } else if (strcmp(c, "set") == 0 && n == 2) {
        SetLastError(POISON);
        say_bool(SetEvent(var(t[1])));
    } else if (strcmp(c, "reset") == 0 && n == 2) {
        SetLastError(POISON);
        say_bool(ResetEvent(var(t[1])));
    } else if (strcmp(c, "pulse") == 0 && n == 2) {
        SetLastError(POISON);
        say_bool(PulseEvent(var(t[1])));
    } else if (strcmp(c, "relmutex") == 0 && n == 2) {
        SetLastError(POISON);
        say_bool(ReleaseMutex(var(t[1])));
    } else if (strcmp(c, "close") == 0 && n == 2) {
        SetLastError(POISON);
        HANDLE h = var(t[1]);
        BOOL ok = CloseHandle(h);
        if (ok) var_set(t[1], NULL);
        say_bool(ok);
    } else if (strcmp(c, "ringclose") == 0 && n == 2) {
        HANDLE h = var(t[1]);
        uint32_t head = ring_head();
        SetLastError(POISON);
        if (!CloseHandle(h)) {
            say("fail %u", GetLastError());
            return;
        }
        var_set(t[1], NULL);
        say(ring_head() - head == 1 ? "posted" : "sent");
    } else if (strcmp(c, "opens") == 0 && n == 5) {
        DWORD access = (DWORD)strtoul(t[3], NULL, 0);
        int count = atoi(t[4]);
        DWORD e = 0;
        for (int i = 0; i < count && !e; i++) {
            if (nmany == 512) {
                e = ERROR_NOT_ENOUGH_MEMORY;
                break;
            }
            HANDLE h = strcmp(t[1], "sem") == 0     ? OpenSemaphoreA(access, FALSE, t[2])
                       : strcmp(t[1], "mutex") == 0 ? OpenMutexA(access, FALSE, t[2])
                                                    : OpenEventA(access, FALSE, t[2]);
            if (h) many[nmany++] = h;
            else e = GetLastError();
        }
        if (e) say("fail %u", e);
        else say("ok");
    } else if (strcmp(c, "ringcloses") == 0 && n == 1) {
        uint32_t head = ring_head(), posted = 0;
        DWORD e = 0;
        for (int i = 0; i < nmany && !e; i++) {
            if (!CloseHandle(many[i])) e = GetLastError();
            uint32_t now = ring_head();
            posted += now - head; /* 1 when posted; 0 when sent as CLOSE (a full ring, an idle server) */
            head = now;
        }
        nmany = 0;
        if (e) say("fail %u", e);
        else say("ok %u", posted);
    } else if (strcmp(c, "wait") == 0 && n == 3) {
        DWORD ms = (DWORD)strtoul(t[2], NULL, 0);
        if (ms) say("blocking");
        SetLastError(POISON);
        say_wait(WaitForSingleObject(var(t[1]), ms), 1);
    } else if (strcmp(c, "request") == 0 && n == 3) {
        DWORD ms = (DWORD)strtoul(t[2], NULL, 0);
        if (ms) say("blocking");
        say("code %u", NsemRequestSemaphore(var(t[1]), ms));
    } else if (strcmp(c, "waitmulti") == 0 && n >= 4 && n <= 3 + 16) {
        HANDLE h[16];
        DWORD count = (DWORD)(n - 3), ms = (DWORD)strtoul(t[2], NULL, 0);
        for (DWORD i = 0; i < count; i++) h[i] = var(t[3 + i]);
        if (ms) say("blocking");
        SetLastError(POISON);
        say_wait(WaitForMultipleObjects(count, h, strcmp(t[1], "all") == 0, ms), count);
    } else if ((strcmp(c, "query") == 0 || strcmp(c, "handles") == 0) && n == 2) {
        agent_query(var(t[1]), c[0] == 'h');
    } else if (strcmp(c, "stats") == 0 && n == 1) {
        NSEM_SERVER_STATS st = {.cbSize = sizeof st};
        if (NsemGetServerStats(&st)) say("ok %u", st.dwServerProcessId);
        else say("fail %u", GetLastError());
    } else if (strcmp(c, "shmaps") == 0 && n == 1) {
        struct shmap maps[32];
        int k = shared_maps(maps, 32);
        char out[2048] = "ok";
        for (int i = 0; i < k; i++) {
            bool seen = false;
            for (int j = 0; j < i; j++) seen = seen || strcmp(maps[j].id, maps[i].id) == 0;
            if (!seen) snprintf(out + strlen(out), sizeof out - strlen(out), " %s", maps[i].id);
        }
        say("%s", out);
    } else if (strcmp(c, "scribble") == 0 && n == 1) {
        agent_scribble();
    } else if (strcmp(c, "files") == 0 && n >= 3) {
        files_other = (uid_t)strtoul(t[1], NULL, 0);
        files_found[0] = 0;
        for (int i = 2; i < n && !files_found[0]; i++) nftw(t[i], files_visit, 16, FTW_PHYS);
        if (files_found[0]) say("writable %s", files_found);
        else say("ok");
    } else if (strcmp(c, "nocreate") == 0 && n == 2) {
        char path[512];
        snprintf(path, sizeof path, "%s/nsem-probe-%d", t[1], (int)getpid());
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            close(fd);
            unlink(path);
            say("created %s", path);
        } else {
            say("ok");
        }
    } else if (strcmp(c, "procmem") == 0 && n >= 2) {
        char path[64] = "";
        int fd = -1;
        for (int i = 1; i < n && fd < 0; i++) {
            snprintf(path, sizeof path, "/proc/%s/mem", t[i]);
            fd = open(path, O_RDWR | O_CLOEXEC);
            if (fd >= 0) break;
            snprintf(path, sizeof path, "/proc/%s/fd", t[i]);
            fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        if (fd >= 0) {
            close(fd);
            say("open %s", path);
        } else {
            say("ok");
        }
    } else if (strcmp(c, "exit") == 0) {
        exit(0);
    } else {
        say("unknown command (%d words): %s", n, c);
    }
}

HELPER(system_agent)
{
    /* Nothing of nsem has run in this process yet: the first command connects. */
    say("ready %d %u %u", (int)getpid(), (unsigned)getuid(), (unsigned)getgid());
    char line[2048];
    while (fgets(line, sizeof line, stdin)) {
        char *t[24], *save = NULL;
        int n = 0;
        for (char *w = strtok_r(line, " \n", &save); w && n < 24; w = strtok_r(NULL, " \n", &save)) t[n++] = w;
        if (n) agent_run(n, t);
    }
    return 0;
}

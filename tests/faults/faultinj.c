/*
 * faultinj.c — fault injection by link-time wrapping (-Wl,--wrap=X): every call of a wrapped
 * function from nsem's own objects goes through __wrap_X, which counts it and may fail it with a
 * chosen errno instead of calling __real_X. src/ is unchanged; only the faults build links this.
 * Two system calls nsem makes through syscall() are faults of their own: pidfd_open, and
 * futex_wait (FUTEX_WAIT, FUTEX_WAIT_BITSET and futex_waitv; a wake is never failed).
 *
 * The specification is read from FAULT_ENV (NSEMD_FAULT for the server, NSEM_FAULT for the
 * library: a client's variable is inherited by the server it starts, so each needs its own):
 *   "malloc:17"          fails the 17th call of malloc (1-based) with its default errno;
 *   "recv:3:EINTR"       fails the 3rd call of recv with EINTR;
 *   "open:5+:EMFILE"     fails every call from the 5th on;
 *   "calloc:9*4"         fails 4 calls in a row from the 9th (a shortage that passes);
 *   "send:%10:EAGAIN"    fails each call with probability 10 %, seeded by <FAULT_ENV>_SEED.
 * Unset or empty: nothing fails, the calls are only counted. Counts are per process image: a fork
 * child goes on with its parent's, an exec'd image (a helper, a restarted server) starts from 0 and
 * fails its own Nth call.
 *
 * If <FAULT_ENV>_COUNTS names a file, every process maps it and keeps there, per function, the
 * highest call index any process of its side reached: as it goes, so that a process killed by
 * SIGKILL (the server of a crash scenario) or leaving by _exit (a fork child) counts too. That is
 * how the driver learns how many call indices a scenario walks. FAULTINJ_PRINT=FILE makes the
 * program print such a file as "function count" lines and exit, before anything else. With
 * <FAULT_ENV>_TRACE set, each failure made prints a backtrace on stderr (addr2line -e reads it).
 */
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef FAULT_ENV
#define FAULT_ENV "NSEM_FAULT"
#endif
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* The faults: name and the errno a failure gets when the specification names none. Each is a
 * wrapped function of the same name, but pidfd_open and futex_wait (calls of syscall()). */
#define FAULT_FUNCS(X) \
    X(malloc, ENOMEM) \
    X(calloc, ENOMEM) \
    X(realloc, ENOMEM) \
    X(open, EMFILE) \
    X(socket, EMFILE) \
    X(connect, EAGAIN) \
    X(accept4, EMFILE) \
    X(recv, EINTR) \
    X(recvmsg, EINTR) \
    X(send, EINTR) \
    X(sendmsg, EINTR) \
    X(mmap, ENOMEM) \
    X(ftruncate, ENOSPC) \
    X(memfd_create, EMFILE) \
    X(epoll_ctl, ENOMEM) \
    X(fstat, EIO) \
    X(epoll_create1, EMFILE) \
    X(epoll_wait, EINTR) \
    X(epoll_pwait, EINTR) \
    X(flock, EINTR) \
    X(read, EINTR) \
    X(write, EINTR) \
    X(pread, EIO) \
    X(pwrite, ENOSPC) \
    X(fopen, EMFILE) \
    X(poll, EINTR) \
    X(getrandom, EINTR) \
    X(fork, EAGAIN) \
    X(bind, ENOMEM) \
    X(pidfd_open, EMFILE) \
    X(futex_wait, EINTR)

enum fault_func {
#define X(name, err) F_##name,
    FAULT_FUNCS(X)
#undef X
        F_COUNT
};

static const char *const func_names[] = {
#define X(name, err) #name,
    FAULT_FUNCS(X)
#undef X
};
static const int default_errno[] = {
#define X(name, err) err,
    FAULT_FUNCS(X)
#undef X
};

static const struct {
    const char *name;
    int value;
} errno_names[] = {
    {"ENOMEM", ENOMEM},   {"EINTR", EINTR},   {"EAGAIN", EAGAIN}, {"EMFILE", EMFILE}, {"ENFILE", ENFILE},
    {"ENOSPC", ENOSPC},   {"EIO", EIO},       {"ECONNRESET", ECONNRESET}, {"EPIPE", EPIPE},
    {"ENOBUFS", ENOBUFS}, {"EFBIG", EFBIG},   {"ENOLCK", ENOLCK}, {"ESRCH", ESRCH},   {"EADDRINUSE", EADDRINUSE},
    {"EWOULDBLOCK", EWOULDBLOCK},
};

/* Counters are per process and inherited by fork children (the server's daemon and a client's
 * fork child continue the count of their parent). Not atomic: a count race between a client's
 * threads only moves which call fails, and the driver runs the scenario's calls in order. */
static unsigned long counts[F_COUNT];
static _Atomic unsigned long long *shared_counts; /* the counts file, mapped: the highest index seen */
static int target = -1;        /* the function to fail, -1 for none */
static unsigned long nth;      /* the first call to fail (1-based) */
static int every_after;        /* fail every call from nth on */
static unsigned long burst = 1; /* or this many calls from nth on */
static unsigned percent;       /* >0: fail with this probability instead */
static unsigned long long rng; /* xorshift state for percent */
static int fail_errno;
static int trace; /* <FAULT_ENV>_TRACE set: a backtrace on stderr at each failure made */

/* The declarations --wrap resolves: __real_X is the libc function. */
#define WRAP(ret, name, params) \
    ret __real_##name params; \
    ret __wrap_##name params;

WRAP(void *, malloc, (size_t n))
WRAP(void *, calloc, (size_t n, size_t size))
WRAP(void *, realloc, (void *p, size_t n))
WRAP(int, open, (const char *path, int flags, ...))
WRAP(int, socket, (int domain, int type, int protocol))
WRAP(int, connect, (int fd, const struct sockaddr *addr, socklen_t len))
WRAP(int, accept4, (int fd, struct sockaddr *addr, socklen_t *len, int flags))
WRAP(ssize_t, recv, (int fd, void *buf, size_t n, int flags))
WRAP(ssize_t, recvmsg, (int fd, struct msghdr *msg, int flags))
WRAP(ssize_t, send, (int fd, const void *buf, size_t n, int flags))
WRAP(ssize_t, sendmsg, (int fd, const struct msghdr *msg, int flags))
WRAP(void *, mmap, (void *addr, size_t len, int prot, int flags, int fd, off_t off))
WRAP(int, ftruncate, (int fd, off_t len))
WRAP(int, memfd_create, (const char *name, unsigned flags))
WRAP(int, epoll_ctl, (int epfd, int op, int fd, struct epoll_event *ev))
WRAP(int, fstat, (int fd, struct stat *st))
WRAP(int, epoll_create1, (int flags))
WRAP(int, epoll_wait, (int epfd, struct epoll_event *evs, int max, int timeout))
WRAP(int, epoll_pwait, (int epfd, struct epoll_event *evs, int max, int timeout, const sigset_t *mask))
WRAP(int, flock, (int fd, int op))
WRAP(ssize_t, read, (int fd, void *buf, size_t n))
WRAP(ssize_t, write, (int fd, const void *buf, size_t n))
WRAP(ssize_t, pread, (int fd, void *buf, size_t n, off_t off))
WRAP(ssize_t, pwrite, (int fd, const void *buf, size_t n, off_t off))
WRAP(FILE *, fopen, (const char *path, const char *mode))
WRAP(int, poll, (struct pollfd *fds, nfds_t n, int timeout))
WRAP(ssize_t, getrandom, (void *buf, size_t n, unsigned flags))
WRAP(pid_t, fork, (void))
WRAP(int, bind, (int fd, const struct sockaddr *addr, socklen_t len))
WRAP(long, syscall, (long number, ...))

/* FAULTINJ_PRINT=FILE: prints a counts file and exits (the driver's reader of it). */
static void print_counts(const char *path)
{
    FILE *f = __real_fopen(path, "r");
    unsigned long long n[F_COUNT] = {0};
    if (!f || fread(n, sizeof n[0], F_COUNT, f) != F_COUNT) {
        fprintf(stderr, "faultinj: cannot read the counts file %s\n", path);
        _exit(1);
    }
    fclose(f);
    for (int i = 0; i < F_COUNT; i++) printf("%s %llu\n", func_names[i], n[i]);
    fflush(stdout);
    _exit(0);
}

/* Maps the counts file (made by the first process of the run) for this process and its forks. */
static void map_counts(const char *path)
{
    size_t size = F_COUNT * sizeof *shared_counts;
    int fd = __real_open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    if (fd < 0 || __real_fstat(fd, &st) != 0 || ((size_t)st.st_size < size && __real_ftruncate(fd, (off_t)size) != 0)) {
        fprintf(stderr, "faultinj: cannot open the counts file %s\n", path);
        _exit(125);
    }
    void *p = __real_mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        fprintf(stderr, "faultinj: cannot map the counts file %s\n", path);
        _exit(125);
    }
    shared_counts = p;
}

__attribute__((constructor)) static void fault_init(void)
{
    const char *print = getenv("FAULTINJ_PRINT");
    if (print && *print) print_counts(print);
    const char *spec = getenv(FAULT_ENV);
    const char *seed = getenv(FAULT_ENV "_SEED");
    const char *counts_path = getenv(FAULT_ENV "_COUNTS");
    trace = getenv(FAULT_ENV "_TRACE") != NULL;
    if (counts_path && *counts_path) map_counts(counts_path);
    rng = seed ? strtoull(seed, NULL, 0) : 0;
    if (!rng) rng = 0x9e3779b97f4a7c15ull;
    if (!spec || !*spec) return;
    const char *colon = strchr(spec, ':');
    if (!colon) goto bad;
    for (int i = 0; i < F_COUNT; i++)
        if (strlen(func_names[i]) == (size_t)(colon - spec) && !strncmp(spec, func_names[i], colon - spec)) target = i;
    if (target < 0) goto bad;
    const char *p = colon + 1;
    char *end;
    if (*p == '%') {
        percent = (unsigned)strtoul(p + 1, &end, 10);
    } else {
        nth = strtoul(p, &end, 10);
        if (*end == '+') every_after = 1, end++;
        else if (*end == '*') burst = strtoul(end + 1, &end, 10);
        if (!burst) goto bad;
        if (!nth) goto bad;
    }
    fail_errno = default_errno[target];
    if (*end == ':') {
        fail_errno = 0;
        for (size_t i = 0; i < sizeof errno_names / sizeof errno_names[0]; i++)
            if (!strcmp(end + 1, errno_names[i].name)) fail_errno = errno_names[i].value;
        if (!fail_errno) goto bad;
    } else if (*end) {
        goto bad;
    }
    return;
bad:
    /* A mistyped specification must not pass silently as "nothing failed". */
    fprintf(stderr, "faultinj: bad %s=\"%s\" (want function:N[+|*K][:ERRNO] or function:%%P[:ERRNO])\n", FAULT_ENV,
            spec);
    _exit(125);
}

/* Counts a call of f; true (errno set) if this call is to fail. */
static int fault_hit(enum fault_func f)
{
    unsigned long n = ++counts[f];
    if (shared_counts) {
        unsigned long long seen = atomic_load_explicit(&shared_counts[f], memory_order_relaxed);
        while (n > seen && !atomic_compare_exchange_weak_explicit(&shared_counts[f], &seen, n, memory_order_relaxed,
                                                                  memory_order_relaxed)) {
        }
    }
    if ((int)f != target) return 0;
    int hit;
    if (percent) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        hit = rng % 100 < percent;
    } else {
        hit = n >= nth && (every_after || n - nth < burst);
    }
    if (hit && trace) {
        void *frames[32];
        fprintf(stderr, "faultinj[%d]: %s call %lu fails\n", (int)getpid(), func_names[f], n);
        backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
    }
    if (hit) errno = fail_errno;
    return hit;
}

void *__wrap_malloc(size_t n) { return fault_hit(F_malloc) ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return fault_hit(F_calloc) ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { return fault_hit(F_realloc) ? NULL : __real_realloc(p, n); }

int __wrap_open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & (O_CREAT | __O_TMPFILE)) { /* the third argument exists only then */
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return fault_hit(F_open) ? -1 : __real_open(path, flags, mode);
}

int __wrap_socket(int domain, int type, int protocol)
{
    return fault_hit(F_socket) ? -1 : __real_socket(domain, type, protocol);
}
int __wrap_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    return fault_hit(F_connect) ? -1 : __real_connect(fd, addr, len);
}
int __wrap_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    return fault_hit(F_accept4) ? -1 : __real_accept4(fd, addr, len, flags);
}
ssize_t __wrap_recv(int fd, void *buf, size_t n, int flags)
{
    return fault_hit(F_recv) ? -1 : __real_recv(fd, buf, n, flags);
}
ssize_t __wrap_recvmsg(int fd, struct msghdr *msg, int flags)
{
    return fault_hit(F_recvmsg) ? -1 : __real_recvmsg(fd, msg, flags);
}
ssize_t __wrap_send(int fd, const void *buf, size_t n, int flags)
{
    return fault_hit(F_send) ? -1 : __real_send(fd, buf, n, flags);
}
ssize_t __wrap_sendmsg(int fd, const struct msghdr *msg, int flags)
{
    return fault_hit(F_sendmsg) ? -1 : __real_sendmsg(fd, msg, flags);
}
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return fault_hit(F_mmap) ? MAP_FAILED : __real_mmap(addr, len, prot, flags, fd, off);
}
int __wrap_ftruncate(int fd, off_t len) { return fault_hit(F_ftruncate) ? -1 : __real_ftruncate(fd, len); }
int __wrap_memfd_create(const char *name, unsigned flags)
{
    return fault_hit(F_memfd_create) ? -1 : __real_memfd_create(name, flags);
}
int __wrap_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    return fault_hit(F_epoll_ctl) ? -1 : __real_epoll_ctl(epfd, op, fd, ev);
}
int __wrap_fstat(int fd, struct stat *st) { return fault_hit(F_fstat) ? -1 : __real_fstat(fd, st); }
int __wrap_epoll_create1(int flags) { return fault_hit(F_epoll_create1) ? -1 : __real_epoll_create1(flags); }
int __wrap_epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
    return fault_hit(F_epoll_wait) ? -1 : __real_epoll_wait(epfd, evs, max, timeout);
}
int __wrap_epoll_pwait(int epfd, struct epoll_event *evs, int max, int timeout, const sigset_t *mask)
{
    return fault_hit(F_epoll_pwait) ? -1 : __real_epoll_pwait(epfd, evs, max, timeout, mask);
}
int __wrap_flock(int fd, int op) { return fault_hit(F_flock) ? -1 : __real_flock(fd, op); }
ssize_t __wrap_read(int fd, void *buf, size_t n) { return fault_hit(F_read) ? -1 : __real_read(fd, buf, n); }
ssize_t __wrap_write(int fd, const void *buf, size_t n) { return fault_hit(F_write) ? -1 : __real_write(fd, buf, n); }
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off)
{
    return fault_hit(F_pread) ? -1 : __real_pread(fd, buf, n, off);
}
ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    return fault_hit(F_pwrite) ? -1 : __real_pwrite(fd, buf, n, off);
}
FILE *__wrap_fopen(const char *path, const char *mode) { return fault_hit(F_fopen) ? NULL : __real_fopen(path, mode); }
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
    return fault_hit(F_poll) ? -1 : __real_poll(fds, n, timeout);
}
ssize_t __wrap_getrandom(void *buf, size_t n, unsigned flags)
{
    return fault_hit(F_getrandom) ? -1 : __real_getrandom(buf, n, flags);
}
pid_t __wrap_fork(void) { return fault_hit(F_fork) ? -1 : __real_fork(); }
int __wrap_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    return fault_hit(F_bind) ? -1 : __real_bind(fd, addr, len);
}

/* syscall(): nsem calls pidfd_open and the futex through it (glibc had no wrapper for either when
 * nsem was written). Its arguments are six longs at most, passed on as they came: what glibc's
 * own syscall() does. Every other call passes untouched and uncounted. */
long __wrap_syscall(long number, ...)
{
    va_list ap;
    va_start(ap, number);
    long a[6];
    for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
    va_end(ap);
    if (number == SYS_pidfd_open && fault_hit(F_pidfd_open)) return -1;
    int cmd = (int)(a[1] & FUTEX_CMD_MASK);
    if (((number == SYS_futex && (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET)) || number == SYS_futex_waitv) &&
        fault_hit(F_futex_wait))
        return -1;
    return __real_syscall(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/*
 * faultinj.c — fault injection by link-time wrapping (-Wl,--wrap=X): every call of a wrapped
 * function from nsem's own objects goes through __wrap_X, which counts it and may fail it with a
 * chosen errno instead of calling __real_X. src/ is unchanged; only the faults build links this.
 *
 * The specification is read from FAULT_ENV (NSEMD_FAULT for the server, NSEM_FAULT for the
 * library: a client's variable is inherited by the server it starts, so each needs its own):
 *   "malloc:17"          fails the 17th call of malloc (1-based) with its default errno;
 *   "recv:3:EINTR"       fails the 3rd call of recv with EINTR;
 *   "open:5+:EMFILE"     fails every call from the 5th on;
 *   "calloc:9*4"         fails 4 calls in a row from the 9th (a shortage that passes);
 *   "send:%10:EAGAIN"    fails each call with probability 10 %, seeded by <FAULT_ENV>_SEED.
 * Unset or empty: nothing fails, the calls are only counted. If <FAULT_ENV>_COUNTS names a file,
 * the process appends "function count" lines to it when it exits normally (exit or return from
 * main), which is how the driver learns how many call sites a scenario walks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef FAULT_ENV
#define FAULT_ENV "NSEM_FAULT"
#endif

/* The wrapped functions: name and the errno a failure gets when the specification names none. */
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
    X(fstat, EIO)

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
    {"ENOMEM", ENOMEM}, {"EINTR", EINTR},   {"EAGAIN", EAGAIN}, {"EMFILE", EMFILE},
    {"ENFILE", ENFILE}, {"ENOSPC", ENOSPC}, {"EIO", EIO},       {"ECONNRESET", ECONNRESET},
    {"EPIPE", EPIPE},   {"ENOBUFS", ENOBUFS}, {"EFBIG", EFBIG},
};

/* Counters are per process and inherited by fork children (the server's daemon and a client's
 * fork child continue the count of their parent). Not atomic: a count race between a client's
 * threads only moves which call fails, and the driver runs the scenario's calls in order. */
static unsigned long counts[F_COUNT];
static int target = -1;        /* the function to fail, -1 for none */
static unsigned long nth;      /* the first call to fail (1-based) */
static int every_after;        /* fail every call from nth on */
static unsigned long burst = 1; /* or this many calls from nth on */
static unsigned percent;       /* >0: fail with this probability instead */
static unsigned long long rng; /* xorshift state for percent */
static int fail_errno;

__attribute__((constructor)) static void fault_init(void)
{
    const char *spec = getenv(FAULT_ENV);
    const char *seed = getenv(FAULT_ENV "_SEED");
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

__attribute__((destructor)) static void fault_dump(void)
{
    const char *path = getenv(FAULT_ENV "_COUNTS");
    if (!path || !*path) return;
    FILE *f = fopen(path, "a"); /* libc's own open and malloc: not wrapped */
    if (!f) return;
    for (int i = 0; i < F_COUNT; i++) fprintf(f, "%s %lu\n", func_names[i], counts[i]);
    fclose(f);
}

/* Counts a call of f; true (errno set) if this call is to fail. */
static int fault_hit(enum fault_func f)
{
    unsigned long n = ++counts[f];
    if ((int)f != target) return 0;
    int hit;
    if (percent) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        hit = rng % 100 < percent;
    } else {
        hit = n >= nth && (every_after || n - nth < burst);
    }
    if (hit) errno = fail_errno;
    return hit;
}

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

/*
 * server_env.c — the environment of a server linked without main.c (see server_env.h).
 *
 * The peers: each is a child process that connects to a listening socket of its own, again and
 * again, so that a connection from it is always waiting in the backlog; nsem__client_accept takes
 * it and reads the peer's pid from SO_PEERCRED, as for any client. A peer keeps its last RING
 * connections open and closes older ones: the harness has accepted at least every connection but
 * the last BACKLOG + 1, and is done with every one it accepted before the last, so a connection is
 * never closed while the server still serves it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz/check.h"
#include "fuzz/server_env.h"
#include "server/server.h"

#define MAX_PEERS 8
#define BACKLOG 64
#define RING (BACKLOG + 16)
#define MAX_FD 4096

static int epoll_fd = -1;
static void *watched[MAX_FD]; /* the loop item of each watched descriptor */
static int nwatched;
static int listen_fds[MAX_PEERS];
static pid_t peer_pids[MAX_PEERS];

/* ---- the loop (main.c's) ----------------------------------------------------------------- */

int nsem__loop_add(int fd, void *ptr, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = ptr};
    int r = epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
    if (r == 0) {
        CHECK(fd >= 0 && fd < MAX_FD && !watched[fd]);
        watched[fd] = ptr;
        nwatched++;
    }
    return r;
}

int nsem__loop_mod(int fd, void *ptr, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = ptr};
    int r = epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &ev);
    if (r == 0) watched[fd] = ptr;
    return r;
}

void nsem__loop_del(int fd, void *ptr)
{
    /* The server deletes only what it added, and before it closes the descriptor. */
    CHECK(fd >= 0 && fd < MAX_FD && watched[fd]);
    CHECK(epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, NULL) == 0);
    watched[fd] = NULL;
    nwatched--;
}

void nsem__log(const char *fmt, ...)
{
    if (!getenv("NSEM_FUZZ_LOG")) return; /* quiet: the fuzzer's output is its own */
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "nsemd: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int fuzz_env_watched(void)
{
    return nwatched;
}

int fuzz_env_open_fds(void)
{
    /* Sockets and anonymous inodes (pidfds, epoll, memfd's) are what the server opens; pipes and
     * files come and go with the sanitizers' symbolizer. */
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    CHECK(d);
    for (struct dirent *de; (de = readdir(d));) {
        char path[300], target[64];
        snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
        ssize_t len = readlink(path, target, sizeof target - 1);
        if (len < 0) continue;
        target[len] = 0;
        if (strncmp(target, "socket:", 7) == 0 || strncmp(target, "anon_inode:", 11) == 0) n++;
    }
    closedir(d);
    return n;
}

void fuzz_env_print_fds(void)
{
    for (int fd = 0; fd < MAX_FD; fd++) {
        char path[64], target[256];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n < 0) continue;
        target[n] = 0;
        fprintf(stderr, "fd %d: %s%s\n", fd, target, watched[fd] ? " (watched)" : "");
    }
}

/* ---- peers ------------------------------------------------------------------------------- */

static struct sockaddr_un peer_addr(int peer, socklen_t *len)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    /* abstract: nothing to clean up on disk */
    int n = snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "nsem-fuzz-%d-%d", (int)getpid(), peer);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    return sa;
}

static void peer_main(struct sockaddr_un sa, socklen_t len, pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(0);
    int ring[RING];
    for (int i = 0; i < RING; i++) ring[i] = -1;
    for (unsigned n = 0;; n++) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, len) != 0) _exit(0); /* the harness is gone */
        if (ring[n % RING] >= 0) close(ring[n % RING]);
        ring[n % RING] = fd;
    }
}

void fuzz_env_init(int peers)
{
    CHECK(peers <= MAX_PEERS);
    signal(SIGPIPE, SIG_IGN);
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    CHECK(epoll_fd >= 0);
    for (int i = 0; i < peers; i++) {
        socklen_t len;
        struct sockaddr_un sa = peer_addr(i, &len);
        listen_fds[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0); /* blocking: accept waits */
        CHECK(listen_fds[i] >= 0);
        CHECK(bind(listen_fds[i], (struct sockaddr *)&sa, len) == 0);
        CHECK(listen(listen_fds[i], BACKLOG) == 0);
        pid_t parent = getpid();
        peer_pids[i] = fork();
        CHECK(peer_pids[i] >= 0);
        if (peer_pids[i] == 0) peer_main(sa, len, parent);
    }
}

pid_t fuzz_env_peer_pid(int peer)
{
    return peer_pids[peer];
}

struct nsem_client *fuzz_env_connect(int peer)
{
    nsem__client_accept(listen_fds[peer]);
    /* The newest client of the pid comes first in client.c's table by pid. */
    struct nsem_client *c = nsem__client_of_pid(peer_pids[peer]);
    CHECK(c && c->fd >= 0 && !c->greeted);
    return c;
}

void fuzz_env_disconnect(struct nsem_client *c)
{
    CHECK(shutdown(c->fd, SHUT_RDWR) == 0); /* from now on the server reads end-of-file */
    nsem__client_event(c, EPOLLIN);
}

/* The pid a pidfd refers to, or 0 if fd is not a pidfd. */
static pid_t pidfd_pid(int fd)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0) return 0;
    ssize_t n = read(f, buf, sizeof buf - 1);
    close(f);
    if (n <= 0) return 0;
    buf[n] = 0;
    char *p = strstr(buf, "\nPid:");
    return p ? (pid_t)atoi(p + 5) : 0;
}

void fuzz_env_report_exit(pid_t pid)
{
    /* One at a time: an event may stop watching other descriptors (a record's end). */
    for (int fd = 0; fd < MAX_FD; fd++) {
        struct nsem_loop_item *item = watched[fd];
        if (item && pidfd_pid(fd) == pid) item->on_event(item, EPOLLIN);
    }
}

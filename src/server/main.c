/*
 * main.c — nsemd, the per-user object server: options, the single-instance lock, the listening
 * socket, and the epoll loop. It exits a grace period after its last client leaves.
 *
 *   nsemd [--system] [--socket PATH] [--foreground] [--grace MS] [--notify-fd FD] [--spin-us US]
 *         [--max-objects N] [--max-handles-per-process N] [--max-handles N]
 *
 * --system: the server of every user (root only; docs/security.md), at NSEM_SYSTEM_SOCKET unless
 * --socket says otherwise; it keeps running when idle unless --grace is given.
 * --notify-fd: the write end of a pipe of the process that starts the server (libnsem's spawn.c).
 * The server writes 'r' to it once it listens, or 'h' when another server holds the socket, and
 * closes it; a server that exits without serving says nothing, and the end of the pipe tells its
 * starter at once, rather than after its wait for a socket that will not come.
 *
 * --spin-us (or NSEMD_SPIN_US): how long the loop keeps polling after its last event before it
 * sleeps (common/spin.h; 0: never).
 *
 * The limits (limits.c) may also come from NSEMD_MAX_OBJECTS, NSEMD_MAX_HANDLES_PER_PROCESS and
 * NSEMD_MAX_HANDLES, which a server started by libnsem inherits from the process that started it;
 * an option wins over its variable. A value that is not a number in range is an error: the server
 * does not start rather than run with a limit nobody asked for.
 *
 * Normally started by libnsem on the first call of any process (it then daemonizes). The socket
 * defaults to the path libnsem computes (common/paths.c); the lock "<socket>.lock" holds the pid of
 * the running server and makes sure only one serves a socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/paths.h"
#include "common/spin.h"
#include "server/server.h"

static int epoll_fd = -1;
static int listen_fd = -1;
/* The events of the loop turn being dispatched. Handling one may remove another item (a client's
 * end frees the process objects and records only it held): that item's events later in the turn
 * are dropped, so that nothing reaches it after it is freed. */
static struct epoll_event *turn_events;
static int turn_count;
static volatile sig_atomic_t stop_requested;
static char listener_tag; /* the epoll data of the listening socket */
static struct nsem_spin spin; /* the polling after the last event */
static uint64_t last_event_ns;
static uint64_t event_gap_ns = UINT64_MAX; /* between the last two turns with events */
/* Events closer than this are a burst: a client's next request after its reply woke it comes
 * within a wake-up or two (~20-30 us here). */
#define BURST_GAP_NS 100000u
/* SIGTERM and SIGINT are blocked but while the loop sleeps, so that one that comes while it polls
 * or works ends its sleep instead of being taken before it (and slept through). */
static sigset_t sleep_mask;
/* Arenas of a system server: users with clients at once (each costs address space only). */
#define SYSTEM_DOMAINS 256u

int nsem__loop_add(int fd, void *ptr, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = ptr};
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

int nsem__loop_mod(int fd, void *ptr, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = ptr};
    return epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &ev);
}

void nsem__loop_del(int fd, void *ptr)
{
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, NULL);
    for (int i = 0; i < turn_count; i++)
        if (turn_events[i].data.ptr == ptr) turn_events[i].data.ptr = NULL;
}

void nsem__log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "nsemd[%d]: ", (int)getpid());
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* epoll_wait, but after an event that came soon after the one before it (a client making requests
 * one after the other) it polls for a window before it sleeps: the next request comes without a
 * wake-up of the server (common/spin.h). After a lone event it sleeps at once: polling would only
 * burn the window, and a client its reply woke on this CPU would wait for the window's end. A
 * timer that falls due meanwhile is late by at most the window. The arenas' server_awake hint says
 * 0 while it sleeps. */
static int wait_events(struct epoll_event *evs, int max, int timeout)
{
    int n = 0;
    uint64_t turn = nsem__now_ns();
    if (timeout != 0 && event_gap_ns < BURST_GAP_NS && nsem__spin_may_poll(&spin, turn))
        while (n == 0 && nsem__spin_again(&spin, last_event_ns, &turn)) n = epoll_wait(epoll_fd, evs, max, 0);
    if (n == 0 && timeout != 0) {
        nsem__arena_set_awake(false);
        n = epoll_pwait(epoll_fd, evs, max, timeout, &sleep_mask);
        nsem__arena_set_awake(true);
    } else if (n == 0) {
        n = epoll_pwait(epoll_fd, evs, max, 0, &sleep_mask);
    }
    if (n > 0) {
        uint64_t now = nsem__now_ns();
        event_gap_ns = now - last_event_ns;
        last_event_ns = now;
    }
    return n;
}

static void on_signal(int sig)
{
    stop_requested = 1;
}

/* Takes the single-instance lock, waiting a little for a server that is on its way out.
 * Returns the lock fd, -1 when another server holds it, or -2 (logged) when the lock file cannot
 * be opened: then no server may be running, and leaving in silence would let the client that
 * started us retry for its whole deadline without a word why. */
static int take_lock(const char *sock_path)
{
    char path[NSEM_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s.lock", sock_path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        nsem__log("cannot open the lock file %s: %s", path, strerror(errno));
        return -2;
    }
    for (int i = 0; i < 300; i++) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            char pid[32];
            int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
            if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) nsem__log("cannot write the lock file");
            return fd;
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    close(fd);
    return -1;
}

/* The system socket's directory: root's, searchable by all, writable by root alone (a client checks
 * that, common/paths.c), so that no one else can put a socket there. */
static bool make_system_dir(const char *sock_path)
{
    char dir[NSEM_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", sock_path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return true;
    *slash = 0;
    struct stat st;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return false;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
        nsem__log("%s must be a directory of root's that only root may write to", dir);
        return false;
    }
    return true;
}

static int make_listener(const char *sock_path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
    unlink(sock_path); /* a stale socket of a dead server; we hold the lock */
    mode_t old = umask(nsem__system ? 0111 : 0077); /* the system server's socket is everyone's: 0666 */
    int r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (r != 0 || listen(fd, 512) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void daemonize(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        pid = fork();
    }
    if (pid < 0) { /* said, or the starter would not know why no server came */
        nsem__log("cannot start in the background (fork): %s", strerror(errno));
        exit(1);
    }
    if (pid > 0) _exit(0);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        if (!getenv("NSEMD_LOG")) dup2(null, 2);
        if (null > 2) close(null);
    }
    if (chdir("/") != 0) exit(1);
}

/* Tells the starter (--notify-fd) how the start went: 'r' serving, 'h' another server holds the
 * socket. Once: the descriptor is closed. */
static void notify(int *fd, char word)
{
    if (*fd < 0) return;
    (void)!write(*fd, &word, 1);
    close(*fd);
    *fd = -1;
}

static void usage(void)
{
    fprintf(stderr, "usage: nsemd [--system] [--socket PATH] [--foreground] [--grace MS] [--notify-fd FD]\n"
                    "             [--spin-us US] [--max-objects N] [--max-handles-per-process N] [--max-handles N]\n");
    exit(2);
}

/* One limit: its option, its variable, the largest value it may have, and where it goes. */
struct limit_option {
    const char *option, *variable;
    uint32_t max;
    uint32_t *value;
};

static const struct limit_option limit_options[] = {
    {"--max-objects", "NSEMD_MAX_OBJECTS", NSEM_ARENA_SLOTS - 1, &nsem__limits.max_objects},
    {"--max-handles-per-process", "NSEMD_MAX_HANDLES_PER_PROCESS", NSEM_HANDLE_MAX_ENTRIES,
     &nsem__limits.max_handles_per_process},
    {"--max-handles", "NSEMD_MAX_HANDLES", UINT32_MAX, &nsem__limits.max_handles},
};
#define LIMIT_OPTIONS (sizeof limit_options / sizeof limit_options[0])

static void set_limit(const struct limit_option *l, const char *text, const char *from)
{
    if (!nsem__limit_parse(text, l->max, l->value)) {
        fprintf(stderr, "nsemd: %s: \"%s\" is not a number from 1 to %u\n", from, text, l->max);
        exit(2);
    }
}

/* The variables first, so that options given too win. */
static void limits_from_environment(void)
{
    for (size_t i = 0; i < LIMIT_OPTIONS; i++) {
        const char *v = getenv(limit_options[i].variable);
        if (v) set_limit(&limit_options[i], v, limit_options[i].variable);
    }
}

/* argv[i] is a limit's option: takes its value, returns whether it was one. */
static bool limit_from_option(int argc, char **argv, int *i)
{
    for (size_t k = 0; k < LIMIT_OPTIONS; k++) {
        if (strcmp(argv[*i], limit_options[k].option) != 0) continue;
        if (*i + 1 >= argc) usage();
        *i += 1;
        set_limit(&limit_options[k], argv[*i], limit_options[k].option);
        return true;
    }
    return false;
}

int main(int argc, char **argv)
{
    char sock_path[NSEM_PATH_MAX] = "";
    int foreground = 0, notify_fd = -1;
    long grace_ms = getenv("NSEMD_GRACE_MS") ? atol(getenv("NSEMD_GRACE_MS")) : 5000;
    bool grace_given = false;
    const char *spin_text = getenv("NSEMD_SPIN_US");
    limits_from_environment();
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--system") == 0) {
            nsem__system = true;
        } else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
            if (strlen(argv[++i]) >= sizeof sock_path) usage();
            strcpy(sock_path, argv[i]);
        } else if (strcmp(argv[i], "--foreground") == 0) {
            foreground = 1;
        } else if (strcmp(argv[i], "--grace") == 0 && i + 1 < argc) {
            grace_ms = atol(argv[++i]);
            grace_given = true;
        } else if (strcmp(argv[i], "--spin-us") == 0 && i + 1 < argc) {
            spin_text = argv[++i];
        } else if (strcmp(argv[i], "--notify-fd") == 0 && i + 1 < argc) {
            notify_fd = atoi(argv[++i]);
            if (notify_fd <= 2) usage(); /* daemonize() makes 0, 1 and 2 /dev/null */
        } else if (limit_from_option(argc, argv, &i)) {
            continue;
        } else {
            usage();
        }
    }
    spin.window_ns = nsem__spin_window_ns(spin_text);
    if (spin.window_ns == UINT64_MAX) {
        fprintf(stderr, "nsemd: spin: \"%s\" is not a number of microseconds from 0 to %u\n", spin_text,
                NSEM_SPIN_MAX_US);
        return 2;
    }
    if (nsem__system && geteuid() != 0) {
        fprintf(stderr, "nsemd: --system needs root: it tells users apart by their credentials\n");
        return 1;
    }
    if (nsem__system && !sock_path[0]) snprintf(sock_path, sizeof sock_path, "%s", NSEM_SYSTEM_SOCKET);
    if (nsem__system && !grace_given) grace_ms = -1; /* serves until stopped */
    if (!sock_path[0]) {
        unsigned e = nsem__socket_path(sock_path, sizeof sock_path);
        if (e) {
            fprintf(stderr, "nsemd: no usable socket directory (Windows error %u)\n", e);
            return 1;
        }
    }
    if (grace_ms < 0 && !nsem__system) grace_ms = 0;
    if (nsem__system && !make_system_dir(sock_path)) return 1;
    if (!foreground) daemonize();
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, &sleep_mask); /* before any thread: they inherit it */
    sigdelset(&sleep_mask, SIGTERM);
    sigdelset(&sleep_mask, SIGINT);
    /* A descriptor per client: take all the kernel allows, not the limit of whoever started us. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    nsem__client_init();

    int lock_fd = take_lock(sock_path);
    if (lock_fd == -2) return 1;
    if (lock_fd < 0) {
        notify(&notify_fd, 'h'); /* another server serves this socket */
        return 0;
    }
    char arena_path[NSEM_PATH_MAX + 16];
    snprintf(arena_path, sizeof arena_path, "%s.arena", sock_path);
    /* A system server keeps each user's arena in a memfd only that user's processes get. */
    int e = nsem__system ? nsem__arena_init(NULL, SYSTEM_DOMAINS) : nsem__arena_init(arena_path, 1);
    if (e == 0 && nsem__system) e = nsem__broker_init();
    if (e != 0) {
        nsem__log("cannot create the arena %s: %s", arena_path, strerror(-e));
        return 1;
    }
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd >= 0) nsem__recover(); /* pending records join the loop */
    listen_fd = make_listener(sock_path);
    if (epoll_fd < 0 || listen_fd < 0 || nsem__loop_add(listen_fd, &listener_tag, EPOLLIN) != 0) {
        nsem__log("cannot listen on %s: %s", sock_path, strerror(errno));
        return 1;
    }
    notify(&notify_fd, 'r');
    struct stat bound;
    if (stat(sock_path, &bound) != 0) memset(&bound, 0, sizeof bound);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    uint64_t idle_since = now_ms();
    while (!stop_requested) {
        int retrying = nsem__retry_pending();
        int ticket_ms = nsem__tickets_expire();
        int timeout = nsem__clients_pending() ? 0 : retrying ? 1 : ticket_ms;
        if (!retrying && ticket_ms < 0 && nsem__client_count() == 0 && grace_ms >= 0) {
            uint64_t idle = now_ms() - idle_since;
            if (idle >= (uint64_t)grace_ms) break;
            timeout = (int)((uint64_t)grace_ms - idle);
        }
        timeout = nsem__closering_timeout(timeout, now_ms()); /* closes are taken soon, requests or not */
        struct epoll_event evs[64];
        int n = wait_events(evs, 64, timeout);
        if (n < 0 && errno != EINTR) break;
        turn_events = evs;
        turn_count = n;
        /* After the turn's events are known: a close taken from a ring may free an item (a process
         * object's pidfd) with an event in them, which must then be dropped. */
        nsem__closering_after_wait(n > 0 || nsem__clients_pending(), now_ms());
        for (int i = 0; i < n; i++) {
            if (!evs[i].data.ptr) continue; /* its item was removed by an earlier event of the turn */
            if (evs[i].data.ptr == &listener_tag) nsem__client_accept(listen_fd);
            else ((struct nsem_loop_item *)evs[i].data.ptr)->on_event(evs[i].data.ptr, evs[i].events);
        }
        turn_count = 0;
        nsem__clients_run_pending();
        if (nsem__client_count() > 0) idle_since = now_ms();
    }
    /* Stop accepting before the lock goes, so a client either reaches us or starts a successor.
     * Remove the socket only if it is still ours. */
    struct stat now;
    if (stat(sock_path, &now) == 0 && now.st_ino == bound.st_ino && now.st_dev == bound.st_dev) unlink(sock_path);
    close(listen_fd);
    /* Idle, nothing is lost by starting afresh. Stopped by a signal while clients hold objects,
     * leave the arena as after a crash: a successor recovers it. */
    if (nsem__client_count() == 0) {
        nsem__clients_destroy_all();
        nsem__tickets_destroy_all();
        if (!nsem__system) unlink(arena_path);
    }
    close(lock_fd);
    return 0;
}

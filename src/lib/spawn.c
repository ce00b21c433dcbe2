/*
 * spawn.c — starting nsemd. The server binary is looked for, in order:
 *   $NSEMD; <directory of libnsem.so or of the program linking libnsem.a>/../bin/nsemd (the build
 *   tree and an installed tree have the same layout); the PREFIX the library was built for.
 * The server daemonizes itself; we wait for the first process of it, then for its word on a pipe
 * (nsemd --notify-fd): it serves, or another server does; or the pipe ends without a word, and it
 * exited without serving (it logged why).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "lib/client.h"

static bool find_nsemd(char *out, size_t size)
{
    const char *env = getenv("NSEMD");
    if (env && *env && access(env, X_OK) == 0) {
        snprintf(out, size, "%s", env);
        return true;
    }
    Dl_info info;
    if (dladdr((void *)find_nsemd, &info) && info.dli_fname) {
        char self[PATH_MAX];
        if (realpath(info.dli_fname, self)) {
            char *slash = strrchr(self, '/');
            if (slash) {
                *slash = 0;
                int n = snprintf(out, size, "%s/../bin/nsemd", self);
                if (n > 0 && (size_t)n < size && access(out, X_OK) == 0) return true;
            }
        }
    }
    snprintf(out, size, "%s", NSEM_PREFIX_NSEMD);
    return access(out, X_OK) == 0;
}

/* The server's word on the pipe, waited for up to 3 s: false when the pipe ends without one (the
 * server exited without serving); true when it serves, another server does, or it has not said yet
 * (the caller's wait for the socket decides then). */
static bool server_started(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n;
    while ((n = poll(&p, 1, 3000)) < 0 && errno == EINTR) {
    }
    if (n <= 0) return true;
    char word;
    ssize_t k;
    while ((k = read(fd, &word, 1)) < 0 && errno == EINTR) {
    }
    return k != 0;
}

/* posix_spawn, not fork: it runs no atfork handlers (ours take the connection lock, which the
 * caller holds), and it is safe in a multithreaded program. */
bool nsem__spawn_server(const char *sock_path)
{
    char exe[PATH_MAX];
    if (!find_nsemd(exe, sizeof exe)) return false;
    int word[2];
    if (pipe2(word, O_CLOEXEC) != 0) return false;
    if (word[1] == 3) { /* dup2 onto itself would leave it close-on-exec */
        int moved = fcntl(word[1], F_DUPFD_CLOEXEC, 4);
        close(word[1]);
        word[1] = moved;
    }
    char *argv[] = {exe, "--socket", (char *)sock_path, "--notify-fd", "3", NULL};
    posix_spawn_file_actions_t fa;
    int r = word[1] < 0 ? -1 : posix_spawn_file_actions_init(&fa);
    if (r == 0) {
        /* The server must not keep the caller's descriptors (a pipe's write end, say): only its
         * end of ours, as 3. */
        posix_spawn_file_actions_adddup2(&fa, word[1], 3);
        posix_spawn_file_actions_addclosefrom_np(&fa, 4);
        pid_t pid;
        r = nsem__real_posix_spawn(&pid, exe, &fa, NULL, argv, environ); /* not our wrapper */
        posix_spawn_file_actions_destroy(&fa);
        if (r == 0)
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
            }
    }
    if (word[1] >= 0) close(word[1]); /* the server's copy alone is left: its exit ends the pipe */
    bool started = r == 0 && server_started(word[0]);
    close(word[0]);
    return started;
}

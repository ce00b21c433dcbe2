/*
 * spawn.c — starting nsemd. The server binary is looked for, in order:
 *   $NSEMD; <directory of libnsem.so or of the program linking libnsem.a>/../bin/nsemd (the build
 *   tree and an installed tree have the same layout); the PREFIX the library was built for.
 * The server daemonizes itself; we wait only for the first process of it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
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

/* posix_spawn, not fork: it runs no atfork handlers (ours take the connection lock, which the
 * caller holds), and it is safe in a multithreaded program. */
bool nsem__spawn_server(const char *sock_path)
{
    char exe[PATH_MAX];
    if (!find_nsemd(exe, sizeof exe)) return false;
    char *argv[] = {exe, "--socket", (char *)sock_path, NULL};
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0) return false;
    /* The server must not keep the caller's descriptors (a pipe's write end, say). */
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    pid_t pid;
    int r = nsem__real_posix_spawn(&pid, exe, &fa, NULL, argv, environ); /* not our wrapper */
    posix_spawn_file_actions_destroy(&fa);
    if (r != 0) return false;
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    return true;
}

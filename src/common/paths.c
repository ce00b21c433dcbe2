/* paths.c — the socket path and the check of its directory. */
#include "common/paths.h"

#include <errno.h>
#include <nsem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A directory that someone else could write to would let them plant a fake server. */
static unsigned check_private_dir(const char *dir)
{
    struct stat st;
    if (lstat(dir, &st) != 0) {
        if (errno != ENOENT) return ERROR_ACCESS_DENIED;
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) return ERROR_ACCESS_DENIED;
        if (lstat(dir, &st) != 0) return ERROR_ACCESS_DENIED;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0) return ERROR_ACCESS_DENIED;
    return 0;
}

/* A system server's directory: root's, and no one else may write to it. */
static bool is_system_dir(const char *dir)
{
    struct stat st;
    return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 && !(st.st_mode & 022);
}

/* The directory part of path into dir (size bytes); false for a path with none. */
static bool dir_of(const char *path, char *dir, size_t size)
{
    snprintf(dir, size, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) return false;
    if (slash == dir) slash[1] = 0;
    else *slash = 0;
    return true;
}

static unsigned explicit_path(const char *path, char *out, size_t size, bool *shared)
{
    if (strlen(path) >= size || strlen(path) >= NSEM_PATH_MAX) return ERROR_FILENAME_EXCED_RANGE;
    strcpy(out, path);
    char dir[4096];
    if (!dir_of(path, dir, sizeof dir)) return 0; /* relative to the working directory: the caller's choice */
    unsigned e = check_private_dir(dir);
    if (e && shared && is_system_dir(dir)) { /* not ours alone, but root's alone: a system server's */
        *shared = true;
        return 0;
    }
    return e;
}

unsigned nsem__socket_path(char *out, size_t size)
{
    char dir[4096];
    const char *explicit = getenv("NSEM_SERVER");
    if (explicit && *explicit) return explicit_path(explicit, out, size, NULL);
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;
    if (xdg && *xdg) {
        unsigned e = check_private_dir(xdg);
        if (e) return e;
        n = snprintf(dir, sizeof dir, "%s/nsem", xdg);
    } else {
        n = snprintf(dir, sizeof dir, "/tmp/nsem-%u", (unsigned)geteuid());
    }
    if (n < 0 || (size_t)n >= sizeof dir) return ERROR_FILENAME_EXCED_RANGE;
    unsigned e = check_private_dir(dir);
    if (e) return e;
    n = snprintf(out, size, "%s/nsemd.sock", dir);
    if (n < 0 || (size_t)n >= size || (size_t)n >= NSEM_PATH_MAX) return ERROR_FILENAME_EXCED_RANGE;
    return 0;
}

unsigned nsem__client_socket_path(char *out, size_t size, bool *shared)
{
    *shared = false;
    const char *explicit = getenv("NSEM_SERVER");
    if (explicit && *explicit) return explicit_path(explicit, out, size, shared);
    struct stat st;
    char dir[NSEM_PATH_MAX];
    if (dir_of(NSEM_SYSTEM_SOCKET, dir, sizeof dir) && is_system_dir(dir) && lstat(NSEM_SYSTEM_SOCKET, &st) == 0 &&
        S_ISSOCK(st.st_mode) && st.st_uid == 0) {
        snprintf(out, size, "%s", NSEM_SYSTEM_SOCKET);
        *shared = true;
        return 0;
    }
    return nsem__socket_path(out, size);
}

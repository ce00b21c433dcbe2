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

unsigned nsem__socket_path(char *out, size_t size)
{
    char dir[4096];
    const char *explicit_path = getenv("NSEM_SERVER");
    if (explicit_path && *explicit_path) {
        if (strlen(explicit_path) >= size || strlen(explicit_path) >= NSEM_PATH_MAX)
            return ERROR_FILENAME_EXCED_RANGE;
        strcpy(out, explicit_path);
        snprintf(dir, sizeof dir, "%s", explicit_path);
        char *slash = strrchr(dir, '/');
        if (!slash) return 0; /* relative to the working directory: the caller's choice */
        if (slash == dir) slash[1] = 0;
        else *slash = 0;
        return check_private_dir(dir);
    }
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

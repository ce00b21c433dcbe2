/*
 * paths.h — where the per-user server's socket is, and the check that its directory is private.
 */
#ifndef NSEM_COMMON_PATHS_H
#define NSEM_COMMON_PATHS_H

#include <stddef.h>

#define NSEM_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path) */

/* The socket path: $NSEM_SERVER, else $XDG_RUNTIME_DIR/nsem/nsemd.sock, else
 * /tmp/nsem-$UID/nsemd.sock. The directory is created 0700 when missing. Returns 0, or a Windows
 * error: ERROR_ACCESS_DENIED when the directory is not a directory owned by the caller with no
 * group or other access, ERROR_FILENAME_EXCED_RANGE when the path is too long. */
unsigned nsem__socket_path(char *out, size_t size);

#endif

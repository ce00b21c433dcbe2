/*
 * paths.h — where the server's socket is, and the check of its directory.
 */
#ifndef NSEM_COMMON_PATHS_H
#define NSEM_COMMON_PATHS_H

#include <stdbool.h>
#include <stddef.h>

#define NSEM_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path) */

/* The system server's (nsemd --system), shared by every user. */
#define NSEM_SYSTEM_SOCKET "/run/nsem/nsemd.sock"

/* The per-user server's socket path: $NSEM_SERVER, else $XDG_RUNTIME_DIR/nsem/nsemd.sock, else
 * /tmp/nsem-$UID/nsemd.sock. The directory is created 0700 when missing. Returns 0, or a Windows
 * error: ERROR_ACCESS_DENIED when the directory is not a directory owned by the caller with no
 * group or other access, ERROR_FILENAME_EXCED_RANGE when the path is too long. */
unsigned nsem__socket_path(char *out, size_t size);

/* The socket a client uses: $NSEM_SERVER, else the system server's when it exists, else the
 * per-user one. A system server's directory is root's and writable by root alone; *shared says
 * the socket is in one (a client then never starts a server there). Errors as above. */
unsigned nsem__client_socket_path(char *out, size_t size, bool *shared);

#endif

/*
 * identity.c — who a client is: the token of the process at the other end of its connection, made
 * from what the kernel says of that process, never from anything the client sends.
 *
 * SO_PEERCRED gives the uid and gid the process had when it connected; SO_PEERGROUPS (Linux 4.13)
 * its supplementary groups then. Where SO_PEERGROUPS is missing, the groups come from
 * /proc/<pid>/status, which reflects the process (not the user database). The privileges of the
 * token are disabled, as a Windows logon's are until AdjustTokenPrivileges, which nsem does not
 * have: so ACCESS_SYSTEM_SECURITY is ERROR_PRIVILEGE_NOT_HELD for root too (SPEC 74), and root names
 * no owner but itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "server/server.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

/* The supplementary groups of pid from /proc (n of them, malloc'd); false if unreadable. */
static bool proc_groups(pid_t pid, uint32_t **groups, size_t *n)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f) return false;
    char *line = NULL; /* "Groups:" has up to 65536 numbers: getline takes any length */
    size_t line_cap = 0, cap = 0;
    bool found = false;
    *groups = NULL;
    *n = 0;
    while (!found && getline(&line, &line_cap, f) > 0) {
        if (strncmp(line, "Groups:", 7) != 0) continue;
        found = true;
        for (char *p = line + 7, *end;; p = end) {
            unsigned long g = strtoul(p, &end, 10);
            if (end == p) break;
            if (*n == cap) {
                cap = cap ? cap * 2 : 32;
                uint32_t *grown = realloc(*groups, cap * sizeof *grown);
                if (!grown) {
                    found = false;
                    break;
                }
                *groups = grown;
            }
            (*groups)[(*n)++] = (uint32_t)g;
        }
    }
    free(line);
    fclose(f);
    if (!found) free(*groups);
    return found;
}

DWORD nsem__peer_token(int fd, pid_t pid, struct nsem_token *t)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) return ERROR_ACCESS_DENIED;
    uint32_t *groups = NULL;
    size_t n = 0;
    gid_t some[64];
    socklen_t glen = sizeof some;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, some, &glen) == 0 || errno == ERANGE) {
        gid_t *all = some;
        if (glen > sizeof some && !(all = malloc(glen))) return ERROR_NOT_ENOUGH_MEMORY;
        if (all != some && getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, all, &glen) != 0) {
            free(all);
            return ERROR_ACCESS_DENIED;
        }
        n = glen / sizeof(gid_t);
        groups = malloc((n ? n : 1) * sizeof *groups);
        for (size_t i = 0; groups && i < n; i++) groups[i] = all[i];
        if (all != some) free(all);
        if (!groups) return ERROR_NOT_ENOUGH_MEMORY;
    } else if (!proc_groups(pid, &groups, &n)) {
        return ERROR_ACCESS_DENIED; /* neither the socket nor the process says */
    }
    DWORD e = nsem__token_init(t, cred.uid, cred.gid, groups, n);
    free(groups);
    if (!e) t->privileged = false; /* disabled, see above */
    return e;
}

/*
 * spawnhook.c — posix_spawn, posix_spawnp and system(), wrapped so that their children inherit
 * handles from birth, as Windows' CreateProcess(bInheritHandles) children do. They run no atfork
 * handler, so around the real call (found with dlsym(RTLD_NEXT)) a connected process asks the
 * server for a spawn ticket (a copy of its inheritable handles: server/inherit.c) and gives it to
 * the child's pid; for system(), whose command's pid is never known, the ticket covers the call.
 * A process that has not connected to the server is left alone: it has no handles to pass on.
 * When the copies would pass the server's limit on handles (ERROR_NOT_ENOUGH_QUOTA), no child is
 * started and the call fails with EAGAIN, as Windows' CreateProcess fails when it cannot give the
 * child its inherited handles. Any other failure to get a ticket starts the child without it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdlib.h>

#include "lib/client.h"

typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
                        char *const[], char *const[]);
typedef int (*system_fn)(const char *);

static spawn_fn real_spawn, real_spawnp;
static system_fn real_system;
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

static void resolve(void)
{
    real_spawn = (spawn_fn)dlsym(RTLD_NEXT, "posix_spawn");
    real_spawnp = (spawn_fn)dlsym(RTLD_NEXT, "posix_spawnp");
    real_system = (system_fn)dlsym(RTLD_NEXT, "system");
}

int nsem__real_posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    pthread_once(&resolve_once, resolve);
    return real_spawn ? real_spawn(pid, path, fa, attr, argv, envp) : -1;
}

/* One SPAWN request; returns the ticket of PREPARE (0: none, and *error says why if not NULL). */
static uint64_t spawn_request(uint32_t action, uint64_t ticket, pid_t pid, DWORD *error)
{
    if (error) *error = 0;
    if (!nsem__client_id()) return 0; /* not connected: nothing to pass on */
    struct nsem_req_spawn req = {{0, NSEM_OP_SPAWN}, action, (uint32_t)pid, (uint32_t)ticket, (uint32_t)(ticket >> 32)};
    struct nsem_rep_fork rep;
    DWORD saved = GetLastError(); /* these calls are not nsem's API: leave its last error alone */
    nsem__conn_lock();
    DWORD e = nsem__request_locked(&req, sizeof req, NULL, 0, &rep, sizeof rep);
    nsem__conn_unlock();
    nsem__set_error(saved);
    if (error) *error = e;
    if (e || action != NSEM_SPAWN_PREPARE) return 0;
    return (uint64_t)rep.ticket_hi << 32 | rep.ticket_lo;
}

static int spawn_with_ticket(spawn_fn fn, pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                             const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    if (!fn) return ENOSYS;
    DWORD e;
    uint64_t ticket = spawn_request(NSEM_SPAWN_PREPARE, 0, 0, &e);
    if (e == ERROR_NOT_ENOUGH_QUOTA) return EAGAIN;
    pid_t child = 0;
    int r = fn(&child, file, fa, attr, argv, envp);
    if (ticket) spawn_request(r == 0 ? NSEM_SPAWN_BIND : NSEM_SPAWN_CANCEL, ticket, child, NULL);
    if (r == 0 && pid) *pid = child;
    return r;
}

NSEM_EXTERN int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                            const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    pthread_once(&resolve_once, resolve);
    return spawn_with_ticket(real_spawn, pid, path, fa, attr, argv, envp);
}

NSEM_EXTERN int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                             const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    pthread_once(&resolve_once, resolve);
    return spawn_with_ticket(real_spawnp, pid, file, fa, attr, argv, envp);
}

NSEM_EXTERN int system(const char *command)
{
    pthread_once(&resolve_once, resolve);
    if (!real_system) return -1;
    DWORD e = 0;
    uint64_t ticket = command ? spawn_request(NSEM_SPAWN_PREPARE, 0, 0, &e) : 0;
    if (e == ERROR_NOT_ENOUGH_QUOTA) {
        errno = EAGAIN; /* system()'s "no child could be created" */
        return -1;
    }
    int r = real_system(command);
    if (ticket) spawn_request(NSEM_SPAWN_CANCEL, ticket, 0, NULL);
    return r;
}

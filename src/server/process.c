/*
 * process.c — process objects: one per process, made when a handle to it is first asked for
 * (OpenProcess, or duplication of a process's own GetCurrentProcess()). Signalled — for good —
 * when the process ends, which a pidfd in the loop reports at once. A process handle with
 * PROCESS_DUP_HANDLE lets DuplicateHandle reach that process's handle table (requests.c).
 * Its security descriptor is Windows' default for a process: owner the process's user, group its
 * group, DACL granting that user and Local System every right.
 */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "server/server.h"

#define PROCESS_EXITED 0x1u

struct process {
    struct nsem_loop_item item; /* first: the loop's data.ptr */
    struct nsem_obj *obj;
    pid_t pid;
    int pidfd; /* -1 once the process has ended */
    struct process *next;
};
static struct process *processes;

static struct process *priv_of(const struct nsem_obj *obj)
{
    assert(obj->ops == &nsem__process_ops);
    return obj->priv;
}

/* The process ended: signalled, and no more need of its pidfd. */
static void on_exit_event(struct nsem_loop_item *item, uint32_t events)
{
    struct process *p = (struct process *)item;
    nsem__loop_del(p->pidfd, &p->item);
    close(p->pidfd);
    p->pidfd = -1;
    struct nsem_slot *s = nsem__obj_slot(p->obj);
    atomic_store(&s->state, nsem_word(PROCESS_EXITED, 0)); /* seq_cst; nobody else changes it */
    nsem__slot_wake(s);
}

static struct process *process_of(pid_t pid)
{
    for (struct process *p = processes; p; p = p->next)
        if (p->pid == pid) return p;
    return NULL;
}

DWORD nsem__process_check(pid_t pid, uid_t uid)
{
    if (process_of(pid)) return 0;
    if (pid <= 0) return ERROR_INVALID_PARAMETER;
    if (kill(pid, 0) != 0) return errno == EPERM ? ERROR_ACCESS_DENIED : ERROR_INVALID_PARAMETER;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    struct stat st;
    if (stat(path, &st) != 0) return ERROR_INVALID_PARAMETER;
    if (st.st_uid != uid) return ERROR_ACCESS_DENIED; /* another user's process */
    return 0;
}

DWORD nsem__process_object(pid_t pid, uid_t uid, struct nsem_obj **out)
{
    struct process *known = process_of(pid);
    if (known) {
        *out = known->obj;
        return 0;
    }
    DWORD e = nsem__process_check(pid, uid);
    int domain = e ? 0 : nsem__arena_domain(uid); /* the process's user's, as every handle to it */
    if (!e && domain < 0) e = ERROR_NO_SYSTEM_RESOURCES;
    if (!e) e = nsem__quota_objects((uint32_t)domain);
    if (e) return e;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    struct stat st;
    if (stat(path, &st) != 0) return ERROR_INVALID_PARAMETER;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) return ERROR_INVALID_PARAMETER;
    struct process *p = calloc(1, sizeof *p);
    struct nsem_create_params params = {0};
    struct nsem_token owner; /* the user and group /proc shows the process running as */
    struct nsem_sd_entry *sd = NULL;
    if (nsem__token_init(&owner, st.st_uid, st.st_gid, NULL, 0) == 0) {
        sd = nsem__sd_default_entry(&owner);
        nsem__token_destroy(&owner);
    }
    struct nsem_obj *obj = p && sd ? nsem__obj_create(&nsem__process_ops, &params, sd, (uint32_t)domain) : NULL;
    if (!obj) {
        if (sd && !p) nsem__sd_release(sd);
        free(p);
        close(pidfd);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    *p = (struct process){{on_exit_event}, obj, pid, pidfd, processes};
    obj->priv = p;
    if (nsem__loop_add(pidfd, &p->item, EPOLLIN) != 0) { /* cannot watch: it reads as ended */
        close(pidfd);
        p->pidfd = -1;
        atomic_store(&nsem__obj_slot(obj)->state, nsem_word(PROCESS_EXITED, 0));
    }
    processes = p;
    *out = obj;
    return 0;
}

pid_t nsem__process_pid(const struct nsem_obj *obj)
{
    return priv_of(obj)->pid;
}

/* CREATE cannot make a process object: only nsem__process_object does, for a live pid (one made
 * by CREATE would have no process behind it). */
static DWORD process_check_params(const struct nsem_create_params *p)
{
    return ERROR_INVALID_PARAMETER;
}

static void process_init(struct nsem_slot *slot, const struct nsem_create_params *p)
{
    atomic_store_explicit(&slot->flags, 0, memory_order_relaxed);
    atomic_store_explicit(&slot->max, 1, memory_order_relaxed);
    atomic_store(&slot->state, nsem_word(0, 0)); /* running */
}

/* A process owns nothing in a process object. */
static bool process_client_gone(struct nsem_obj *obj, uint32_t client_id, pid_t pid)
{
    assert(obj->ops == &nsem__process_ops);
    return true;
}

static void process_query(const struct nsem_obj *obj, struct nsem_obj_state *rep)
{
    struct process *p = priv_of(obj);
    rep->count = (nsem_word_value(atomic_load(&nsem__obj_slot(obj)->state)) & PROCESS_EXITED) ? 1 : 0;
    rep->max = 1;
    rep->owner_pid = (uint32_t)p->pid; /* the process itself */
}

static void process_destroy(struct nsem_obj *obj)
{
    struct process *p = priv_of(obj);
    for (struct process **q = &processes; *q; q = &(*q)->next)
        if (*q == p) {
            *q = p->next;
            break;
        }
    if (p->pidfd >= 0) {
        nsem__loop_del(p->pidfd, &p->item);
        close(p->pidfd);
    }
    free(p);
    obj->priv = NULL;
}

const struct nsem_obj_ops nsem__process_ops = {
    .type = NSEM_TYPE_PROCESS,
    .type_name = "Process",
    .valid_access = PROCESS_ALL_ACCESS,
    .mapping = {.read = STANDARD_RIGHTS_READ | 0x0410u,                         /* VM_READ | QUERY_INFORMATION */
                .write = STANDARD_RIGHTS_WRITE | 0x0BEAu,                       /* the writing rights */
                .execute = STANDARD_RIGHTS_EXECUTE | SYNCHRONIZE | 0x1001u,     /* QUERY_LIMITED | TERMINATE */
                .all = PROCESS_ALL_ACCESS},
    .check_params = process_check_params,
    .init = process_init,
    .client_gone = process_client_gone,
    .query = process_query,
    .destroy = process_destroy,
};

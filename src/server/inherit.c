/*
 * inherit.c — handles that outlive fork and exec, as Windows' inheritance.
 *
 * fork: just before fork() the library asks FORK; the server copies every handle of the caller,
 * with the same values, into a ticket. The child's first act (an atfork handler) is HELLO with
 * that ticket: it adopts the copy, so the object counts the child's handles from the moment it
 * exists. A ticket no child adopts within TICKET_MS (the child died at once) is dropped.
 *
 * exec: the library's connection is close-on-exec, so exec ends it while the process lives on.
 * Then (client.c) the server does what the end of the old image's threads requires — wait-all
 * locks released, owned mutexes abandoned — closes the handles without HANDLE_FLAG_INHERIT, and
 * keeps the rest, watching the process through a pidfd: its exit releases them, and its new image's
 * first connection takes them over, by pid. No polling anywhere.
 *
 * posix_spawn and system() run no atfork handler; the library wraps them (lib/spawnhook.c): just
 * before, a SPAWN ticket copies the caller's inheritable handles, held by the caller; posix_spawn's
 * child gets it by pid (BIND), as the record of an exec'd image, so its handles count from its
 * birth; system()'s command, whose pid we never learn, is covered by the ticket while the call
 * lasts, and its processes take copies at their first connection (below).
 *
 * Descendants the server saw no fork or spawn of (a parent that had not connected): a process's
 * first connection, with no ticket and no former image, gets a copy of the inheritable handles of
 * its nearest ancestor the server knows. Such a child's handles count from its first call.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "server/server.h"

#define TICKET_MS 10000

struct ticket {
    uint64_t key;
    uint64_t expires_ms;  /* a fork ticket; 0: a spawn ticket, held by its owner until bound */
    uint32_t owner;       /* a spawn ticket's client */
    struct nsem_handle_table handles;
    struct ticket *next;
};
static struct ticket *tickets;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint32_t nsem__ticket_count(void)
{
    uint32_t n = 0;
    for (struct ticket *t = tickets; t; t = t->next) n++;
    return n;
}

DWORD nsem__ticket_make(struct nsem_client *c, bool spawn, uint64_t *key)
{
    /* The copies count as handles from now on (the child's, once it exists): a copy that would
     * pass the limit on handles is refused, as Windows fails CreateProcess when the child's handle
     * table cannot be made. Its per-process limit holds: the child has no more than c. */
    DWORD e = nsem__quota_handles(NULL, nsem__handle_table_count(&c->handles, spawn));
    if (e) return e;
    struct ticket *t = malloc(sizeof *t);
    if (!t) return ERROR_NOT_ENOUGH_MEMORY;
    if (nsem__handle_table_copy(&t->handles, &c->handles, spawn) != 0) {
        free(t);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    /* A key no other process can guess; 0 means "no ticket". */
    do {
        if (getrandom(&t->key, sizeof t->key, 0) != sizeof t->key) t->key = now_ms() * 2654435761u ^ (uint64_t)c->pid;
    } while (t->key == 0);
    t->expires_ms = spawn ? 0 : now_ms() + TICKET_MS;
    t->owner = spawn ? c->id : 0;
    t->next = tickets;
    tickets = t;
    *key = t->key;
    return 0;
}

/* Unlinks a ticket: by key (and owner, for spawn tickets), NULL if none. */
static struct ticket *take_ticket(uint64_t key, uint32_t owner)
{
    for (struct ticket **p = &tickets; *p; p = &(*p)->next)
        if ((*p)->key == key && (*p)->owner == owner) {
            struct ticket *t = *p;
            *p = t->next;
            return t;
        }
    return NULL;
}

static void drop_ticket(struct ticket *t)
{
    nsem__handle_table_destroy(&t->handles);
    free(t);
}

DWORD nsem__spawn_bind(struct nsem_client *c, uint64_t key, pid_t pid)
{
    struct ticket *t = take_ticket(key, c->id);
    if (!t) return ERROR_INVALID_PARAMETER;
    struct nsem_client *o = pid > 0 ? nsem__client_of_pid(pid) : NULL;
    if (o && o->provisional) {
        /* Handles were duplicated into the child before this: its inherited ones join them (at
         * values below theirs), and the record is the child's. */
        struct nsem_handle_table duplicated = o->handles;
        o->handles = t->handles;
        nsem__handle_table_merge(&o->handles, &duplicated);
        o->provisional = false;
        free(t);
        return 0;
    }
    /* The child may have connected already (and taken copies from its ancestor, us) */
    if (pid > 0 && !o) {
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd >= 0 && nsem__client_orphan(pid, c->uid, &t->handles, pidfd)) {
            free(t); /* its handles went to the record */
            return 0;
        }
        if (pidfd >= 0) close(pidfd);
    }
    drop_ticket(t);
    return 0;
}

DWORD nsem__spawn_cancel(struct nsem_client *c, uint64_t key)
{
    struct ticket *t = take_ticket(key, c->id);
    if (!t) return ERROR_INVALID_PARAMETER;
    drop_ticket(t);
    return 0;
}

void nsem__ticket_drop(uint64_t key)
{
    struct ticket *t = take_ticket(key, 0); /* owner 0: a fork ticket */
    if (t) drop_ticket(t);
}

void nsem__tickets_client_gone(uint32_t client_id)
{
    for (struct ticket **p = &tickets; *p;) {
        if ((*p)->owner == client_id && (*p)->expires_ms == 0) {
            struct ticket *t = *p;
            *p = t->next;
            drop_ticket(t);
        } else {
            p = &(*p)->next;
        }
    }
}

bool nsem__ticket_adopt(uint64_t key, struct nsem_client *c)
{
    for (struct ticket **p = &tickets; *p; p = &(*p)->next)
        if ((*p)->key == key && (*p)->expires_ms != 0) { /* fork tickets only */
            struct ticket *t = *p;
            *p = t->next;
            /* what was duplicated into the child before it connected stays, above the copy */
            struct nsem_handle_table duplicated = c->handles;
            c->handles = t->handles;
            nsem__handle_table_merge(&c->handles, &duplicated);
            free(t);
            nsem__client_take_provisional(c);
            return true;
        }
    return false;
}

uint32_t nsem__tickets_bound(void)
{
    uint32_t bound = 0;
    for (struct ticket *t = tickets; t; t = t->next)
        if (t->handles.size > bound) bound = t->handles.size;
    return bound;
}

int nsem__tickets_expire(void)
{
    uint64_t now = now_ms(), next = UINT64_MAX;
    for (struct ticket **p = &tickets; *p;) {
        struct ticket *t = *p;
        if (t->expires_ms && t->expires_ms <= now) {
            *p = t->next;
            nsem__handle_table_destroy(&t->handles);
            free(t);
        } else {
            if (t->expires_ms && t->expires_ms < next) next = t->expires_ms;
            p = &t->next;
        }
    }
    return next == UINT64_MAX ? -1 : (int)(next - now);
}

void nsem__tickets_destroy_all(void)
{
    while (tickets) {
        struct ticket *t = tickets;
        tickets = t->next;
        drop_ticket(t);
    }
}

pid_t nsem__parent_pid(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* pid (comm) state ppid ...: comm may hold spaces and parentheses, so look after the last ')' */
    char *close_paren = strrchr(buf, ')');
    int ppid = 0;
    if (!close_paren || sscanf(close_paren + 1, " %*c %d", &ppid) != 1) return 0;
    return (pid_t)ppid;
}

int nsem__exec_pidfd(pid_t pid)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0) return -1;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 0) != 0) { /* readable: it has exited */
        close(fd);
        return -1;
    }
    return fd;
}

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
 * Descendants the server saw no fork of (the parent had not connected, or used posix_spawn or
 * system(), which run no atfork handler): a process's first connection, with no ticket and no
 * former image, gets a copy of the inheritable handles of its nearest ancestor the server knows.
 * Such a child's handles count from its first call, not its birth; a parent that closes its
 * handle before then takes the object with it. (Issue 4 lists what remains to close this gap.)
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
    uint64_t expires_ms;
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

DWORD nsem__ticket_make(struct nsem_client *c, uint64_t *key)
{
    struct ticket *t = malloc(sizeof *t);
    if (!t) return ERROR_NOT_ENOUGH_MEMORY;
    if (nsem__handle_table_copy(&t->handles, &c->handles, false) != 0) {
        free(t);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    /* A key no other process can guess; 0 means "no ticket". */
    do {
        if (getrandom(&t->key, sizeof t->key, 0) != sizeof t->key) t->key = now_ms() * 2654435761u ^ (uint64_t)c->pid;
    } while (t->key == 0);
    t->expires_ms = now_ms() + TICKET_MS;
    t->next = tickets;
    tickets = t;
    *key = t->key;
    return 0;
}

bool nsem__ticket_adopt(uint64_t key, struct nsem_client *c)
{
    for (struct ticket **p = &tickets; *p; p = &(*p)->next)
        if ((*p)->key == key) {
            struct ticket *t = *p;
            *p = t->next;
            nsem__handle_table_destroy(&c->handles);
            c->handles = t->handles;
            free(t);
            return true;
        }
    return false;
}

int nsem__tickets_expire(void)
{
    uint64_t now = now_ms(), next = UINT64_MAX;
    for (struct ticket **p = &tickets; *p;) {
        struct ticket *t = *p;
        if (t->expires_ms <= now) {
            *p = t->next;
            nsem__handle_table_destroy(&t->handles);
            free(t);
        } else {
            if (t->expires_ms < next) next = t->expires_ms;
            p = &t->next;
        }
    }
    return next == UINT64_MAX ? -1 : (int)(next - now);
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

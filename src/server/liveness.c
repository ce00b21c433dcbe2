/*
 * liveness.c — the arena header's liveness word (common/shm.h): the server's thread id, registered
 * as the one entry of this thread's robust futex list. When the server dies, by any signal, the
 * kernel marks the word FUTEX_OWNER_DIED and wakes a waiter, which is how blocked clients learn it.
 *
 * This replaces glibc's robust list of the server's only thread: the server uses no robust mutex.
 */
#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "server/server.h"

static struct robust_list_head head;
static struct robust_list entry;

int nsem__liveness_publish(void)
{
    struct nsem_arena_header *h = (struct nsem_arena_header *)nsem__arena_slot(0);
    atomic_store_explicit(&h->server, (uint32_t)syscall(SYS_gettid), memory_order_relaxed);
    entry.next = &head.list; /* a circular list of one entry */
    head.list.next = &entry;
    head.futex_offset = (long)((uintptr_t)&h->server - (uintptr_t)&entry);
    head.list_op_pending = NULL;
    return syscall(SYS_set_robust_list, &head, sizeof head) == 0 ? 0 : -errno;
}

/*
 * liveness.c — each arena header's liveness word (common/shm.h): the server's thread id, registered
 * in this thread's robust futex list. When the server dies, by any signal, the kernel marks every
 * word FUTEX_OWNER_DIED and wakes a waiter, which is how blocked clients learn it.
 *
 * The kernel finds a list entry's futex at the entry's address plus one offset shared by all
 * entries. The words are at the same place in every arena, NSEM_ARENA_BYTES apart; the entries are
 * kept at the same stride in a reservation of the server's own, so that no client can reach them
 * (an entry's `next` is a pointer the kernel follows at the death).
 *
 * This replaces glibc's robust list of the server's main thread: it uses no robust mutex.
 */
#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "server/server.h"

static struct robust_list_head head;
static unsigned char *entries; /* entry of domain k at entries + k * NSEM_ARENA_BYTES */

int nsem__liveness_publish(uint32_t domain, uint32_t max_domains)
{
    if (!entries) {
        void *p = mmap(NULL, (size_t)max_domains * NSEM_ARENA_BYTES, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) return -errno;
        entries = p;
        head.list.next = &head.list; /* empty, circular */
        head.list_op_pending = NULL;
    }
    unsigned char *page = entries + (size_t)domain * NSEM_ARENA_BYTES;
    if (mprotect(page, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE) != 0) return -errno;
    struct robust_list *entry = (struct robust_list *)(void *)page;
    struct nsem_arena_header *h = (struct nsem_arena_header *)nsem__arena_slot(nsem_slot_index(domain, 0));
    atomic_store_explicit(&h->server, (uint32_t)syscall(SYS_gettid), memory_order_relaxed);
    /* The same for every domain: the words and the entries are at the same stride. */
    head.futex_offset = (long)((uintptr_t)&h->server - (uintptr_t)entry);
    entry->next = head.list.next;
    head.list.next = entry;
    return syscall(SYS_set_robust_list, &head, sizeof head) == 0 ? 0 : -errno;
}

/*
 * arena.c — the shared memory of object state: arenas of NSEM_ARENA_SLOTS slots (common/shm.h),
 * one per trust domain. A per-user server has one, its user's. A system server (nsemd --system)
 * has one per user with clients, mapped only by that user's processes: memory a user maps is memory
 * that user controls, so it holds that user's objects and nothing else (docs/security.md).
 *
 * The server reserves the address space of every domain at once and maps arena k at slot k << 22,
 * so that a slot index names a slot in every domain (`index >> 22` the domain, the low bits the
 * slot within its arena) and nsem__arena_slot stays one addition. Indexes written inside an
 * arena (a waiter queue's, an undo record's, a blob chain's) are local to that arena, which is
 * what its clients, who map it alone, can use.
 *
 * Slot 0 of each arena is its header, with the liveness word its clients sleep on (liveness.c),
 * and the client table follows: 0 can mean "no slot".
 *
 * The per-user arena is a file next to the socket ("<socket>.arena", in the private directory),
 * removed when the server exits normally. A server that finds one of this boot, left by a server
 * that died, keeps it as it is: recover.c rebuilds its objects from it. Without a path (tests,
 * fuzzing, and the system server, which does not recover) an arena is an anonymous memfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/server.h"

/* Freed slots wait in a FIFO before reuse: a thread of some client may still be between reading a
 * handle and touching the slot when another thread closes that handle (a misuse the library does
 * not pay to exclude on its fast path); it then touches a dead slot, not someone's new object. */
#define QUARANTINE 4096u

struct domain {
    int fd;     /* -1: not made yet */
    uid_t uid;  /* whose */
    uint32_t high_water; /* local slots below have been handed out at least once */
    uint32_t *free_ring; /* freed local indexes, oldest at free_head */
    uint32_t free_head, free_len, free_cap;
    uint32_t in_use;
};

bool nsem__system;
static struct nsem_slot *arena; /* the reservation: domain k at arena + (k << 22) */
static struct domain *domains;
static uint32_t domain_max, domain_count;
static bool recovered; /* domain 0's file was left by a server that died */
/* Local slots below `slots` may be handed out: the whole arena, or NSEMD_TEST_ARENA_SLOTS after the
 * client table, so that a test can fill the arena (ERROR_NO_SYSTEM_RESOURCES) without making four
 * million objects. */
static uint32_t slots = NSEM_ARENA_SLOTS;

/* 0, or -errno when the boot id cannot be read: then no leftover can be judged (one would be taken
 * for another boot's and thrown away), nor a new arena be marked. */
static int read_boot_id(uint8_t id[16])
{
    memset(id, 0, 16);
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
    if (!f) return -errno;
    unsigned v, n = 0;
    int c;
    while (n < 32 && (c = fgetc(f)) != EOF) {
        if (c == '-') continue;
        if (sscanf((char[]){(char)c, 0}, "%1x", &v) != 1) break;
        id[n / 2] = (uint8_t)(id[n / 2] << 4 | v);
        n++;
    }
    fclose(f);
    return n == 32 ? 0 : -EIO;
}

/* An existing file this server may trust and keep: ours, private, whole, and of this boot. 1 yes,
 * 0 no, -errno when it cannot be read now (then it is left as it is, for a later server). */
static int usable_leftover(int fd, const uint8_t boot_id[16])
{
    struct stat st;
    if (fstat(fd, &st) != 0) return -errno;
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) || st.st_size != (off_t)NSEM_ARENA_BYTES)
        return 0;
    struct nsem_arena_header h;
    ssize_t n = pread(fd, &h, sizeof h, 0);
    if (n < 0) return -errno;
    if (n != (ssize_t)sizeof h) return 0;
    return h.magic == NSEM_ARENA_MAGIC && h.layout == NSEM_ARENA_LAYOUT && memcmp(h.boot_id, boot_id, 16) == 0 &&
           h.high_water >= NSEM_ARENA_FIRST_SLOT && h.high_water <= NSEM_ARENA_SLOTS;
}

static struct nsem_arena_header *header(uint32_t domain)
{
    return (struct nsem_arena_header *)(void *)&arena[(uint64_t)domain << NSEM_ARENA_SLOT_BITS];
}

/* Maps domain k's arena from fd (sized already) into the reservation and writes a new header
 * unless it recovers one. 0 or -errno. */
static int map_domain(uint32_t k, int fd, uid_t uid, bool keep, const uint8_t boot_id[16])
{
    void *at = &arena[(uint64_t)k << NSEM_ARENA_SLOT_BITS];
    if (mmap(at, NSEM_ARENA_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
        return -errno;
    struct domain *d = &domains[k];
    *d = (struct domain){.fd = fd, .uid = uid, .high_water = NSEM_ARENA_FIRST_SLOT};
    struct nsem_arena_header *h = header(k);
    if (keep) {
        d->high_water = h->high_water;
    } else {
        h->magic = NSEM_ARENA_MAGIC;
        h->layout = NSEM_ARENA_LAYOUT;
        h->high_water = d->high_water;
        memcpy(h->boot_id, boot_id, 16);
    }
    return 0;
}

int nsem__arena_init(const char *path, uint32_t max_domains)
{
    uint32_t n; /* the test knob counts the slots objects may take, after the header and client table */
    if (nsem__limit_parse(getenv("NSEMD_TEST_ARENA_SLOTS"), NSEM_ARENA_SLOTS - NSEM_ARENA_FIRST_SLOT, &n))
        slots = NSEM_ARENA_FIRST_SLOT + n;
    if (max_domains < 1 || max_domains > NSEM_ARENA_MAX_DOMAINS) return -EINVAL;
    /* Address space only: PROT_NONE and no reserve cost no memory until a domain is mapped. */
    void *p = mmap(NULL, (size_t)max_domains * NSEM_ARENA_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    domains = calloc(max_domains, sizeof *domains);
    if (p == MAP_FAILED || !domains) return p == MAP_FAILED ? -errno : -ENOMEM;
    arena = p;
    domain_max = max_domains;
    for (uint32_t k = 0; k < max_domains; k++) domains[k].fd = -1;
    if (!path) return 0; /* domains are made on demand, as memfds */
    /* A per-user server: domain 0 is its user's, in the file a crashed predecessor may have left. */
    uint8_t boot_id[16];
    int e = read_boot_id(boot_id);
    if (e) return e;
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    int usable = fd >= 0 ? usable_leftover(fd, boot_id) : 0;
    if (usable < 0) { /* cannot tell: left alone for a later server */
        close(fd);
        return usable;
    }
    if (fd >= 0 && !(recovered = usable == 1)) {
        /* Anything else is replaced, never changed: a process may still map it. */
        close(fd);
        fd = -1;
        unlink(path);
    }
    if (fd < 0) fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return -errno;
    if (!recovered && ftruncate(fd, (off_t)NSEM_ARENA_BYTES) != 0) {
        e = -errno;
        close(fd);
        return e;
    }
    e = map_domain(0, fd, geteuid(), recovered, boot_id);
    if (e) {
        close(fd);
        return e;
    }
    domain_count = 1;
    return nsem__liveness_publish(0, domain_max);
}

int nsem__arena_domain(uid_t uid)
{
    for (uint32_t k = 0; k < domain_count; k++)
        if (domains[k].uid == uid) return (int)k;
    if (domain_count == 1 && domain_max == 1) return 0; /* a per-user server: every client is its user */
    if (domain_count == domain_max) return -1;
    uint32_t k = domain_count;
    static const uint8_t no_boot[16]; /* a memfd is never recovered */
    int fd = memfd_create("nsem-arena", MFD_CLOEXEC);
    if (fd < 0) return -1;
    if (ftruncate(fd, (off_t)NSEM_ARENA_BYTES) != 0 || map_domain(k, fd, uid, false, no_boot) != 0 ||
        nsem__liveness_publish(k, domain_max) != 0) {
        close(fd);
        domains[k].fd = -1;
        return -1;
    }
    domain_count++;
    return (int)k;
}

uint32_t nsem__arena_domains(void)
{
    return domain_count;
}

void nsem__arena_set_awake(bool awake)
{
    for (uint32_t d = 0; d < domain_count; d++) {
        struct nsem_arena_header *h = (void *)nsem__arena_slot(nsem_slot_index(d, 0));
        atomic_store_explicit(&h->server_awake, awake, memory_order_relaxed); /* a hint */
    }
}

bool nsem__arena_contains(const void *p)
{
    uintptr_t a = (uintptr_t)arena, q = (uintptr_t)p;
    return arena && q >= a && q < a + (uintptr_t)domain_max * NSEM_ARENA_BYTES;
}

struct nsem_client_entry *nsem__arena_client_entry(uint32_t domain, uint32_t id)
{
    return (struct nsem_client_entry *)(void *)&arena[((uint64_t)domain << NSEM_ARENA_SLOT_BITS) + 1] + id;
}

bool nsem__arena_recovered(void)
{
    return recovered;
}

uint32_t nsem__arena_high_water(void)
{
    return domain_count ? domains[0].high_water : NSEM_ARENA_FIRST_SLOT;
}

void nsem__arena_mark_used(uint32_t index)
{
    domains[nsem_slot_domain(index)].in_use++;
}

void nsem__arena_mark_free(uint32_t index)
{
    domains[nsem_slot_domain(index)].in_use++; /* nsem__arena_free counts it out again */
    nsem__arena_free(index);
}

int nsem__arena_fd(uint32_t domain)
{
    return domain < domain_count ? domains[domain].fd : -1;
}

struct nsem_slot *nsem__arena_slot(uint32_t index)
{
    return &arena[index];
}

uint32_t nsem__arena_alloc(uint32_t domain)
{
    if (domain >= domain_count) return 0;
    struct domain *d = &domains[domain];
    uint32_t local;
    if (d->free_len > QUARANTINE || (d->free_len > 0 && d->high_water >= slots)) {
        local = d->free_ring[d->free_head];
        d->free_head = (d->free_head + 1) % d->free_cap;
        d->free_len--;
    } else {
        if (d->high_water >= slots) return 0;
        local = d->high_water++;
        header(domain)->high_water = d->high_water; /* for a restarted server */
    }
    uint32_t index = nsem_slot_index(domain, local);
    struct nsem_slot *s = &arena[index];
    atomic_store(&s->state, 0);
    atomic_store(&s->waiting, 0); /* seq_cst, as every access to waiting */
    atomic_store_explicit(&s->recursion, 0, memory_order_relaxed);
    atomic_store_explicit(&s->owner_pid, 0, memory_order_relaxed);
    atomic_store_explicit(&s->owner_tid, 0, memory_order_relaxed);
    atomic_store_explicit(&s->last_owner_pid, 0, memory_order_relaxed);
    atomic_store_explicit(&s->aux, 0, memory_order_relaxed);
    /* seq keeps counting across reuse, so that a sleeper left from a misused stale handle is woken
     * rather than confused by a repeated value. */
    d->in_use++;
    return index;
}

void nsem__arena_free(uint32_t index)
{
    struct domain *d = &domains[nsem_slot_domain(index)];
    atomic_store_explicit(&arena[index].type, 0, memory_order_relaxed);
    d->in_use--;
    if (d->free_len == d->free_cap) {
        uint32_t cap = d->free_cap ? d->free_cap * 2 : 8192;
        uint32_t *n = malloc(cap * sizeof *n);
        if (!n) return; /* the slot is lost until restart; never reused while still referenced */
        for (uint32_t i = 0; i < d->free_len; i++) n[i] = d->free_ring[(d->free_head + i) % d->free_cap];
        free(d->free_ring);
        d->free_ring = n;
        d->free_head = 0;
        d->free_cap = cap;
    }
    d->free_ring[(d->free_head + d->free_len) % d->free_cap] = nsem_slot_local(index);
    d->free_len++;
}

uint32_t nsem__arena_in_use(void)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < domain_count; k++) n += domains[k].in_use;
    return n;
}

bool nsem__arena_full(uint32_t domain)
{
    if (domain >= domain_count) return true;
    return domains[domain].high_water >= slots && domains[domain].free_len == 0;
}

uint32_t nsem__arena_free_slots(uint32_t domain)
{
    if (domain >= domain_count) return 0;
    const struct domain *d = &domains[domain];
    return (d->high_water < slots ? slots - d->high_water : 0) + d->free_len;
}

bool nsem__arena_local_ok(uint32_t domain, uint32_t local)
{
    return domain < domain_count && local >= NSEM_ARENA_FIRST_SLOT && local < domains[domain].high_water;
}

uint32_t nsem__arena_index_of(const struct nsem_slot *s)
{
    return (uint32_t)(s - arena);
}

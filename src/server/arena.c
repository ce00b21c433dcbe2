/*
 * arena.c — the shared memory of object state: one sparse file of NSEM_ARENA_SLOTS slots, mapped
 * by the server and by every client. Slot 0 is the header and the client table follows (shm.h):
 * 0 can mean "no slot".
 *
 * The file lives next to the socket ("<socket>.arena", in the private directory) and is removed
 * when the server exits normally. A server that finds one of this boot, left by a server that
 * died, keeps it as it is: recover.c rebuilds its objects from it. Without a path (tests,
 * fuzzing) the arena is an anonymous memfd.
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

static int arena_fd = -1;
static struct nsem_slot *arena;
static uint32_t high_water = NSEM_ARENA_FIRST_SLOT; /* slots below have been handed out at least once */
static bool recovered; /* the file was left by a server that died */
/* Freed slots wait in a FIFO before reuse: a thread of some client may still be between reading a
 * handle and touching the slot when another thread closes that handle (a misuse the library does
 * not pay to exclude on its fast path); it then touches a dead slot, not someone's new object. */
#define QUARANTINE 4096u
static uint32_t *free_ring; /* freed slot indexes, oldest at free_head */
static uint32_t free_head, free_len, free_cap;
static uint32_t in_use;
/* Slots below `slots` may be handed out: the whole arena, or NSEMD_TEST_ARENA_SLOTS after the
 * client table, so that a test can fill the arena (ERROR_NO_SYSTEM_RESOURCES) without making four million objects. */
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

int nsem__arena_init(const char *path)
{
    uint32_t n; /* the test knob counts the slots objects may take, after the header and client table */
    if (nsem__limit_parse(getenv("NSEMD_TEST_ARENA_SLOTS"), NSEM_ARENA_SLOTS - NSEM_ARENA_FIRST_SLOT, &n))
        slots = NSEM_ARENA_FIRST_SLOT + n;
    uint8_t boot_id[16];
    int e = read_boot_id(boot_id);
    if (e) return e;
    if (path) {
        arena_fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        int usable = arena_fd >= 0 ? usable_leftover(arena_fd, boot_id) : 0;
        if (usable < 0) {
            close(arena_fd);
            arena_fd = -1;
            return usable;
        }
        if (arena_fd >= 0 && !(recovered = usable == 1)) {
            /* Anything else is replaced, never changed: a process may still map it. */
            close(arena_fd);
            arena_fd = -1;
            unlink(path);
        }
        if (arena_fd < 0) arena_fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (arena_fd < 0) return -errno;
    } else {
        arena_fd = memfd_create("nsem-arena", MFD_CLOEXEC);
        if (arena_fd < 0) return -errno;
    }
    if (!recovered && ftruncate(arena_fd, (off_t)NSEM_ARENA_BYTES) != 0) return -errno;
    void *p = mmap(NULL, NSEM_ARENA_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, arena_fd, 0);
    if (p == MAP_FAILED) return -errno;
    arena = p;
    struct nsem_arena_header *h = (struct nsem_arena_header *)arena;
    if (recovered) {
        high_water = h->high_water;
    } else {
        h->magic = NSEM_ARENA_MAGIC;
        h->layout = NSEM_ARENA_LAYOUT;
        h->high_water = high_water;
        memcpy(h->boot_id, boot_id, 16);
    }
    return 0;
}

bool nsem__arena_contains(const void *p)
{
    uintptr_t a = (uintptr_t)arena, q = (uintptr_t)p;
    return arena && q >= a && q < a + NSEM_ARENA_BYTES;
}

struct nsem_client_entry *nsem__arena_client_entry(uint32_t id)
{
    return (struct nsem_client_entry *)(void *)&arena[1] + id;
}

bool nsem__arena_recovered(void)
{
    return recovered;
}

uint32_t nsem__arena_high_water(void)
{
    return high_water;
}

void nsem__arena_mark_used(uint32_t index)
{
    in_use++;
    (void)index;
}

void nsem__arena_mark_free(uint32_t index)
{
    in_use++; /* nsem__arena_free counts it out again */
    nsem__arena_free(index);
}

int nsem__arena_fd(void)
{
    return arena_fd;
}

struct nsem_slot *nsem__arena_slot(uint32_t index)
{
    return &arena[index];
}

uint32_t nsem__arena_alloc(void)
{
    uint32_t index;
    if (free_len > QUARANTINE || (free_len > 0 && high_water >= slots)) {
        index = free_ring[free_head];
        free_head = (free_head + 1) % free_cap;
        free_len--;
    } else {
        if (high_water >= slots) return 0;
        index = high_water++;
        ((struct nsem_arena_header *)arena)->high_water = high_water; /* for a restarted server */
    }
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
    in_use++;
    return index;
}

void nsem__arena_free(uint32_t index)
{
    struct nsem_slot *s = &arena[index];
    atomic_store_explicit(&s->type, 0, memory_order_relaxed);
    in_use--;
    if (free_len == free_cap) {
        uint32_t cap = free_cap ? free_cap * 2 : 8192;
        uint32_t *n = malloc(cap * sizeof *n);
        if (!n) return; /* the slot is lost until restart; never reused while still referenced */
        for (uint32_t i = 0; i < free_len; i++) n[i] = free_ring[(free_head + i) % free_cap];
        free(free_ring);
        free_ring = n;
        free_head = 0;
        free_cap = cap;
    }
    free_ring[(free_head + free_len) % free_cap] = index;
    free_len++;
}

uint32_t nsem__arena_in_use(void)
{
    return in_use;
}

bool nsem__arena_full(void)
{
    return high_water >= slots && free_len == 0;
}

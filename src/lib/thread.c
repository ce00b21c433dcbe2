/*
 * thread.c — thread tokens and the mutexes each thread owns.
 *
 * A token is (client id << 14 | thread index): it names the owner of a mutex and the holder of a
 * wait-all lock, and tells the server which process a dead owner belonged to. Thread indexes are
 * given out from a process-wide bitmap on a thread's first use and returned at its exit, after the
 * thread's owned mutexes are abandoned (its TLS destructor). A process's death is handled by the
 * server instead.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/client.h"

#define WORDS ((NSEM_TOKEN_MAX_THREADS + 64) / 64)
static _Atomic uint64_t index_bits[WORDS]; /* bit i: thread index i in use (0 is never used) */

static __thread uint32_t t_index __attribute__((tls_model("initial-exec")));
static __thread uint32_t t_tid __attribute__((tls_model("initial-exec")));
static __thread uint32_t *t_owned; /* slots of mutexes this thread owns */
static __thread uint32_t t_owned_len, t_owned_cap;

static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void thread_exit(void *unused)
{
    uint32_t me = NSEM_MAKE_TOKEN(nsem__client_id(), t_index);
    /* abandon back to front: each call removes its entry from the list */
    while (t_owned_len) nsem__mutex_abandon_mine(t_owned[t_owned_len - 1], me);
    nsem__broker_thread_exit(me);
    free(t_owned);
    t_owned = NULL;
    t_owned_cap = 0;
    if (t_index) atomic_fetch_and_explicit(&index_bits[t_index / 64], ~(1ull << (t_index % 64)), memory_order_relaxed);
    t_index = 0;
}

static void make_key(void)
{
    pthread_key_create(&exit_key, thread_exit);
    atomic_fetch_or(&index_bits[0], 1ull); /* index 0 is never given out */
}

static uint32_t take_index(void)
{
    for (uint32_t w = 0; w < WORDS; w++) {
        uint64_t bits = atomic_load_explicit(&index_bits[w], memory_order_relaxed);
        while (~bits) {
            uint32_t b = (uint32_t)__builtin_ctzll(~bits);
            uint32_t index = w * 64 + b;
            if (index > NSEM_TOKEN_MAX_THREADS) return 0;
            /* relaxed: the bitmap only hands out numbers; it guards no other data */
            if (atomic_compare_exchange_weak_explicit(&index_bits[w], &bits, bits | (1ull << b),
                                                      memory_order_relaxed, memory_order_relaxed))
                return index;
        }
    }
    return 0;
}

uint32_t nsem__thread_token(void)
{
    if (!t_index) {
        pthread_once(&key_once, make_key);
        t_index = take_index();
        if (!t_index) return 0;
        pthread_setspecific(exit_key, (void *)1); /* so that thread_exit runs */
    }
    uint32_t client = nsem__client_id();
    if (!client) {
        if (nsem__ensure_connected() != 0) return 0;
        client = nsem__client_id();
    }
    return NSEM_MAKE_TOKEN(client, t_index);
}

/* The process id, cached: getpid() is a syscall, and a mutex acquisition records it. */
static _Atomic uint32_t process_id; /* relaxed: a cache of a value that only fork changes */

uint32_t nsem__pid(void)
{
    uint32_t pid = atomic_load_explicit(&process_id, memory_order_relaxed);
    if (!pid) {
        pid = (uint32_t)getpid();
        atomic_store_explicit(&process_id, pid, memory_order_relaxed);
    }
    return pid;
}

uint32_t nsem__tid(void)
{
    if (!t_tid) t_tid = (uint32_t)gettid();
    return t_tid;
}

void nsem__owned_add(uint32_t slot)
{
    if (t_owned_len == t_owned_cap) {
        uint32_t cap = t_owned_cap ? t_owned_cap * 2 : 8;
        uint32_t *n = realloc(t_owned, cap * sizeof *n);
        if (!n) return; /* the mutex is then abandoned by process death only */
        t_owned = n;
        t_owned_cap = cap;
    }
    t_owned[t_owned_len++] = slot;
}

void nsem__owned_remove(uint32_t slot)
{
    for (uint32_t i = t_owned_len; i-- > 0;)
        if (t_owned[i] == slot) {
            t_owned[i] = t_owned[--t_owned_len];
            return;
        }
}

void nsem__thread_after_fork(void)
{
    /* Only the forking thread lives on, as a thread of a new process: it owns nothing. */
    for (uint32_t w = 0; w < WORDS; w++) atomic_store_explicit(&index_bits[w], 0, memory_order_relaxed);
    atomic_store_explicit(&index_bits[0], 1ull, memory_order_relaxed);
    if (t_index) atomic_fetch_or_explicit(&index_bits[t_index / 64], 1ull << (t_index % 64), memory_order_relaxed);
    t_owned_len = 0;
    t_tid = 0;
    atomic_store_explicit(&process_id, 0, memory_order_relaxed);
}

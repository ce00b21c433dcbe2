/*
 * exclq.h — the waiter queue of an exclusive semaphore (shm.h), used by the library (enqueue,
 * dequeue, hand-off) and the server (removing a dead client's waiters). Every function requires the
 * semaphore's state word to be locked by the caller.
 */
#ifndef NSEM_COMMON_EXCLQ_H
#define NSEM_COMMON_EXCLQ_H

#include <stdbool.h>

#include "common/shm.h"

static inline uint32_t nsem_q_at(struct nsem_excl_queue *q, uint32_t i)
{
    uint32_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    return atomic_load_explicit(&q->tokens[(head + i) % NSEM_EXCL_QUEUE_CAP], memory_order_relaxed);
}

static inline uint32_t nsem_q_len(struct nsem_excl_queue *q)
{
    return atomic_load_explicit(&q->len, memory_order_relaxed);
}

static inline bool nsem_q_contains(struct nsem_excl_queue *q, uint32_t token)
{
    for (uint32_t i = 0; i < nsem_q_len(q); i++)
        if (nsem_q_at(q, i) == token) return true;
    return false;
}

/* Appends token; false when the queue is full (the waiter then waits without a place). */
static inline bool nsem_q_push(struct nsem_excl_queue *q, uint32_t token)
{
    uint32_t len = nsem_q_len(q);
    if (len >= NSEM_EXCL_QUEUE_CAP) return false;
    uint32_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    atomic_store_explicit(&q->tokens[(head + len) % NSEM_EXCL_QUEUE_CAP], token, memory_order_relaxed);
    atomic_store_explicit(&q->len, len + 1, memory_order_relaxed);
    return true;
}

/* Removes and returns the oldest token (0 if none). */
static inline uint32_t nsem_q_pop(struct nsem_excl_queue *q)
{
    uint32_t len = nsem_q_len(q);
    if (!len) return 0;
    uint32_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    uint32_t token = atomic_load_explicit(&q->tokens[head], memory_order_relaxed);
    atomic_store_explicit(&q->head, (head + 1) % NSEM_EXCL_QUEUE_CAP, memory_order_relaxed);
    atomic_store_explicit(&q->len, len - 1, memory_order_relaxed);
    return token;
}

/* Removes every token for which drop(token, arg) is true, keeping the order of the others. */
static inline void nsem_q_remove_if(struct nsem_excl_queue *q, bool (*drop)(uint32_t, uint32_t), uint32_t arg)
{
    uint32_t len = nsem_q_len(q), kept = 0;
    uint32_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    for (uint32_t i = 0; i < len; i++) {
        uint32_t t = atomic_load_explicit(&q->tokens[(head + i) % NSEM_EXCL_QUEUE_CAP], memory_order_relaxed);
        if (drop(t, arg)) continue;
        atomic_store_explicit(&q->tokens[(head + kept) % NSEM_EXCL_QUEUE_CAP], t, memory_order_relaxed);
        kept++;
    }
    atomic_store_explicit(&q->len, kept, memory_order_relaxed);
}

/* Whether `me` may take an exclusive semaphore of value v now (a hint unless its state word is
 * locked by the caller): free with no one queued ahead, handed to me, or mine already. */
static inline bool nsem_excl_takeable(struct nsem_excl_queue *q, uint32_t v, uint32_t me)
{
    uint32_t owner = v & NSEM_TOKEN_MASK;
    if (owner) return owner == me;
    return !q || nsem_q_len(q) == 0 || nsem_q_at(q, 0) == me;
}

static inline bool nsem_q_is_token(uint32_t t, uint32_t token)
{
    return t == token;
}

static inline bool nsem_q_is_client(uint32_t t, uint32_t client)
{
    return NSEM_TOKEN_CLIENT(t) == client;
}

#endif

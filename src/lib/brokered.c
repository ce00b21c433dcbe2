/*
 * brokered.c — operations on brokered handles: handles of a system server to another user's
 * objects, which live in an arena this process does not map (docs/security.md). Each operation is
 * a request the server checks and applies (server/brokered.c); a wait that involves one is made
 * by the server, attempt by attempt, while this thread sleeps between attempts on its own objects'
 * words, on its proxy word (which the server moves when a brokered object changes), and on the
 * server's liveness word.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "common/futex.h"
#include "lib/client.h"

static __thread bool t_brokered_owner; /* this thread may own a brokered mutex or exclusive semaphore */

static void sleep_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

DWORD nsem__broker_signal(uint32_t handle, uint32_t action, LONG count, LONG *previous)
{
    uint32_t me = nsem__thread_token();
    if (!me) return ERROR_SERVICE_NOT_ACTIVE;
    /* ERROR_RETRY: a wait-all has the object locked, for a few instructions (or until the server
     * unlocks for a dead one): the server does not wait, we do. */
    for (int attempt = 0;; attempt++) {
        struct nsem_req_signal req = {{0, NSEM_OP_SIGNAL}, handle, action, count, me};
        struct nsem_rep_signal rep;
        nsem__conn_lock();
        DWORD e = nsem__request_locked(&req, sizeof req, NULL, 0, &rep, sizeof rep);
        nsem__conn_unlock();
        if (e != ERROR_RETRY || attempt == 10000) {
            if (!e && previous) *previous = rep.previous;
            return e;
        }
        sleep_ms(1);
    }
}

void nsem__broker_thread_exit(uint32_t me)
{
    if (!t_brokered_owner) return;
    t_brokered_owner = false;
    struct nsem_req_signal req = {{0, NSEM_OP_SIGNAL}, 0, NSEM_SIGNAL_THREAD_EXIT, 0, me};
    struct nsem_rep_signal rep;
    nsem__conn_lock();
    nsem__request_locked(&req, sizeof req, NULL, 0, &rep, sizeof rep);
    nsem__conn_unlock();
}

static bool passed(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec || (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

DWORD nsem__broker_wait(DWORD n, const struct nsem_handle *hs, bool all, DWORD ms, DWORD *result, bool *owner_elsewhere)
{
    struct nsem_req_try_wait req;
    struct nsem_rep_try_wait rep;
    memset(&req, 0, sizeof req);
    req.hdr.op = NSEM_OP_TRY_WAIT;
    req.count = n;
    req.flags = all ? NSEM_TRY_WAIT_ALL : 0;
    req.token = nsem__thread_token();
    req.tid = nsem__tid();
    if (!req.token) return ERROR_SERVICE_NOT_ACTIVE;
    for (DWORD i = 0; i < n; i++) req.handles[i] = hs[i].value;
    for (DWORD i = 0; i < n; i++)
        if (hs[i].type == NSEM_TYPE_MUTEX || hs[i].type == NSEM_TYPE_SEMAPHORE) t_brokered_owner = true;
    struct timespec deadline;
    if (ms != INFINITE) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += ms / 1000;
        deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    /* our own objects' words, the proxy word, the server's liveness word */
    _Atomic uint32_t *words[MAXIMUM_WAIT_OBJECTS + 2];
    uint32_t expected[MAXIMUM_WAIT_OBJECTS + 2], server_id = 0; /* the server it first slept on */
    for (bool last = false;;) {
        unsigned k = 0;
        if (ms != 0 && !last) /* armed before the attempt: a change after it wakes us */
            for (DWORD i = 0; i < n; i++)
                if (hs[i].slot) {
                    struct nsem_slot *s = nsem__slot(hs[i].slot);
                    words[k] = &s->seq;
                    expected[k++] = nsem__slot_arm(s);
                }
        if (ms == 0 || last) req.flags |= NSEM_TRY_WAIT_LAST; /* it leaves the waiter queues it joined */
        nsem__conn_lock();
        DWORD e = nsem__request_locked(&req, sizeof req, NULL, 0, &rep, sizeof rep);
        nsem__conn_unlock();
        if (e) return e;
        if (owner_elsewhere) *owner_elsewhere = rep.owner_elsewhere != 0;
        if (rep.status == NSEM_TRY_WAIT_GOT) {
            for (DWORD i = 0; i < n; i++) { /* our own, as if the library had taken them */
                if (!(rep.acquired >> i & 1)) continue;
                if (hs[i].type == NSEM_TYPE_MUTEX) nsem__mutex_acquired(hs[i].slot, nsem__slot(hs[i].slot));
                else nsem__owned_add(hs[i].slot); /* an exclusive semaphore: abandoned at our exit */
            }
            *result = rep.result;
            return 0;
        }
        if (ms == 0 || last) {
            *result = WAIT_TIMEOUT;
            return 0;
        }
        if (!(req.flags & NSEM_TRY_WAIT_ARMED)) { /* the pulse numbers from when the wait began */
            memcpy(req.pulses, rep.pulses, sizeof req.pulses);
            req.flags |= NSEM_TRY_WAIT_ARMED;
        }
        if (rep.proxy_slot == 0 || rep.proxy_slot >= NSEM_ARENA_SLOTS) return ERROR_INVALID_PARAMETER;
        words[k] = &nsem__slot(rep.proxy_slot)->seq;
        expected[k++] = rep.proxy_seq;
        _Atomic uint32_t *server = nsem__server_word();
        words[k] = server;
        if (!nsem__server_arm(server, &expected[k], &server_id)) {
            nsem__server_died(server);
            return ERROR_PROCESS_ABORTED;
        }
        k++;
        int r = nsem__futex_waitv(words, expected, k, ms == INFINITE ? NULL : &deadline);
        /* An acquisition racing with the timeout still counts: one more attempt, then give up. */
        if (r == -ETIMEDOUT || (ms != INFINITE && passed(&deadline))) last = true;
    }
}

/*
 * chaos.h — `make chaos`: many processes doing random operations on a few names while a supervisor
 * SIGKILLs random ones, with nsem's invariants checked all along and at the end
 * (docs/reliability.md, "Chaos").
 *
 * One supervisor (supervisor.c) keeps the workers (worker.c) alive, kills and replaces them. They
 * share one memory region (shared.c), laid out below:
 *   - a header the supervisor writes before any worker starts (the options, its own handles);
 *   - per name, the record of its last owner and the count of dead workers' unconsumed intents
 *     (ownership.c explains the abandonment check built on them);
 *   - per worker slot, a record that only that worker writes (counters, intent, wait in progress),
 *     except `life` (the supervisor's) and the mailbox (other workers post into it). Every counter
 *     is one aligned atomic, so a worker SIGKILLed mid-update leaves the old or the new value,
 *     never a torn one; the supervisor adds a dead worker's counters to its totals after reaping it.
 *
 * Names: a fixed assignment name -> kind (index % 5), so that names never collide across types;
 * that Open* of the wrong type fails with ERROR_INVALID_HANDLE is checked by a dedicated operation.
 */
#ifndef NSEM_CHAOS_H
#define NSEM_CHAOS_H

#include <nsem.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CHAOS_MAX_NAMES 64 /* an intent is a 64-bit mask of names */
#define CHAOS_MAX_WORKERS 1024
#define CHAOS_MAILBOX 4
#define CHAOS_HANDLES_PER_NAME 4
#define CHAOS_SUPERVISOR_SLOT 0xFFFFu
#define CHAOS_LATE_MS 1000u /* a wait may return this much after its timeout, not more */
#define CHAOS_SETTLE_MS 5000u /* how long a check waits for the supervisor to confirm deaths */
#define CHAOS_UNDO_PERMITS 3  /* initial = maximum count of every undo semaphore */
#define CHAOS_SEM_MAX 3       /* plain semaphores: maximum (initial 2) */

enum chaos_kind { KIND_SEMAPHORE, KIND_EXCLUSIVE, KIND_UNDO, KIND_MUTEX, KIND_EVENT, KIND_COUNT };

/* Operations, counted per worker. */
#define CHAOS_OPS(X) \
    X(OP_CREATE, "create") \
    X(OP_OPEN, "open") \
    X(OP_OPEN_WRONG_TYPE, "open wrong type") \
    X(OP_CLOSE, "close") \
    X(OP_DUP, "duplicate (same process)") \
    X(OP_DUP_REMOTE, "duplicate into another") \
    X(OP_ADOPT, "adopt a duplicated handle") \
    X(OP_WAIT_ONE, "wait one") \
    X(OP_WAIT_ANY, "wait any") \
    X(OP_WAIT_ALL, "wait all") \
    X(OP_WAIT_ALL_TWICE, "wait all, same object twice") \
    X(OP_REQUEST, "NsemRequestSemaphore") \
    X(OP_SIGNAL_AND_WAIT, "SignalObjectAndWait") \
    X(OP_RELEASE, "release") \
    X(OP_RELEASE_EXTRA, "release not taken") \
    X(OP_RELEASE_NOT_OWNER, "release not owned") \
    X(OP_EVENT, "set/reset/pulse") \
    X(OP_QUERY, "query") \
    X(OP_EXIT, "exit on its own")
#define CHAOS_ENUM(id, text) id,
enum chaos_op { CHAOS_OPS(CHAOS_ENUM) OP_COUNT };

/* Invariants; each violation is counted (and described on stderr where it is found). */
#define CHAOS_VIOLATIONS(X) \
    X(V_SERVER_DIED, "server died or changed") \
    X(V_UNEXPECTED, "unexpected result") \
    X(V_LATE_WAIT, "wait past timeout + 1 s") \
    X(V_LOST_ABANDONMENT, "abandonment not reported") \
    X(V_SPURIOUS_ABANDONMENT, "abandonment reported twice/spuriously") \
    X(V_DOUBLE_OWNER, "owned by two at once") \
    X(V_WRONG_OBJECT, "duplicate is a wrong object") \
    X(V_UNDO_COUNT, "undo count not back") \
    X(V_END_STATE, "end state not clean") \
    X(V_HEAP, "server heap not back") \
    X(V_STALL, "no progress")
enum chaos_violation { CHAOS_VIOLATIONS(CHAOS_ENUM) V_COUNT };

/* Other counts. */
#define CHAOS_STATS(X) \
    X(S_WAITS, "waits") \
    X(S_ACQUIRED, "waits that acquired") \
    X(S_TIMEOUTS, "waits that timed out") \
    X(S_ABANDON_SEEN, "abandonments seen") \
    X(S_ABANDON_CONFIRMED, "  by a dead owner's record") \
    X(S_ABANDON_AMBIGUOUS, "  by a dead in-flight acquirer/releaser") \
    X(S_ABANDON_UNKNOWN, "  hidden in a wait-all") \
    X(S_OWNED_CREATE, "objects created owned") \
    X(S_LATE_EXCUSED, "waits late only by run-queue delay") \
    X(S_SETTLES, "checks that waited for a death") \
    X(S_MAX_OVERRUN_MS, "max wait overrun (ms, run-queue delay excluded)")
enum chaos_stat { CHAOS_STATS(CHAOS_ENUM) S_COUNT };
#undef CHAOS_ENUM

/* A worker slot's life: incarnation (low 32 bits) and state (high), one word so that a reader
 * always sees a matching pair. */
enum chaos_life { LIFE_FREE = 0, LIFE_ALIVE = 1, LIFE_DEAD = 2 };
static inline uint64_t chaos_life(uint32_t incarnation, enum chaos_life state)
{
    return (uint64_t)state << 32 | incarnation;
}

/* The wait a worker is in, for the supervisor's watch of waits that never return: a sequence number
 * (bits 0-31), CHAOS_WAIT_IN, and CHAOS_WAIT_COUNTED (whoever sees it late first counts it, once). */
#define CHAOS_WAIT_IN 0x100000000ull
#define CHAOS_WAIT_COUNTED 0x200000000ull

struct chaos_worker {
    _Atomic uint64_t life; /* seq_cst: written by the supervisor only (see shared.c) */
    _Atomic uint32_t pid;  /* relaxed: 0 until known; whoever uses it checks it (OpenProcess, /proc) */
    _Atomic uint64_t intent; /* seq_cst: names it may become the owner of (ownership.c) */
    _Atomic uint32_t connected; /* relaxed: it has made its first call (a hint for the warm-up's kills) */
    _Atomic uint64_t mailbox[CHAOS_MAILBOX]; /* seq_cst: handles other workers duplicated into it */
    /* The wait in progress: details (relaxed) published by wait_state (release). */
    _Atomic uint64_t wait_state;
    _Atomic uint64_t wait_start_ms, wait_timeout_ms, wait_run_delay_ns;
    _Atomic uint32_t wait_op;
    /* Counters: relaxed, one writer (the worker); read by the supervisor after reaping it (waitpid
     * orders them) or, for progress lines, approximately. */
    _Atomic uint64_t ops[OP_COUNT];
    _Atomic uint64_t violations[V_COUNT];
    _Atomic uint64_t stats[S_COUNT];
};

struct chaos_shared {
    /* Written by the supervisor before the first worker starts; read-only afterwards. */
    uint32_t names, workers;
    uint64_t seed;
    uint32_t verbose; /* workers describe slow waits */
    uint32_t super_handles[CHAOS_MAX_NAMES]; /* the supervisor's inheritable handle per name, or 0 */
    /* Per name. */
    _Atomic uint64_t owner_rec[CHAOS_MAX_NAMES];    /* seq_cst: ownership.c */
    _Atomic uint32_t dead_intents[CHAOS_MAX_NAMES]; /* seq_cst: ownership.c */
    struct chaos_worker w[CHAOS_MAX_WORKERS];
};

/* ---- shared.c ---- */
struct chaos_shared *chaos_shared_create(int *fd_out);
struct chaos_shared *chaos_shared_attach(int fd);
/* Whether the worker (slot, incarnation) has been reaped by the supervisor (which has then
 * counted its intents). */
bool chaos_is_reaped(struct chaos_shared *sh, uint32_t slot, uint32_t incarnation);
/* Whether it is dead: reaped, or its process is a zombie (the supervisor may lag behind). */
bool chaos_is_dead(struct chaos_shared *sh, uint32_t slot, uint32_t incarnation);
/* Whether process pid has ended (a zombie, or reaped). */
bool chaos_process_gone(uint32_t pid);
enum chaos_kind chaos_kind_of(uint32_t name);
bool chaos_name_is_pinned(uint32_t name); /* the supervisor holds a handle to it all along */
bool chaos_event_is_manual(uint32_t name);
void chaos_name(uint32_t name, char *buf, size_t size);
uint64_t chaos_now_ms(void);
/* This process's time spent runnable but not running (ns), from /proc/<pid>/schedstat; 0 if the
 * kernel does not report it. fd: an open /proc/<pid>/schedstat, or -1. */
uint64_t chaos_run_delay_ns(int fd);
void chaos_count(_Atomic uint64_t *counter, uint64_t n);
void chaos_count_max(_Atomic uint64_t *counter, uint64_t value);

/* ---- ownership.c ---- */
enum chaos_took { TOOK_OK, TOOK_ABANDONED, TOOK_UNKNOWN };
/* Called by a process that has just become the owner (first level) of mutex or exclusive
 * semaphore `name`, by a wait that returned `how`; checks it against the name's record, then makes
 * itself the recorded owner. slot, incarnation: the caller (the supervisor: CHAOS_SUPERVISOR_SLOT). */
void chaos_owner_acquired(struct chaos_shared *sh, struct chaos_worker *me, uint32_t slot, uint32_t incarnation,
                          uint32_t name, enum chaos_took how);
/* The caller created `name` and owns it: no previous owner of this object to check. */
void chaos_owner_created(struct chaos_shared *sh, struct chaos_worker *me, uint32_t slot, uint32_t incarnation,
                         uint32_t name);
/* Before the release of the last level of ownership. */
void chaos_owner_releasing(struct chaos_shared *sh, uint32_t slot, uint32_t incarnation, uint32_t name);
/* The release failed: the caller still owns it. */
void chaos_owner_still(struct chaos_shared *sh, uint32_t slot, uint32_t incarnation, uint32_t name);
/* The supervisor, after reaping a worker: its intents become the names' dead intents. */
void chaos_owner_worker_dead(struct chaos_shared *sh, struct chaos_worker *w);

/* ---- worker.c ---- */
_Noreturn void chaos_worker_main(struct chaos_shared *sh, uint32_t slot, uint32_t incarnation);

/* ---- supervisor.c ---- */
struct chaos_options {
    uint32_t workers, names;
    double duration_s, kill_rate, warmup_s;
    uint32_t exec_percent;
    uint64_t seed;
    bool verbose;
    const char *self_exe;
};
int chaos_supervise(const struct chaos_options *opt);

/* ---- report.c ---- */
extern const char *const chaos_op_names[OP_COUNT];
extern const char *const chaos_violation_names[V_COUNT];
extern const char *const chaos_stat_names[S_COUNT];
/* A violation found: counted in `violations` (the finder's record) and described on stderr. */
void chaos_violation(_Atomic uint64_t *violations, enum chaos_violation v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

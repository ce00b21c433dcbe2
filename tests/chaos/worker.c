/*
 * worker.c — a chaos worker: random operations on the run's names until it is killed (or, rarely,
 * exits on its own), each with the exact set of results nsem may give; anything else is a
 * violation.
 *
 * Single-threaded, so that "owned by this thread" and "owned by this process" are the same and a
 * wait can never race a close of this process. What it holds is tracked per name: its handles
 * (with full access or SYNCHRONIZE only), the levels of ownership of a mutex or exclusive
 * semaphore, the permits of a semaphore it took. Every wait has a finite timeout and is timed
 * (see begin_wait). Rules that keep the ownership check sound (ownership.c): mutexes and exclusive
 * semaphores are created with initial ownership, and a worker never closes or gives away its last
 * handle to a name it owns.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "chaos.h"

struct held {
    HANDLE h;
    bool full; /* all the type's rights; else SYNCHRONIZE only */
};

struct name_state {
    struct held hs[CHAOS_HANDLES_PER_NAME];
    uint32_t n;
    uint32_t own;     /* mutex, exclusive semaphore: levels of ownership */
    uint32_t permits; /* semaphores: permits taken and not given back */
};

static struct {
    struct chaos_shared *sh;
    struct chaos_worker *me;
    uint32_t slot, incarnation, pid, names;
    uint64_t rng;
    int schedstat_fd;
    uint32_t wait_seq;
    uint64_t wait_start_ns, wait_run_delay_ns;
    struct name_state ns[CHAOS_MAX_NAMES];
} W;

/* ---- small helpers ------------------------------------------------------------------------ */

static uint32_t rnd(uint32_t n)
{
    W.rng ^= W.rng >> 12; /* xorshift64* */
    W.rng ^= W.rng << 25;
    W.rng ^= W.rng >> 27;
    return (uint32_t)((W.rng * 2685821657736338717ull) >> 32) % n;
}

static bool chance(uint32_t percent)
{
    return rnd(100) < percent;
}

static void count_op(enum chaos_op op)
{
    chaos_count(&W.me->ops[op], 1);
}

static void unexpected(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void unexpected(const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    chaos_violation(W.me->violations, V_UNEXPECTED, "%s", msg);
}

static const char *text_of(uint32_t name)
{
    static char buf[4][64];
    static unsigned next;
    char *b = buf[next++ % 4];
    chaos_name(name, b, sizeof buf[0]);
    return b;
}

static enum chaos_kind kind(uint32_t name)
{
    return chaos_kind_of(name);
}

static bool is_owned_kind(uint32_t name)
{
    return kind(name) == KIND_MUTEX || kind(name) == KIND_EXCLUSIVE;
}

static DWORD all_access(uint32_t name)
{
    switch (kind(name)) {
    case KIND_MUTEX:
        return MUTEX_ALL_ACCESS;
    case KIND_EVENT:
        return EVENT_ALL_ACCESS;
    default:
        return SEMAPHORE_ALL_ACCESS;
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the handles it holds ----------------------------------------------------------------- */

static bool add_handle(uint32_t name, HANDLE h, bool full)
{
    struct name_state *s = &W.ns[name];
    if (s->n == CHAOS_HANDLES_PER_NAME) {
        if (!CloseHandle(h)) unexpected("CloseHandle of a spare handle to %s: error %u", text_of(name), GetLastError());
        return false;
    }
    s->hs[s->n++] = (struct held){h, full};
    return true;
}

static void forget_handle(uint32_t name, uint32_t i)
{
    struct name_state *s = &W.ns[name];
    s->hs[i] = s->hs[--s->n];
    /* A plain semaphore may be destroyed and made anew once this process has no handle to it: the
     * permits it took are of the old one. (Undo semaphores stay: the supervisor holds them.) */
    if (s->n == 0 && kind(name) == KIND_SEMAPHORE) s->permits = 0;
}

/* Whether it may close or give away handle i of name: never the last one of a name it owns. */
static bool may_drop(uint32_t name)
{
    return !(W.ns[name].own > 0 && W.ns[name].n == 1);
}

/* A random name for which `fit` holds, or -1. */
static int pick_name(bool (*fit)(uint32_t))
{
    uint32_t start = rnd(W.names);
    for (uint32_t k = 0; k < W.names; k++) {
        uint32_t name = (start + k) % W.names;
        if (fit(name)) return (int)name;
    }
    return -1;
}

static bool has_handle(uint32_t name)
{
    return W.ns[name].n > 0;
}

static bool has_full_handle(uint32_t name)
{
    for (uint32_t i = 0; i < W.ns[name].n; i++)
        if (W.ns[name].hs[i].full) return true;
    return false;
}

/* A random handle of name, full-access if `full` (then one must exist). */
static uint32_t pick_handle(uint32_t name, bool full)
{
    struct name_state *s = &W.ns[name];
    uint32_t start = rnd(s->n);
    for (uint32_t k = 0; k < s->n; k++) {
        uint32_t i = (start + k) % s->n;
        if (!full || s->hs[i].full) return i;
    }
    return 0;
}

/* ---- ownership bookkeeping ---------------------------------------------------------------- */

static void set_intent(uint64_t mask)
{
    atomic_store(&W.me->intent, mask); /* seq_cst: published before the wait that may acquire */
}

static uint64_t intent_bit(uint32_t name)
{
    return is_owned_kind(name) && W.ns[name].own == 0 ? 1ull << name : 0;
}

/* It acquired name (one more level or permit) through a wait that reported `how`. */
static void acquired(uint32_t name, enum chaos_took how)
{
    struct name_state *s = &W.ns[name];
    if (how == TOOK_ABANDONED) chaos_count(&W.me->stats[S_ABANDON_SEEN], 1);
    if (is_owned_kind(name)) {
        if (s->own == 0)
            chaos_owner_acquired(W.sh, W.me, W.slot, W.incarnation, name, how);
        else if (how == TOOK_ABANDONED)
            unexpected("%s: WAIT_ABANDONED although this process owns it", text_of(name));
        s->own++;
        return;
    }
    if (how == TOOK_ABANDONED) unexpected("%s: WAIT_ABANDONED from an object that has no owner", text_of(name));
    if (kind(name) != KIND_EVENT) s->permits++;
}

/* Gives up one level of ownership of name through handle i; false if the release failed. */
static bool release_owned(uint32_t name, uint32_t i)
{
    struct name_state *s = &W.ns[name];
    HANDLE h = s->hs[i].h;
    if (s->own == 1) chaos_owner_releasing(W.sh, W.slot, W.incarnation, name);
    BOOL ok;
    LONG prev = 0x5eed;
    SetLastError(0xdeadbeef);
    if (kind(name) == KIND_MUTEX) {
        ok = ReleaseMutex(h);
    } else {
        ok = ReleaseSemaphore(h, 1, &prev);
        if (ok && prev != 0) unexpected("%s: ReleaseSemaphore of an exclusive semaphore reported %d", text_of(name), prev);
    }
    if (!ok) {
        unexpected("%s: release by its owner failed: error %u", text_of(name), GetLastError());
        if (s->own == 1) chaos_owner_still(W.sh, W.slot, W.incarnation, name);
        return false;
    }
    s->own--;
    return true;
}

/* ---- timed waits -------------------------------------------------------------------------- */

/* Every wait is timed against its timeout. The time spent runnable but not running (the run-queue
 * delay, from schedstat) is the scheduler's, not nsem's: it is taken off before the 1 s rule. The
 * wait is also published (wait_state) so that the supervisor sees one that never returns. */
static void begin_wait(enum chaos_op op, DWORD ms)
{
    struct chaos_worker *me = W.me;
    W.wait_run_delay_ns = chaos_run_delay_ns(W.schedstat_fd);
    W.wait_start_ns = now_ns();
    /* relaxed: published by the release store of wait_state below */
    atomic_store_explicit(&me->wait_start_ms, W.wait_start_ns / 1000000u, memory_order_relaxed);
    atomic_store_explicit(&me->wait_timeout_ms, ms, memory_order_relaxed);
    atomic_store_explicit(&me->wait_run_delay_ns, W.wait_run_delay_ns, memory_order_relaxed);
    atomic_store_explicit(&me->wait_op, op, memory_order_relaxed);
    W.wait_seq++;
    atomic_store_explicit(&me->wait_state, CHAOS_WAIT_IN | W.wait_seq, memory_order_release);
    chaos_count(&me->stats[S_WAITS], 1);
}

static void end_wait(enum chaos_op op, DWORD ms)
{
    struct chaos_worker *me = W.me;
    uint64_t elapsed_ns = now_ns() - W.wait_start_ns;
    uint64_t delay_ns = chaos_run_delay_ns(W.schedstat_fd) - W.wait_run_delay_ns;
    int64_t overrun_ms = ((int64_t)elapsed_ns - (int64_t)delay_ns) / 1000000 - (int64_t)ms;
    if (overrun_ms > 0) chaos_count_max(&me->stats[S_MAX_OVERRUN_MS], (uint64_t)overrun_ms);
    uint64_t in = CHAOS_WAIT_IN | W.wait_seq;
    if (overrun_ms > CHAOS_LATE_MS) {
        /* acq_rel: whoever of us and the supervisor flags it first counts it */
        if (atomic_compare_exchange_strong_explicit(&me->wait_state, &in, in | CHAOS_WAIT_COUNTED, memory_order_acq_rel,
                                                    memory_order_acquire))
            chaos_violation(me->violations, V_LATE_WAIT,
                            "%s with timeout %u ms returned after %llu ms (%llu ms of it runnable, not running)",
                            chaos_op_names[op], ms, (unsigned long long)(elapsed_ns / 1000000u),
                            (unsigned long long)(delay_ns / 1000000u));
    } else if (elapsed_ns / 1000000u > ms + CHAOS_LATE_MS) {
        chaos_count(&me->stats[S_LATE_EXCUSED], 1);
    }
    if (W.sh->verbose && overrun_ms > CHAOS_LATE_MS / 4) {
        char line[200];
        int n = snprintf(line, sizeof line, "chaos[%d]: slow %s: timeout %u ms, returned after %llu ms, %llu ms of it runnable\n",
                         (int)W.pid, chaos_op_names[op], ms, (unsigned long long)(elapsed_ns / 1000000u),
                         (unsigned long long)(delay_ns / 1000000u));
        if (write(STDERR_FILENO, line, (size_t)n) < 0) {
        }
    }
    atomic_store_explicit(&me->wait_state, W.wait_seq, memory_order_release); /* release: pairs with the watch */
}

static DWORD pick_timeout(void)
{
    uint32_t r = rnd(100);
    if (r < 10) return 0;
    if (r < 50) return 1 + rnd(20);
    if (r < 85) return 20 + rnd(130);
    return 150 + rnd(450);
}

/* The outcome of a wait-any (or single wait) over names[0..n): what it acquired, checked. */
static void after_wait_any(enum chaos_op op, DWORD r, DWORD n, const uint32_t *names)
{
    int owned_at = -1; /* the first object it owns already: signalled for it */
    for (DWORD i = 0; i < n && owned_at < 0; i++)
        if (is_owned_kind(names[i]) && W.ns[names[i]].own > 0) owned_at = (int)i;
    if (r < WAIT_OBJECT_0 + n || (r >= WAIT_ABANDONED_0 && r < WAIT_ABANDONED_0 + n)) {
        DWORD i = r < WAIT_ABANDONED_0 ? r - WAIT_OBJECT_0 : r - WAIT_ABANDONED_0;
        if (owned_at >= 0 && (int)i > owned_at)
            unexpected("%s: acquired index %u although index %d is owned by this process", chaos_op_names[op], i,
                       owned_at);
        acquired(names[i], r < WAIT_ABANDONED_0 ? TOOK_OK : TOOK_ABANDONED);
        chaos_count(&W.me->stats[S_ACQUIRED], 1);
    } else if (r == WAIT_TIMEOUT) {
        if (owned_at >= 0)
            unexpected("%s: timed out although %s is owned by this process", chaos_op_names[op], text_of(names[owned_at]));
        chaos_count(&W.me->stats[S_TIMEOUTS], 1);
    } else {
        unexpected("%s: returned 0x%x, error %u", chaos_op_names[op], r, GetLastError());
    }
}

/* ---- operations --------------------------------------------------------------------------- */

static void to_wide(const char *s, wchar_t *w, size_t size)
{
    size_t i = 0;
    for (; s[i] && i + 1 < size; i++) w[i] = (unsigned char)s[i];
    w[i] = 0;
}

/* The name as a program would write it: sometimes with the "Local\" prefix (the same object). */
static const char *spelling(uint32_t name)
{
    static char buf[80];
    snprintf(buf, sizeof buf, "%s%s", chance(20) ? "Local\\" : "", text_of(name));
    return buf;
}

static void op_create(uint32_t name)
{
    struct name_state *s = &W.ns[name];
    if (s->n == CHAOS_HANDLES_PER_NAME) return;
    count_op(OP_CREATE);
    const char *text = spelling(name);
    wchar_t wide[80];
    to_wide(text, wide, 80);
    bool use_w = chance(15), manual = chaos_event_is_manual(name);
    set_intent(intent_bit(name)); /* a new mutex or exclusive semaphore is created owned */
    SetLastError(0xdeadbeef);
    HANDLE h = NULL;
    switch (kind(name)) {
    case KIND_SEMAPHORE:
        h = use_w       ? CreateSemaphoreW(NULL, 2, CHAOS_SEM_MAX, wide)
            : chance(50) ? CreateSemaphoreA(NULL, 2, CHAOS_SEM_MAX, text)
                         : CreateSemaphoreExA(NULL, 2, CHAOS_SEM_MAX, text, 0, SEMAPHORE_ALL_ACCESS);
        break;
    case KIND_EXCLUSIVE:
        h = use_w ? CreateSemaphoreExW(NULL, 0, 1, wide, SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS)
                  : CreateSemaphoreExA(NULL, 0, 1, text, SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS);
        break;
    case KIND_UNDO:
        h = CreateSemaphoreExA(NULL, CHAOS_UNDO_PERMITS, CHAOS_UNDO_PERMITS, text, SEMAPHORE_UNDO, SEMAPHORE_ALL_ACCESS);
        break;
    case KIND_MUTEX:
        h = use_w       ? CreateMutexW(NULL, TRUE, wide)
            : chance(50) ? CreateMutexA(NULL, TRUE, text)
                         : CreateMutexExA(NULL, text, CREATE_MUTEX_INITIAL_OWNER, MUTEX_ALL_ACCESS);
        break;
    case KIND_EVENT:
        h = use_w       ? CreateEventW(NULL, manual, FALSE, wide)
            : chance(50) ? CreateEventA(NULL, manual, FALSE, text)
                         : CreateEventExA(NULL, text, manual ? CREATE_EVENT_MANUAL_RESET : 0, EVENT_ALL_ACCESS);
        break;
    default:
        break;
    }
    DWORD e = GetLastError();
    if (!h || (e != 0 && e != ERROR_ALREADY_EXISTS)) {
        unexpected("create %s: handle %p, error %u", text, h, e);
    } else if (e == 0 && chaos_name_is_pinned(name)) {
        unexpected("create %s: a new object, although the supervisor holds one", text);
        add_handle(name, h, true);
    } else {
        if (is_owned_kind(name) && e == 0) {
            if (s->own) unexpected("create %s: a new object, although this process owns one of that name", text);
            chaos_owner_created(W.sh, W.me, W.slot, W.incarnation, name);
            s->own = 1;
        }
        add_handle(name, h, true);
    }
    set_intent(0);
}

static void op_open(uint32_t name)
{
    if (W.ns[name].n == CHAOS_HANDLES_PER_NAME) return;
    count_op(OP_OPEN);
    const char *text = spelling(name);
    bool full = chance(70);
    DWORD access = full ? all_access(name) : SYNCHRONIZE;
    SetLastError(0xdeadbeef);
    HANDLE h = kind(name) == KIND_MUTEX   ? OpenMutexA(access, FALSE, text)
               : kind(name) == KIND_EVENT ? OpenEventA(access, FALSE, text)
                                          : OpenSemaphoreA(access, FALSE, text);
    if (h) {
        add_handle(name, h, full);
        return;
    }
    DWORD e = GetLastError();
    if (e != ERROR_FILE_NOT_FOUND || chaos_name_is_pinned(name))
        unexpected("open %s: error %u%s", text, e, chaos_name_is_pinned(name) ? " (the supervisor holds it)" : "");
}

static void op_open_wrong_type(uint32_t name)
{
    count_op(OP_OPEN_WRONG_TYPE);
    const char *text = spelling(name);
    bool other = chance(50);
    SetLastError(0xdeadbeef);
    HANDLE h;
    switch (kind(name)) {
    case KIND_MUTEX:
        h = other ? OpenEventA(SYNCHRONIZE, FALSE, text) : OpenSemaphoreA(SYNCHRONIZE, FALSE, text);
        break;
    case KIND_EVENT:
        h = other ? OpenMutexA(SYNCHRONIZE, FALSE, text) : OpenSemaphoreA(SYNCHRONIZE, FALSE, text);
        break;
    default:
        h = other ? OpenMutexA(SYNCHRONIZE, FALSE, text) : OpenEventA(SYNCHRONIZE, FALSE, text);
        break;
    }
    DWORD e = GetLastError();
    if (h) {
        unexpected("open %s as another type: got a handle", text);
        CloseHandle(h);
    } else if (e != ERROR_INVALID_HANDLE && (e != ERROR_FILE_NOT_FOUND || chaos_name_is_pinned(name))) {
        unexpected("open %s as another type: error %u", text, e);
    }
}

static void op_close(uint32_t name)
{
    if (!may_drop(name)) return;
    count_op(OP_CLOSE);
    uint32_t i = pick_handle(name, false);
    SetLastError(0xdeadbeef);
    if (!CloseHandle(W.ns[name].hs[i].h)) unexpected("close a handle to %s: error %u", text_of(name), GetLastError());
    forget_handle(name, i);
}

static void op_dup(uint32_t name)
{
    struct name_state *s = &W.ns[name];
    uint32_t i = pick_handle(name, false);
    struct held src = s->hs[i];
    count_op(OP_DUP);
    HANDLE dup = (HANDLE)(uintptr_t)0xbad0;
    uint32_t how = rnd(4);
    if (how == 3 && src.full) how = 0; /* escalation needs a handle without all the rights */
    if (how != 2 && s->n == CHAOS_HANDLES_PER_NAME) return;
    SetLastError(0xdeadbeef);
    HANDLE self = GetCurrentProcess();
    switch (how) {
    case 0: /* the same access */
        if (!DuplicateHandle(self, src.h, self, &dup, 0, FALSE, DUPLICATE_SAME_ACCESS)) break;
        add_handle(name, dup, src.full);
        return;
    case 1: /* fewer rights */
        if (!DuplicateHandle(self, src.h, self, &dup, SYNCHRONIZE, FALSE, 0)) break;
        add_handle(name, dup, false);
        return;
    case 2: /* in place of the source */
        if (!DuplicateHandle(self, src.h, self, &dup, 0, FALSE, DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE)) {
            forget_handle(name, i); /* the source is closed whatever happens */
            break;
        }
        s->hs[i].h = dup;
        return;
    default: /* more rights than the source has: as Windows, granted when the object's descriptor
                grants them (every object here has its creator's default one: they are) */
        if (DuplicateHandle(self, src.h, self, &dup, all_access(name), FALSE, 0)) {
            add_handle(name, dup, true);
        } else {
            unexpected("duplicate %s with more rights than its source: error %u, handle %p", text_of(name),
                       GetLastError(), dup);
        }
        return;
    }
    unexpected("duplicate a handle to %s (way %u): error %u", text_of(name), how, GetLastError());
}

/* A mailbox entry: the target's incarnation (unique, unlike a pid), the name, full access, the
 * handle value / 4. */
static uint64_t mail(uint32_t incarnation, uint32_t name, bool full, HANDLE h)
{
    return (uint64_t)incarnation << 32 | (uint64_t)name << 26 | (uint64_t)full << 25 | (uint32_t)((uintptr_t)h >> 2);
}

static void op_dup_remote(uint32_t name)
{
    uint32_t target = rnd(W.sh->workers);
    uint64_t life = atomic_load(&W.sh->w[target].life); /* seq_cst: then the pid the supervisor set after it */
    uint32_t pid = atomic_load_explicit(&W.sh->w[target].pid, memory_order_relaxed); /* relaxed: a hint */
    /* A pid read after a newer incarnation started sends the handle to that one, addressed to the
     * older: never adopted, it stays with that process until it dies. */
    if (target == W.slot || (life >> 32) != LIFE_ALIVE || !pid) return;
    count_op(OP_DUP_REMOTE);
    uint32_t i = pick_handle(name, false);
    struct held src = W.ns[name].hs[i];
    bool give_away = may_drop(name) && chance(20);
    SetLastError(0xdeadbeef);
    HANDLE process = OpenProcess(PROCESS_DUP_HANDLE, FALSE, pid);
    if (!process) {
        if (GetLastError() != ERROR_INVALID_PARAMETER) /* it has ended: the one expected failure */
            unexpected("OpenProcess(%u): error %u", pid, GetLastError());
        return;
    }
    HANDLE remote = NULL;
    BOOL ok = DuplicateHandle(GetCurrentProcess(), src.h, process, &remote, 0, FALSE,
                              DUPLICATE_SAME_ACCESS | (give_away ? DUPLICATE_CLOSE_SOURCE : 0));
    DWORD e = GetLastError();
    if (give_away) forget_handle(name, i); /* the source is closed whatever happens */
    if (ok && (uintptr_t)remote >> 2 < (1u << 25)) {
        uint64_t entry = mail((uint32_t)life, name, src.full, remote);
        for (uint32_t k = 0; k < CHAOS_MAILBOX; k++) {
            uint64_t empty = 0;
            /* seq_cst: the target takes it with an exchange; a full mailbox leaves the handle unknown
             * to the target, which holds it until it dies */
            if (atomic_compare_exchange_strong(&W.sh->w[target].mailbox[k], &empty, entry)) break;
        }
    } else if (!ok && e != ERROR_INVALID_HANDLE) { /* the target has ended: the one expected failure */
        unexpected("duplicate %s into process %u: error %u", text_of(name), pid, e);
    }
    if (!CloseHandle(process)) unexpected("close a process handle: error %u", GetLastError());
}

/* Takes the handles other workers duplicated into this process, checking that each is what was
 * sent: a handle of this process, to an object of the name's kind. */
static void adopt_mail(void)
{
    for (uint32_t k = 0; k < CHAOS_MAILBOX; k++) {
        _Atomic uint64_t *box = &W.me->mailbox[k];
        uint64_t v = atomic_load(box); /* seq_cst: see op_dup_remote */
        if (!v || !atomic_compare_exchange_strong(box, &v, 0)) continue;
        if ((uint32_t)(v >> 32) != W.incarnation) continue; /* for an earlier worker of this slot */
        count_op(OP_ADOPT);
        uint32_t name = (uint32_t)(v >> 26) & 0x3F;
        bool full = (v >> 25) & 1;
        HANDLE h = (HANDLE)(uintptr_t)(((uint32_t)v & 0x1FFFFFFu) << 2);
        if (name >= W.names) {
            chaos_violation(W.me->violations, V_WRONG_OBJECT, "mailbox entry %llx names no name", (unsigned long long)v);
            continue;
        }
        if (full) {
            NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
            static const DWORD types[KIND_COUNT] = {NSEM_TYPE_SEMAPHORE, NSEM_TYPE_SEMAPHORE, NSEM_TYPE_SEMAPHORE,
                                                    NSEM_TYPE_MUTEX, NSEM_TYPE_EVENT};
            static const DWORD flags[KIND_COUNT] = {0, NSEM_INFO_EXCLUSIVE, NSEM_INFO_UNDO, 0, 0};
            if (!NsemQueryObject(h, &info)) {
                chaos_violation(W.me->violations, V_WRONG_OBJECT, "handle %p to %s duplicated into us: query error %u", h,
                                text_of(name), GetLastError());
                continue;
            }
            DWORD want_flags = flags[kind(name)] | (kind(name) == KIND_EVENT && chaos_event_is_manual(name)
                                                        ? NSEM_INFO_MANUAL_RESET
                                                        : 0);
            if (info.dwType != types[kind(name)] || info.dwFlags != want_flags) {
                chaos_violation(W.me->violations, V_WRONG_OBJECT,
                                "handle %p to %s duplicated into us is an object of type %u, flags %u", h,
                                text_of(name), info.dwType, info.dwFlags);
                continue;
            }
        } else {
            DWORD hflags;
            if (!GetHandleInformation(h, &hflags)) {
                chaos_violation(W.me->violations, V_WRONG_OBJECT, "handle %p to %s duplicated into us: error %u", h,
                                text_of(name), GetLastError());
                continue;
            }
        }
        add_handle(name, h, full);
    }
}

static void op_wait_one(uint32_t name)
{
    count_op(OP_WAIT_ONE);
    HANDLE h = W.ns[name].hs[pick_handle(name, false)].h;
    DWORD ms = pick_timeout();
    set_intent(intent_bit(name));
    begin_wait(OP_WAIT_ONE, ms);
    SetLastError(0xdeadbeef);
    DWORD r = WaitForSingleObject(h, ms);
    end_wait(OP_WAIT_ONE, ms);
    after_wait_any(OP_WAIT_ONE, r, 1, &name);
    set_intent(0);
}

static void op_wait_any(void)
{
    HANDLE hs[6];
    uint32_t names[6];
    DWORD n = 2 + rnd(5);
    uint64_t intent = 0;
    for (DWORD k = 0; k < n; k++) {
        int name = pick_name(has_handle);
        if (name < 0) return;
        names[k] = (uint32_t)name;
        hs[k] = W.ns[name].hs[pick_handle((uint32_t)name, false)].h;
        intent |= intent_bit((uint32_t)name);
    }
    count_op(OP_WAIT_ANY);
    DWORD ms = pick_timeout();
    set_intent(intent);
    begin_wait(OP_WAIT_ANY, ms);
    SetLastError(0xdeadbeef);
    DWORD r = WaitForMultipleObjects(n, hs, FALSE, ms);
    end_wait(OP_WAIT_ANY, ms);
    after_wait_any(OP_WAIT_ANY, r, n, names);
    set_intent(0);
}

static void op_wait_all(void)
{
    HANDLE hs[5];
    uint32_t names[5];
    DWORD n = 0, want = 2 + rnd(4);
    uint64_t intent = 0, chosen = 0;
    for (uint32_t tries = 0; n < want && tries < 20; tries++) {
        int name = pick_name(has_handle);
        if (name < 0 || (chosen & (1ull << name))) continue; /* distinct names: distinct objects */
        chosen |= 1ull << name;
        names[n] = (uint32_t)name;
        hs[n++] = W.ns[name].hs[pick_handle((uint32_t)name, false)].h;
        intent |= intent_bit((uint32_t)name);
    }
    if (n < 2) return;
    count_op(OP_WAIT_ALL);
    DWORD ms = pick_timeout();
    set_intent(intent);
    begin_wait(OP_WAIT_ALL, ms);
    SetLastError(0xdeadbeef);
    DWORD r = WaitForMultipleObjects(n, hs, TRUE, ms);
    end_wait(OP_WAIT_ALL, ms);
    if (r == WAIT_OBJECT_0 || (r >= WAIT_ABANDONED_0 && r < WAIT_ABANDONED_0 + n)) {
        /* all acquired; Win32 names one abandoned object, the lowest index: those before it were
         * not abandoned, those after it may have been */
        DWORD abandoned = r == WAIT_OBJECT_0 ? n : r - WAIT_ABANDONED_0;
        if (abandoned < n && !is_owned_kind(names[abandoned]))
            unexpected("wait all: WAIT_ABANDONED_0 + %u names %s, which has no owner", abandoned, text_of(names[abandoned]));
        for (DWORD k = 0; k < n; k++)
            acquired(names[k], k < abandoned ? TOOK_OK : k == abandoned ? TOOK_ABANDONED : TOOK_UNKNOWN);
        chaos_count(&W.me->stats[S_ACQUIRED], 1);
    } else if (r == WAIT_TIMEOUT) {
        chaos_count(&W.me->stats[S_TIMEOUTS], 1);
    } else {
        unexpected("wait all: returned 0x%x, error %u", r, GetLastError());
    }
    set_intent(0);
}

/* The same object twice in a wait-all, through one handle or two of the same name: refused at once. */
static void op_wait_all_twice(uint32_t name)
{
    count_op(OP_WAIT_ALL_TWICE);
    struct name_state *s = &W.ns[name];
    HANDLE hs[2] = {s->hs[pick_handle(name, false)].h, s->hs[pick_handle(name, false)].h};
    set_intent(intent_bit(name)); /* should it wrongly acquire, the bookkeeping stays right */
    SetLastError(0xdeadbeef);
    DWORD r = WaitForMultipleObjects(2, hs, TRUE, 0);
    if (r != WAIT_FAILED || GetLastError() != ERROR_INVALID_PARAMETER) {
        unexpected("wait all on %s twice: returned 0x%x, error %u", text_of(name), r, GetLastError());
        if (r == WAIT_OBJECT_0 || r == WAIT_ABANDONED_0 || r == WAIT_ABANDONED_0 + 1) {
            acquired(name, r == WAIT_OBJECT_0 ? TOOK_OK : TOOK_ABANDONED);
            acquired(name, TOOK_OK);
        }
    }
    set_intent(0);
}

static bool is_exclusive_with_handle(uint32_t name)
{
    return kind(name) == KIND_EXCLUSIVE && has_handle(name);
}

static void op_request(uint32_t name)
{
    count_op(OP_REQUEST);
    struct name_state *s = &W.ns[name];
    HANDLE h = s->hs[pick_handle(name, false)].h;
    DWORD ms = chance(40) ? 0 : pick_timeout();
    set_intent(intent_bit(name));
    begin_wait(OP_REQUEST, ms);
    SetLastError(0xdeadbeef);
    DWORD r = NsemRequestSemaphore(h, ms);
    DWORD e = GetLastError();
    end_wait(OP_REQUEST, ms);
    if (e != r) unexpected("NsemRequestSemaphore(%s) returned %u but set the last error %u", text_of(name), r, e);
    switch (r) {
    case 0:
    case ERROR_SEM_OWNER_DIED:
        acquired(name, r ? TOOK_ABANDONED : TOOK_OK);
        chaos_count(&W.me->stats[S_ACQUIRED], 1);
        break;
    case ERROR_EXCL_SEM_ALREADY_OWNED: /* owned by another process, and told at once */
        if (ms != 0 || s->own) unexpected("NsemRequestSemaphore(%s, %u): 101 while own = %u", text_of(name), ms, s->own);
        chaos_count(&W.me->stats[S_TIMEOUTS], 1);
        break;
    case ERROR_SEM_TIMEOUT:
        if (s->own) unexpected("NsemRequestSemaphore(%s): timed out although this process owns it", text_of(name));
        chaos_count(&W.me->stats[S_TIMEOUTS], 1);
        break;
    default:
        unexpected("NsemRequestSemaphore(%s, %u): %u", text_of(name), ms, r);
    }
    set_intent(0);
}

/* Something it may signal: an owned object, a semaphore permit it took, or an event. */
static bool signallable(uint32_t name)
{
    struct name_state *s = &W.ns[name];
    if (!has_full_handle(name)) return false;
    if (is_owned_kind(name)) return s->own > 0 && (s->own > 1 || s->n > 0);
    if (kind(name) == KIND_EVENT) return true;
    return s->permits > 0;
}

static void op_signal_and_wait(void)
{
    int sig = pick_name(signallable), on = pick_name(has_handle);
    if (sig < 0 || on < 0) return;
    count_op(OP_SIGNAL_AND_WAIT);
    struct name_state *s = &W.ns[sig];
    HANDLE hs = s->hs[pick_handle((uint32_t)sig, true)].h;
    HANDLE hw = W.ns[on].hs[pick_handle((uint32_t)on, false)].h;
    DWORD ms = pick_timeout();
    bool last_level = is_owned_kind((uint32_t)sig) && s->own == 1;
    if (last_level) chaos_owner_releasing(W.sh, W.slot, W.incarnation, (uint32_t)sig);
    set_intent(intent_bit((uint32_t)on) | (last_level ? 1ull << sig : 0)); /* it may take back what it gave */
    begin_wait(OP_SIGNAL_AND_WAIT, ms);
    SetLastError(0xdeadbeef);
    DWORD r = SignalObjectAndWait(hs, hw, ms, FALSE);
    end_wait(OP_SIGNAL_AND_WAIT, ms);
    if (r == WAIT_FAILED) {
        DWORD e = GetLastError();
        if (!(kind((uint32_t)sig) == KIND_SEMAPHORE && e == ERROR_TOO_MANY_POSTS)) /* others release extra */
            unexpected("SignalObjectAndWait(%s, %s): error %u", text_of((uint32_t)sig), text_of((uint32_t)on), e);
        if (last_level) chaos_owner_still(W.sh, W.slot, W.incarnation, (uint32_t)sig);
        if (kind((uint32_t)sig) == KIND_SEMAPHORE) s->permits--; /* lost: the count is at its maximum */
        set_intent(0);
        return;
    }
    if (is_owned_kind((uint32_t)sig)) s->own--;
    else if (kind((uint32_t)sig) != KIND_EVENT) s->permits--;
    uint32_t waited = (uint32_t)on;
    after_wait_any(OP_SIGNAL_AND_WAIT, r, 1, &waited);
    set_intent(0);
}

static bool holds_something(uint32_t name)
{
    struct name_state *s = &W.ns[name];
    return has_handle(name) && (s->own > 0 || s->permits > 0);
}

static void op_release(uint32_t name)
{
    count_op(OP_RELEASE);
    struct name_state *s = &W.ns[name];
    uint32_t i = pick_handle(name, false);
    HANDLE h = s->hs[i].h;
    if (kind(name) == KIND_MUTEX) {
        release_owned(name, i); /* ReleaseMutex needs no right */
        return;
    }
    if (!s->hs[i].full) { /* no SEMAPHORE_MODIFY_STATE: refused, nothing changes */
        SetLastError(0xdeadbeef);
        if (ReleaseSemaphore(h, 1, NULL) || GetLastError() != ERROR_ACCESS_DENIED)
            unexpected("release %s through a handle without the right: error %u", text_of(name), GetLastError());
        return;
    }
    if (kind(name) == KIND_EXCLUSIVE) {
        release_owned(name, i);
        return;
    }
    LONG n = 1 + (LONG)rnd(s->permits), prev = -1;
    LONG max = kind(name) == KIND_UNDO ? CHAOS_UNDO_PERMITS : CHAOS_SEM_MAX;
    SetLastError(0xdeadbeef);
    if (ReleaseSemaphore(h, n, &prev)) {
        if (prev < 0 || prev + n > max) unexpected("release %d of %s: previous count %d", n, text_of(name), prev);
    } else if (kind(name) == KIND_UNDO || GetLastError() != ERROR_TOO_MANY_POSTS) {
        /* an undo semaphore's count plus the permits taken never passes its maximum */
        unexpected("release %d of %s, which this process took: error %u", n, text_of(name), GetLastError());
    }
    s->permits -= (uint32_t)n;
}

static bool is_plain_semaphore_with_full_handle(uint32_t name)
{
    return kind(name) == KIND_SEMAPHORE && has_full_handle(name);
}

static void op_release_extra(uint32_t name)
{
    count_op(OP_RELEASE_EXTRA);
    LONG prev = -1;
    SetLastError(0xdeadbeef);
    if (ReleaseSemaphore(W.ns[name].hs[pick_handle(name, true)].h, 1, &prev)) {
        if (prev < 0 || prev >= CHAOS_SEM_MAX) unexpected("release 1 of %s: previous count %d", text_of(name), prev);
    } else if (GetLastError() != ERROR_TOO_MANY_POSTS) {
        unexpected("release 1 of %s: error %u", text_of(name), GetLastError());
    }
}

static bool owned_kind_not_owned(uint32_t name)
{
    return is_owned_kind(name) && W.ns[name].own == 0 && has_full_handle(name);
}

static void op_release_not_owner(uint32_t name)
{
    count_op(OP_RELEASE_NOT_OWNER);
    HANDLE h = W.ns[name].hs[pick_handle(name, true)].h;
    SetLastError(0xdeadbeef);
    if (kind(name) == KIND_MUTEX) {
        if (ReleaseMutex(h) || GetLastError() != ERROR_NOT_OWNER)
            unexpected("ReleaseMutex(%s) by a non-owner: error %u", text_of(name), GetLastError());
        return;
    }
    LONG prev = -1;
    BOOL ok = ReleaseSemaphore(h, 1, &prev);
    DWORD e = GetLastError();
    if (ok || (e != ERROR_NOT_OWNER && e != ERROR_EXCL_SEM_ALREADY_OWNED) || prev != -1)
        unexpected("ReleaseSemaphore(%s) by a non-owner: %d, error %u, previous %d", text_of(name), ok, e, prev);
}

static bool is_event_with_handle(uint32_t name)
{
    return kind(name) == KIND_EVENT && has_handle(name);
}

static void op_event(uint32_t name)
{
    count_op(OP_EVENT);
    uint32_t i = pick_handle(name, false);
    HANDLE h = W.ns[name].hs[i].h;
    uint32_t what = rnd(10);
    SetLastError(0xdeadbeef);
    BOOL ok = what < 5 ? SetEvent(h) : what < 8 ? ResetEvent(h) : PulseEvent(h);
    if (W.ns[name].hs[i].full ? !ok : (ok || GetLastError() != ERROR_ACCESS_DENIED))
        unexpected("set/reset/pulse %s (full access %d): %d, error %u", text_of(name), W.ns[name].hs[i].full, ok,
                   GetLastError());
}

static void op_query(uint32_t name)
{
    count_op(OP_QUERY);
    struct name_state *s = &W.ns[name];
    uint32_t i = pick_handle(name, false);
    NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
    SetLastError(0xdeadbeef);
    BOOL ok = NsemQueryObject(s->hs[i].h, &info);
    if (!s->hs[i].full) {
        if (ok || GetLastError() != ERROR_ACCESS_DENIED)
            unexpected("query %s without QUERY_STATE: %d, error %u", text_of(name), ok, GetLastError());
        return;
    }
    if (!ok) {
        unexpected("query %s: error %u", text_of(name), GetLastError());
        return;
    }
    switch (kind(name)) {
    case KIND_MUTEX:
    case KIND_EXCLUSIVE: {
        bool mine = info.dwOwnerProcessId == W.pid;
        bool type_ok = kind(name) == KIND_MUTEX ? info.dwType == NSEM_TYPE_MUTEX
                                                : info.dwType == NSEM_TYPE_SEMAPHORE && info.dwFlags == NSEM_INFO_EXCLUSIVE;
        if (!type_ok || (s->own > 0) != mine || (s->own > 0 && (info.dwRecursionCount != s->own || info.bAbandoned)))
            unexpected("query %s: type %u, flags %u, owner %u, recursion %u, abandoned %d; this process owns it %u "
                       "times",
                       text_of(name), info.dwType, info.dwFlags, info.dwOwnerProcessId, info.dwRecursionCount,
                       info.bAbandoned, s->own);
        break;
    }
    case KIND_EVENT:
        if (info.dwType != NSEM_TYPE_EVENT || info.lCurrentCount < 0 || info.lCurrentCount > 1)
            unexpected("query %s: type %u, count %d", text_of(name), info.dwType, info.lCurrentCount);
        break;
    default: {
        LONG max = kind(name) == KIND_UNDO ? CHAOS_UNDO_PERMITS : CHAOS_SEM_MAX;
        DWORD flags = kind(name) == KIND_UNDO ? NSEM_INFO_UNDO : 0;
        if (info.dwType != NSEM_TYPE_SEMAPHORE || info.dwFlags != flags || info.lMaximumCount != max ||
            info.lCurrentCount < 0 || info.lCurrentCount > max)
            unexpected("query %s: type %u, flags %u, count %d of %d", text_of(name), info.dwType, info.dwFlags,
                       info.lCurrentCount, info.lMaximumCount);
    }
    }
}

/* Ends on its own: half the time tidily (everything released and closed), half the time at once. */
_Noreturn static void op_exit(void)
{
    count_op(OP_EXIT);
    if (chance(50)) {
        for (uint32_t name = 0; name < W.names; name++) {
            struct name_state *s = &W.ns[name];
            /* an exclusive semaphore needs SEMAPHORE_MODIFY_STATE; a mutex no right */
            while (s->own > 0 && (kind(name) == KIND_MUTEX || has_full_handle(name)) &&
                   release_owned(name, pick_handle(name, kind(name) == KIND_EXCLUSIVE))) {
            }
            if (s->permits && has_full_handle(name) && kind(name) != KIND_EVENT) {
                for (uint32_t i = 0; i < s->n; i++)
                    if (s->hs[i].full) {
                        if (!ReleaseSemaphore(s->hs[i].h, (LONG)s->permits, NULL) &&
                            (kind(name) == KIND_UNDO || GetLastError() != ERROR_TOO_MANY_POSTS))
                            unexpected("release %u of %s at exit: error %u", s->permits, text_of(name), GetLastError());
                        s->permits = 0;
                        break;
                    }
            }
            while (s->n > 0) {
                if (!CloseHandle(s->hs[s->n - 1].h))
                    unexpected("close a handle to %s at exit: error %u", text_of(name), GetLastError());
                s->n--;
            }
        }
    }
    _exit(0);
}

/* ---- the loop ----------------------------------------------------------------------------- */

static bool any_handle(uint32_t name)
{
    return has_handle(name);
}

static bool owned_with_handle(uint32_t name)
{
    return is_owned_kind(name) && W.ns[name].own > 0 && has_handle(name);
}


static void one_op(void)
{
    int name;
    /* Whatever it holds, it gives back soon, so that the others get their turn. */
    if (chance(45) && (name = pick_name(holds_something)) >= 0) {
        op_release((uint32_t)name);
        return;
    }
    uint32_t r = rnd(1000);
    if (r < 3) op_exit();
    if (r < 120) {
        op_create(rnd(W.names));
    } else if (r < 220) {
        op_open(rnd(W.names));
    } else if (r < 240) {
        op_open_wrong_type(rnd(W.names));
    } else if (r < 320) {
        if ((name = pick_name(any_handle)) >= 0) op_close((uint32_t)name);
    } else if (r < 370) {
        if ((name = pick_name(any_handle)) >= 0) op_dup((uint32_t)name);
    } else if (r < 410) {
        if ((name = pick_name(any_handle)) >= 0) op_dup_remote((uint32_t)name);
    } else if (r < 560) {
        if ((name = pick_name(any_handle)) >= 0) op_wait_one((uint32_t)name);
    } else if (r < 650) {
        op_wait_any();
    } else if (r < 740) {
        op_wait_all();
    } else if (r < 750) {
        if ((name = pick_name(any_handle)) >= 0) op_wait_all_twice((uint32_t)name);
    } else if (r < 820) {
        if ((name = pick_name(is_exclusive_with_handle)) >= 0) op_request((uint32_t)name);
    } else if (r < 850) {
        op_signal_and_wait();
    } else if (r < 870) {
        if ((name = pick_name(is_plain_semaphore_with_full_handle)) >= 0) op_release_extra((uint32_t)name);
    } else if (r < 890) {
        if ((name = pick_name(owned_kind_not_owned)) >= 0) op_release_not_owner((uint32_t)name);
    } else if (r < 940) {
        if ((name = pick_name(is_event_with_handle)) >= 0) op_event((uint32_t)name);
    } else {
        if ((name = pick_name(owned_with_handle)) < 0) name = pick_name(any_handle);
        if (name >= 0) op_query((uint32_t)name);
    }
}

_Noreturn void chaos_worker_main(struct chaos_shared *sh, uint32_t slot, uint32_t incarnation)
{
    W.sh = sh;
    W.me = &sh->w[slot];
    W.slot = slot;
    W.incarnation = incarnation;
    W.pid = (uint32_t)getpid();
    W.names = sh->names;
    W.rng = (sh->seed ^ ((uint64_t)incarnation * 0x9E3779B97F4A7C15ull)) | 1;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)W.pid);
    W.schedstat_fd = open(path, O_RDONLY | O_CLOEXEC);
    signal(SIGPIPE, SIG_IGN);
    /* The supervisor's handles, inherited (copied at fork, or by a spawn ticket). A spawned worker
     * connects at its first call: made here, untimed, so that no wait includes it. */
    DWORD flags;
    for (uint32_t name = 0; name < W.names; name++)
        if (sh->super_handles[name]) {
            HANDLE h = (HANDLE)(uintptr_t)sh->super_handles[name];
            if (!GetHandleInformation(h, &flags)) unexpected("inherited handle %p to %s: error %u", h, text_of(name), GetLastError());
            add_handle(name, h, true);
        }
    atomic_store_explicit(&W.me->connected, 1, memory_order_relaxed); /* relaxed: a hint */
    for (;;) {
        adopt_mail();
        one_op();
        if (chance(30)) nanosleep(&(struct timespec){0, (long)rnd(3000) * 1000L}, NULL); /* think */
    }
}

/*
 * supervisor.c — the chaos supervisor: a private server, the workers (started by fork or by
 * posix_spawn of this program), their random deaths by SIGKILL, the continuous checks and the
 * checks at the end.
 *
 * Single-threaded, and never the owner of anything while workers run, so a fork copies nothing but
 * its handles (which the child adopts: the workers know their values). Continuously: the server
 * process is alive and the same (pidfd, and its pid in NsemGetServerStats), no worker stays in a
 * wait past its timeout + 1 s (its published wait_state), and the operations keep coming. At the
 * end, with every worker killed and reaped: the server holds nothing of theirs, the undo
 * semaphores are back at their initial count, the pinned mutexes and exclusive semaphores report
 * their last abandonment once (ownership.c), then, the supervisor's own handles closed, the server
 * holds nothing at all and its heap is back where it was after the warm-up.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chaos.h"

extern char **environ;

static struct {
    const struct chaos_options *opt;
    struct chaos_shared *sh;
    int shm_fd;
    char dir[64], sock[128];
    uint32_t server_pid;
    int server_pidfd;
    HANDLE handles[CHAOS_MAX_NAMES]; /* its own, of the pinned names */
    uint32_t pinned, pinned_undo;
    uint32_t next_incarnation;
    pid_t pids[CHAOS_MAX_WORKERS]; /* 0: the slot has no process */
    bool killed[CHAOS_MAX_WORKERS];
    uint64_t rng;
    /* totals of the workers reaped */
    uint64_t started, forked, spawned, kills, exited, crashed;
    uint64_t ops[OP_COUNT], stats[S_COUNT];
    /* what the supervisor itself finds, and the violations of the reaped workers */
    struct chaos_worker record; /* not shared: its counters, for ownership checks at the end */
    uint64_t heap_start, heap_end;
    uint64_t settle_ms; /* how long the server took to hold nothing of the dead workers */
    NSEM_SERVER_STATS last;
    bool server_dead;
} S;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

static double uniform(void)
{
    S.rng ^= S.rng >> 12;
    S.rng ^= S.rng << 25;
    S.rng ^= S.rng >> 27;
    return (double)((S.rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static void sleep_ms(unsigned ms)
{
    nanosleep(&(struct timespec){ms / 1000, (long)(ms % 1000) * 1000000L}, NULL);
}

static void violation(enum chaos_violation v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void violation(enum chaos_violation v, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    chaos_violation(S.record.violations, v, "supervisor: %s", msg);
}

static uint64_t violations_total(enum chaos_violation v)
{
    uint64_t n = atomic_load_explicit(&S.record.violations[v], memory_order_relaxed); /* relaxed: a tally */
    for (uint32_t i = 0; i < S.sh->workers; i++)
        if (S.pids[i]) n += atomic_load_explicit(&S.sh->w[i].violations[v], memory_order_relaxed);
    return n;
}

/* ---- the server --------------------------------------------------------------------------- */

static bool get_stats(NSEM_SERVER_STATS *st)
{
    *st = (NSEM_SERVER_STATS){.cbSize = sizeof *st};
    if (!NsemGetServerStats(st)) {
        if (!S.server_dead) violation(V_SERVER_DIED, "NsemGetServerStats failed: error %u", GetLastError());
        S.server_dead = true;
        return false;
    }
    S.last = *st;
    if (S.server_pid && st->dwServerProcessId != S.server_pid && !S.server_dead) {
        violation(V_SERVER_DIED, "the server's pid changed from %u to %u: it died and was restarted", S.server_pid,
                  st->dwServerProcessId);
        S.server_dead = true;
    }
    return !S.server_dead;
}

static void check_server_alive(void)
{
    struct pollfd p = {.fd = S.server_pidfd, .events = POLLIN};
    if (!S.server_dead && S.server_pidfd >= 0 && poll(&p, 1, 0) > 0) {
        violation(V_SERVER_DIED, "the server (pid %u) has exited", S.server_pid);
        S.server_dead = true;
    }
}

/* A private server: a socket in a fresh directory; the library starts nsemd on the first call. */
static bool use_private_server(void)
{
    snprintf(S.dir, sizeof S.dir, "/tmp/nsem-chaos.XXXXXX");
    if (!mkdtemp(S.dir)) return false;
    snprintf(S.sock, sizeof S.sock, "%s/nsemd.sock", S.dir);
    setenv("NSEM_SERVER", S.sock, 1);
    setenv("NSEMD_LOG", "1", 1); /* whatever the server complains of shows in our output */
    return true;
}

/* Starts the server (the first call does) with glibc's per-thread cache off: mallinfo2, which the
 * server's heap figure comes from, counts the chunks that cache keeps as in use, so the figure
 * would move by up to ~100 KB with the last pattern of frees rather than with what the server
 * holds. Only the server's environment gets the setting. */
static bool start_server(NSEM_SERVER_STATS *st)
{
    const char *old = getenv("GLIBC_TUNABLES");
    char *saved = old ? strdup(old) : NULL, tunables[512];
    snprintf(tunables, sizeof tunables, "%s%sglibc.malloc.tcache_count=0", old ? old : "", old ? ":" : "");
    setenv("GLIBC_TUNABLES", tunables, 1);
    bool ok = get_stats(st);
    if (saved) setenv("GLIBC_TUNABLES", saved, 1);
    else unsetenv("GLIBC_TUNABLES");
    free(saved);
    return ok;
}

/* The server's tables that only grow — its objects by arena slot and its ring of freed slots,
 * which a slot waits in behind 4096 others before reuse — are grown to the size the run needs:
 * a helper holds this many anonymous semaphores at once (more than the run's live slots plus
 * the quarantine), then exits. Then a heap measured before the run and after it compares what
 * the server holds, not how far those tables had grown. */
static void grow_server_tables(uint32_t slots)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        for (uint32_t i = 0; i < slots; i++)
            if (!CreateSemaphoreA(NULL, 0, 1, NULL)) _exit(1);
        _exit(0);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        violation(V_UNEXPECTED, "the helper that grows the server's tables failed (status 0x%x)", status);
}

static void stop_server(void)
{
    if (S.server_pid && kill((pid_t)S.server_pid, SIGTERM) == 0 && S.server_pidfd >= 0) {
        struct pollfd p = {.fd = S.server_pidfd, .events = POLLIN};
        if (poll(&p, 1, 10000) <= 0) violation(V_END_STATE, "the server did not exit within 10 s of SIGTERM");
    }
    char path[200];
    const char *files[] = {"nsemd.sock", "nsemd.sock.lock", "nsemd.sock.spawn"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", S.dir, files[i]);
        unlink(path);
    }
    rmdir(S.dir);
}

/* ---- workers ------------------------------------------------------------------------------ */

static void start_worker(uint32_t slot)
{
    struct chaos_worker *w = &S.sh->w[slot];
    uint32_t incarnation = ++S.next_incarnation;
    for (uint32_t k = 0; k < CHAOS_MAILBOX; k++) atomic_store(&w->mailbox[k], 0); /* seq_cst: before it lives */
    atomic_store_explicit(&w->wait_state, 0, memory_order_relaxed); /* relaxed: published by `life` */
    atomic_store_explicit(&w->connected, 0, memory_order_relaxed);  /* relaxed: published by `life` */
    atomic_store_explicit(&w->pid, 0, memory_order_relaxed);        /* relaxed: a hint, 0 until known */
    atomic_store(&w->life, chaos_life(incarnation, LIFE_ALIVE));    /* seq_cst: see shared.c */
    bool exec = (uint32_t)(uniform() * 100) < S.opt->exec_percent;
    pid_t pid;
    fflush(NULL);
    if (exec) {
        char fd[16], sl[16], inc[16];
        snprintf(fd, sizeof fd, "%d", S.shm_fd);
        snprintf(sl, sizeof sl, "%u", slot);
        snprintf(inc, sizeof inc, "%u", incarnation);
        char *argv[] = {(char *)S.opt->self_exe, "--worker", fd, sl, inc, NULL};
        if (posix_spawn(&pid, S.opt->self_exe, NULL, NULL, argv, environ) != 0) pid = -1;
        else S.spawned++;
    } else {
        pid = fork();
        if (pid == 0) chaos_worker_main(S.sh, slot, incarnation);
        if (pid > 0) S.forked++;
    }
    if (pid < 0) {
        say("chaos: cannot start a worker: %s\n", strerror(errno));
        atomic_store(&w->life, chaos_life(incarnation, LIFE_DEAD)); /* seq_cst */
        return;
    }
    atomic_store_explicit(&w->pid, (uint32_t)pid, memory_order_relaxed);
    S.pids[slot] = pid;
    S.killed[slot] = false;
    S.started++;
}

static void add_counters(struct chaos_worker *w)
{
    /* relaxed: the worker is reaped (waitpid orders its writes before ours) */
    for (int i = 0; i < OP_COUNT; i++) S.ops[i] += atomic_exchange_explicit(&w->ops[i], 0, memory_order_relaxed);
    for (int i = 0; i < V_COUNT; i++)
        chaos_count(&S.record.violations[i], atomic_exchange_explicit(&w->violations[i], 0, memory_order_relaxed));
    for (int i = 0; i < S_COUNT; i++) {
        uint64_t v = atomic_exchange_explicit(&w->stats[i], 0, memory_order_relaxed);
        if (i == S_MAX_OVERRUN_MS) S.stats[i] = v > S.stats[i] ? v : S.stats[i];
        else S.stats[i] += v;
    }
}

static void worker_ended(uint32_t slot, int status)
{
    struct chaos_worker *w = &S.sh->w[slot];
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && S.killed[slot]) {
        S.kills++;
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        S.exited++;
    } else {
        S.crashed++;
        violation(V_UNEXPECTED, "worker %u (pid %d) ended with %s %d", slot, (int)S.pids[slot],
                  WIFSIGNALED(status) ? "signal" : "exit status", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    }
    chaos_owner_worker_dead(S.sh, w); /* before DEAD: "dead" implies its intents are counted */
    uint32_t incarnation = (uint32_t)atomic_load(&w->life); /* seq_cst */
    atomic_store(&w->life, chaos_life(incarnation, LIFE_DEAD)); /* seq_cst: see shared.c */
    add_counters(w);
    S.pids[slot] = 0;
}

/* Reaps every worker that has ended; with `block`, waits for at least one. */
static uint32_t reap(bool block)
{
    uint32_t n = 0;
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, block && n == 0 ? 0 : WNOHANG);
        if (pid <= 0) return n;
        for (uint32_t slot = 0; slot < S.sh->workers; slot++)
            if (S.pids[slot] == pid) {
                worker_ended(slot, status);
                n++;
                break;
            }
    }
}

static uint32_t alive_count(void)
{
    uint32_t n = 0;
    for (uint32_t slot = 0; slot < S.sh->workers; slot++) n += S.pids[slot] != 0;
    return n;
}

/* Whether slot's worker may be killed now: any, or (the warm-up) only one that has connected —
 * a fork child killed before its first call leaves its fork ticket to the server's 10-second
 * expiry, which the warm-up need not wait for. */
static bool killable(uint32_t slot, bool connected_only)
{
    return S.pids[slot] && (!connected_only || atomic_load_explicit(&S.sh->w[slot].connected, memory_order_relaxed));
}

static void kill_random(bool connected_only)
{
    uint32_t n = 0;
    for (uint32_t slot = 0; slot < S.sh->workers; slot++) n += killable(slot, connected_only);
    if (!n) return;
    uint32_t pick = (uint32_t)(uniform() * n);
    for (uint32_t slot = 0; slot < S.sh->workers; slot++)
        if (killable(slot, connected_only) && pick-- == 0) {
            if (kill(S.pids[slot], SIGKILL) == 0) S.killed[slot] = true;
            return;
        }
}

static void kill_all(bool connected_first)
{
    /* (the warm-up: the last to start get the time to connect first) */
    for (uint64_t end = chaos_now_ms() + 5000; connected_first && chaos_now_ms() < end; sleep_ms(5)) {
        uint32_t slot = 0;
        while (slot < S.sh->workers && (!S.pids[slot] || killable(slot, true))) slot++;
        if (slot == S.sh->workers) break;
        reap(false);
    }
    for (uint32_t slot = 0; slot < S.sh->workers; slot++)
        if (S.pids[slot] && kill(S.pids[slot], SIGKILL) == 0) S.killed[slot] = true;
    while (alive_count()) reap(true);
}

/* A worker in a wait past its timeout + 1 s (the run-queue delay excluded, as the worker does):
 * counted here, once, even if the wait never returns. */
static void watch_waits(void)
{
    uint64_t now = chaos_now_ms();
    for (uint32_t slot = 0; slot < S.sh->workers; slot++) {
        if (!S.pids[slot] || S.killed[slot]) continue; /* a killed one's wait is over, reaped or not */
        struct chaos_worker *w = &S.sh->w[slot];
        uint64_t state = atomic_load_explicit(&w->wait_state, memory_order_acquire); /* acquire: the details */
        if (!(state & CHAOS_WAIT_IN) || (state & CHAOS_WAIT_COUNTED)) continue;
        uint64_t start = atomic_load_explicit(&w->wait_start_ms, memory_order_relaxed);
        uint64_t timeout = atomic_load_explicit(&w->wait_timeout_ms, memory_order_relaxed);
        if (now < start || now - start <= timeout + CHAOS_LATE_MS) continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/schedstat", (int)S.pids[slot]);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        uint64_t delay_ns = chaos_run_delay_ns(fd) - atomic_load_explicit(&w->wait_run_delay_ns, memory_order_relaxed);
        if (fd >= 0) close(fd);
        if (fd < 0 || now - start - delay_ns / 1000000u <= timeout + CHAOS_LATE_MS) continue;
        if (chaos_process_gone((uint32_t)S.pids[slot])) continue; /* it ended (on its own), not reaped yet */
        /* What it is blocked in: its system call (futex: on a slot or a lock; recvmsg: the server). */
        char syscall_line[128] = "?";
        snprintf(path, sizeof path, "/proc/%d/syscall", (int)S.pids[slot]);
        FILE *f = fopen(path, "re");
        if (f) {
            if (!fgets(syscall_line, sizeof syscall_line, f)) strcpy(syscall_line, "?");
            syscall_line[strcspn(syscall_line, "\n")] = 0;
            fclose(f);
        }
        /* acq_rel: the worker, returning late, tries the same exchange; one of us counts it */
        if (atomic_compare_exchange_strong_explicit(&w->wait_state, &state, state | CHAOS_WAIT_COUNTED,
                                                    memory_order_acq_rel, memory_order_acquire))
            violation(V_LATE_WAIT, "worker %u (pid %d) has been in %s with timeout %llu ms for %llu ms (%llu ms "
                      "runnable); in system call %s",
                      slot, (int)S.pids[slot],
                      chaos_op_names[atomic_load_explicit(&w->wait_op, memory_order_relaxed) % OP_COUNT],
                      (unsigned long long)timeout, (unsigned long long)(now - start),
                      (unsigned long long)(delay_ns / 1000000u), syscall_line);
    }
}

static uint64_t ops_total(void)
{
    uint64_t n = 0;
    for (int i = 0; i < OP_COUNT; i++) {
        n += S.ops[i];
        for (uint32_t slot = 0; slot < S.sh->workers; slot++)
            if (S.pids[slot]) n += atomic_load_explicit(&S.sh->w[slot].ops[i], memory_order_relaxed); /* a tally */
    }
    return n;
}

static uint64_t all_violations(void)
{
    uint64_t n = 0;
    for (int v = 0; v < V_COUNT; v++) n += violations_total((enum chaos_violation)v);
    return n;
}

static void progress(const char *phase, double t)
{
    NSEM_SERVER_STATS *st = &S.last;
    say("chaos: %s %5.1f s: %u workers, %llu started, %llu killed, %llu ops; server: %u objects, %u handles, "
        "%u clients, %u records, %llu heap bytes; %llu violations\n",
        phase, t, alive_count(), (unsigned long long)S.started, (unsigned long long)S.kills,
        (unsigned long long)ops_total(), st->dwObjects, st->dwHandles, st->dwClients, st->dwRecords,
        (unsigned long long)st->ullHeapBytes, (unsigned long long)all_violations());
}

/* Runs the workers for `seconds`, then kills them all. */
static void run_phase(const char *phase, double seconds, bool warm_up)
{
    uint64_t start = chaos_now_ms(), end = start + (uint64_t)(seconds * 1000);
    uint64_t next_watch = start, next_stats = start + 1000, next_progress = start + (S.opt->verbose ? 1000 : 5000);
    uint64_t last_ops = 0, last_ops_change = start;
    double next_kill = (double)start;
    for (uint32_t slot = 0; slot < S.sh->workers; slot++) start_worker(slot);
    for (uint64_t now = start; now < end && !S.server_dead; now = chaos_now_ms()) {
        reap(false);
        for (uint32_t slot = 0; slot < S.sh->workers; slot++)
            if (!S.pids[slot]) {
                start_worker(slot); /* a round trip to the server (fork or spawn ticket): reap meanwhile */
                reap(false);
            }
        while (S.opt->kill_rate > 0 && now >= next_kill) {
            kill_random(warm_up);
            next_kill += -log(1.0 - uniform()) * 1000.0 / S.opt->kill_rate; /* Poisson: random instants */
        }
        if (now >= next_watch) {
            watch_waits();
            check_server_alive();
            next_watch = now + 100;
        }
        if (now >= next_stats) {
            NSEM_SERVER_STATS st;
            get_stats(&st);
            uint64_t ops = ops_total();
            if (ops != last_ops) last_ops_change = now;
            else if (now - last_ops_change > 10000 && alive_count())
                violation(V_STALL, "no operation done for %llu s", (unsigned long long)(now - last_ops_change) / 1000);
            last_ops = ops;
            next_stats = now + 1000;
        }
        if (now >= next_progress) {
            progress(phase, (double)(now - start) / 1000.0);
            next_progress = now + (S.opt->verbose ? 1000 : 5000);
        }
        sleep_ms(1);
    }
    kill_all(warm_up);
}

/* ---- the end ------------------------------------------------------------------------------ */

/* Polls (up to 15 s: a fork child killed before it adopted its ticket leaves a ticket that
 * expires after 10 s) until the server holds exactly the supervisor's own. */
static bool wait_for_state(uint32_t objects, uint32_t handles, uint32_t undo_records, bool final)
{
    uint64_t start = chaos_now_ms(), end = start + 15000;
    NSEM_SERVER_STATS st;
    for (;;) {
        if (!get_stats(&st)) return false;
        bool ok = st.dwObjects == objects && st.dwHandles == handles && st.dwPins == 0 && st.dwClients == 1 &&
                  st.dwRecords == 0 && st.dwUndoRecords == undo_records && st.dwTickets == 0 && st.dwCleanups == 0 &&
                  (!final || st.dwArenaSlots == 0);
        if (ok) {
            S.settle_ms = chaos_now_ms() - start;
            /* Once more, for the heap: the server measures before queuing its reply, with our
             * connection's reply buffer sized for the previous one, now a STATS reply too. */
            return get_stats(&st);
        }
        if (chaos_now_ms() > end) break;
        sleep_ms(10);
    }
    violation(V_END_STATE,
              "the server holds %u objects (want %u), %u handles (want %u), %u pins, %u clients (want 1), %u records, "
              "%u undo records (want %u), %u tickets, %u cleanups, %u arena slots%s",
              st.dwObjects, objects, st.dwHandles, handles, st.dwPins, st.dwClients, st.dwRecords, st.dwUndoRecords,
              undo_records, st.dwTickets, st.dwCleanups, st.dwArenaSlots, final ? " (want all 0)" : "");
    return false;
}

static void create_pinned(void)
{
    SECURITY_ATTRIBUTES inherit = {sizeof inherit, NULL, TRUE}; /* spawned workers inherit them too */
    for (uint32_t name = 0; name < S.sh->names; name++) {
        if (!chaos_name_is_pinned(name)) continue;
        char text[64];
        chaos_name(name, text, sizeof text);
        HANDLE h = NULL;
        switch (chaos_kind_of(name)) {
        case KIND_UNDO:
            h = CreateSemaphoreExA(&inherit, CHAOS_UNDO_PERMITS, CHAOS_UNDO_PERMITS, text, SEMAPHORE_UNDO,
                                   SEMAPHORE_ALL_ACCESS);
            S.pinned_undo++;
            break;
        case KIND_EXCLUSIVE:
            h = CreateSemaphoreExA(&inherit, 1, 1, text, SEMAPHORE_EXCLUSIVE, SEMAPHORE_ALL_ACCESS);
            break;
        default:
            h = CreateMutexA(&inherit, FALSE, text);
            break;
        }
        if (!h || GetLastError() != 0) {
            violation(V_UNEXPECTED, "cannot create %s: error %u", text, GetLastError());
            continue;
        }
        S.handles[name] = h;
        S.sh->super_handles[name] = (uint32_t)(uintptr_t)h;
        S.pinned++;
    }
}

static void check_undo_and_owners(void)
{
    for (uint32_t name = 0; name < S.sh->names; name++) {
        HANDLE h = S.handles[name];
        if (!h) continue;
        char text[64];
        chaos_name(name, text, sizeof text);
        NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
        if (!NsemQueryObject(h, &info)) {
            violation(V_END_STATE, "query %s: error %u", text, GetLastError());
            continue;
        }
        if (info.dwHandleCount != 1 || info.dwWaiterCount != 0)
            violation(V_END_STATE, "%s: %u handles (want 1), %u waiters (want 0)", text, info.dwHandleCount,
                      info.dwWaiterCount);
        if (chaos_kind_of(name) == KIND_UNDO) {
            if (info.lCurrentCount != CHAOS_UNDO_PERMITS)
                violation(V_UNDO_COUNT, "%s: count %d after every worker died (want %d)", text, info.lCurrentCount,
                          CHAOS_UNDO_PERMITS);
            continue;
        }
        /* A mutex or exclusive semaphore: free, or abandoned by its last (dead) owner — which it
         * must then report, once. */
        if (info.dwOwnerProcessId != 0)
            violation(V_END_STATE, "%s: owned by process %u after every worker died", text, info.dwOwnerProcessId);
        DWORD r = WaitForSingleObject(h, 0);
        if (r != WAIT_OBJECT_0 && r != WAIT_ABANDONED_0) {
            violation(V_END_STATE, "%s: cannot be acquired after every worker died: 0x%x", text, r);
            continue;
        }
        if ((r == WAIT_ABANDONED_0) != (info.bAbandoned != 0))
            violation(V_UNEXPECTED, "%s: query said abandoned %d, the wait returned 0x%x", text, info.bAbandoned, r);
        chaos_owner_acquired(S.sh, &S.record, CHAOS_SUPERVISOR_SLOT, 0, name,
                             r == WAIT_OBJECT_0 ? TOOK_OK : TOOK_ABANDONED);
        if (r == WAIT_ABANDONED_0) chaos_count(&S.record.stats[S_ABANDON_SEEN], 1);
        chaos_owner_releasing(S.sh, CHAOS_SUPERVISOR_SLOT, 0, name);
        BOOL ok = chaos_kind_of(name) == KIND_MUTEX ? ReleaseMutex(h) : ReleaseSemaphore(h, 1, NULL);
        if (!ok) violation(V_UNEXPECTED, "%s: release by the supervisor: error %u", text, GetLastError());
    }
}

/* ---- the report --------------------------------------------------------------------------- */

static void report(double seconds)
{
    for (int i = 0; i < S_COUNT; i++) {
        uint64_t v = atomic_load_explicit(&S.record.stats[i], memory_order_relaxed); /* relaxed: a tally */
        if (i == S_MAX_OVERRUN_MS) S.stats[i] = v > S.stats[i] ? v : S.stats[i];
        else S.stats[i] += v;
    }
    const struct chaos_options *o = S.opt;
    say("\n==== nsem chaos: %u workers, %u names, %.0f s (after a %.0f s warm-up), kill rate %.0f/s, seed %llu\n",
        o->workers, o->names, seconds, o->warmup_s, o->kill_rate, (unsigned long long)o->seed);
    say("processes started %llu (%llu forked, %llu spawned), killed %llu, exited on their own %llu, crashed %llu\n",
        (unsigned long long)S.started, (unsigned long long)S.forked, (unsigned long long)S.spawned,
        (unsigned long long)S.kills, (unsigned long long)S.exited, (unsigned long long)S.crashed);
    uint64_t total = 0;
    for (int i = 0; i < OP_COUNT; i++) total += S.ops[i];
    say("\n%-36s %12s\n", "operation", "count");
    for (int i = 0; i < OP_COUNT; i++) say("%-36s %12llu\n", chaos_op_names[i], (unsigned long long)S.ops[i]);
    say("%-36s %12llu\n", "total", (unsigned long long)total);
    say("\n%-48s %12s\n", "", "count");
    for (int i = 0; i < S_COUNT; i++) say("%-48s %12llu\n", chaos_stat_names[i], (unsigned long long)S.stats[i]);
    say("\nserver pid %u: %s; ", S.server_pid, violations_total(V_SERVER_DIED) ? "DIED" : "alive and the same throughout");
    if (S.heap_start)
        say("heap %llu bytes after the warm-up, %llu at the end (%+.1f%%)\n", (unsigned long long)S.heap_start,
            (unsigned long long)S.heap_end, 100.0 * ((double)S.heap_end - (double)S.heap_start) / (double)S.heap_start);
    else
        say("heap not measured (the server reports none: a sanitizer's allocator)\n");
    say("the server held nothing of the dead workers %llu ms after the last was reaped\n",
        (unsigned long long)S.settle_ms);
    say("at the end: %u objects, %u handles, %u pins, %u clients, %u records, %u undo records, %u tickets, "
        "%u cleanups, %u arena slots\n",
        S.last.dwObjects, S.last.dwHandles, S.last.dwPins, S.last.dwClients, S.last.dwRecords, S.last.dwUndoRecords,
        S.last.dwTickets, S.last.dwCleanups, S.last.dwArenaSlots);
    say("\n%-48s %12s\n", "invariant", "violations");
    for (int v = 0; v < V_COUNT; v++)
        say("%-48s %12llu\n", chaos_violation_names[v], (unsigned long long)violations_total((enum chaos_violation)v));
    say("%s\n", all_violations() ? "FAILED" : "PASSED");
}

int chaos_supervise(const struct chaos_options *opt)
{
    S.opt = opt;
    S.rng = opt->seed | 1;
    S.server_pidfd = -1;
    if (!use_private_server()) return perror("mkdtemp"), 2;
    S.sh = chaos_shared_create(&S.shm_fd);
    if (!S.sh) return perror("chaos: shared memory"), 2;
    S.sh->names = opt->names;
    S.sh->workers = opt->workers;
    S.sh->seed = opt->seed;
    S.sh->verbose = opt->verbose;
    signal(SIGPIPE, SIG_IGN);

    NSEM_SERVER_STATS st;
    if (!start_server(&st)) return 2;
    S.server_pid = st.dwServerProcessId;
    S.server_pidfd = (int)syscall(SYS_pidfd_open, (pid_t)S.server_pid, 0);
    create_pinned();

    /* The warm-up: the server's tables that only grow reach the size the run keeps them at, then
     * a short run warms everything else; the heap is measured after it. */
    grow_server_tables(4096 + 1024 + 16 * opt->workers);
    if (opt->warmup_s > 0) {
        run_phase("warm-up", opt->warmup_s, true);
        say("chaos: warm-up done: %llu started, %llu killed, %llu ops\n", (unsigned long long)S.started,
            (unsigned long long)S.kills, (unsigned long long)ops_total());
    }
    if (wait_for_state(S.pinned, S.pinned, S.pinned_undo, false)) S.heap_start = S.last.ullHeapBytes;
    memset(S.ops, 0, sizeof S.ops); /* the counts are of the run proper */
    memset(S.stats, 0, sizeof S.stats);
    S.started = S.forked = S.spawned = S.kills = S.exited = S.crashed = 0;

    run_phase("run", opt->duration_s, false);

    /* Every worker is dead and reaped: the server holds the supervisor's own, nothing else. */
    uint64_t settled_after = 0;
    if (!S.server_dead) {
        wait_for_state(S.pinned, S.pinned, S.pinned_undo, false);
        settled_after = S.settle_ms;
        S.heap_end = S.last.ullHeapBytes;
        check_undo_and_owners();
        if (S.heap_start && (double)S.heap_end > 1.1 * (double)S.heap_start)
            violation(V_HEAP, "the server's heap grew from %llu to %llu bytes", (unsigned long long)S.heap_start,
                      (unsigned long long)S.heap_end);
        if (S.heap_start && (double)S.heap_end < 0.9 * (double)S.heap_start)
            violation(V_HEAP, "the server's heap shrank from %llu to %llu bytes", (unsigned long long)S.heap_start,
                      (unsigned long long)S.heap_end);
        for (uint32_t name = 0; name < opt->names; name++)
            if (S.handles[name] && !CloseHandle(S.handles[name]))
                violation(V_UNEXPECTED, "close the supervisor's handle %u: error %u", name, GetLastError());
        wait_for_state(0, 0, 0, true);
        check_server_alive();
    }
    S.settle_ms = settled_after;
    report(opt->duration_s);
    stop_server();
    return all_violations() ? 1 : 0;
}

/*
 * demo.c — nsem-demo: what nsem is for, shown in one run of about a second.
 *
 * Eight worker processes coordinate through two named Windows objects that nsem provides:
 *
 *   "Local\nsem-demo-slots"   a semaphore with 3 permits: at most 3 workers "work" at a time;
 *   "Local\nsem-demo-ledger"  a mutex guarding a ledger file: one writer at a time.
 *
 * Each worker is this very program, started with fork + exec as `nsem-demo --worker N ...`. It
 * shares no memory and no handle with its parent: it opens both objects BY NAME, as an unrelated
 * program would. Each worker does ROUNDS rounds of
 *
 *   WaitForSingleObject(slots)    take a permit (blocks while all 3 are taken)
 *   (under the mutex: note in the ledger that it holds a permit)
 *   sleep                          the "work"
 *   WaitForSingleObject(ledger)   take the mutex; read the counter, sleep a little, write
 *                                  counter+1, append an entry line, note that it is done
 *   ReleaseMutex(ledger)
 *   ReleaseSemaphore(slots)       give the permit back
 *
 * Half-way through its first ledger update (new counter written, entry line not yet), worker 5
 * says so through a named event, and the parent kills it with SIGKILL. Nothing of worker 5 runs
 * after that. nsem's server sees the process die and abandons the mutex it owned: the next
 * worker to take the mutex gets WAIT_ABANDONED instead of WAIT_OBJECT_0. It owns the mutex as
 * usual, but it is warned that the data the mutex guards may be half-updated. It checks the
 * ledger, rolls back worker 5's half-done update, and gives back the permit worker 5 took with
 * it (a semaphore has no owner, so nobody else would).
 *
 * At the end the parent reads the ledger (under the mutex too: should worker 5 have been the
 * last to need the mutex, the parent is its next owner and does the repair) and checks that the
 * semaphore never let more than 3 workers in at once, that exactly one owner was told of the
 * abandonment, that the ledger is consistent, that both objects are back in their initial state
 * and that every worker ended as planned. It exits with 0 only if all of that holds.
 *
 * The demo runs its own nsem server, so it never touches the user's objects: unless NSEM_SERVER
 * is set, it points NSEM_SERVER at a socket in a fresh directory under /tmp before its first
 * nsem call. That call starts the server (the library does this by itself);
 * NSEMD_GRACE_MS=1000 makes the server exit a second after the last process has left.
 */
#include <nsem.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NWORKERS 8
#define NPERMITS 3
#define ROUNDS 3
#define VICTIM 5        /* the worker that the parent kills while it holds the ledger mutex */
#define WAIT_MS 10000   /* no wait of the demo comes near this, unless something is broken */

#define SLOTS_NAME "Local\\nsem-demo-slots"
#define LEDGER_NAME "Local\\nsem-demo-ledger"
#define VICTIM_EVENT_NAME "Local\\nsem-demo-victim-holds-ledger"

#define LEDGER_MAX 16384

/* ---------------------------------------------------------------------------------------------
 * The timeline: one line per event, "   123 ms    worker 3   what happened", written with a
 * single write() so that the lines of the nine processes never mix.
 * ------------------------------------------------------------------------------------------- */

static int64_t t0_ns;            /* CLOCK_MONOTONIC at the parent's start; passed to workers */
static char who[16] = "parent";  /* "parent" or "worker N" */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void write_all(const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, s, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        s += n;
        len -= (size_t)n;
    }
}

/* Plain text, for the introduction and the summary. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        write_all(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* One timeline line: time since the parent started, a mark ("!!" for the crash and its
 * recovery, else blank), who, what. */
static void vevent(const char *mark, const char *fmt, va_list ap)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%6lld ms %2s %-9s  ", (long long)((now_ns() - t0_ns) / 1000000), mark, who);
    n += vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    if ((size_t)n > sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    write_all(buf, (size_t)n);
}

static void event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void event(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vevent("", fmt, ap);
    va_end(ap);
}

/* A line of the crash story, marked so that it stands out. */
static void alert(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void alert(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vevent("!!", fmt, ap);
    va_end(ap);
}

/* Reports a failed nsem call with its GetLastError() code and ends the process. */
static void die(const char *what, DWORD error) __attribute__((noreturn));
static void die(const char *what, DWORD error)
{
    const char *name = NsemErrorName(error), *message = NsemErrorMessage(error);
    alert("FAILED: %s: GetLastError() = %lu %s%s%s", what, (unsigned long)error, name ? name : "",
          message ? ", " : "", message ? message : "");
    exit(2);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---------------------------------------------------------------------------------------------
 * The ledger: a small text file that only the owner of the ledger mutex reads or writes.
 *
 *   counter 7            entries written, as the header claims
 *   last-writer 3        the worker that last rewrote the header
 *   in-use 2             permits held right now, by the workers' own reckoning
 *   max-in-use 3         the most ever held at once
 *   holders 1.3.....     position i shows worker i+1 while it holds a permit
 *   abandoned 0          how many workers got WAIT_ABANDONED on the ledger mutex
 *   --
 *   1 worker 3 round 1   one line per update, numbered from 1
 *   ...
 *
 * An update rewrites the header with counter+1 and then appends its entry line, two separate
 * steps: a writer that dies between them leaves counter = entries + 1 behind.
 * ------------------------------------------------------------------------------------------- */

struct ledger {
    int counter;
    int last_writer;
    int in_use;
    int max_in_use;
    char holders[NWORKERS + 1];
    int abandoned;
    int entries;            /* entry lines in body (counted when read, not stored) */
    char body[LEDGER_MAX];  /* the entry lines */
};

static char ledger_path[PATH_MAX];

/* Reads and parses the ledger. Returns 0, or -1 if it is missing or malformed. */
static int ledger_read(struct ledger *l)
{
    static char buf[LEDGER_MAX];
    int fd = open(ledger_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0 || (size_t)n >= sizeof buf - 1)
        return -1;
    buf[n] = '\0';

    int off = -1;
    if (sscanf(buf, "counter %d last-writer %d in-use %d max-in-use %d holders %8s abandoned %d --%n",
               &l->counter, &l->last_writer, &l->in_use, &l->max_in_use, l->holders, &l->abandoned, &off) != 6 ||
        off < 0 || buf[off] != '\n' || strlen(l->holders) != NWORKERS)
        return -1;
    strcpy(l->body, buf + off + 1);
    l->entries = 0;
    for (const char *p = l->body; *p; p++)
        l->entries += *p == '\n';
    return 0;
}

/* Rewrites the whole ledger (header and entry lines) through a temporary file and rename(), so
 * that a reader never sees half a header. Returns 0 or -1. */
static int ledger_write(const struct ledger *l)
{
    static char buf[LEDGER_MAX + 512];
    char tmp[PATH_MAX + 8];
    int n = snprintf(buf, sizeof buf,
                     "counter %d\nlast-writer %d\nin-use %d\nmax-in-use %d\nholders %s\nabandoned %d\n--\n%s",
                     l->counter, l->last_writer, l->in_use, l->max_in_use, l->holders, l->abandoned, l->body);
    if (n < 0 || (size_t)n >= sizeof buf)
        return -1;
    snprintf(tmp, sizeof tmp, "%s.tmp", ledger_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int ok = write(fd, buf, (size_t)n) == n;
    ok &= close(fd) == 0;
    return ok && rename(tmp, ledger_path) == 0 ? 0 : -1;
}

/* Appends one entry line to the ledger file and to l. Returns 0 or -1. */
static int ledger_append(struct ledger *l, const char *line)
{
    size_t len = strlen(line), used = strlen(l->body);
    if (used + len >= sizeof l->body)
        return -1;
    int fd = open(ledger_path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int ok = write(fd, line, len) == (ssize_t)len;
    ok &= close(fd) == 0;
    memcpy(l->body + used, line, len + 1);
    l->entries++;
    return ok ? 0 : -1;
}

/* "worker 3" or "workers 1 3 6": the holders of a permit. */
static const char *holders_text(const struct ledger *l)
{
    static char buf[64];
    int n = snprintf(buf, sizeof buf, "%s", l->in_use == 1 ? "worker" : "workers");
    for (int i = 0; i < NWORKERS; i++)
        if (l->holders[i] != '.')
            n += snprintf(buf + n, sizeof buf - (size_t)n, " %d", i + 1);
    return buf;
}

/* ---------------------------------------------------------------------------------------------
 * A worker: `nsem-demo --worker N LEDGER T0`.
 * ------------------------------------------------------------------------------------------- */

static int me;                 /* this worker's number, 1..NWORKERS; 0 in the parent */
static HANDLE slots;           /* the semaphore */
static HANDLE ledger_mutex;    /* the mutex */

static void must_write(const struct ledger *l)
{
    if (ledger_write(l) != 0) {
        event("FAILED: cannot write the ledger %s: %s", ledger_path, strerror(errno));
        exit(2);
    }
}

/* Called with the ledger mutex just acquired with WAIT_ABANDONED: its previous owner died while
 * holding it, maybe half-way through an update. Make the ledger consistent again. */
static void repair_ledger(struct ledger *l)
{
    alert("WAIT_ABANDONED on the ledger mutex: its owner died holding it; checking the ledger");
    l->abandoned++;
    if (l->counter == l->entries) {
        alert("ledger is consistent (counter %d = %d entries); nothing to repair", l->counter, l->entries);
        must_write(l);
        return;
    }

    /* The header was rewritten but the entry line never came: the last writer died between the
     * two steps. Roll its update back. */
    int dead = l->last_writer;
    alert("ledger says counter %d but has %d entries: worker %d died mid-update; counter set back to %d",
          l->counter, l->entries, dead, l->entries);
    l->counter = l->entries;
    l->last_writer = me;

    /* The dead worker still held a permit. A semaphore has no owner, so nsem cannot know that the
     * permit was the dead worker's: give it back on its behalf, or the pool stays one short. */
    if (dead >= 1 && dead <= NWORKERS && l->holders[dead - 1] != '.') {
        l->holders[dead - 1] = '.';
        l->in_use--;
        must_write(l);
        LONG prev = -1;
        if (!ReleaseSemaphore(slots, 1, &prev))
            die("ReleaseSemaphore for the dead worker", GetLastError());
        alert("worker %d's permit was never given back; released it on its behalf (%d of %d in use)", dead,
              l->in_use, NPERMITS);
    } else {
        must_write(l);
    }
}

/* Takes the ledger mutex and reads the ledger into l. */
static void lock_ledger(struct ledger *l)
{
    DWORD r = WaitForSingleObject(ledger_mutex, WAIT_MS);
    if (r != WAIT_OBJECT_0 && r != WAIT_ABANDONED)
        die(r == WAIT_TIMEOUT ? "WaitForSingleObject(ledger mutex) timed out" : "WaitForSingleObject(ledger mutex)",
            GetLastError());
    if (ledger_read(l) != 0) {
        event("FAILED: the ledger %s is missing or malformed", ledger_path);
        exit(2);
    }
    if (r == WAIT_ABANDONED)
        repair_ledger(l);
}

static void unlock_ledger(void)
{
    if (!ReleaseMutex(ledger_mutex))
        die("ReleaseMutex(ledger mutex)", GetLastError());
}

static int worker_main(int n, const char *ledger, const char *t0)
{
    static struct ledger l;
    me = n;
    t0_ns = strtoll(t0, NULL, 10);
    snprintf(who, sizeof who, "worker %d", me);
    snprintf(ledger_path, sizeof ledger_path, "%s", ledger);

    /* Open both objects by name: this process inherited no handle from its parent. */
    slots = OpenSemaphoreA(SYNCHRONIZE | SEMAPHORE_MODIFY_STATE, FALSE, SLOTS_NAME);
    if (!slots)
        die("OpenSemaphoreA(\"" SLOTS_NAME "\")", GetLastError());
    ledger_mutex = OpenMutexA(SYNCHRONIZE, FALSE, LEDGER_NAME);
    if (!ledger_mutex)
        die("OpenMutexA(\"" LEDGER_NAME "\")", GetLastError());
    HANDLE victim_event = NULL;
    if (me == VICTIM) {
        victim_event = OpenEventA(EVENT_MODIFY_STATE, FALSE, VICTIM_EVENT_NAME);
        if (!victim_event)
            die("OpenEventA(\"" VICTIM_EVENT_NAME "\")", GetLastError());
    }

    for (int round = 1; round <= ROUNDS; round++) {
        /* 1. Take a permit. Try without waiting first, only to say so when we have to wait. */
        DWORD r = WaitForSingleObject(slots, 0);
        if (r == WAIT_TIMEOUT) {
            event("waits for a permit (all %d taken)", NPERMITS);
            r = WaitForSingleObject(slots, WAIT_MS);
        }
        if (r != WAIT_OBJECT_0)
            die(r == WAIT_TIMEOUT ? "WaitForSingleObject(slots) timed out" : "WaitForSingleObject(slots)",
                GetLastError());

        /* 2. Note in the ledger that we hold a permit. */
        lock_ledger(&l);
        l.holders[me - 1] = (char)('0' + me);
        l.in_use++;
        if (l.in_use > l.max_in_use)
            l.max_in_use = l.in_use;
        l.last_writer = me;
        must_write(&l);
        event("got a permit, round %d (%d of %d in use, by %s)", round, l.in_use, NPERMITS, holders_text(&l));
        unlock_ledger();

        /* 3. The work. */
        sleep_ms(30 + (me * 17 + round * 29) % 50);

        /* 4. The ledger update: read the counter, sleep a little, write counter+1, append. */
        lock_ledger(&l);
        int counter = l.counter;
        sleep_ms(3);
        l.counter = counter + 1;
        l.last_writer = me;
        must_write(&l);
        if (me == VICTIM && round == 1) {
            /* Tell the parent that now is the time, and wait to be killed. */
            alert("holds the ledger mutex mid-update: counter is now %d, entry %d not written yet", counter + 1,
                  counter + 1);
            if (!SetEvent(victim_event))
                die("SetEvent(victim event)", GetLastError());
            sleep_ms(WAIT_MS);
            alert("FAILED: the parent did not kill this worker");
            exit(3);
        }
        char line[64];
        snprintf(line, sizeof line, "%d worker %d round %d\n", counter + 1, me, round);
        if (ledger_append(&l, line) != 0) {
            event("FAILED: cannot append to the ledger: %s", strerror(errno));
            exit(2);
        }

        /* 5. Done with the permit: note it, release the mutex, then the permit. */
        l.holders[me - 1] = '.';
        l.in_use--;
        must_write(&l);
        event("wrote ledger entry %d; gives back its permit (%d of %d in use)", counter + 1, l.in_use, NPERMITS);
        unlock_ledger();
        LONG prev = -1;
        if (!ReleaseSemaphore(slots, 1, &prev))
            die("ReleaseSemaphore(slots)", GetLastError());

        /* 6. A short rest before the next round, so that a waiting worker gets the permit. */
        if (round < ROUNDS)
            sleep_ms(20);
    }

    event("done after %d rounds", ROUNDS);
    if (victim_event)
        CloseHandle(victim_event);
    CloseHandle(ledger_mutex);
    CloseHandle(slots);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * The parent: sets up, starts the workers, kills worker 5 at the right moment, checks.
 * ------------------------------------------------------------------------------------------- */

static char tmpdir[] = "/tmp/nsem-demo-XXXXXX";
static pid_t pids[NWORKERS + 1];
static int status[NWORKERS + 1];
static int reaped[NWORKERS + 1];

/* Removes the temporary directory and what is in it (the ledger, maybe the server's socket). */
static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        char path[PATH_MAX];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(tmpdir);
}

/* Reaps the workers that have ended; with wait_ms > 0, waits up to that long for all of them.
 * Returns the number still running. */
static int reap_workers(int wait_ms)
{
    int64_t deadline = now_ns() + (int64_t)wait_ms * 1000000;
    for (;;) {
        int running = 0;
        for (int i = 1; i <= NWORKERS; i++) {
            if (reaped[i] || pids[i] <= 0)
                continue;
            pid_t p = waitpid(pids[i], &status[i], WNOHANG);
            if (p == pids[i]) {
                reaped[i] = 1;
                if (WIFSIGNALED(status[i]))
                    alert("reaped worker %d: killed by signal %d%s", i, WTERMSIG(status[i]),
                          WTERMSIG(status[i]) == SIGKILL ? " (SIGKILL)" : "");
                else if (WEXITSTATUS(status[i]) != 0)
                    alert("reaped worker %d: exit status %d", i, WEXITSTATUS(status[i]));
            } else {
                running++;
            }
        }
        if (running == 0 || now_ns() >= deadline)
            return running;
        sleep_ms(2);
    }
}

static void kill_workers(void)
{
    for (int i = 1; i <= NWORKERS; i++)
        if (pids[i] > 0 && !reaped[i])
            kill(pids[i], SIGKILL);
    reap_workers(2000);
}

/* Checks the result of a Create* call: a new object, or the end of the demo. */
static HANDLE created(HANDLE h, const char *call)
{
    DWORD err = GetLastError();
    if (!h)
        die(call, err);
    if (err == ERROR_ALREADY_EXISTS) {
        alert("FAILED: %s: the object already exists; is another nsem-demo using this server?", call);
        exit(1);
    }
    return h;
}

static int checks_failed;

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    say("  %-6s %s\n", ok ? "ok" : "FAILED", buf);
    checks_failed += !ok;
}

/* The checks of the summary; each prints one line. */
static void verify(HANDLE hslots, HANDLE hmutex)
{
    /* Read the ledger under its mutex, like everyone else. Normally a worker has already been
     * told of the abandonment; if worker 5 happened to be the last to update the ledger, the
     * parent is its next owner, gets WAIT_ABANDONED and repairs the ledger itself. */
    static struct ledger l;
    slots = hslots;
    ledger_mutex = hmutex;
    lock_ledger(&l);
    unlock_ledger();

    say("\nChecks:\n");

    check(l.max_in_use >= 1 && l.max_in_use <= NPERMITS, "most permits held at once: %d (limit %d)", l.max_in_use,
          NPERMITS);
    check(l.abandoned == 1, "owners told WAIT_ABANDONED: %d (expected exactly 1)", l.abandoned);

    /* The entries must be numbered 1..N in order: two writers inside the mutex at once would
     * have read the same counter and written the same number twice. */
    int per_worker[NWORKERS + 1] = {0};
    int in_order = 1, index = 0;
    for (const char *p = l.body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        int num, w, round;
        index++;
        if (sscanf(p, "%d worker %d round %d", &num, &w, &round) != 3 || num != index || w < 1 || w > NWORKERS)
            in_order = 0;
        else
            per_worker[w]++;
    }
    int expected = (NWORKERS - 1) * ROUNDS, rounds_ok = per_worker[VICTIM] == 0;
    for (int i = 1; i <= NWORKERS; i++)
        if (i != VICTIM && per_worker[i] != ROUNDS)
            rounds_ok = 0;
    check(in_order && rounds_ok && l.entries == expected && l.counter == l.entries,
          "ledger: %d entries numbered 1..%d in order (%d per survivor, none from worker %d), counter %d",
          l.entries, l.entries, ROUNDS, VICTIM, l.counter);

    NSEM_OBJECT_INFO si = {.cbSize = sizeof si}, mi = {.cbSize = sizeof mi};
    int sq = NsemQueryObject(hslots, &si), mq = NsemQueryObject(hmutex, &mi);
    DWORD qerr = GetLastError();
    check(sq && si.lCurrentCount == NPERMITS && l.in_use == 0 && strspn(l.holders, ".") == NWORKERS,
          "semaphore count at the end: %ld of %d (worker %d's lost permit was given back)",
          sq ? (long)si.lCurrentCount : -1L, NPERMITS, VICTIM);
    check(mq && mi.dwOwnerProcessId == 0 && !mi.bAbandoned, "ledger mutex at the end: %s, %s",
          mq && mi.dwOwnerProcessId == 0 ? "free" : "OWNED", mq && !mi.bAbandoned ? "not abandoned" : "ABANDONED");
    if (!sq || !mq)
        say("         NsemQueryObject failed: GetLastError() = %lu\n", (unsigned long)qerr);

    int exits_ok = 1;
    for (int i = 1; i <= NWORKERS; i++) {
        int want_killed = i == VICTIM;
        if (!reaped[i] || (want_killed ? !(WIFSIGNALED(status[i]) && WTERMSIG(status[i]) == SIGKILL)
                                       : !(WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 0)))
            exits_ok = 0;
    }
    check(exits_ok, "worker exits: %d exited with status 0, worker %d was killed by SIGKILL", NWORKERS - 1, VICTIM);
}

static int parent_main(void)
{
    t0_ns = now_ns();

    /* With the output piped into `head`, finish the demo (and clean up) rather than die of
     * SIGPIPE; the workers inherit this across exec. */
    signal(SIGPIPE, SIG_IGN);

    /* A private server, unless the user points us at one, and a directory for the ledger. */
    if (!mkdtemp(tmpdir)) {
        perror("nsem-demo: mkdtemp");
        return 1;
    }
    atexit(remove_tmpdir);
    const char *server = getenv("NSEM_SERVER");
    int private_server = !server || !*server;
    if (private_server) {
        char sock[PATH_MAX];
        snprintf(sock, sizeof sock, "%s/nsemd.sock", tmpdir);
        setenv("NSEM_SERVER", sock, 1);
        setenv("NSEMD_GRACE_MS", "1000", 1);
    }
    server = getenv("NSEM_SERVER");
    snprintf(ledger_path, sizeof ledger_path, "%s/ledger", tmpdir);

    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) {
        perror("nsem-demo: readlink /proc/self/exe");
        return 1;
    }
    self[len] = '\0';

    say("nsem demo: %d worker processes share %d permits and one ledger file.\n"
        "  semaphore \"%s\" (%d permits): at most %d workers work at a time\n"
        "  mutex     \"%s\": one writer at a time for the ledger %s\n"
        "  Each worker runs %d rounds: permit -> work -> ledger update under the mutex -> release.\n"
        "  Worker %d is killed (SIGKILL) while it holds the mutex; the next owner gets WAIT_ABANDONED.\n"
        "  Lines marked !! tell the crash and the recovery.\n"
        "  nsem server: %s\n\n"
        "     time    who        what\n",
        NWORKERS, NPERMITS, SLOTS_NAME, NPERMITS, NPERMITS, LEDGER_NAME, ledger_path, ROUNDS, VICTIM, server);

    static struct ledger l0 = {.holders = "........"};
    if (ledger_write(&l0) != 0) {
        perror("nsem-demo: cannot create the ledger");
        return 1;
    }

    /* The objects. The first nsem call starts the server if none is running. */
    HANDLE hslots = created(CreateSemaphoreA(NULL, NPERMITS, NPERMITS, SLOTS_NAME), "CreateSemaphoreA");
    HANDLE hmutex = created(CreateMutexA(NULL, FALSE, LEDGER_NAME), "CreateMutexA");
    HANDLE hevent = created(CreateEventA(NULL, TRUE, FALSE, VICTIM_EVENT_NAME), "CreateEventA");
    event("created the semaphore, %d of %d permits free%s", NPERMITS, NPERMITS,
          private_server ? " (this first nsem call started a private nsemd)" : "");
    event("created the ledger mutex, and the event \"%s\" for worker %d", VICTIM_EVENT_NAME, VICTIM);

    /* The workers: fork + exec of this program, so each opens the objects by name. */
    char t0buf[32];
    snprintf(t0buf, sizeof t0buf, "%lld", (long long)t0_ns);
    for (int i = 1; i <= NWORKERS; i++) {
        char nbuf[16];
        snprintf(nbuf, sizeof nbuf, "%d", i);
        pids[i] = fork();
        if (pids[i] == 0) {
            execl(self, self, "--worker", nbuf, ledger_path, t0buf, (char *)NULL);
            _exit(127);
        }
        if (pids[i] < 0) {
            event("FAILED: fork: %s", strerror(errno));
            kill_workers();
            return 1;
        }
    }
    event("started workers 1-%d (pids %d-%d)", NWORKERS, (int)pids[1], (int)pids[NWORKERS]);

    /* Wait for worker 5 to say that it holds the mutex, then kill it. */
    DWORD r = WAIT_TIMEOUT;
    for (int waited = 0; waited < WAIT_MS && r == WAIT_TIMEOUT; waited += 50) {
        r = WaitForSingleObject(hevent, 50);
        reap_workers(0);
        if (reaped[VICTIM])
            break;
    }
    if (r == WAIT_OBJECT_0) {
        /* Say it first: the next owner of the mutex may report before kill() returns. */
        alert("SIGKILL worker %d (pid %d), which holds the ledger mutex", VICTIM, (int)pids[VICTIM]);
        kill(pids[VICTIM], SIGKILL);
    } else {
        event("FAILED: worker %d never said it holds the mutex (wait result %#lx, GetLastError() = %lu)", VICTIM,
              (unsigned long)r, (unsigned long)GetLastError());
    }

    if (reap_workers(WAIT_MS + 2000) > 0) {
        event("FAILED: workers still running; killing them");
        kill_workers();
    }
    event("all workers have ended");

    verify(hslots, hmutex);
    if (r != WAIT_OBJECT_0)
        checks_failed++;

    CloseHandle(hevent);
    CloseHandle(hmutex);
    CloseHandle(hslots);

    say("\n%s (%.2f s)\n", checks_failed ? "Some checks FAILED." : "All checks passed.",
        (double)(now_ns() - t0_ns) / 1e9);
    return checks_failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--worker") == 0) {
        int n = atoi(argv[2]);
        if (n >= 1 && n <= NWORKERS)
            return worker_main(n, argv[3], argv[4]);
    }
    if (argc != 1) {
        fprintf(stderr, "usage: %s\n(the --worker form is for the demo's own worker processes)\n", argv[0]);
        return 2;
    }
    return parent_main();
}

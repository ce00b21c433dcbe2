/*
 * nsem.c — the nsem command.
 *
 *   nsem run NAME [-c PERMITS] [--exclusive] [--undo] [-w TIMEOUT_MS] -- CMD [ARG...]
 *       Runs CMD holding one permit of the named semaphore NAME (created with PERMITS permits,
 *       default 1, if it does not exist; --exclusive: an exclusive semaphore; --undo: an undo
 *       semaphore, whose permit comes back even if nsem itself is killed), and gives the permit
 *       back when CMD ends. Exit status: CMD's; 128+N if CMD was killed by signal N; 124 on
 *       timeout; 125 on an nsem error; 127 if CMD cannot be run.
 *   nsem wait NAME [-w TIMEOUT_MS] | release NAME [-n COUNT] | set NAME | reset NAME
 *       For scripts: acquire (and keep, until this process exits: a mutex is then abandoned),
 *       release, set or reset the existing object NAME. 0 on success, 124 on timeout, 1 if there is
 *       no such object, 125 on another error.
 *   nsem create NAME [--semaphore -c INITIAL -m MAX [--exclusive|--undo] | --mutex | --event
 *               [--manual] [--set]]  /  nsem open NAME  /  nsem close NAME
 *       For scripts: an object lives while a handle is open, so create leaves a holder process
 *       that keeps one until "nsem close NAME" ends it; open says whether NAME exists.
 *   nsem repair [--yes] NAME
 *       A semaphore left short of permits by a process that died holding them: shows the change
 *       and, once confirmed, gives the missing permits back.
 *   nsem info [--json] NAME
 *       Shows the type and state of the object NAME and the processes holding handles to it.
 *       Exit status 0, or 1 if there is none.
 *   nsem ls [--json] [--all] [PREFIX]
 *       Lists the objects (whose full name starts with PREFIX) as a tree of namespaces: Global\,
 *       Local\ (this session) and Session\<n>\; --all adds anonymous objects.
 *
 * Errors print the Windows error name and number and what to do.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <nsem.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_TIMEOUT 124
#define EXIT_NSEM_ERROR 125
#define EXIT_CANNOT_RUN 127

static void usage(FILE *f)
{
    fprintf(f, "usage: nsem run NAME [-c PERMITS] [--exclusive] [--undo] [-w TIMEOUT_MS] -- CMD [ARG...]\n"
               "       nsem wait NAME [-w TIMEOUT_MS]\n"
               "       nsem release NAME [-n COUNT]\n"
               "       nsem set NAME | nsem reset NAME\n"
               "       nsem create NAME [--semaphore [-c INITIAL] [-m MAX] [--exclusive|--undo] |\n"
               "                         --mutex | --event [--manual] [--set]]\n"
               "       nsem open NAME | nsem close NAME\n"
               "       nsem repair [--yes] NAME\n"
               "       nsem info [--json] NAME\n"
               "       nsem ls [--json] [--all] [PREFIX]\n"
               "       nsem stats [--json]\n"
               "       nsem --help\n"
               "\n"
               "run   runs CMD holding one permit of the named semaphore NAME, created with\n"
               "      PERMITS permits (default 1) if it does not exist (--exclusive: exclusive;\n"
               "      --undo: the permit comes back even if nsem is killed); exits with CMD's\n"
               "      status, 124 on timeout, 125 on an nsem error, 127 if CMD cannot be run.\n"
               "wait, release, set, reset   one operation on the existing object NAME.\n"
               "create  creates NAME (a semaphore by default) and leaves a holder process that keeps\n"
               "        it until \"nsem close NAME\"; open exits 0 if NAME exists, 1 if not.\n"
               "repair  gives back the permits a dead process never returned to a semaphore.\n"
               "info  shows the type, count, owner, holders and waiters of the object NAME.\n"
               "ls    lists the objects as a tree of namespaces, with type, count, owner, handles\n"
               "      and waiters; PREFIX keeps those whose full name starts with it.\n"
               "stats what the server holds: objects, handles, processes, memory.\n"
               "\n"
               "Names: \"name\" or \"Local\\\\name\" (this session), \"Global\\\\name\" (all sessions).\n");
}

/* Prints a Windows error as "nsem: WHAT: ERROR_NAME (N): message" and a hint. */
static void report(const char *what, DWORD code)
{
    const char *name = NsemErrorName(code);
    const char *msg = NsemErrorMessage(code);
    fprintf(stderr, "nsem: %s: %s (%u): %s\n", what, name ? name : "error", code, msg ? msg : "");
    switch (code) {
    case ERROR_INVALID_HANDLE:
        fprintf(stderr, "nsem: the name is taken by an object of another type, or is a namespace; choose another name\n");
        break;
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_NAME:
    case ERROR_BAD_PATHNAME:
        fprintf(stderr, "nsem: a name may not contain '\\' except after the prefix Global\\ or Local\\\n");
        break;
    case ERROR_SERVICE_NOT_ACTIVE:
        fprintf(stderr, "nsem: the nsem server could not be started; is nsemd installed next to nsem?\n");
        break;
    case ERROR_PROCESS_ABORTED:
        fprintf(stderr, "nsem: the nsem server died (was it killed?) while this call waited; a new server "
                        "recovers the objects that live processes hold, so the call may simply be repeated\n");
        break;
    case ERROR_ACCESS_DENIED:
        fprintf(stderr, "nsem: check that your runtime directory is yours and private (mode 0700)\n");
        break;
    default:
        break;
    }
}

static long parse_number(const char *s, const char *what, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < min || v > max) {
        fprintf(stderr, "nsem: %s must be a number from %ld to %ld, not \"%s\"\n", what, min, max, s);
        exit(EXIT_NSEM_ERROR);
    }
    return v;
}

static int cmd_run(int argc, char **argv)
{
    long permits = 1, timeout = -1;
    DWORD flags = 0;
    const char *name = NULL;
    int opt;
    static const struct option longs[] = {{"exclusive", no_argument, NULL, 'x'},
                                          {"undo", no_argument, NULL, 'u'},
                                          {NULL, 0, NULL, 0}};
    optind = 1;
    /* Options may come before or after NAME; "--" or the first word after NAME starts CMD. */
    for (;;) {
        while ((opt = getopt_long(argc, argv, "+c:w:", longs, NULL)) != -1) {
            if (opt == 'c') permits = parse_number(optarg, "PERMITS", 1, 0x7FFFFFFF);
            else if (opt == 'w') timeout = parse_number(optarg, "TIMEOUT_MS", 0, 0x7FFFFFFE);
            else if (opt == 'x') flags |= SEMAPHORE_EXCLUSIVE;
            else if (opt == 'u') flags |= SEMAPHORE_UNDO;
            else return usage(stderr), EXIT_NSEM_ERROR;
        }
        if (name || optind >= argc || strcmp(argv[optind - 1], "--") == 0) break;
        name = argv[optind++];
    }
    if (!name || optind >= argc) return usage(stderr), EXIT_NSEM_ERROR;

    if ((flags & SEMAPHORE_EXCLUSIVE) && permits != 1) {
        fprintf(stderr, "nsem: an exclusive semaphore has one permit: drop -c or --exclusive\n");
        return EXIT_NSEM_ERROR;
    }
    HANDLE sem = CreateSemaphoreExA(NULL, (LONG)permits, (LONG)permits, name, flags, SEMAPHORE_ALL_ACCESS);
    if (!sem) {
        report(name, GetLastError());
        return EXIT_NSEM_ERROR;
    }
    DWORD r = WaitForSingleObject(sem, timeout < 0 ? INFINITE : (DWORD)timeout);
    if (r == WAIT_TIMEOUT) {
        fprintf(stderr, "nsem: %s: no permit within %ld ms\n", name, timeout);
        return EXIT_TIMEOUT;
    }
    if (r != WAIT_OBJECT_0) {
        report(name, GetLastError());
        return EXIT_NSEM_ERROR;
    }
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[optind], argv + optind);
        fprintf(stderr, "nsem: cannot run %s: %s\n", argv[optind], strerror(errno));
        _exit(EXIT_CANNOT_RUN);
    }
    /* While CMD runs, a terminal's ^C reaches it; we wait and give the permit back. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    int status = 0;
    if (pid < 0) status = EXIT_CANNOT_RUN << 8;
    else
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    if (!ReleaseSemaphore(sem, 1, NULL)) report(name, GetLastError());
    CloseHandle(sem);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static const char *type_name(const NSEM_OBJECT_INFO *info)
{
    switch (info->dwType) {
    case NSEM_TYPE_SEMAPHORE:
        return (info->dwFlags & NSEM_INFO_EXCLUSIVE) ? "exclusive semaphore" : "semaphore";
    case NSEM_TYPE_MUTEX:
        return "mutex";
    case NSEM_TYPE_EVENT:
        return "event";
    case NSEM_TYPE_PROCESS:
        return "process";
    default:
        return "private namespace";
    }
}

/* The command line of a process, arguments joined by spaces ("" if it cannot be read). */
static void command_line(DWORD pid, char *out, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%u/cmdline", pid);
    out[0] = 0;
    FILE *f = pid ? fopen(path, "r") : NULL;
    if (!f) return;
    size_t n = fread(out, 1, size - 1, f);
    fclose(f);
    out[n] = 0;
    for (size_t i = 0; n && i < n - 1; i++)
        if (!out[i]) out[i] = ' ';
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
        else putchar(*s);
    }
    putchar('"');
}

static int cmd_info(int argc, char **argv)
{
    int json = 0;
    int i = 1;
    if (i < argc && strcmp(argv[i], "--json") == 0) json = 1, i++;
    if (i != argc - 1) return usage(stderr), EXIT_NSEM_ERROR;
    const char *name = argv[i];
    /* The name belongs to one type; try each, with the query right of each. */
    HANDLE h = OpenSemaphoreA(SEMAPHORE_QUERY_STATE, FALSE, name);
    if (!h && GetLastError() == ERROR_INVALID_HANDLE) h = OpenMutexA(MUTANT_QUERY_STATE, FALSE, name);
    if (!h && GetLastError() == ERROR_INVALID_HANDLE) h = OpenEventA(EVENT_QUERY_STATE, FALSE, name);
    if (!h) {
        DWORD e = GetLastError();
        if (e == ERROR_FILE_NOT_FOUND) {
            if (json) printf("null\n");
            else fprintf(stderr, "nsem: %s: no such object\n", name);
            return 1;
        }
        report(name, e);
        return EXIT_NSEM_ERROR;
    }
    NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
    if (!NsemQueryObject(h, &info)) {
        report(name, GetLastError());
        return EXIT_NSEM_ERROR;
    }
    /* Our own handle is one of those counted. */
    DWORD others = info.dwHandleCount - 1;
    char cmd[1024];
    command_line(info.dwOwnerProcessId, cmd, sizeof cmd);
    /* The other processes holding handles (this one holds one only to look). */
    DWORD pids[256], npids = 0, holders = 0;
    if (!NsemGetObjectHolders(h, pids, 256, &npids) && GetLastError() != ERROR_INSUFFICIENT_BUFFER) npids = 0;
    if (npids > 256) npids = 256;
    for (DWORD k = 0; k < npids; k++)
        if (pids[k] != GetCurrentProcessId()) pids[holders++] = pids[k];
    if (json) {
        printf("{\"name\":");
        json_string(name);
        printf(",\"type\":\"%s\",\"count\":%d,\"maximum\":%d,\"owner_pid\":%u,\"owner_tid\":%u,"
               "\"owner_command\":",
               type_name(&info), info.lCurrentCount, info.lMaximumCount, info.dwOwnerProcessId, info.dwOwnerThreadId);
        json_string(cmd);
        printf(",\"recursion\":%u,\"abandoned\":%s,\"last_owner_pid\":%u,\"handles\":%u,\"waiters\":%u,"
               "\"holders\":[",
               info.dwRecursionCount, info.bAbandoned ? "true" : "false", info.dwLastOwnerProcessId, others,
               info.dwWaiterCount);
        for (DWORD k = 0; k < holders; k++) {
            char hc[1024];
            command_line(pids[k], hc, sizeof hc);
            printf("%s{\"pid\":%u,\"command\":", k ? "," : "", pids[k]);
            json_string(hc);
            putchar('}');
        }
        printf("]}\n");
    } else {
        printf("%s: %s", name, type_name(&info));
        bool owned_type = info.dwType == NSEM_TYPE_MUTEX || (info.dwFlags & NSEM_INFO_EXCLUSIVE);
        if (info.dwType == NSEM_TYPE_SEMAPHORE && !owned_type)
            printf(", count %d of %d", info.lCurrentCount, info.lMaximumCount);
        if (info.dwType == NSEM_TYPE_EVENT)
            printf(", %s, %s", (info.dwFlags & NSEM_INFO_MANUAL_RESET) ? "manual reset" : "auto reset",
                   info.lCurrentCount ? "set" : "not set");
        if (owned_type) {
            if (info.dwOwnerProcessId)
                printf(", owned by pid %u thread %u (recursion %u)%s%s", info.dwOwnerProcessId, info.dwOwnerThreadId,
                       info.dwRecursionCount, cmd[0] ? ": " : "", cmd);
            else
                printf(", free");
            if (info.bAbandoned) printf(", abandoned by pid %u", info.dwLastOwnerProcessId);
        }
        printf(", %u handle%s, %u waiter%s\n", others, others == 1 ? "" : "s", info.dwWaiterCount,
               info.dwWaiterCount == 1 ? "" : "s");
        for (DWORD k = 0; k < holders; k++) {
            char hc[1024];
            command_line(pids[k], hc, sizeof hc);
            printf("  held by pid %u%s%s\n", pids[k], hc[0] ? ": " : "", hc);
        }
    }
    CloseHandle(h);
    return 0;
}

/* ---- one operation on an existing object ---- */

/* Opens NAME, whatever its type; NULL (reported) if it cannot. *type is NSEM_TYPE_*. */
static HANDLE open_any(const char *name, DWORD *type, int *status)
{
    HANDLE h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, name);
    *type = NSEM_TYPE_SEMAPHORE;
    if (!h && GetLastError() == ERROR_INVALID_HANDLE) {
        h = OpenMutexA(MUTEX_ALL_ACCESS, FALSE, name);
        *type = NSEM_TYPE_MUTEX;
    }
    if (!h && GetLastError() == ERROR_INVALID_HANDLE) {
        h = OpenEventA(EVENT_ALL_ACCESS, FALSE, name);
        *type = NSEM_TYPE_EVENT;
    }
    if (!h) {
        DWORD e = GetLastError();
        if (e == ERROR_FILE_NOT_FOUND) fprintf(stderr, "nsem: %s: no such object\n", name);
        else report(name, e);
        *status = e == ERROR_FILE_NOT_FOUND ? 1 : EXIT_NSEM_ERROR;
    }
    return h;
}

static int cmd_op(int argc, char **argv)
{
    const char *op = argv[0];
    long timeout = -1, count = 1;
    int opt;
    optind = 1;
    while ((opt = getopt(argc, argv, "w:n:")) != -1) {
        if (opt == 'w' && strcmp(op, "wait") == 0) timeout = parse_number(optarg, "TIMEOUT_MS", 0, 0x7FFFFFFE);
        else if (opt == 'n' && strcmp(op, "release") == 0) count = parse_number(optarg, "COUNT", 1, 0x7FFFFFFF);
        else return usage(stderr), EXIT_NSEM_ERROR;
    }
    if (optind != argc - 1) return usage(stderr), EXIT_NSEM_ERROR;
    const char *name = argv[optind];
    DWORD type;
    int status = 0;
    HANDLE h = open_any(name, &type, &status);
    if (!h) return status;
    BOOL ok;
    if (strcmp(op, "wait") == 0) {
        DWORD r = WaitForSingleObject(h, timeout < 0 ? INFINITE : (DWORD)timeout);
        if (r == WAIT_TIMEOUT) {
            fprintf(stderr, "nsem: %s: not signalled within %ld ms\n", name, timeout);
            return EXIT_TIMEOUT;
        }
        if (r == WAIT_ABANDONED_0) fprintf(stderr, "nsem: %s: its previous owner died (WAIT_ABANDONED)\n", name);
        ok = r != WAIT_FAILED;
    } else if (strcmp(op, "release") == 0) {
        ok = type == NSEM_TYPE_MUTEX ? ReleaseMutex(h) : ReleaseSemaphore(h, (LONG)count, NULL);
    } else if (strcmp(op, "set") == 0) {
        ok = SetEvent(h);
    } else {
        ok = ResetEvent(h);
    }
    if (!ok) {
        report(name, GetLastError());
        return EXIT_NSEM_ERROR;
    }
    return 0;
}

static int cmd_repair(int argc, char **argv)
{
    int yes = 0, i = 1;
    if (i < argc && strcmp(argv[i], "--yes") == 0) yes = 1, i++;
    if (i != argc - 1) return usage(stderr), EXIT_NSEM_ERROR;
    const char *name = argv[i];
    DWORD type;
    int status = 0;
    HANDLE h = open_any(name, &type, &status);
    if (!h) return status;
    NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
    if (!NsemQueryObject(h, &info)) {
        report(name, GetLastError());
        return EXIT_NSEM_ERROR;
    }
    if (type != NSEM_TYPE_SEMAPHORE || (info.dwFlags & NSEM_INFO_EXCLUSIVE)) {
        printf("%s: nothing to repair: a %s's owner is released by nsem itself when it dies\n", name,
               type_name(&info));
        return 0;
    }
    LONG missing = info.lMaximumCount - info.lCurrentCount;
    if (missing == 0) {
        printf("%s: nothing to repair: all %d permits are free\n", name, info.lMaximumCount);
        return 0;
    }
    printf("%s: %d of %d permits free; repair gives back the %d missing.\n"
           "Only do this if no live process holds them (a live holder would later release too many).\n",
           name, info.lCurrentCount, info.lMaximumCount, missing);
    if (!yes) {
        printf("Repair? [y/N] ");
        fflush(stdout);
        char answer[16] = "";
        if (!fgets(answer, sizeof answer, stdin) || (answer[0] != 'y' && answer[0] != 'Y')) {
            printf("not repaired\n");
            return 1;
        }
    }
    /* Count what is free now, not what was: permits released meanwhile are not given twice. */
    if (!NsemQueryObject(h, &info)) return report(name, GetLastError()), EXIT_NSEM_ERROR;
    missing = info.lMaximumCount - info.lCurrentCount;
    if (missing > 0 && !ReleaseSemaphore(h, missing, NULL) && GetLastError() != ERROR_TOO_MANY_POSTS) {
        report(name, GetLastError());
        return EXIT_NSEM_ERROR;
    }
    printf("%s: repaired: %d of %d permits free\n", name, info.lMaximumCount, info.lMaximumCount);
    return 0;
}

/* ---- create, open, close: objects that outlive a script's commands ---- */

static int cmd_create(int argc, char **argv)
{
    enum { SEM, MUTEX, EVENT } type = SEM;
    long initial = 1, max = 1;
    DWORD flags = 0;
    bool manual = false, set = false, max_given = false;
    static const struct option longs[] = {
        {"semaphore", no_argument, NULL, 'S'}, {"mutex", no_argument, NULL, 'M'}, {"event", no_argument, NULL, 'E'},
        {"manual", no_argument, NULL, 'a'},    {"set", no_argument, NULL, 's'},   {"exclusive", no_argument, NULL, 'x'},
        {"undo", no_argument, NULL, 'u'},      {NULL, 0, NULL, 0}};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:m:", longs, NULL)) != -1) {
        switch (opt) {
        case 'S': type = SEM; break;
        case 'M': type = MUTEX; break;
        case 'E': type = EVENT; break;
        case 'a': manual = true; break;
        case 's': set = true; break;
        case 'x': flags |= SEMAPHORE_EXCLUSIVE; break;
        case 'u': flags |= SEMAPHORE_UNDO; break;
        case 'c': initial = parse_number(optarg, "INITIAL", 0, 0x7FFFFFFF); break;
        case 'm': max = parse_number(optarg, "MAX", 1, 0x7FFFFFFF), max_given = true; break;
        default: return usage(stderr), EXIT_NSEM_ERROR;
        }
    }
    if (optind != argc - 1) return usage(stderr), EXIT_NSEM_ERROR;
    const char *name = argv[optind];
    if (type == SEM && !max_given && initial > max) max = initial;
    HANDLE h = type == SEM     ? CreateSemaphoreExA(NULL, (LONG)initial, (LONG)max, name, flags, SEMAPHORE_ALL_ACCESS)
               : type == MUTEX ? CreateMutexA(NULL, FALSE, name)
                               : CreateEventA(NULL, manual, set, name);
    if (!h) {
        report(name, GetLastError());
        return EXIT_NSEM_ERROR;
    }
    if (GetLastError() == ERROR_ALREADY_EXISTS) {
        printf("%s: already exists (its counts are unchanged)\n", name);
        return 0;
    }
    /* The holder: a child (it inherits the handle at fork), detached, that keeps the object until
     * nsem close sends it SIGTERM. */
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "nsem: cannot start a holder: %s\n", strerror(errno));
        return EXIT_NSEM_ERROR;
    }
    if (pid == 0) {
        setsid();
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0), dup2(null, 1), dup2(null, 2);
            if (null > 2) close(null);
        }
        signal(SIGHUP, SIG_IGN);
        for (;;) pause(); /* SIGTERM ends it, and the object with its last handle */
    }
    printf("%s: created; held by process %d until \"nsem close %s\"\n", name, (int)pid, name);
    return 0;
}

/* Whether pid is a holder left by "nsem create NAME". */
static bool is_holder_of(DWORD pid, const char *name)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%u/cmdline", pid);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* argv as typed (getopt reorders only the pointers): nsem, create, then NAME among options */
    bool create = false;
    for (size_t i = 0; i < n; i += strlen(buf + i) + 1) {
        if (create && strcmp(buf + i, name) == 0) return true;
        if (strcmp(buf + i, "create") == 0) create = true;
    }
    return false;
}

static int cmd_close(int argc, char **argv)
{
    if (argc != 2) return usage(stderr), EXIT_NSEM_ERROR;
    const char *name = argv[1];
    DWORD type;
    int status = 0;
    HANDLE h = open_any(name, &type, &status);
    if (!h) return status;
    DWORD pids[1024], n = 0, ended = 0;
    if (!NsemGetObjectHolders(h, pids, 1024, &n) && GetLastError() != ERROR_INSUFFICIENT_BUFFER) {
        report(name, GetLastError());
        return EXIT_NSEM_ERROR;
    }
    for (DWORD i = 0; i < n && i < 1024; i++)
        if (pids[i] != GetCurrentProcessId() && is_holder_of(pids[i], name) && kill((pid_t)pids[i], SIGTERM) == 0)
            ended++;
    CloseHandle(h);
    if (!ended) {
        fprintf(stderr, "nsem: %s: no holder left by \"nsem create\"; its other holders keep it\n", name);
        return 1;
    }
    return 0;
}

static int cmd_open(int argc, char **argv)
{
    if (argc != 2) return usage(stderr), EXIT_NSEM_ERROR;
    DWORD type;
    int status = 0;
    HANDLE h = open_any(argv[1], &type, &status);
    if (!h) return status;
    CloseHandle(h);
    return 0;
}

/* ---- ls ---- */

struct ls_entry {
    char *path; /* full name: Global\x, Local\x, Session\<n>\x, or "" anonymous */
    NSEM_OBJECT_INFO info;
};

struct ls_state {
    struct ls_entry *v;
    size_t n, cap;
    DWORD my_session;
    const char *prefix;
    int all;
};

static BOOL ls_collect(const NSEM_OBJECT_INFO *info, DWORD session, LPCSTR name, LPVOID ctx)
{
    struct ls_state *st = ctx;
    char *path;
    int r;
    if (!name[0]) r = asprintf(&path, "%s", "");
    else if (session == 0) r = asprintf(&path, "Global\\%s", name);
    else if (session == st->my_session) r = asprintf(&path, "Local\\%s", name);
    else if (session >= 0x80000000u) r = asprintf(&path, "Private\\%u\\%s", session - 0x80000000u, name);
    else r = asprintf(&path, "Session\\%u\\%s", session, name);
    if (r < 0) return FALSE;
    bool keep = name[0] ? (!st->prefix || strncmp(path, st->prefix, strlen(st->prefix)) == 0) : st->all && !st->prefix;
    if (keep && st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 64;
        struct ls_entry *nv = realloc(st->v, st->cap * sizeof *nv);
        if (!nv) return FALSE;
        st->v = nv;
    }
    if (!keep) {
        free(path);
        return TRUE;
    }
    st->v[st->n++] = (struct ls_entry){path, *info};
    return TRUE;
}

static int ls_order(const void *a, const void *b)
{
    return strcmp(((const struct ls_entry *)a)->path, ((const struct ls_entry *)b)->path);
}

/* "semaphore 2/4", "mutex owned by 12/13", "event set" */
static void ls_state_text(const NSEM_OBJECT_INFO *i, char *out, size_t size)
{
    bool owned_type = i->dwType == NSEM_TYPE_MUTEX || (i->dwFlags & NSEM_INFO_EXCLUSIVE);
    if (owned_type && i->dwOwnerProcessId)
        snprintf(out, size, "%s owned by %u/%u", type_name(i), i->dwOwnerProcessId, i->dwOwnerThreadId);
    else if (owned_type)
        snprintf(out, size, "%s %s", type_name(i), i->bAbandoned ? "abandoned" : "free");
    else if (i->dwType == NSEM_TYPE_SEMAPHORE)
        snprintf(out, size, "%s%s %d/%d", type_name(i), (i->dwFlags & NSEM_INFO_UNDO) ? " (undo)" : "",
                 i->lCurrentCount, i->lMaximumCount);
    else
        snprintf(out, size, "event %s%s", i->lCurrentCount ? "set" : "not set",
                 (i->dwFlags & NSEM_INFO_MANUAL_RESET) ? " (manual)" : "");
}

static int cmd_ls(int argc, char **argv)
{
    struct ls_state st = {.my_session = NsemGetSessionId()};
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--all") == 0) st.all = 1;
        else if (!st.prefix && argv[i][0] != '-') st.prefix = argv[i];
        else return usage(stderr), EXIT_NSEM_ERROR;
    }
    if (!NsemEnumObjects(ls_collect, &st)) {
        report("ls", GetLastError());
        return EXIT_NSEM_ERROR;
    }
    qsort(st.v, st.n, sizeof *st.v, ls_order);
    if (json) printf("[");
    const char *dir = NULL;
    size_t dir_len = 0;
    for (size_t k = 0; k < st.n; k++) {
        struct ls_entry *e = &st.v[k];
        const NSEM_OBJECT_INFO *i = &e->info;
        if (json) {
            printf("%s{\"name\":", k ? "," : "");
            json_string(e->path);
            printf(",\"type\":\"%s\",\"count\":%d,\"maximum\":%d,\"owner_pid\":%u,\"owner_tid\":%u,"
                   "\"abandoned\":%s,\"handles\":%u,\"waiters\":%u}",
                   type_name(i), i->lCurrentCount, i->lMaximumCount, i->dwOwnerProcessId, i->dwOwnerThreadId,
                   i->bAbandoned ? "true" : "false", i->dwHandleCount, i->dwWaiterCount);
            continue;
        }
        /* the namespace: everything up to the last backslash */
        const char *slash = strrchr(e->path, '\\');
        size_t len = slash ? (size_t)(slash - e->path + 1) : 0;
        if (!dir || len != dir_len || strncmp(dir, e->path, len) != 0) {
            if (len) printf("%.*s\n", (int)len, e->path);
            else printf("(anonymous)\n");
            dir = e->path;
            dir_len = len;
        }
        char state[160];
        ls_state_text(i, state, sizeof state);
        printf("  %-32s %-36s %u handle%s, %u waiter%s\n", len ? e->path + len : "-", state, i->dwHandleCount,
               i->dwHandleCount == 1 ? "" : "s", i->dwWaiterCount, i->dwWaiterCount == 1 ? "" : "s");
    }
    if (json) printf("]\n");
    else if (st.n == 0) printf("no objects\n");
    for (size_t k = 0; k < st.n; k++) free(st.v[k].path);
    free(st.v);
    return 0;
}

static int cmd_stats(int argc, char **argv)
{
    int json = argc == 2 && strcmp(argv[1], "--json") == 0;
    if (argc > 2 || (argc == 2 && !json)) return usage(stderr), EXIT_NSEM_ERROR;
    NSEM_SERVER_STATS st = {.cbSize = sizeof st};
    if (!NsemGetServerStats(&st)) {
        report("stats", GetLastError());
        return EXIT_NSEM_ERROR;
    }
    if (json) {
        printf("{\"server_pid\":%u,\"objects\":%u,\"handles\":%u,\"pins\":%u,\"clients\":%u,\"records\":%u,"
               "\"undo_records\":%u,\"tickets\":%u,\"cleanups\":%u,\"arena_slots\":%u,\"heap_bytes\":%llu}\n",
               st.dwServerProcessId, st.dwObjects, st.dwHandles, st.dwPins, st.dwClients, st.dwRecords,
               st.dwUndoRecords, st.dwTickets, st.dwCleanups, st.dwArenaSlots, (unsigned long long)st.ullHeapBytes);
        return 0;
    }
    printf("server pid      %u\n"
           "objects         %u\n"
           "handles         %u\n"
           "pins            %u\n"
           "processes       %u connected (this one included), %u holding handles without a connection\n"
           "undo records    %u\n"
           "fork tickets    %u\n"
           "cleanups        %u waiting\n"
           "arena slots     %u (64 bytes each)\n"
           "heap            %llu bytes\n",
           st.dwServerProcessId, st.dwObjects, st.dwHandles, st.dwPins, st.dwClients, st.dwRecords, st.dwUndoRecords,
           st.dwTickets, st.dwCleanups, st.dwArenaSlots, (unsigned long long)st.ullHeapBytes);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage(stderr), EXIT_NSEM_ERROR;
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) return usage(stdout), 0;
    if (strcmp(argv[1], "run") == 0) return cmd_run(argc - 1, argv + 1);
    if (strcmp(argv[1], "info") == 0) return cmd_info(argc - 1, argv + 1);
    if (strcmp(argv[1], "ls") == 0) return cmd_ls(argc - 1, argv + 1);
    if (strcmp(argv[1], "stats") == 0) return cmd_stats(argc - 1, argv + 1);
    if (strcmp(argv[1], "repair") == 0) return cmd_repair(argc - 1, argv + 1);
    if (strcmp(argv[1], "create") == 0) return cmd_create(argc - 1, argv + 1);
    if (strcmp(argv[1], "open") == 0) return cmd_open(argc - 1, argv + 1);
    if (strcmp(argv[1], "close") == 0) return cmd_close(argc - 1, argv + 1);
    if (!strcmp(argv[1], "wait") || !strcmp(argv[1], "release") || !strcmp(argv[1], "set") || !strcmp(argv[1], "reset"))
        return cmd_op(argc - 1, argv + 1);
    fprintf(stderr, "nsem: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return EXIT_NSEM_ERROR;
}

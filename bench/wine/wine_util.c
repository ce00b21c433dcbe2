/* wine_util.c — the shared helpers of the Win32 benchmarks (see wine_util.h). */
#include "wine_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool quick;
static HANDLE job; /* partners live in it; closing it (at our exit) kills them */

/* ---- setup ---------------------------------------------------------------------------------- */

void wb_init(int argc, char **argv, const char *what)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else {
            fprintf(stderr, "%s — %s\nusage: %s [--quick]\n", argv[0], what, argv[0]);
            exit(strcmp(argv[i], "--help") == 0 ? 0 : 2);
        }
    }
    setvbuf(stdout, NULL, _IONBF, 0); /* a partner's crash must not lose lines already printed */
    /* ntdll exports wine_get_version under Wine only: it tells which Wine ran the numbers. */
    typedef const char *(*version_fn)(void);
    HMODULE ntdll = GetModuleHandleA("ntdll.dll");
    version_fn version = ntdll ? (version_fn)(void (*)(void))GetProcAddress(ntdll, "wine_get_version") : NULL;
    printf("# %s\n# wine %s%s\n", what, version ? version() : "(not Wine)", quick ? "; --quick: a tenth of the work" : "");
}

long wb_scaled(long n)
{
    return quick ? (n / 10 > 0 ? n / 10 : 1) : n;
}

const char *wb_name(char *buf, size_t size, const char *prefix)
{
    snprintf(buf, size, "%s-%lu", prefix, (unsigned long)GetCurrentProcessId());
    return buf;
}

/* ---- time ----------------------------------------------------------------------------------- */

uint64_t wb_now_ns(void)
{
    static LARGE_INTEGER freq;
    LARGE_INTEGER t;
    if (!freq.QuadPart) QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&t);
    /* split, so that ticks * 1e9 cannot overflow after a long uptime */
    uint64_t ticks = (uint64_t)t.QuadPart, f = (uint64_t)freq.QuadPart;
    return ticks / f * 1000000000u + ticks % f * 1000000000u / f;
}

/* ---- results -------------------------------------------------------------------------------- */

double *wb_rounds(int rounds)
{
    double *v = calloc((size_t)rounds, sizeof *v);
    if (!v) wb_die("out of memory");
    return v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double wb_median(const double *v, int n)
{
    double *s = malloc((size_t)n * sizeof *s);
    if (!s) wb_die("out of memory");
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    double m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    free(s);
    return m;
}

void wb_result(const char *key, const double *ns, int rounds, long ops)
{
    double lo = ns[0], hi = ns[0];
    for (int i = 1; i < rounds; i++) {
        if (ns[i] < lo) lo = ns[i];
        if (ns[i] > hi) hi = ns[i];
    }
    printf("wine-bench %s rounds=%d ops=%ld median_ns=%.1f min_ns=%.1f max_ns=%.1f\n", key, rounds, ops,
           wb_median(ns, rounds), lo, hi);
}

/* ---- shared memory and partners --------------------------------------------------------------- */

void *wb_shared(const char *name, size_t size)
{
    HANDLE m = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, (DWORD)size, name);
    if (!m) wb_die("CreateFileMappingA %s", name);
    void *p = MapViewOfFile(m, FILE_MAP_ALL_ACCESS, 0, 0, size);
    if (!p) wb_die("MapViewOfFile %s", name);
    return p; /* the handle stays open for the life of the process, as the view does */
}

HANDLE wb_spawn_partner(const char *args)
{
    if (!job) {
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION limit = {0};
        limit.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
        job = CreateJobObjectA(NULL, NULL);
        if (!job || !SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limit, sizeof limit))
            wb_die("CreateJobObjectA");
    }
    char exe[MAX_PATH], cmd[2 * MAX_PATH];
    if (!GetModuleFileNameA(NULL, exe, sizeof exe)) wb_die("GetModuleFileNameA");
    snprintf(cmd, sizeof cmd, "\"%s\" --partner %s", exe, args);
    STARTUPINFOA si = {.cb = sizeof si};
    PROCESS_INFORMATION pi;
    if (!CreateProcessA(exe, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) wb_die("CreateProcessA %s", cmd);
    if (!AssignProcessToJobObject(job, pi.hProcess)) wb_die("AssignProcessToJobObject");
    CloseHandle(pi.hThread);
    return pi.hProcess;
}

char **wb_partner(int argc, char **argv)
{
    return argc >= 2 && strcmp(argv[1], "--partner") == 0 ? argv + 2 : NULL;
}

void wb_reap(HANDLE process, bool terminated_ok)
{
    DWORD code;
    if (WaitForSingleObject(process, INFINITE) != WAIT_OBJECT_0) wb_die("WaitForSingleObject (process)");
    if (!GetExitCodeProcess(process, &code)) wb_die("GetExitCodeProcess");
    if (code != 0 && !(terminated_ok && code == WB_TERMINATED)) wb_die("a partner exited with %lu", (unsigned long)code);
    CloseHandle(process);
}

void wb_die(const char *fmt, ...)
{
    DWORD e = GetLastError();
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "wine-bench: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, ": error %lu\n", (unsigned long)e);
    ExitProcess(1);
}

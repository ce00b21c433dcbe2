/* report.c — the names of what chaos counts, and how a violation is reported where it is found. */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "chaos.h"

#define CHAOS_TEXT(id, text) text,
const char *const chaos_op_names[OP_COUNT] = {CHAOS_OPS(CHAOS_TEXT)};
const char *const chaos_violation_names[V_COUNT] = {CHAOS_VIOLATIONS(CHAOS_TEXT)};
const char *const chaos_stat_names[S_COUNT] = {CHAOS_STATS(CHAOS_TEXT)};
#undef CHAOS_TEXT

#define PRINTED_MAX 20 /* per process: a systematic failure should not drown the summary */

void chaos_violation(_Atomic uint64_t *violations, enum chaos_violation v, const char *fmt, ...)
{
    static unsigned printed;
    chaos_count(&violations[v], 1); /* first: a kill while printing must not lose the count */
    if (printed++ >= PRINTED_MAX) return;
    char line[600];
    int n = snprintf(line, sizeof line, "chaos[%d]: VIOLATION (%s): ", (int)getpid(), chaos_violation_names[v]);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, (size_t)n) < 0) { /* one write: lines of processes do not mix */
    }
}

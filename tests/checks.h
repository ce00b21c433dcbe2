/*
 * checks.h — helpers shared by the test files: checks of an object's state (read with
 * NsemQueryObject), waits for a state, and a few process and thread helpers.
 *
 * A failing check ends the test at its caller's file:line: each `name(...)` macro passes __FILE__
 * and __LINE__ to `name_at(file, line, ...)`, which a file's own helpers can call with theirs.
 * The state checks keep GetLastError() as it was.
 */
#ifndef NSEM_TEST_CHECKS_H
#define NSEM_TEST_CHECKS_H

#include "harness.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <wchar.h>

/* Fails at file:line unless a == b (both as long long), naming `what` and the text of b. */
void check_eq_at(const char *file, int line, const char *what, const char *b_text, long long a, long long b);
/* For a file's own helpers that take the caller's line: CHECK_EQ_AT(line, "what", value, expected). */
#define CHECK_EQ_AT(line, what, a, b) check_eq_at(__FILE__, (line), (what), #b, (long long)(a), (long long)(b))

/* The state of the object behind h; fails if NsemQueryObject fails. */
NSEM_OBJECT_INFO query_at(const char *file, int line, HANDLE h);
#define query(h) query_at(__FILE__, __LINE__, (h))

/* The object behind h is a semaphore with exactly this count and maximum. */
void check_sem_at(const char *file, int line, HANDLE h, LONG count, LONG max);
#define check_sem(h, count, max) check_sem_at(__FILE__, __LINE__, (h), (count), (max))

/* The object behind h has exactly n open handles (in all processes). */
void check_handles_at(const char *file, int line, HANDLE h, DWORD n);
#define check_handles(h, n) check_handles_at(__FILE__, __LINE__, (h), (n))

/* Polls (up to 5 s) until the object behind h has exactly n handles, as after a process end. */
void wait_handles_at(const char *file, int line, HANDLE h, DWORD n);
#define wait_handles(h, n) wait_handles_at(__FILE__, __LINE__, (h), (n))

/* Polls (up to 5 s) until exactly n threads are blocked on the object behind h. */
void wait_waiters_at(const char *file, int line, HANDLE h, DWORD n);
#define wait_waiters(h, n) wait_waiters_at(__FILE__, __LINE__, (h), (n))

/* A new unnamed semaphore; CreateSemaphoreA must succeed with GetLastError() 0. */
HANDLE new_sem(LONG initial, LONG max);

/* Joins thread t; fails if it does not end within 15 s. */
void join_at(const char *file, int line, pthread_t t);
#define join(t) join_at(__FILE__, __LINE__, (t))

/* Runs fn(arg) in another thread and waits (up to 15 s) for it to end. */
void in_thread(void *(*fn)(void *), void *arg);

/* Reads one line from a helper (up to 10 s); fails unless it is exactly `expected`. */
void expect_line_at(const char *file, int line, int fd, const char *expected);
#define expect_line(fd, expected) expect_line_at(__FILE__, __LINE__, (fd), (expected))

/* Copies the ASCII string src into dst (size wide characters, cut to fit, terminated). */
void to_wide(wchar_t *dst, size_t size, const char *src);

/* Points this test process (and what it starts) at a server of its own, in a fresh directory
 * /tmp/nsem-<tag>.XXXXXX, which exits 500 ms after its last client: for counts that must be the
 * test's alone, or a server the test may kill. */
void use_private_server(const char *tag);

/* The server's statistics; fails if NsemGetServerStats fails. */
NSEM_SERVER_STATS stats_at(const char *file, int line);
#define stats() stats_at(__FILE__, __LINE__)

/* A raw connection to the server of NSEM_SERVER, for frames the library would never send; and its
 * HELLO in the given session (the arena descriptor it brings is closed). */
int raw_connect(void);
void raw_hello(int fd, uint32_t session);

/* Runs the printf-formatted command with system(); returns its exit status, or 128 + signal. */
int shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Polls (up to 5 s) until the server holds nothing but this process's connection: no object,
 * handle, pin, record, undo record, ticket, cleanup or arena slot. */
void wait_server_clean_at(const char *file, int line);
#define wait_server_clean() wait_server_clean_at(__FILE__, __LINE__)

/* Runs nsemd --foreground on a socket whose directory does not exist, with `args` after it and
 * `variable` set to `value` (unset when NULL); its exit status: 2 for a refused option or variable,
 * 1 once they passed (it cannot then take its lock file). */
int run_nsemd(const char *variable, const char *value, const char *const *args);

/* Whether pid has exited (a zombie counts: a process that is not our child is reaped late). */
bool process_exited(pid_t pid);

#endif

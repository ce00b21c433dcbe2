/*
 * harness.h — the nsem test harness.
 *
 * A test is `TEST(name) { ... return 0; }` at the start of a line in tests/test-*.c; the list of
 * tests is generated from those lines, so none is forgotten. Each test runs in its own process
 * (and process group) with a timeout. A helper process for cross-process cases is
 * `HELPER(name) { ... }`, started with spawn_helper("name", args..., NULL); it re-executes the
 * test binary, so it is a real exec'd process.
 *
 * ASSERT_* print file:line, the expression and both values, then end the test process.
 * A test returns 0 (pass) or TEST_SKIP (skip, after printing why).
 */
#ifndef NSEM_TEST_HARNESS_H
#define NSEM_TEST_HARNESS_H

#include <nsem.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#define TEST(name) \
    int nsem_test_##name(void); \
    int nsem_test_##name(void)
#define HELPER(name) \
    int nsem_helper_##name(int argc, char **argv); \
    int nsem_helper_##name(int argc, char **argv)
#define TEST_SKIP 77

/* The value every GetLastError() check is poisoned with first, as Wine's tests do. */
#define POISON 0xdeadbeefu

void harness_fail(const char *file, int line, const char *expr, const char *detail) __attribute__((noreturn));
void harness_fail_eq(const char *file, int line, const char *a, const char *b, long long va, long long vb,
                     int is_unsigned) __attribute__((noreturn));

#define ASSERT(expr) \
    do { \
        if (!(expr)) harness_fail(__FILE__, __LINE__, #expr, NULL); \
    } while (0)
#define ASSERT_EQ(a, b) \
    do { \
        long long va_ = (long long)(a), vb_ = (long long)(b); \
        if (va_ != vb_) harness_fail_eq(__FILE__, __LINE__, #a, #b, va_, vb_, 0); \
    } while (0)
/* For DWORD results and codes: printed in hex and decimal. */
#define ASSERT_EQ_U(a, b) \
    do { \
        unsigned long long va_ = (unsigned long long)(a), vb_ = (unsigned long long)(b); \
        if (va_ != vb_) harness_fail_eq(__FILE__, __LINE__, #a, #b, (long long)va_, (long long)vb_, 1); \
    } while (0)
#define ASSERT_NE(a, b) \
    do { \
        long long va_ = (long long)(a), vb_ = (long long)(b); \
        if (va_ == vb_) harness_fail(__FILE__, __LINE__, #a " != " #b, "values are equal"); \
    } while (0)
#define ASSERT_NULL(p) ASSERT((p) == NULL)
#define ASSERT_NOT_NULL(p) ASSERT((p) != NULL)
/* GetLastError() must be exactly `code`. */
#define ASSERT_GLE(code) ASSERT_EQ_U(GetLastError(), (code))

/* A name unique to this test process: "nsem-test-<pid>-<tag>". Rotates among 8 static buffers. */
const char *uniq(const char *tag);
/* The same as a wide string (rotating buffers as well). */
const wchar_t *uniqw(const char *tag);

/* Starts helper `name` with the given NULL-terminated arguments; returns its pid. If out_fd is not
 * NULL, the helper's stdout is a pipe whose read end is stored there. */
pid_t spawn_helper(const char *name, int *out_fd, ...);
/* Waits for a child; returns its exit status, or 128 + signal if killed. Fails the test if the child
 * does not end within timeout_ms. */
int wait_child(pid_t pid, int timeout_ms);
/* Reads one line (without '\n') from fd into buf; fails the test on EOF or after timeout_ms. */
void read_line(int fd, char *buf, size_t size, int timeout_ms);
/* Writes a line to stdout and flushes (a helper's way to talk to its test). */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A program of the build next to the test binary: <build>/bin/NAME (rotating buffers). */
const char *harness_bin(const char *name);
#define harness_server_path() harness_bin("nsemd")

/* Monotonic milliseconds. */
uint64_t now_ms(void);
void sleep_ms(unsigned ms);

#endif

/*
 * runner.c — runs every test in its own process with a timeout and prints
 * "N passed, N failed, N skipped" last; exits non-zero on any failure.
 *
 *   run-tests [SUBSTRING...]      run the tests whose names contain any SUBSTRING (all if none)
 *   run-tests --list              list the tests
 *   run-tests --run NAME          run one test in this process
 *   run-tests --helper NAME ARGS  run a helper (used by spawn_helper)
 *
 * NSEM_TEST_VALGRIND=1 runs each test process under valgrind (make check-valgrind).
 * Unless NSEM_SERVER is already set, the runner points it at a private socket in a fresh
 * temporary directory, so the tests start (on demand) and use their own server, never the user's.
 * NSEM_SESSION defaults to 1, so that Global\ and Local\ are different namespaces.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *harness_argv0;

#define TEST_ENTRY(name) int nsem_test_##name(void);
#define HELPER_ENTRY(name) int nsem_helper_##name(int argc, char **argv);
#include "tests/test-list.h"
#undef TEST_ENTRY
#undef HELPER_ENTRY

struct test_entry {
    const char *name;
    int (*test)(void);
    int (*helper)(int, char **);
};

#define TEST_ENTRY(name) {#name, nsem_test_##name, NULL},
#define HELPER_ENTRY(name) {#name, NULL, nsem_helper_##name},
static const struct test_entry entries[] = {
#include "tests/test-list.h"
    {NULL, NULL, NULL},
};

static const struct test_entry *find(const char *name, int helper)
{
    for (const struct test_entry *e = entries; e->name; e++)
        if (strcmp(e->name, name) == 0 && (helper ? e->helper != NULL : e->test != NULL)) return e;
    return NULL;
}

/* Runs one test in a child process (its own process group) and returns 0 pass, 1 fail, 2 skip. */
static int run_one(const struct test_entry *e, int timeout_ms)
{
    uint64_t start = now_ms();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        if (getenv("NSEM_TEST_VALGRIND"))
            execlp("valgrind", "valgrind", "-q", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite",
                   harness_argv0, "--run", e->name, (char *)NULL);
        else
            execl(harness_argv0, harness_argv0, "--run", e->name, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    int status = 0, timed_out = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (now_ms() - start > (uint64_t)timeout_ms) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            timed_out = 1;
            break;
        }
        sleep_ms(1);
    }
    kill(-pid, SIGKILL); /* stray helpers of the test */
    unsigned ms = (unsigned)(now_ms() - start);
    if (timed_out) {
        printf("FAIL %s (timed out after %u ms)\n", e->name, ms);
        return 1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        printf("ok   %s (%u ms)\n", e->name, ms);
        return 0;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == TEST_SKIP) {
        printf("skip %s\n", e->name);
        return 2;
    }
    if (WIFEXITED(status))
        printf("FAIL %s (exit %d)\n", e->name, WEXITSTATUS(status));
    else
        printf("FAIL %s (signal %d)\n", e->name, WTERMSIG(status));
    return 1;
}

static void stop_server(const char *sock)
{
    char path[4200];
    snprintf(path, sizeof path, "%s.lock", sock);
    FILE *f = fopen(path, "r");
    if (!f) return;
    int pid = 0;
    if (fscanf(f, "%d", &pid) == 1 && pid > 1) {
        kill(pid, SIGTERM);
        for (int i = 0; i < 200 && kill(pid, 0) == 0; i++) sleep_ms(10);
    }
    fclose(f);
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    char path[4200];
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    harness_argv0 = argv[0];
    static char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        harness_argv0 = self;
    }
    if (argc >= 3 && strcmp(argv[1], "--run") == 0) {
        const struct test_entry *e = find(argv[2], 0);
        if (!e) return fprintf(stderr, "no test %s\n", argv[2]), 2;
        return e->test();
    }
    if (argc >= 3 && strcmp(argv[1], "--helper") == 0) {
        const struct test_entry *e = find(argv[2], 1);
        if (!e) return fprintf(stderr, "no helper %s\n", argv[2]), 2;
        return e->helper(argc - 3, argv + 3);
    }
    if (argc >= 2 && strcmp(argv[1], "--list") == 0) {
        for (const struct test_entry *e = entries; e->name; e++)
            if (e->test) puts(e->name);
        return 0;
    }

    char tmpdir[] = "/tmp/nsem-tests.XXXXXX";
    char sock[4096] = "";
    int own_server = getenv("NSEM_SERVER") == NULL;
    if (own_server) {
        if (!mkdtemp(tmpdir)) return perror("mkdtemp"), 2;
        snprintf(sock, sizeof sock, "%s/nsemd.sock", tmpdir);
        setenv("NSEM_SERVER", sock, 1);
        setenv("NSEMD_GRACE_MS", "3000", 0);
    }
    /* A non-zero session, as an interactive Windows session: Global\ and Local\ differ. */
    setenv("NSEM_SESSION", "1", 0);
    int timeout_ms = getenv("NSEM_TEST_TIMEOUT_MS") ? atoi(getenv("NSEM_TEST_TIMEOUT_MS")) : 60000;

    int passed = 0, failed = 0, skipped = 0;
    for (const struct test_entry *e = entries; e->name; e++) {
        if (!e->test) continue;
        int selected = argc < 2;
        for (int i = 1; i < argc; i++)
            if (strstr(e->name, argv[i])) selected = 1;
        if (!selected) continue;
        int r = run_one(e, timeout_ms);
        if (r == 0) passed++;
        else if (r == 1) failed++;
        else skipped++;
        fflush(stdout);
    }
    if (own_server) {
        stop_server(sock);
        remove_tree(tmpdir);
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}

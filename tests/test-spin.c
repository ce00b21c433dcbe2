/*
 * test-spin.c — the polling windows of common/spin.h: nsemd's --spin-us and NSEMD_SPIN_US, the
 * library's NSEM_SPIN_US, and a server that is told to stop while it polls.
 *
 * That polling makes requests faster is for bench/names.c to show; here, that it changes nothing
 * else: bad values are refused, no polling at all works, and a stop signal is never slept through.
 */
#include "checks.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

TEST(spin_bad_values_refused)
{
    const char *none[] = {NULL};
    ASSERT_EQ(run_nsemd("NSEMD_SPIN_US", "fast", none), 2);
    ASSERT_EQ(run_nsemd("NSEMD_SPIN_US", "", none), 2);
    ASSERT_EQ(run_nsemd("NSEMD_SPIN_US", "-1", none), 2);
    ASSERT_EQ(run_nsemd("NSEMD_SPIN_US", "10001", none), 2); /* NSEM_SPIN_MAX_US */
    const char *letters[] = {"--spin-us", "50us", NULL};
    ASSERT_EQ(run_nsemd("NSEMD_SPIN_US", NULL, letters), 2);
    const char *missing[] = {"--spin-us", NULL};
    ASSERT_EQ(run_nsemd("NSEMD_SPIN_US", NULL, missing), 2);
    /* the option wins over a bad variable; good values pass (then 1: no lock file to be had) */
    const char *max[] = {"--spin-us", "10000", NULL};
    ASSERT_EQ(run_nsemd("NSEMD_SPIN_US", "fast", max), 1);
    const char *off[] = {"--spin-us", "0", NULL};
    ASSERT_EQ(run_nsemd("NSEMD_SPIN_US", NULL, off), 1);
    ASSERT_EQ(run_nsemd("NSEMD_SPIN_US", "0", none), 1);
    return 0;
}

/* Starts nsemd --foreground on a fresh socket, with these extra arguments; NSEM_SERVER names it. */
static pid_t start_server(const char *tag, const char *spin_us)
{
    char dir[128], sock[200];
    snprintf(dir, sizeof dir, "/tmp/nsem-%s.XXXXXX", tag);
    ASSERT_NOT_NULL(mkdtemp(dir));
    snprintf(sock, sizeof sock, "%s/s.sock", dir);
    setenv("NSEM_SERVER", sock, 1);
    pid_t server = fork();
    if (server == 0) {
        execl(harness_server_path(), "nsemd", "--foreground", "--socket", sock, "--grace", "60000", "--spin-us",
              spin_us, (char *)NULL);
        _exit(127);
    }
    uint64_t end = now_ms() + 5000;
    while (access(sock, F_OK) != 0 && now_ms() < end) sleep_ms(5);
    return server;
}

/* SIGTERM right after a request, while the server polls (a 10 ms window here, so that it surely
 * does): the signal must end the loop, not be taken during the poll and then slept through. */
TEST(spin_stop_signal_while_polling)
{
    for (int round = 0; round < 10; round++) {
        pid_t server = start_server("spinstop", "10000");
        int fd = raw_connect(); /* raw: this process's library stays out of it */
        raw_hello(fd, 1);
        kill(server, SIGTERM);
        ASSERT_EQ(wait_child(server, 5000), 0);
        close(fd);
    }
    return 0;
}

/* argv[0]: a name. Creates, waits, releases and closes through a server, NSEM_SPIN_US as given. */
HELPER(spin_client)
{
    HANDLE h = CreateSemaphoreA(NULL, 1, 1, argv[0]);
    if (!h || WaitForSingleObject(h, 5000) != WAIT_OBJECT_0 || !ReleaseSemaphore(h, 1, NULL)) return 1;
    HANDLE o = OpenSemaphoreA(SYNCHRONIZE, FALSE, argv[0]);
    if (!o || WaitForSingleObject(o, 0) != WAIT_OBJECT_0 || !CloseHandle(o) || !CloseHandle(h)) return 2;
    say("done");
    return 0;
}

/* No polling at either end, and a client whose NSEM_SPIN_US is not a number (it polls as by
 * default): requests are answered all the same. */
TEST(spin_off_and_bad_client_value_work)
{
    pid_t server = start_server("spinoff", "0");
    const char *values[] = {"0", "nonsense", "10000"};
    for (int i = 0; i < 3; i++) {
        setenv("NSEM_SPIN_US", values[i], 1);
        int out;
        pid_t c = spawn_helper("spin_client", &out, uniq("spin"), NULL);
        char line[32];
        read_line(out, line, sizeof line, 10000);
        ASSERT(strcmp(line, "done") == 0);
        ASSERT_EQ(wait_child(c, 10000), 0);
        close(out);
    }
    unsetenv("NSEM_SPIN_US");
    kill(server, SIGTERM);
    ASSERT_EQ(wait_child(server, 5000), 0);
    return 0;
}

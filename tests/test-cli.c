/* test-cli.c — the nsem command, driven as a user would: from a shell. */
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checks.h"

/* Eight jobs under "nsem run NAME -c 2": never more than two inside at once, and all ran. */
TEST(cli_run_limits_concurrency)
{
    char dir[] = "/tmp/nsem-cli.XXXXXX";
    ASSERT_NOT_NULL(mkdtemp(dir));
    /* Each job marks itself inside, records how many are inside, waits, leaves. */
    ASSERT_EQ(shell("cd %s && mkdir in && for i in 1 2 3 4 5 6 7 8; do "
                    "%s run %s -c 2 -- sh -c 'touch in/$$; ls in | wc -l >> seen; sleep 0.05; rm in/$$; echo x >> done' & "
                    "done; wait",
                    dir, harness_bin("nsem"), uniq("jobs")),
              0);
    char path[300];
    snprintf(path, sizeof path, "%s/seen", dir);
    FILE *f = fopen(path, "r");
    ASSERT_NOT_NULL(f);
    long n, max = 0, lines = 0;
    while (fscanf(f, "%ld", &n) == 1) {
        if (n > max) max = n;
        lines++;
    }
    fclose(f);
    ASSERT_EQ(lines, 8);
    ASSERT(max >= 1 && max <= 2);
    shell("rm -rf %s", dir);
    return 0;
}

TEST(cli_run_exit_status)
{
    ASSERT_EQ(shell("%s run %s -- sh -c 'exit 7'", harness_bin("nsem"), uniq("st")), 7);
    ASSERT_EQ(shell("%s run %s -- /nonexistent/program 2>/dev/null", harness_bin("nsem"), uniq("st")), 127);
    ASSERT_EQ(shell("%s run 'bad\\name' -- true 2>/dev/null", harness_bin("nsem")), 125);
    ASSERT_EQ(shell("%s run %s -c 0 -- true 2>/dev/null", harness_bin("nsem"), uniq("st")), 125);
    ASSERT_EQ(shell("%s run %s -c -3 -- true 2>/dev/null", harness_bin("nsem"), uniq("st")), 125);
    ASSERT_EQ(shell("%s run %s -c 99999999999 -- true 2>/dev/null", harness_bin("nsem"), uniq("st")), 125);
    ASSERT_EQ(shell("%s run 'global\\%s' -- true 2>/dev/null", harness_bin("nsem"), uniq("st")), 125); /* 3 */
    ASSERT_EQ(shell("%s run 'Global\\' -- true 2>/dev/null", harness_bin("nsem")), 125);                /* 123 */
    /* the error names the Windows code and number */
    ASSERT_EQ(shell("%s run 'global\\x' -- true 2>&1 | grep -q 'ERROR_PATH_NOT_FOUND (3)'", harness_bin("nsem")), 0);
    ASSERT_EQ(shell("%s frobnicate 2>/dev/null", harness_bin("nsem")), 125);
    ASSERT_EQ(shell("%s --help >/dev/null", harness_bin("nsem")), 0);
    return 0;
}

/* A permit held by this test makes "nsem run -w" time out with status 124. */
TEST(cli_run_timeout)
{
    HANDLE h = CreateSemaphoreA(NULL, 0, 1, uniq("held"));
    ASSERT_NOT_NULL(h);
    ASSERT_EQ(shell("%s run %s -w 50 -- true 2>/dev/null", harness_bin("nsem"), uniq("held")), 124);
    ASSERT(ReleaseSemaphore(h, 1, NULL));
    ASSERT_EQ(shell("%s run %s -w 5000 -- true", harness_bin("nsem"), uniq("held")), 0);
    ASSERT(CloseHandle(h));
    return 0;
}

/* "nsem info" shows the owner of a held mutex; --json gives the same as one object. */
TEST(cli_info_shows_owner)
{
    HANDLE m = CreateMutexA(NULL, TRUE, uniq("owned"));
    ASSERT_NOT_NULL(m);
    char out[300];
    snprintf(out, sizeof out, "/tmp/nsem-cli-info-%d", (int)getpid());
    ASSERT_EQ(shell("%s info --json %s > %s", harness_bin("nsem"), uniq("owned"), out), 0);
    FILE *f = fopen(out, "r");
    ASSERT_NOT_NULL(f);
    char json[1024] = "";
    ASSERT_NOT_NULL(fgets(json, sizeof json, f));
    fclose(f);
    char want[200];
    snprintf(want, sizeof want, "\"type\":\"mutex\"");
    ASSERT_NOT_NULL(strstr(json, want));
    snprintf(want, sizeof want, "\"owner_pid\":%d,\"owner_tid\":%u", (int)getpid(), GetCurrentThreadId());
    ASSERT_NOT_NULL(strstr(json, want));
    ASSERT_NOT_NULL(strstr(json, "\"handles\":1,"));
    /* The JSON parses, if python3 is there to say so. */
    if (access("/usr/bin/python3", X_OK) == 0) ASSERT_EQ(shell("python3 -c 'import json,sys; json.load(open(\"%s\"))'", out), 0);
    ASSERT_EQ(shell("%s info %s-missing 2>/dev/null", harness_bin("nsem"), uniq("owned")), 1);
    unlink(out);
    ASSERT(CloseHandle(m));
    return 0;
}

/* "nsem ls" shows each namespace and object; --json lists exactly what the prefix selects. */
TEST(cli_ls_tree_and_json)
{
    char local[200], global[200];
    snprintf(local, sizeof local, "Local\\%s", uniq("ls-sem"));
    snprintf(global, sizeof global, "Global\\%s", uniq("ls-mutex"));
    HANDLE s = CreateSemaphoreA(NULL, 2, 4, local);
    HANDLE m = CreateMutexA(NULL, TRUE, global);
    ASSERT_NOT_NULL(s);
    ASSERT_NOT_NULL(m);
    char out[300];
    snprintf(out, sizeof out, "/tmp/nsem-cli-ls-%d", (int)getpid());
    ASSERT_EQ(shell("%s ls > %s", harness_bin("nsem"), out), 0);
    ASSERT_EQ(shell("grep -q '^Global\\\\$' %s && grep -q '^Local\\\\$' %s", out, out), 0);
    ASSERT_EQ(shell("grep -q '%s .*semaphore 2/4 .*1 handle' %s", uniq("ls-sem"), out), 0);
    char want[200];
    snprintf(want, sizeof want, "mutex owned by %d/%u", (int)getpid(), GetCurrentThreadId());
    ASSERT_EQ(shell("grep -q '%s .*%s' %s", uniq("ls-mutex"), want, out), 0);
    /* the JSON of a prefix has exactly our Global object */
    char prefix[220];
    snprintf(prefix, sizeof prefix, "Global\\%s", uniq("ls-"));
    ASSERT_EQ(shell("%s ls --json '%s' > %s", harness_bin("nsem"), prefix, out), 0);
    ASSERT_EQ(shell("python3 -c 'import json,sys; v=json.load(open(\"%s\")); "
                    "assert len(v)==1 and v[0][\"type\"]==\"mutex\" and v[0][\"owner_pid\"]==%d, v'",
                    out, (int)getpid()),
              0);
    unlink(out);
    ASSERT(ReleaseMutex(m));
    ASSERT(CloseHandle(m));
    ASSERT(CloseHandle(s));
    return 0;
}

HELPER(cli_holder)
{
    HANDLE h = OpenSemaphoreA(SYNCHRONIZE, FALSE, argv[0]);
    if (!h) return 10;
    say("holding");
    for (;;) pause();
}

/* "nsem info" names the processes that hold handles, with their command lines. */
TEST(cli_info_lists_holders)
{
    HANDLE s = CreateSemaphoreA(NULL, 0, 1, uniq("held"));
    ASSERT_NOT_NULL(s);
    int fd;
    char line[32];
    pid_t pid = spawn_helper("cli_holder", &fd, uniq("held"), NULL);
    read_line(fd, line, sizeof line, 10000);
    char out[300];
    snprintf(out, sizeof out, "/tmp/nsem-cli-holders-%d", (int)getpid());
    ASSERT_EQ(shell("%s info --json %s > %s", harness_bin("nsem"), uniq("held"), out), 0);
    ASSERT_EQ(shell("python3 -c 'import json; v=json.load(open(\"%s\")); "
                    "p=sorted(h[\"pid\"] for h in v[\"holders\"]); assert p==sorted([%d,%d]), p; "
                    "assert any(\"--helper\" in h[\"command\"] for h in v[\"holders\"]); assert v[\"handles\"]==2'",
                    out, (int)getpid(), (int)pid),
              0);
    unlink(out);
    kill(pid, SIGKILL);
    ASSERT_EQ(wait_child(pid, 5000), 128 + SIGKILL);
    DWORD pids[4], n = 99;
    uint64_t end = now_ms() + 5000;
    do {
        ASSERT(NsemGetObjectHolders(s, pids, 4, &n));
    } while (n != 1 && now_ms() < end && (sleep_ms(5), 1));
    ASSERT_EQ(n, 1);
    ASSERT_EQ(pids[0], getpid());
    SetLastError(POISON);
    ASSERT(!NsemGetObjectHolders(s, pids, 0, &n));
    ASSERT_GLE(ERROR_INSUFFICIENT_BUFFER);
    ASSERT_EQ(n, 1);
    ASSERT(!NsemGetObjectHolders(s, NULL, 0, NULL));
    ASSERT_GLE(ERROR_INVALID_PARAMETER);
    ASSERT(CloseHandle(s));
    return 0;
}

static LONG sem_count(HANDLE h)
{
    NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
    ASSERT(NsemQueryObject(h, &info));
    return info.lCurrentCount;
}

/* "nsem run --undo": even when nsem itself is SIGKILLed, the permit comes back. */
TEST(cli_run_undo_survives_kill)
{
    char pidfile[300];
    snprintf(pidfile, sizeof pidfile, "/tmp/nsem-cli-undo-%d", (int)getpid());
    char partial[310];
    snprintf(partial, sizeof partial, "%s.part", pidfile);
    ASSERT_EQ(shell("%s run %s --undo -c 2 -- sh -c 'echo $PPID $$ > %s; mv %s %s; exec sleep 30' &",
                    harness_bin("nsem"), uniq("undo"), partial, partial, pidfile),
              0);
    /* The command runs once nsem holds its permit; however slow the machine, wait for its word. */
    FILE *f = NULL;
    for (uint64_t end = now_ms() + 20000; !(f = fopen(pidfile, "r")) && now_ms() < end;) sleep_ms(10);
    ASSERT_NOT_NULL(f);
    int nsem_pid = 0, cmd_pid = 0;
    ASSERT_EQ(fscanf(f, "%d %d", &nsem_pid, &cmd_pid), 2);
    fclose(f);
    unlink(pidfile);
    HANDLE h = OpenSemaphoreA(SEMAPHORE_QUERY_STATE, FALSE, uniq("undo"));
    ASSERT_NOT_NULL(h);
    NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
    ASSERT(NsemQueryObject(h, &info));
    ASSERT_EQ_U(info.dwFlags, NSEM_INFO_UNDO);
    ASSERT_EQ(info.lCurrentCount, 1);
    ASSERT_EQ(kill(nsem_pid, SIGKILL), 0); /* nsem, not its command */
    uint64_t end = now_ms() + 5000;
    while (sem_count(h) != 2 && now_ms() < end) sleep_ms(5);
    ASSERT_EQ(sem_count(h), 2);
    kill(cmd_pid, SIGKILL);
    return 0;
}

TEST(cli_run_exclusive)
{
    char out[300];
    snprintf(out, sizeof out, "/tmp/nsem-cli-excl-%d", (int)getpid());
    ASSERT_EQ(shell("%s run %s --exclusive -- %s info --json %s > %s", harness_bin("nsem"), uniq("ex"),
                    harness_bin("nsem"), uniq("ex"), out),
              0);
    ASSERT_EQ(shell("grep -q '\"type\":\"exclusive semaphore\".*\"count\":0' %s", out), 0);
    ASSERT_EQ(shell("%s run %s --exclusive -c 2 -- true 2>/dev/null", harness_bin("nsem"), uniq("ex2")), 125);
    unlink(out);
    return 0;
}

/* wait, release, set, reset on existing objects; errors and exit codes. */
TEST(cli_script_operations)
{
    HANDLE s = CreateSemaphoreA(NULL, 0, 5, uniq("ops-sem"));
    HANDLE e = CreateEventA(NULL, TRUE, FALSE, uniq("ops-event"));
    ASSERT_NOT_NULL(s);
    ASSERT_NOT_NULL(e);
    ASSERT_EQ(shell("%s release %s -n 3", harness_bin("nsem"), uniq("ops-sem")), 0);
    ASSERT_EQ(sem_count(s), 3);
    ASSERT_EQ(shell("%s wait %s -w 100", harness_bin("nsem"), uniq("ops-sem")), 0);
    ASSERT_EQ(sem_count(s), 2);
    ASSERT_EQ(shell("%s release %s -n 4 2>/dev/null", harness_bin("nsem"), uniq("ops-sem")), 125); /* 298 */
    ASSERT_EQ(sem_count(s), 2);
    ASSERT_EQ(shell("%s wait %s -w 50 2>/dev/null", harness_bin("nsem"), uniq("ops-event")), 124);
    ASSERT_EQ(shell("%s set %s", harness_bin("nsem"), uniq("ops-event")), 0);
    ASSERT_EQ_U(WaitForSingleObject(e, 0), WAIT_OBJECT_0);
    ASSERT_EQ(shell("%s reset %s", harness_bin("nsem"), uniq("ops-event")), 0);
    ASSERT_EQ_U(WaitForSingleObject(e, 0), WAIT_TIMEOUT);
    ASSERT_EQ(shell("%s set %s 2>/dev/null", harness_bin("nsem"), uniq("ops-sem")), 125); /* not an event */
    ASSERT_EQ(shell("%s set %s-missing 2>/dev/null", harness_bin("nsem"), uniq("ops")), 1);
    return 0;
}

/* "nsem repair": a semaphore left short by a dead holder gets its permits back, after a yes. */
TEST(cli_repair)
{
    HANDLE s = CreateSemaphoreA(NULL, 1, 3, uniq("repair"));
    ASSERT_NOT_NULL(s);
    ASSERT_EQ(shell("echo n | %s repair %s > /dev/null", harness_bin("nsem"), uniq("repair")), 1);
    ASSERT_EQ(sem_count(s), 1);
    ASSERT_EQ(shell("echo y | %s repair %s > /dev/null", harness_bin("nsem"), uniq("repair")), 0);
    ASSERT_EQ(sem_count(s), 3);
    ASSERT_EQ(shell("%s repair --yes %s | grep -q 'nothing to repair'", harness_bin("nsem"), uniq("repair")), 0);
    ASSERT_EQ(sem_count(s), 3);
    return 0;
}

/* "nsem create" leaves a holder: the object outlives the command until "nsem close". */
TEST(cli_create_open_close)
{
    ASSERT_EQ(shell("%s open %s 2>/dev/null", harness_bin("nsem"), uniq("made")), 1);
    ASSERT_EQ(shell("%s create %s -c 2 -m 3 > /dev/null", harness_bin("nsem"), uniq("made")), 0);
    ASSERT_EQ(shell("%s open %s", harness_bin("nsem"), uniq("made")), 0);
    HANDLE h = OpenSemaphoreA(SEMAPHORE_ALL_ACCESS, FALSE, uniq("made"));
    ASSERT_NOT_NULL(h);
    NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
    ASSERT(NsemQueryObject(h, &info));
    ASSERT_EQ(info.lCurrentCount, 2);
    ASSERT_EQ(info.lMaximumCount, 3);
    ASSERT_EQ(info.dwHandleCount, 2); /* the holder's and ours */
    ASSERT(CloseHandle(h));
    /* a second create finds it */
    ASSERT_EQ(shell("%s create %s | grep -q 'already exists'", harness_bin("nsem"), uniq("made")), 0);
    ASSERT_EQ(shell("%s close %s", harness_bin("nsem"), uniq("made")), 0);
    uint64_t end = now_ms() + 5000;
    while (shell("%s open %s 2>/dev/null", harness_bin("nsem"), uniq("made")) == 0 && now_ms() < end) sleep_ms(20);
    ASSERT_EQ(shell("%s open %s 2>/dev/null", harness_bin("nsem"), uniq("made")), 1);
    ASSERT_EQ(shell("%s close %s 2>/dev/null", harness_bin("nsem"), uniq("made")), 1);
    /* an event, set, and an exclusive semaphore that rejects a maximum other than 1 */
    ASSERT_EQ(shell("%s create %s --event --manual --set > /dev/null", harness_bin("nsem"), uniq("ev")), 0);
    HANDLE e = OpenEventA(SYNCHRONIZE, FALSE, uniq("ev"));
    ASSERT_NOT_NULL(e);
    ASSERT_EQ_U(WaitForSingleObject(e, 0), WAIT_OBJECT_0);
    ASSERT_EQ_U(WaitForSingleObject(e, 0), WAIT_OBJECT_0); /* manual reset */
    ASSERT(CloseHandle(e));
    ASSERT_EQ(shell("%s close %s", harness_bin("nsem"), uniq("ev")), 0);
    ASSERT_EQ(shell("%s create %s --exclusive -m 2 2>/dev/null", harness_bin("nsem"), uniq("x")), 125);
    ASSERT_EQ(shell("%s open %s 2>/dev/null", harness_bin("nsem"), uniq("x")), 1);
    return 0;
}

/*
 * gen_seeds.c — writes the seed corpus of the fuzz harnesses: small, meaningful inputs that reach
 * deep states at once (a whole session per file), from which the fuzzer mutates.
 *
 *   gen-seeds DIR    writes DIR/fuzz-requests/<name>, DIR/fuzz-names/<name> and DIR/fuzz-sddl/<name>
 *
 * `make fuzz-seeds` runs it into tests/fuzz/. Inputs found by fuzzing (crashes) are kept there too,
 * as files of their own; this program does not touch them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nsem.h>

#include "common/protocol.h"
#include "common/shm.h"
#include "fuzz/requests_input.h"

static unsigned char buf[1 << 16];
static size_t used;

static void put(const void *p, size_t n)
{
    if (used + n > sizeof buf) abort();
    memcpy(buf + used, p, n);
    used += n;
}

static void write_seed(const char *dir, const char *harness, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, harness);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/%s", dir, harness, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, used, f) != used || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    used = 0;
}

/* ---- fuzz-requests steps ----------------------------------------------------------------- */

/* A frame of client `client`: the fixed part (its header's len and op are filled in here) and a name. */
static void frame(int client, uint32_t op, void *req, size_t size, const char *name)
{
    size_t name_len = name ? strlen(name) : 0;
    struct nsem_req_hdr h = {(uint32_t)(size + name_len), op};
    memcpy(req, &h, sizeof h);
    unsigned char sel = FUZZ_SELECTOR_FRAME(client);
    put(&sel, 1);
    put(req, size);
    if (name_len) put(name, name_len);
}

static void event(enum fuzz_event ev, unsigned char a, unsigned char b)
{
    unsigned char step[3] = {FUZZ_SELECTOR_EVENT(ev), a, b};
    put(step, sizeof step);
}

static void thread(int client, enum fuzz_thread_op op, int thread_index, uint32_t handle)
{
    event(FUZZ_EV_THREAD, FUZZ_THREAD_ARG((unsigned)client, (unsigned)op, (unsigned)thread_index),
          (unsigned char)((handle >> 2) - 1));
}

static void hello(int client, uint32_t session, uint32_t ticket)
{
    struct nsem_req_hello r = {{0, 0}, NSEM_PROTOCOL_VERSION, session, ticket, 0, 0, 0};
    frame(client, NSEM_OP_HELLO, &r, sizeof r, NULL);
}

/* Tokens name a client by its place (1..3), as requests_input.h maps them. */
#define TOKEN(client, thread) NSEM_MAKE_TOKEN((client) + 1, (thread))

static void create(int client, uint32_t type, uint32_t flags, int32_t initial, int32_t max, uint32_t token,
                   uint32_t attributes, const char *name)
{
    struct nsem_req_create r = {{0, 0}, type, GENERIC_ALL, attributes, flags, initial, max, token, 0,
                                name ? (uint32_t)strlen(name) : 0, 0};
    frame(client, NSEM_OP_CREATE, &r, sizeof r, name);
}

static void open_named(int client, uint32_t type, uint32_t access, const char *name)
{
    struct nsem_req_open r = {{0, 0}, type, access, 0, (uint32_t)strlen(name)};
    frame(client, NSEM_OP_OPEN, &r, sizeof r, name);
}

static void close_handle(int client, uint32_t handle, uint32_t flags)
{
    struct nsem_req_close r = {{0, 0}, handle, flags};
    frame(client, NSEM_OP_CLOSE, &r, sizeof r, NULL);
}

static void query(int client, uint32_t op, uint32_t handle)
{
    struct nsem_req_query r = {{0, 0}, handle, 0}; /* QUERY and HOLDERS have the same shape */
    frame(client, op, &r, sizeof r, NULL);
}

static void cursor_op(int client, uint32_t op, uint32_t cursor)
{
    struct nsem_req_list r = {{0, 0}, cursor, 0}; /* LIST and HANDLES have the same shape */
    frame(client, op, &r, sizeof r, NULL);
}

static void open_process(int client, uint32_t pid_choice, uint32_t access)
{
    struct nsem_req_open_process r = {{0, 0}, pid_choice, access, 0, 0};
    frame(client, NSEM_OP_OPEN_PROCESS, &r, sizeof r, NULL);
}

static void dup(int client, uint32_t handle, uint32_t options, uint32_t src, uint32_t dst)
{
    struct nsem_req_dup r = {{0, 0}, handle, 0, options, 0, src, dst};
    frame(client, NSEM_OP_DUP, &r, sizeof r, NULL);
}

static void spawn(int client, uint32_t action, uint32_t pid_choice, uint32_t ticket)
{
    struct nsem_req_spawn r = {{0, 0}, action, pid_choice, ticket, 0};
    frame(client, NSEM_OP_SPAWN, &r, sizeof r, NULL);
}

static void requests_seeds(const char *dir)
{
    const char *h = "fuzz-requests";

    /* A plain session: a named semaphore, opened again by name, both handles closed. */
    hello(0, 1, 0);
    create(0, NSEM_TYPE_SEMAPHORE, 0, 1, 5, 0, 0, "Local\\seed");
    open_named(0, NSEM_TYPE_SEMAPHORE, SYNCHRONIZE | SEMAPHORE_MODIFY_STATE, "seed");
    query(0, NSEM_OP_QUERY, 4);
    close_handle(0, 4, 0);
    close_handle(0, 8, 0);
    write_seed(dir, h, "hello-create-open-close");

    /* An exclusive semaphore owned by its creator, a second process queues on it, the owner dies. */
    hello(0, 1, 0);
    create(0, NSEM_TYPE_SEMAPHORE, NSEM_CREATE_SEM_EXCLUSIVE, 0, 1, TOKEN(0, 1), 0, "Global\\excl");
    hello(1, 1, 0);
    open_named(1, NSEM_TYPE_SEMAPHORE, GENERIC_ALL, "Global\\excl");
    thread(1, FUZZ_OP_TAKE, 0, 4);
    thread(1, FUZZ_OP_TAKE, 1, 4);
    thread(0, FUZZ_OP_RELEASE, 0, 4);
    thread(1, FUZZ_OP_TAKE, 0, 4);
    event(FUZZ_EV_EXIT, 1, 0);
    query(0, NSEM_OP_QUERY, 4);
    write_seed(dir, h, "exclusive-owner-dies");

    /* A handle duplicated into another process through a process handle, then closed at its source. */
    hello(0, 1, 0);
    hello(1, 1, 0);
    create(0, NSEM_TYPE_MUTEX, NSEM_CREATE_MUTEX_OWNED, 0, 0, TOKEN(0, 1), 0, "dup-me");
    open_process(0, 1, PROCESS_DUP_HANDLE);
    dup(0, 4, DUPLICATE_SAME_ACCESS, NSEM_SELF, 8);
    query(1, NSEM_OP_QUERY, 4);
    open_process(1, 0, PROCESS_DUP_HANDLE);
    dup(1, 4, DUPLICATE_SAME_ACCESS | DUPLICATE_CLOSE_SOURCE, 8, NSEM_SELF);
    query(1, NSEM_OP_HOLDERS, 12);
    event(FUZZ_EV_EXIT, 0, 0);
    query(1, NSEM_OP_QUERY, 12);
    write_seed(dir, h, "dup-across-processes");

    /* A handle duplicated into a process that has no connection (a record), which then connects. */
    hello(0, 2, 0);
    create(0, NSEM_TYPE_EVENT, NSEM_CREATE_EVENT_MANUAL, 0, 0, 0, 0, NULL);
    open_process(0, 2, PROCESS_ALL_ACCESS);
    dup(0, 4, DUPLICATE_SAME_ACCESS, NSEM_SELF, 8);
    dup(0, NSEM_PSEUDO_PROCESS_HANDLE, DUPLICATE_SAME_ACCESS, NSEM_SELF, NSEM_SELF);
    hello(2, 2, 0);
    cursor_op(2, NSEM_OP_HANDLES, 0);
    write_seed(dir, h, "dup-to-record");

    /* fork: a ticket of the parent's handles, adopted by the child's HELLO. */
    hello(0, 1, 0);
    create(0, NSEM_TYPE_EVENT, NSEM_CREATE_EVENT_SET, 0, 0, 0, NSEM_ATTR_INHERIT, "Session\\1\\ev");
    {
        struct nsem_req_fork r = {{0, 0}, {0, 0}};
        frame(0, NSEM_OP_FORK, &r, sizeof r, NULL);
    }
    hello(1, 1, 1);
    cursor_op(1, NSEM_OP_HANDLES, 0);
    write_seed(dir, h, "fork-ticket");

    /* posix_spawn: a spawn ticket bound to a process, cancel of another. */
    hello(0, 1, 0);
    create(0, NSEM_TYPE_SEMAPHORE, 0, 0, 3, 0, NSEM_ATTR_INHERIT, NULL);
    spawn(0, NSEM_SPAWN_PREPARE, 0, 0);
    spawn(0, NSEM_SPAWN_BIND, 2, 1);
    spawn(0, NSEM_SPAWN_PREPARE, 0, 0);
    spawn(0, NSEM_SPAWN_CANCEL, 0, 2);
    hello(2, 1, 0);
    cursor_op(2, NSEM_OP_HANDLES, 0);
    write_seed(dir, h, "spawn-bind-cancel");

    /* exec: the connection ends, the process lives; its next image takes its inheritable handles. */
    hello(0, 1, 0);
    create(0, NSEM_TYPE_MUTEX, NSEM_CREATE_MUTEX_OWNED, 0, 0, TOKEN(0, 2), NSEM_ATTR_INHERIT, "kept");
    create(0, NSEM_TYPE_EVENT, 0, 0, 0, 0, 0, "dropped");
    event(FUZZ_EV_DISCONNECT, 0, 0);
    hello(0, 1, 0);
    cursor_op(0, NSEM_OP_HANDLES, 0);
    cursor_op(0, NSEM_OP_LIST, 0);
    write_seed(dir, h, "exec-keeps-inheritable");

    /* Undo semaphore: takes journaled; the process dies after a take's commit point. */
    hello(0, 1, 0);
    create(0, NSEM_TYPE_SEMAPHORE, NSEM_CREATE_SEM_UNDO, 3, 3, 0, 0, "undo");
    hello(1, 1, 0);
    open_named(1, NSEM_TYPE_SEMAPHORE, GENERIC_ALL, "undo");
    thread(0, FUZZ_OP_TAKE, 0, 4);
    thread(0, FUZZ_OP_TAKE, 1, 4);
    thread(0, FUZZ_OP_TAKE_AND_DIE, 0, 4);
    query(1, NSEM_OP_QUERY, 4);
    write_seed(dir, h, "undo-take-and-die");

    /* A mutex owned by a dying process while another's wait-all holds its lock: the retry. */
    hello(0, 1, 0);
    hello(1, 1, 0);
    create(0, NSEM_TYPE_MUTEX, NSEM_CREATE_MUTEX_OWNED, 0, 0, TOKEN(0, 1), 0, "held");
    open_named(1, NSEM_TYPE_MUTEX, GENERIC_ALL, "held");
    thread(1, FUZZ_OP_HOLD_LOCK, 0, 4);
    event(FUZZ_EV_EXIT, 0, 0);
    query(1, NSEM_OP_QUERY, 4);
    query(1, NSEM_OP_QUERY, 4);
    write_seed(dir, h, "mutex-abandon-retry");

    /* A pin: the last handle closed while in use, the object kept until UNPIN. */
    hello(0, 1, 0);
    create(0, NSEM_TYPE_SEMAPHORE, 0, 1, 1, 0, 0, "pinned");
    close_handle(0, 4, NSEM_CLOSE_PIN);
    cursor_op(0, NSEM_OP_LIST, 0);
    {
        struct nsem_req_unpin r = {{0, 0}, 1, 0};
        frame(0, NSEM_OP_UNPIN, &r, sizeof r, NULL);
    }
    write_seed(dir, h, "pin-unpin");

    /* Handle flags: a protected handle cannot be closed; the state of an event and of a process. */
    hello(0, 1, 0);
    create(0, NSEM_TYPE_EVENT, NSEM_CREATE_EVENT_SET, 0, 0, 0, 0, "flags");
    {
        struct nsem_req_set_handle_info r = {{0, 0}, 4, HANDLE_FLAG_PROTECT_FROM_CLOSE | HANDLE_FLAG_INHERIT,
                                             HANDLE_FLAG_PROTECT_FROM_CLOSE, 0};
        frame(0, NSEM_OP_SET_HANDLE_INFO, &r, sizeof r, NULL);
        close_handle(0, 4, 0);
        r.flags = HANDLE_FLAG_INHERIT;
        frame(0, NSEM_OP_SET_HANDLE_INFO, &r, sizeof r, NULL);
    }
    query(0, NSEM_OP_QUERY, 4);
    open_process(0, 3, PROCESS_ALL_ACCESS);
    query(0, NSEM_OP_QUERY, 8);
    thread(0, FUZZ_OP_TAKE, 0, 4);
    thread(0, FUZZ_OP_RELEASE, 0, 4);
    write_seed(dir, h, "handle-info-and-query");

    /* A wait-all's lock and death with an undo semaphore and a mutex. */
    hello(1, 3, 0);
    create(1, NSEM_TYPE_SEMAPHORE, NSEM_CREATE_SEM_UNDO, 2, 4, 0, 0, NULL);
    create(1, NSEM_TYPE_MUTEX, 0, 0, 0, 0, 0, NULL);
    thread(1, FUZZ_OP_TAKE, 0, 4);
    thread(1, FUZZ_OP_TAKE, 0, 8);
    thread(1, FUZZ_OP_LOCK_AND_DIE, 1, 4);
    write_seed(dir, h, "lock-and-die");

    /* The brokered operations, on the client's own objects (a fuzzed server has one arena). */
    hello(0, 0, 0);
    create(0, NSEM_TYPE_SEMAPHORE, 0, 0, 2, 0, 0, NULL);
    create(0, NSEM_TYPE_MUTEX, 0, 0, 0, 0, 0, NULL);
    create(0, NSEM_TYPE_EVENT, NSEM_CREATE_EVENT_MANUAL, 0, 0, 0, 0, NULL);
    {
        struct nsem_req_signal r = {{0, 0}, 4, NSEM_SIGNAL_RELEASE_SEMAPHORE, 1, TOKEN(0, 1)};
        frame(0, NSEM_OP_SIGNAL, &r, sizeof r, NULL);
        struct nsem_req_try_wait w = {{0, 0}, 3, NSEM_TRY_WAIT_ALL, TOKEN(0, 1), 0, {4, 8, 12}, {0}};
        frame(0, NSEM_OP_TRY_WAIT, &w, sizeof w, NULL);
        r = (struct nsem_req_signal){{0, 0}, 12, NSEM_SIGNAL_SET_EVENT, 0, TOKEN(0, 1)};
        frame(0, NSEM_OP_SIGNAL, &r, sizeof r, NULL);
        w.flags = 0;
        frame(0, NSEM_OP_TRY_WAIT, &w, sizeof w, NULL);
        r = (struct nsem_req_signal){{0, 0}, 8, NSEM_SIGNAL_RELEASE_MUTEX, 0, TOKEN(0, 1)};
        frame(0, NSEM_OP_SIGNAL, &r, sizeof r, NULL);
        r = (struct nsem_req_signal){{0, 0}, 0, NSEM_SIGNAL_THREAD_EXIT, 0, TOKEN(0, 2)};
        frame(0, NSEM_OP_SIGNAL, &r, sizeof r, NULL);
    }
    write_seed(dir, h, "brokered-ops");

    /* Malformed frames: a non-zero pad, a frame before HELLO, a length past NSEM_MSG_MAX. */
    {
        struct nsem_req_query r = {{0, 0}, 4, 1};
        frame(0, NSEM_OP_QUERY, &r, sizeof r, NULL);
    }
    hello(1, 1, 0);
    {
        struct nsem_req_hdr bad = {NSEM_MSG_MAX + 1, NSEM_OP_LIST};
        unsigned char sel = FUZZ_SELECTOR_FRAME(1);
        put(&sel, 1);
        put(&bad, sizeof bad);
    }
    hello(2, 0, 0);
    hello(2, 0, 0); /* HELLO only once */
    write_seed(dir, h, "malformed");

    /* Close rings: client 0 closes through its ring (one plain, one with a pin, one with an
     * unknown flag, one with a scribbled head); client 1 closes through its own and ends. */
    hello(0, 0, 0);
    hello(1, 0, 0);
    for (int i = 0; i < 4; i++) create(0, NSEM_TYPE_SEMAPHORE, 0, 0, 1, 0, 0, i == 0 ? "r" : NULL);
    create(1, NSEM_TYPE_EVENT, 0, 0, 0, 0, 0, "r2");
    {
        struct nsem_req_close_ring r = {{0, 0}, NSEM_CLOSE_RING_SETUP, 0};
        frame(0, NSEM_OP_CLOSE_RING, &r, sizeof r, NULL);
        frame(1, NSEM_OP_CLOSE_RING, &r, sizeof r, NULL);
    }
    thread(0, FUZZ_OP_RING_POST, 0, 4);
    thread(0, FUZZ_OP_RING_POST, 1, 8);  /* NSEM_CLOSE_PIN */
    thread(0, FUZZ_OP_RING_POST, 2, 12); /* an unknown flag: nothing */
    thread(0, FUZZ_OP_RING_POST, 4, 16); /* the head far ahead: dropped */
    thread(1, FUZZ_OP_RING_POST, 0, 4);
    {
        struct nsem_req_close_ring r = {{0, 0}, NSEM_CLOSE_RING_FLUSH, 0};
        frame(1, NSEM_OP_CLOSE_RING, &r, sizeof r, NULL);
    }
    event(FUZZ_EV_EXIT, 1, 0);
    write_seed(dir, h, "close-ring");
}

/* ---- fuzz-names -------------------------------------------------------------------------- */

enum { MODE_UTF16, MODE_RAW, MODE_UTF8, MODE_LONG = 0xF3 };

static void name_seed(const char *dir, const char *file, unsigned mode, unsigned caller, unsigned sessions,
                      const void *name, size_t len)
{
    unsigned char head[3] = {(unsigned char)mode, (unsigned char)caller, (unsigned char)sessions};
    put(head, sizeof head);
    put(name, len);
    write_seed(dir, "fuzz-names", file);
}

static void utf16_seed(const char *dir, const char *file, unsigned mode, const char *ascii)
{
    unsigned char units[256];
    size_t n = strlen(ascii);
    for (size_t i = 0; i < n; i++) units[2 * i] = (unsigned char)ascii[i], units[2 * i + 1] = 0;
    name_seed(dir, file, mode, 1, 0x03, units, 2 * n);
}

static void names_seeds(const char *dir)
{
    static const struct {
        const char *file, *name;
        unsigned caller, sessions;
    } utf8[] = {
        {"plain", "x", 1, 0x03},
        {"global", "Global\\x", 1, 0x03},
        {"local", "Local\\x", 1, 0x03},
        {"session", "Session\\1\\x", 2, 0x07},
        {"session-missing", "Session\\5\\x", 1, 0x03},
        {"session-leading-zero", "Session\\01\\x", 1, 0x03},
        {"links", "Global\\Local\\Session\\2\\Local\\x", 1, 0x07},
        {"link-only", "Local", 1, 0x03},
        {"leading-backslash", "\\x", 1, 0x03},
        {"empty-element", "Global\\\\x", 1, 0x03},
        {"trailing-backslash", "Global\\", 1, 0x03},
        {"no-directory", "a\\b", 1, 0x03},
        {"case", "global\\x", 1, 0x03},
        {"utf8", "Local\\\xc3\xa9t\xc3\xa9-\xe5\x90\x8d-\xf0\x9f\x98\x80", 1, 0x03},
    };
    for (size_t i = 0; i < sizeof utf8 / sizeof utf8[0]; i++)
        name_seed(dir, utf8[i].file, MODE_UTF8, utf8[i].caller, utf8[i].sessions, utf8[i].name, strlen(utf8[i].name));
    utf16_seed(dir, "utf16-local", MODE_UTF16, "Local\\x");
    utf16_seed(dir, "utf16-long", MODE_LONG, "Session\\1\\ab");
    /* A lone high surrogate, then a supplementary character, as raw 32-bit values. */
    uint32_t raw[] = {'G', 'l', 'o', 'b', 'a', 'l', '\\', 0xD800, 'x', 0x1F600, 0x10FFFF};
    name_seed(dir, "raw-surrogate", MODE_RAW, 0, 0x01, raw, sizeof raw);
    uint32_t bad[] = {'x', 0x110000};
    name_seed(dir, "raw-not-a-character", MODE_RAW, 0, 0x01, bad, sizeof bad);
}

/* ---- fuzz-sddl --------------------------------------------------------------------------- */

static void sddl_seeds(const char *dir)
{
    static const struct {
        const char *file, *sddl;
    } strings[] = {
        {"everyone", "D:(A;;GA;;;WD)"},
        {"owner-group-dacl", "O:S-1-22-1-1000G:S-1-22-2-1000D:P(D;;0x1f0003;;;S-1-22-1-1001)(A;OICI;GRGX;;;AU)"},
        {"aliases", "O:SYG:BAD:AI(A;;GA;;;SY)(A;;RCWDWO;;;OW)"},
        {"null-dacl", "D:NO_ACCESS_CONTROL"},
        {"empty-dacl", "D:"},
        {"sacl-label", "S:(ML;;NW;;;LW)"},
        {"audit", "S:(AU;SAFA;GA;;;WD)"},
        {"spaces", " D:( A; ; GA; ; ; WD )"},
        {"numbers", "D:(A;;0x00100003;;;S-1-0x000000000005-32-544)(D;;017;;;S-1-5-18)"},
        {"bad-part", "X:(A;;GA;;;WD)"},
        {"bad-ace", "D:(A;;GA;;WD)"},
        {"domain-alias", "O:DA"},
    };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        put((const unsigned char[]){0}, 1); /* even: a string */
        put(strings[i].sddl, strlen(strings[i].sddl));
        write_seed(dir, "fuzz-sddl", strings[i].file);
    }
    /* A binary descriptor: header, a DACL of one ACCESS_ALLOWED ACE for Everyone. */
    static const unsigned char binary[] = {
        1,                                                     /* odd: binary */
        1, 0, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, /* SE_DACL_PRESENT | SE_SELF_RELATIVE; DACL at 20 */
        2, 0, 28, 0, 1, 0, 0, 0,                                          /* ACL: revision 2, size 28, one ACE */
        0, 0, 20, 0, 0, 0, 0x10, 0,                                       /* ACCESS_ALLOWED, size 20, GENERIC_ALL */
        1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0,                               /* S-1-1-0 */
    };
    put(binary, sizeof binary);
    write_seed(dir, "fuzz-sddl", "binary-everyone");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen-seeds DIR\n");
        return 2;
    }
    requests_seeds(argv[1]);
    names_seeds(argv[1]);
    sddl_seeds(argv[1]);
    return 0;
}

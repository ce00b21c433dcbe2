/*
 * test-requests.c — the server's request handling (nsem__dispatch), unit-tested in the test
 * process: frames that end against an unmapped page, so that reading past one faults instead of
 * reading whatever lies there, as in the server's frame buffer; and requests a client of the
 * library never sends. (Regressions of what fuzz-requests found; see docs/reliability.md.)
 */
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/protocol.h"
#include "harness.h"
#include "server/server.h"

/* main.c's loop and log: the server's objects are linked here without it. Frames that fail the
 * checks reach none of them. */
int nsem__loop_add(int fd, void *ptr, uint32_t events)
{
    return -1;
}
int nsem__loop_mod(int fd, void *ptr, uint32_t events)
{
    return -1;
}
void nsem__loop_del(int fd, void *ptr)
{
}
void nsem__log(const char *fmt, ...)
{
}

/* Copies a frame to the end of a page followed by an unmapped one; returns where it starts. */
static unsigned char *at_page_end(const void *frame, size_t len)
{
    static unsigned char *map;
    long page = sysconf(_SC_PAGESIZE);
    if (!map) {
        map = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ASSERT(map != MAP_FAILED);
        ASSERT_EQ(mprotect(map + page, (size_t)page, PROT_NONE), 0);
    }
    unsigned char *p = map + page - len;
    memcpy(p, frame, len);
    return p;
}

/* A name_len that claims more bytes than the frame has is refused before the name is read. */
TEST(requests_name_len_past_frame)
{
    static unsigned char rep[NSEM_MSG_MAX];
    struct nsem_client c = {.fd = -1, .pidfd = -1, .greeted = true};
    unsigned char frame[256];

    struct nsem_req_create cr = {{sizeof cr + 3, NSEM_OP_CREATE}, NSEM_TYPE_SEMAPHORE, GENERIC_ALL, 0, 0, 0, 1, 0, 0,
                                 200, 0};
    memcpy(frame, &cr, sizeof cr);
    memcpy(frame + sizeof cr, "abc", 3);
    int fd = -1;
    ASSERT_EQ(nsem__dispatch(&c, at_page_end(frame, sizeof cr + 3), sizeof cr + 3, rep, &fd), 0);
    ASSERT_EQ(fd, -1);

    struct nsem_req_open op = {{sizeof op + 3, NSEM_OP_OPEN}, NSEM_TYPE_SEMAPHORE, SYNCHRONIZE, 0, 200};
    memcpy(frame, &op, sizeof op);
    memcpy(frame + sizeof op, "abc", 3);
    ASSERT_EQ(nsem__dispatch(&c, at_page_end(frame, sizeof op + 3), sizeof op + 3, rep, &fd), 0);
    ASSERT_EQ(fd, -1);
    return 0;
}

/* CREATE of a process object: refused, as an unknown type is (one made so had no process behind
 * it, and its first QUERY, DUP or close crashed the server). */
TEST(requests_create_process_refused)
{
    static unsigned char rep[NSEM_MSG_MAX];
    ASSERT_EQ(nsem__arena_init(NULL, 1), 0);
    ASSERT_EQ(nsem__arena_domain(geteuid()), 0);
    struct nsem_client c = {.fd = -1, .pidfd = -1, .greeted = true};
    struct nsem_req_create cr = {{sizeof cr, NSEM_OP_CREATE}, NSEM_TYPE_PROCESS, GENERIC_ALL, 0, 0, 0, 0, 0, 0, 0, 0};
    int fd = -1;
    memset(rep, 0xA5, sizeof(struct nsem_rep_status));
    ASSERT_EQ(nsem__dispatch(&c, (const unsigned char *)&cr, sizeof cr, rep, &fd), sizeof(struct nsem_rep_status));
    struct nsem_rep_status st;
    memcpy(&st, rep, sizeof st);
    ASSERT_EQ_U(st.hdr.error, ERROR_INVALID_PARAMETER);
    ASSERT_EQ(c.handles.used, 0);
    ASSERT_EQ(nsem__obj_count(), 0);
    return 0;
}

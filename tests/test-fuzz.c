/*
 * test-fuzz.c — a randomized, bounded pass over the server's request handling, in make check:
 * frames of each op's exact size with random field values (handles, counts, flags, names with
 * backslashes and odd bytes), and random junk, over many connections. After every connection a
 * good client's object must be intact and the server must answer. (Coverage-guided fuzzing of the
 * same entry point is issue 7's.)
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/protocol.h"
#include "harness.h"

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint32_t rnd(void)
{
    rng ^= rng << 13; /* xorshift64: reproducible from the seed printed on failure */
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* A value a handler may find meaningful: small numbers, handle values, flags, extremes. */
static uint32_t interesting(void)
{
    static const uint32_t pool[] = {0, 1, 2, 3, 4, 8, 12, 16, 64, 0x100, 0x7FFFFFFF, 0x80000000u, 0xFFFFFFFFu,
                                    0xFFFFFFFEu, NSEM_TYPE_SEMAPHORE, NSEM_TYPE_MUTEX, NSEM_TYPE_EVENT,
                                    NSEM_TYPE_PROCESS, SEMAPHORE_ALL_ACCESS, GENERIC_ALL, MAXIMUM_ALLOWED,
                                    SYNCHRONIZE, DUPLICATE_CLOSE_SOURCE | DUPLICATE_SAME_ACCESS};
    return (rnd() & 3) ? pool[rnd() % (sizeof pool / sizeof pool[0])] : rnd();
}

static const uint32_t fixed_size[NSEM_OP_COUNT] = {
    [NSEM_OP_HELLO] = sizeof(struct nsem_req_hello),
    [NSEM_OP_CREATE] = sizeof(struct nsem_req_create),
    [NSEM_OP_OPEN] = sizeof(struct nsem_req_open),
    [NSEM_OP_CLOSE] = sizeof(struct nsem_req_close),
    [NSEM_OP_UNPIN] = sizeof(struct nsem_req_unpin),
    [NSEM_OP_DUP] = sizeof(struct nsem_req_dup),
    [NSEM_OP_SET_HANDLE_INFO] = sizeof(struct nsem_req_set_handle_info),
    [NSEM_OP_QUERY] = sizeof(struct nsem_req_query),
    [NSEM_OP_LIST] = sizeof(struct nsem_req_list),
    [NSEM_OP_HOLDERS] = sizeof(struct nsem_req_holders),
    [NSEM_OP_FORK] = sizeof(struct nsem_req_fork),
    [NSEM_OP_HANDLES] = sizeof(struct nsem_req_handles),
    [NSEM_OP_SPAWN] = sizeof(struct nsem_req_spawn),
    [NSEM_OP_OPEN_PROCESS] = sizeof(struct nsem_req_open_process),
    [NSEM_OP_STATS] = sizeof(struct nsem_req_stats),
    [NSEM_OP_RECOVER] = sizeof(struct nsem_req_recover),
    [NSEM_OP_GET_SECURITY] = sizeof(struct nsem_req_get_security),
    [NSEM_OP_SET_SECURITY] = sizeof(struct nsem_req_set_security),
    [NSEM_OP_SIGNAL] = sizeof(struct nsem_req_signal),
    [NSEM_OP_TRY_WAIT] = sizeof(struct nsem_req_try_wait),
    [NSEM_OP_CLOSE_RING] = sizeof(struct nsem_req_close_ring),
};

/* A security descriptor of len bytes: mostly a valid one ("O:..G:..D:(A;;GA;;;WD)" as Windows
 * lays it out) with a byte or two flipped, else random bytes. */
static void make_sd(unsigned char *p, uint32_t len)
{
    static const unsigned char good[] = {1, 0, 0x04, 0x80, 0x30, 0, 0, 0, 0x3c, 0, 0, 0, 0, 0, 0, 0, 0x14, 0, 0, 0,
                                         2, 0, 0x1c, 0, 1, 0, 0, 0, 0, 0, 0x14, 0, 0, 0, 0, 0x10, 1, 1, 0, 0,
                                         0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 5, 0x12, 0, 0, 0,
                                         1, 1, 0, 0, 0, 0, 0, 5, 0x12, 0, 0, 0};
    for (uint32_t i = 0; i < len; i++) p[i] = (rnd() % 4) && i < sizeof good ? good[i] : (unsigned char)rnd();
}

/* One frame into buf; returns its length. */
static uint32_t make_frame(unsigned char *buf, uint32_t cap)
{
    uint32_t op = 1 + rnd() % (NSEM_OP_COUNT + 1); /* now and then one past the last */
    if (op >= NSEM_OP_COUNT || (rnd() % 16) == 0) { /* junk */
        uint32_t len = 8 + rnd() % 120;
        for (uint32_t i = 0; i < len; i++) buf[i] = (unsigned char)rnd();
        struct nsem_req_hdr h = {(rnd() & 1) ? len : rnd(), op};
        memcpy(buf, &h, sizeof h);
        return len;
    }
    uint32_t size = fixed_size[op];
    if (size + 40 + 96 > cap) return 0; /* a frame that does not fit the buffer: none this time */
    for (uint32_t i = sizeof(struct nsem_req_hdr); i + 4 <= size; i += 4) {
        uint32_t v = (rnd() % 8) ? interesting() : 0;
        memcpy(buf + i, &v, 4);
    }
    uint32_t name_len = 0, sd_len = 0;
    uint32_t off = op == NSEM_OP_CREATE ? offsetof(struct nsem_req_create, name_len)
                   : op == NSEM_OP_OPEN ? offsetof(struct nsem_req_open, name_len)
                                        : 0;
    if (off) {
        static const char alphabet[] = "ab\\\\GlobalLocalSession0123 :.-\xc3\xa9\xff";
        name_len = rnd() % 40;
        memcpy(buf + off, &name_len, 4);
        for (uint32_t i = 0; i < name_len && size + i < cap; i++) buf[size + i] = (unsigned char)alphabet[rnd() % (sizeof alphabet - 1)];
    }
    /* a descriptor after the name: CREATE's (now and then), SET_SECURITY's */
    off = op == NSEM_OP_CREATE ? offsetof(struct nsem_req_create, sd_len)
          : op == NSEM_OP_SET_SECURITY ? offsetof(struct nsem_req_set_security, sd_len)
                                       : 0;
    if (off) {
        sd_len = (op == NSEM_OP_SET_SECURITY || rnd() % 2) ? rnd() % 96 : 0;
        memcpy(buf + off, &sd_len, 4);
        make_sd(buf + size + name_len, sd_len);
        if (op == NSEM_OP_SET_SECURITY) { /* its pad is its last field */
            uint32_t zero = (rnd() % 8) ? 0 : 1;
            memcpy(buf + offsetof(struct nsem_req_set_security, pad), &zero, 4);
        }
    }
    struct nsem_req_hdr h = {size + name_len + sd_len, op};
    memcpy(buf, &h, sizeof h);
    return size + name_len + sd_len;
}

static int raw_connect(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", getenv("NSEM_SERVER"));
    ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* Reads and drops whatever the server has answered; false once it has closed the connection. */
static bool drain(int fd)
{
    char b[4096];
    for (;;) {
        ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
        if (n > 0) continue;
        return !(n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR));
    }
}

TEST(fuzz_server_survives_random_frames)
{
    HANDLE keep = CreateSemaphoreA(NULL, 2, 5, uniq("fuzz-keep"));
    ASSERT_NOT_NULL(keep);
    if (getenv("NSEM_FUZZ_SEED")) rng = strtoull(getenv("NSEM_FUZZ_SEED"), NULL, 0);
    printf("seed 0x%llx\n", (unsigned long long)rng);
    unsigned char frame[2048]; /* TRY_WAIT, the largest fixed request, is 544 bytes */
    int frames = 0;
    for (int conn = 0; conn < 150; conn++) {
        int fd = raw_connect();
        if (rnd() % 4) { /* mostly greeted first, so that the handlers are reached */
            struct nsem_req_hello hello = {{sizeof hello, NSEM_OP_HELLO}, NSEM_PROTOCOL_VERSION, rnd() % 3, 0, 0, 0, 0};
            ASSERT_EQ(send(fd, &hello, sizeof hello, MSG_NOSIGNAL), (ssize_t)sizeof hello);
            struct pollfd p = {fd, POLLIN, 0};
            poll(&p, 1, 2000);
            char cbuf[CMSG_SPACE(sizeof(int))], b[64];
            struct iovec iov = {b, sizeof b};
            struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
            if (recvmsg(fd, &msg, MSG_CMSG_CLOEXEC) > 0) {
                struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
                int memfd;
                if (cm && cm->cmsg_type == SCM_RIGHTS) {
                    memcpy(&memfd, CMSG_DATA(cm), sizeof memfd);
                    close(memfd);
                }
            }
        }
        int n = 1 + (int)(rnd() % 40);
        for (int i = 0; i < n; i++) {
            uint32_t len = make_frame(frame, sizeof frame);
            if (send(fd, frame, len, MSG_NOSIGNAL) < 0) break;
            frames++;
            if (!drain(fd)) break;
        }
        sleep_ms(1);
        drain(fd);
        close(fd);
        /* nobody else noticed */
        NSEM_OBJECT_INFO info = {.cbSize = sizeof info};
        SetLastError(POISON);
        ASSERT(NsemQueryObject(keep, &info));
        ASSERT_EQ(info.lCurrentCount, 2);
        ASSERT_EQ(info.lMaximumCount, 5);
    }
    printf("%d frames over 150 connections\n", frames);
    /* and the server still does its work */
    HANDLE again = CreateSemaphoreA(NULL, 0, 1, uniq("fuzz-after"));
    ASSERT_NOT_NULL(again);
    ASSERT(ReleaseSemaphore(again, 1, NULL));
    ASSERT_EQ_U(WaitForSingleObject(again, 0), WAIT_OBJECT_0);
    return 0;
}

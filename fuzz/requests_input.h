/*
 * requests_input.h — the input format of fuzz-requests, shared by the harness (requests.c) and the
 * seed generator (gen_seeds.c).
 *
 * An input is a sequence of steps. Each step begins with a selector byte:
 *   selector % 4 < 3   a request frame from client (selector % 4) follows; its length is its
 *                      header's len, read as client.c reads it (a len below the header or above
 *                      NSEM_MSG_MAX ends that connection and consumes the header; a frame cut
 *                      short by the end of the input is never served, as the server waits for it)
 *   selector % 4 == 3  an event, (selector >> 2) % FUZZ_EV_COUNT, with two argument bytes a, b
 *
 * Events (client = (a & 3) % 3):
 *   DISCONNECT  the client's connection ends but its process lives on (an exec): the server keeps
 *               a record of its inheritable handles, which the next connection of that client takes
 *   EXIT        the client's process ends: its connection ends, its pidfds report the exit, and
 *               its later frames in the input are dropped
 *   THREAD      a thread of the client (index 1 + (a >> 5)) does op ((a >> 2) & 7) %
 *               FUZZ_THREAD_OPS on the object of its handle (b + 1) << 2, in the arena, as libnsem
 *
 * A client connects on its first frame (and again after a DISCONNECT), as its own process: each of
 * the three is a separate peer process, so pids and process handles are real.
 *
 * Values that depend on the run rather than on the input are mapped, so that an input always does
 * the same thing:
 *   CREATE.owner_token, SIGNAL.token, TRY_WAIT.token
 *                        client part 0: none; 1..3: that client's id; more: not the caller's id
 *   OPEN_PROCESS.pid, SPAWN.pid   pid % 6: client 0, 1, 2's process, the harness, 0, no process
 *   HELLO and SPAWN tickets  hi 0 and lo 1..255: the ((lo - 1) % n)th ticket of this input's replies
 *   UNPIN.slot           0: 0; else the ((slot - 1) % n)th slot of this input's replies (0 if none)
 */
#ifndef NSEM_FUZZ_REQUESTS_INPUT_H
#define NSEM_FUZZ_REQUESTS_INPUT_H

#define FUZZ_CLIENTS 3
#define FUZZ_SEL_EVENT 3u

enum fuzz_event { FUZZ_EV_DISCONNECT, FUZZ_EV_EXIT, FUZZ_EV_THREAD, FUZZ_EV_COUNT };

enum fuzz_thread_op {
    FUZZ_OP_TAKE,          /* a successful wait on it (nothing if not signalled) */
    FUZZ_OP_RELEASE,       /* ReleaseSemaphore(1) / ReleaseMutex / SetEvent */
    FUZZ_OP_LOCK_AND_DIE,  /* a wait-all has locked it (undo: journaled) and the process dies */
    FUZZ_OP_TAKE_AND_DIE,  /* a take is stored, its undo record not yet updated: the process dies */
    FUZZ_OP_HOLD_LOCK,     /* a wait-all holds its lock during the next step, then unlocks */
    FUZZ_OP_RING_POST,     /* CloseHandle through the close ring (after a CLOSE_RING SETUP):
                              value (b + 1) << 2 with flags (thread & 3); thread & 4: the head is
                              then moved b << 8 further, as a scribbling client would */
    FUZZ_THREAD_OPS
};

#define FUZZ_SELECTOR_FRAME(client) ((unsigned char)(client))
#define FUZZ_SELECTOR_EVENT(ev) ((unsigned char)(FUZZ_SEL_EVENT | ((unsigned)(ev) << 2)))
#define FUZZ_THREAD_ARG(client, op, thread) ((unsigned char)((client) | ((op) << 2) | ((thread) << 5)))
#define FUZZ_PID_CHOICES 6u

#endif

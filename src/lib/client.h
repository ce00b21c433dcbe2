/*
 * client.h — libnsem's internal interfaces.
 *
 * Layers: conn.c (the connection to nsemd, started on demand; the arena mapping), handles.c (the
 * process's handle table, mirrored from the server so that a wait or release needs no message),
 * thread.c (thread tokens, owned mutexes, abandonment at thread exit), objops.c (the atomic
 * operations on a slot), wait.c (the wait engine), and the public functions in create.c,
 * release.c, handleapi.c, query.c, lasterror.c.
 *
 * Locking: one mutex, the connection lock, serializes requests to the server together with every
 * change of the handle table and of the per-object bookkeeping (struct nsem_lobj counts), so that
 * the table mirrors the server's exactly. Readers of the table take no lock (atomic entries).
 */
#ifndef NSEM_LIB_CLIENT_H
#define NSEM_LIB_CLIENT_H

#include <nsem.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/objstate.h"
#include "common/protocol.h"
#include "common/shm.h"
#include "common/slot.h"

#define NSEM_HIDDEN __attribute__((visibility("hidden")))

/* ---- last error (lasterror.c) ---- */
void nsem__set_error(DWORD code);

/* ---- connection (conn.c) ---- */
void nsem__conn_lock(void);
void nsem__conn_unlock(void);
bool nsem__conn_lock_held(void); /* by the calling thread */
/* Sends a request and reads its reply, connecting (and starting the server) first if needed.
 * Caller holds the connection lock. `name` (name_len bytes) follows the fixed request.
 * Returns the reply's error code, ERROR_SERVICE_NOT_ACTIVE when the server cannot be reached, or
 * ERROR_PROCESS_ABORTED when the connection broke: the server died (its handles are then gone). */
DWORD nsem__request_locked(void *req, uint32_t req_len, const char *name, uint32_t name_len, void *rep,
                           uint32_t rep_len);
struct nsem_slot *nsem__slot(uint32_t index);
uint32_t nsem__client_id(void); /* 0 while not connected */
/* Connects if needed; returns 0 or a Windows error. */
DWORD nsem__ensure_connected(void);
/* Starts nsemd for sock_path (spawn.c); false when no server binary is found or it cannot run. */
bool nsem__spawn_server(const char *sock_path);
/* libc's posix_spawn, not our wrapper of it (spawnhook.c). */
#include <spawn.h>
int nsem__real_posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[]);

/* The server of the arena whose liveness word this is has died: if it is ours, the connection and
 * every handle go, and the next call connects afresh. */
void nsem__conn_server_died(_Atomic uint32_t *word);

/* ---- the server's liveness (liveness.c) ---- */
/* The liveness word of the mapped arena (connected first). */
_Atomic uint32_t *nsem__server_word(void);
/* Whether the server of the mapped arena lives (an arena is mapped). */
bool nsem__server_alive(void);
/* Prepares to sleep on the word: false when the server is dead, or is not the one *server names
 * (0: the first call of a wait, which records it), else its value to sleep on. */
bool nsem__server_arm(_Atomic uint32_t *word, uint32_t *expected, uint32_t *server);
/* A blocked thread found the server dead: wakes the others and drops the connection. */
void nsem__server_died(_Atomic uint32_t *word);

/* ---- handles (handles.c) ---- */
struct nsem_handle {
    uint32_t value; /* the handle value, low two bits cleared */
    uint32_t slot;
    uint32_t type;
    uint32_t access;
    uint32_t flags; /* HANDLE_FLAG_* */
};
#define NSEM_PSEUDO_PROCESS ((uintptr_t)-1)
#define NSEM_PSEUDO_THREAD ((uintptr_t)-2)
bool nsem__is_pseudo(HANDLE h); /* (HANDLE)-1 .. (HANDLE)-6 */
/* Finds a handle: ERROR_INVALID_HANDLE (bad, or type != 0 and not that type), ERROR_ACCESS_DENIED
 * (missing one of the `need` rights), else 0. Takes no lock. */
DWORD nsem__handle_lookup(HANDLE h, uint32_t type, uint32_t need, struct nsem_handle *out);
/* Records a handle the server has just made (caller holds the connection lock). */
void nsem__handle_install(const struct nsem_rep_handle *rep);
/* Forgets a handle the server has closed (caller holds the connection lock). */
void nsem__handle_forget(uint32_t value);
void nsem__handle_set_flags(uint32_t value, uint32_t flags);
/* Asks the server whether this process has the handle `value` (one another process duplicated into
 * it) and records it if so (conn.c). */
void nsem__handle_refresh(uint32_t value);
void nsem__handles_reset(void); /* after fork, or when the server is gone */
/* Calls fn for every handle of the process, and for every object it has a pin on (connection lock
 * held): what a recovering server is told. */
void nsem__handles_each(void (*fn)(void *ctx, uint32_t value, const struct nsem_handle *h), void *ctx);
void nsem__pins_each(void (*fn)(void *ctx, uint32_t slot), void *ctx);
uint32_t nsem__handle_floor(void); /* the index above every handle this process has had */

/* Per-object bookkeeping of this process, by slot: handles it holds, and "busy" uses (blocking
 * waits, owned mutexes) that must keep the object alive after its last handle is closed. */
void nsem__busy_inc(uint32_t slot);
void nsem__busy_dec(uint32_t slot);
/* Gives back this process's pin of the object if nothing of the process uses it any more. */
void nsem__unpin_if_unused(uint32_t slot);
/* Whether this is the process's last handle to the object (connection lock held). */
bool nsem__is_last_handle(uint32_t slot);
/* Called by CloseHandle (connection lock held): whether to ask the server for a pin; and whether
 * a pin left from before is no longer needed (CloseHandle then sends UNPIN). */
bool nsem__close_needs_pin(uint32_t slot, bool *drop_stale_pin);

/* ---- the objects blocked waits are on (blocked.c) ---- */
/* A wait about to block on `slots` records them (false: no memory for a record; the caller then
 * counts itself busy on each object instead). *since is for nsem__blocked_leave. */
bool nsem__blocked_enter(const uint32_t *slots, uint32_t n, uint32_t *since);
void nsem__blocked_leave(const uint32_t *slots, uint32_t n, uint32_t since);
/* Whether a thread of this process is blocked on the object; keeps_pin: the caller pins the
 * object, or leaves it pinned, if so (every close of a last handle asks, whatever else it finds,
 * and so does a use that ends with the object pinned): the wait it finds gives the pin back. */
bool nsem__blocked_on(uint32_t slot, bool keeps_pin);
void nsem__blocked_after_fork(void);

/* ---- the close ring (closering.c) ---- */
/* Posts the close of handle `value` (NSEM_CLOSE_* flags) to the connection's close ring, with the
 * connection lock held and the handle already forgotten: true when posted (the server takes it
 * before any later request), false when it must be sent as a CLOSE request (no ring, ring full,
 * server idle). */
bool nsem__closering_post(uint32_t value, uint32_t flags);
void nsem__closering_reset(void); /* with the handle table (nsem__handles_reset) */

/* ---- threads (thread.c) ---- */
uint32_t nsem__thread_token(void); /* connects if needed; 0 if that fails */
uint32_t nsem__tid(void);
uint32_t nsem__pid(void); /* cached getpid() */
void nsem__owned_add(uint32_t slot);
void nsem__owned_remove(uint32_t slot);
void nsem__thread_after_fork(void);

/* ---- operations on a slot (objops.c) ---- */
/* Releases a semaphore of any kind (release.c): counting, exclusive or undo. */
DWORD nsem__semaphore_release(uint32_t slot, LONG count, LONG *prev);
/* Signals: each returns 0 or a Windows error. */
DWORD nsem__sem_release(uint32_t slot, LONG count, LONG *prev);
DWORD nsem__mutex_release(uint32_t slot);
DWORD nsem__event_set(uint32_t slot);
DWORD nsem__event_reset(uint32_t slot);
DWORD nsem__event_pulse(uint32_t slot);
/* Takes the state word's lock (the high half) for `me`, waiting out another holder; returns the
 * value. nsem__unlock_word stores a value and unlocks, then wakes. Used where a change needs more
 * than one CAS: exclusive and undo semaphores. */
uint32_t nsem__lock_word(struct nsem_slot *s, uint32_t me);
void nsem__unlock_word(struct nsem_slot *s, uint32_t value);
/* Waits until no wait-all holds the slot's lock; returns the state then. */
uint64_t nsem__wait_unlocked(struct nsem_slot *s);
/* When a wait gives up on a lock whose holder is stalled (preempted there, or killed until the
 * server unlocks): its deadline, or NSEM_LOCK_GRACE_MS after its start for a shorter wait, so that a
 * zero timeout still sees past a lock merely being held. Computed the first time it is needed: an
 * uncontended wait reads no clock. */
#define NSEM_LOCK_GRACE_MS 100u
struct nsem_lock_limit {
    DWORD ms; /* the wait's timeout; INFINITE: no limit */
    bool known;
    struct timespec at;
};
const struct timespec *nsem__lock_limit(struct nsem_lock_limit *limit); /* NULL: none */
/* nsem__wait_unlocked and nsem__lock_word, giving up at the limit (NULL: none): the state returned
 * may then still be locked; the lock is not taken (false). */
uint64_t nsem__wait_unlocked_until(struct nsem_slot *s, struct nsem_lock_limit *limit);
bool nsem__lock_word_until(struct nsem_slot *s, uint32_t me, struct nsem_lock_limit *limit, uint32_t *value);
/* Bookkeeping after `me` acquired a mutex (not for a recursion). */
void nsem__mutex_acquired(uint32_t slot, struct nsem_slot *s);
/* Abandons a mutex the calling thread owns (at thread exit). */
void nsem__mutex_abandon_mine(uint32_t slot, uint32_t me);

/* ---- exclusive semaphores (exclusive.c) ---- */
/* Acquires (or recurses on, or claims what a release handed) an exclusive semaphore for `me`
 * under its lock; BUSY with *error set to ERROR_TOO_MANY_SEM_REQUESTS at the recursion limit.
 * With may_queue (a blocking wait), a busy caller joins the waiter queue: *queued says so. */
enum nsem_take nsem__excl_take(uint32_t slot, struct nsem_slot *s, uint32_t me, DWORD *error, bool may_queue,
                               bool *queued, struct nsem_lock_limit *limit);
/* A queued waiter leaves (timeout, or another object satisfied it); what was handed to it passes
 * on to the next. */
void nsem__excl_leave(uint32_t slot, uint32_t me, bool *queued);
/* Ownership bookkeeping after an acquisition, the state word locked by the caller (wait-all). */
void nsem__excl_acquired_locked(uint32_t slot, struct nsem_slot *s);
DWORD nsem__excl_release(uint32_t slot, LONG *prev);
/* At the process's last close: abandons it if a thread of this process owns it. */
void nsem__excl_abandon_if_ours(uint32_t slot);
/* At the exit of thread `me`: abandons it if that thread owns it. */
void nsem__excl_abandon_mine(uint32_t slot, uint32_t me);

/* ---- undo semaphores (undo.c) ---- */
/* The process's undo record of an undo semaphore (handles.c keeps it per slot), 0 if none. */
uint32_t nsem__undo_record(uint32_t slot);
/* Both takes give up (BUSY) if the state word stays locked by another until the limit. */
enum nsem_take nsem__undo_take(uint32_t slot, struct nsem_slot *s, uint32_t me, struct nsem_lock_limit *limit);
DWORD nsem__undo_release(uint32_t slot, LONG count, LONG *prev);
/* For a wait-all holding the lock: journal one more permit taken, then (after the store) commit. */
void nsem__undo_journal_take(uint32_t slot);
void nsem__undo_commit(uint32_t slot);

/* ---- waits (wait.c) ---- */
DWORD nsem__wait(DWORD n, const HANDLE *handles, bool wait_all, DWORD ms);

/* ---- brokered handles (brokered.c): h.slot 0, another user's object in a system server ---- */
/* A SIGNAL request (NSEM_SIGNAL_*): 0 or a Windows error; *previous: a semaphore's former count. */
DWORD nsem__broker_signal(uint32_t handle, uint32_t action, LONG count, LONG *previous);
/* A wait with at least one brokered handle among hs (validated, SYNCHRONIZE checked): 0 and
 * *result (WAIT_OBJECT_0 + i, WAIT_ABANDONED_0 + i, WAIT_TIMEOUT), or a Windows error;
 * *owner_elsewhere (NULL: not asked): object 0 is an exclusive semaphore another process owns. */
DWORD nsem__broker_wait(DWORD n, const struct nsem_handle *hs, bool all, DWORD ms, DWORD *result, bool *owner_elsewhere);
/* At the exit of thread `me`: the brokered mutexes it owns are abandoned. */
void nsem__broker_thread_exit(uint32_t me);

/* ---- names (names.c) ---- */
/* Converts a name to the UTF-8 bytes the server takes. *out is either `a` itself or a buffer to
 * free(); returns 0 or ERROR_FILENAME_EXCED_RANGE / ERROR_INVALID_NAME / ERROR_NOT_ENOUGH_MEMORY. */
DWORD nsem__name_a(const char *a, const char **out, uint32_t *len);
DWORD nsem__name_w(const wchar_t *w, char **out, uint32_t *len);

#endif

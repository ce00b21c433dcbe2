/* release.c — ReleaseSemaphore, ReleaseMutex, SetEvent, ResetEvent, PulseEvent: handle checks in
 * Windows' order, then the atomic operation of objops.c. No server message. */
#include "lib/client.h"
#include "lib/handle_table.h"

DWORD nsem__semaphore_release(uint32_t slot, LONG count, LONG *prev)
{
    uint32_t flags = atomic_load_explicit(&nsem__slot(slot)->flags, memory_order_relaxed);
    if (flags & NSEM_SLOT_EXCLUSIVE) return nsem__excl_release(slot, prev);
    if (flags & NSEM_SLOT_UNDO) return nsem__undo_release(slot, count, prev);
    return nsem__sem_release(slot, count, prev);
}

/* Looks the handle up; on failure sets the last error. */
static bool lookup(HANDLE h, uint32_t type, uint32_t need, struct nsem_handle *out)
{
    DWORD e = nsem__handle_lookup(h, type, need, out);
    if (e) nsem__set_error(e);
    return e == 0;
}

static BOOL result(DWORD e)
{
    if (e) nsem__set_error(e);
    return e == 0;
}

NSEM_EXTERN BOOL ReleaseSemaphore(HANDLE hSemaphore, LONG lReleaseCount, LPLONG lpPreviousCount)
{
    /* Fast path: a plain counting semaphore, unlocked, with room: one CAS, and a wake only if
     * someone sleeps. */
    uint64_t e = nsem__plain_semaphore(hSemaphore, SEMAPHORE_MODIFY_STATE);
    if (e && lReleaseCount > 0) {
        struct nsem_slot *s = nsem__slot_fast(nsem__entry_slot(e));
        uint64_t word = atomic_load(&s->state); /* seq_cst */
        uint64_t max = (uint64_t)atomic_load_explicit(&s->max, memory_order_relaxed);
        if (!nsem_word_locker(word) && nsem_word_value(word) + (uint64_t)lReleaseCount <= max &&
            atomic_compare_exchange_strong(&s->state, &word, word + (uint64_t)lReleaseCount)) {
            if (lpPreviousCount) *lpPreviousCount = (LONG)nsem_word_value(word);
            nsem__slot_wake(s);
            return TRUE;
        }
    }
    struct nsem_handle h;
    if (lReleaseCount <= 0) return result(ERROR_INVALID_PARAMETER); /* before the handle, as NT */
    if (!lookup(hSemaphore, NSEM_TYPE_SEMAPHORE, 0, &h)) return FALSE;
    if (!h.slot) return result(nsem__broker_signal(h.value, NSEM_SIGNAL_RELEASE_SEMAPHORE, lReleaseCount, lpPreviousCount));
    bool exclusive = atomic_load_explicit(&nsem__slot(h.slot)->flags, memory_order_relaxed) & NSEM_SLOT_EXCLUSIVE;
    if (exclusive && lReleaseCount != 1) return result(ERROR_INVALID_PARAMETER); /* EXCLUSIVE.md's order */
    if (!(h.access & SEMAPHORE_MODIFY_STATE)) return result(ERROR_ACCESS_DENIED);
    return result(nsem__semaphore_release(h.slot, lReleaseCount, lpPreviousCount));
}

NSEM_EXTERN BOOL ReleaseMutex(HANDLE hMutex)
{
    struct nsem_handle h;
    if (!lookup(hMutex, NSEM_TYPE_MUTEX, 0, &h)) return FALSE; /* needs no right */
    if (!h.slot) return result(nsem__broker_signal(h.value, NSEM_SIGNAL_RELEASE_MUTEX, 0, NULL));
    return result(nsem__mutex_release(h.slot));
}

NSEM_EXTERN BOOL SetEvent(HANDLE hEvent)
{
    struct nsem_handle h;
    if (!lookup(hEvent, NSEM_TYPE_EVENT, EVENT_MODIFY_STATE, &h)) return FALSE;
    if (!h.slot) return result(nsem__broker_signal(h.value, NSEM_SIGNAL_SET_EVENT, 0, NULL));
    return result(nsem__event_set(h.slot));
}

NSEM_EXTERN BOOL ResetEvent(HANDLE hEvent)
{
    struct nsem_handle h;
    if (!lookup(hEvent, NSEM_TYPE_EVENT, EVENT_MODIFY_STATE, &h)) return FALSE;
    if (!h.slot) return result(nsem__broker_signal(h.value, NSEM_SIGNAL_RESET_EVENT, 0, NULL));
    return result(nsem__event_reset(h.slot));
}

NSEM_EXTERN BOOL PulseEvent(HANDLE hEvent)
{
    struct nsem_handle h;
    if (!lookup(hEvent, NSEM_TYPE_EVENT, EVENT_MODIFY_STATE, &h)) return FALSE;
    if (!h.slot) return result(nsem__broker_signal(h.value, NSEM_SIGNAL_PULSE_EVENT, 0, NULL));
    return result(nsem__event_pulse(h.slot));
}

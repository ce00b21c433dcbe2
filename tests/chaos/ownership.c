/*
 * ownership.c — the check that every abandonment is reported exactly once, for mutexes and
 * exclusive semaphores.
 *
 * Per name, a record of its last owner: (worker slot, incarnation, state), one atomic word, written
 * only by a process that owns the object (so the object's own mutual exclusion orders the writes):
 *   OWNED       written right after the owner acquired it (or created it owned);
 *   RELEASING   written just before the owner releases its last level.
 * A worker never closes (or gives away) its last handle to a name while it owns it, so no pin keeps
 * an old object alive under a new one of the same name: every handle to a name is to one object.
 * Every creation of these names asks for initial ownership, so a new object's creator writes the
 * record before anyone else can acquire the object.
 *
 * What the record cannot show is a worker killed between acquiring and writing OWNED. So each
 * worker publishes, before it waits (or creates owned), its *intent*: the names it may become the
 * owner of. When the supervisor reaps a worker, each name of its intent gets one more "dead
 * intent" — a dead worker that may have died owning it unrecorded. The next owner consumes them
 * (they all concern owners before it: they are dead while it owns the object).
 *
 * Then, for a process R that has just acquired the object with result X:
 *   record OWNED by P, P dead   -> P (or an unrecorded dead owner after P) died owning it:
 *                                  X must be WAIT_ABANDONED, else the abandonment was lost;
 *   record OWNED by P, P alive  -> two owners at once (whatever X);
 *   record RELEASING or none    -> X = WAIT_OBJECT_0 is right; X = WAIT_ABANDONED is right only if
 *                                  P is dead (it may have died before its release) or a dead
 *                                  intent is pending; otherwise it is a second (or spurious) report.
 * "Dead" means reaped by the supervisor (which then counts its intents) or, when that lags (the
 * supervisor may be waiting on the server to fork), a zombie process, whose intent is then read
 * from its record. A process whose socket the server saw close may still be exiting, though: a
 * result that contradicts the record is held for up to CHAOS_SETTLE_MS until the deaths that
 * would explain it are seen; only a contradiction that remains is a violation. Learning of deaths
 * only ever makes more results acceptable, so waiting can never turn a right result into a
 * violation, and a real violation involves a process that stays alive, which waiting does not
 * change.
 * What it cannot see: a second report hidden behind a dead worker's intent, and abandonments of
 * mutexes other than the lowest-index one in a wait-all (Win32 reports one index).
 */
#include <time.h>

#include "chaos.h"

enum rec_state { REC_NONE = 0, REC_OWNED = 1, REC_RELEASING = 2 };

struct rec {
    uint32_t incarnation, slot;
    enum rec_state state;
};

static uint64_t pack(uint32_t slot, uint32_t incarnation, enum rec_state state)
{
    return (uint64_t)state << 48 | (uint64_t)(slot & 0xFFFFu) << 32 | incarnation;
}

static struct rec unpack(uint64_t v)
{
    return (struct rec){(uint32_t)v, (uint32_t)(v >> 32) & 0xFFFFu, (enum rec_state)(v >> 48)};
}

enum verdict {
    FINE,        /* consistent; nothing to count */
    CONFIRMED,   /* an abandonment, explained by a dead recorded owner */
    AMBIGUOUS,   /* an abandonment, explained by a dead in-flight owner */
    HIDDEN,      /* an abandonment in a wait-all that reported another object's index */
    SUSPECT,     /* contradicts the record unless a death is confirmed: wait and look again */
    LOST,        /* the recorded owner died owning it and the acquirer was not told */
    SPURIOUS,    /* told of an abandonment that no death explains */
    TWO_OWNERS,  /* acquired while its recorded owner, alive, still owns it */
};

static enum verdict judge(struct rec r, bool prev_dead, bool dead_intent, enum chaos_took how, bool final)
{
    if (r.state == REC_OWNED && !prev_dead) return final ? TWO_OWNERS : SUSPECT;
    if (how == TOOK_UNKNOWN) return r.state == REC_OWNED ? HIDDEN : FINE;
    if (r.state == REC_OWNED) return how == TOOK_ABANDONED ? CONFIRMED : LOST;
    if (how == TOOK_OK) return FINE;
    if ((r.state == REC_RELEASING && prev_dead) || dead_intent) return AMBIGUOUS;
    return final ? SPURIOUS : SUSPECT;
}

static const char *const kind_text[KIND_COUNT] = {"semaphore", "exclusive semaphore", "undo semaphore", "mutex",
                                                  "event"};

/* A dead worker not reaped yet whose intent has name: the supervisor will count it, later. */
static bool unreaped_intent(struct chaos_shared *sh, uint32_t name)
{
    for (uint32_t slot = 0; slot < sh->workers; slot++) {
        struct chaos_worker *w = &sh->w[slot];
        if (!(atomic_load(&w->intent) & (1ull << name))) continue; /* seq_cst: its last value, if dead */
        uint64_t life = atomic_load(&w->life);                      /* seq_cst */
        if ((life >> 32) == LIFE_ALIVE && chaos_is_dead(sh, slot, (uint32_t)life)) return true;
    }
    return false;
}

static void take_ownership(struct chaos_shared *sh, uint32_t slot, uint32_t incarnation, uint32_t name)
{
    /* seq_cst: the deaths it consumes are all of owners before us (they are dead while we own it) */
    atomic_exchange(&sh->dead_intents[name], 0);
    atomic_store(&sh->owner_rec[name], pack(slot, incarnation, REC_OWNED)); /* seq_cst: see the header */
}

void chaos_owner_acquired(struct chaos_shared *sh, struct chaos_worker *me, uint32_t slot, uint32_t incarnation,
                          uint32_t name, enum chaos_took how)
{
    _Atomic uint64_t *violations = me->violations, *stats = me->stats;
    uint64_t start = chaos_now_ms();
    struct rec r;
    enum verdict v;
    for (bool waited = false;; waited = true) {
        r = unpack(atomic_load(&sh->owner_rec[name])); /* seq_cst: written by the owners before us */
        bool prev_dead = r.state != REC_NONE && chaos_is_reaped(sh, r.slot, r.incarnation);
        bool dead_intent = atomic_load(&sh->dead_intents[name]) > 0; /* seq_cst: see chaos_owner_worker_dead */
        v = judge(r, prev_dead, dead_intent, how, false);
        if (v == SUSPECT) {
            /* The supervisor may lag in reaping (it waits on the server to fork): ask the processes. */
            prev_dead = r.state != REC_NONE && chaos_is_dead(sh, r.slot, r.incarnation);
            dead_intent = dead_intent || unreaped_intent(sh, name);
            v = judge(r, prev_dead, dead_intent, how, chaos_now_ms() - start >= CHAOS_SETTLE_MS);
        }
        if (v != SUSPECT) {
            if (waited) chaos_count(&stats[S_SETTLES], 1);
            break;
        }
        nanosleep(&(struct timespec){0, 5 * 1000000L}, NULL);
    }
    char obj[64];
    chaos_name(name, obj, sizeof obj);
    const char *kind = kind_text[chaos_kind_of(name)];
    const char *told = how == TOOK_ABANDONED ? "WAIT_ABANDONED" : how == TOOK_OK ? "WAIT_OBJECT_0" : "a wait-all";
    switch (v) {
    case FINE:
    case SUSPECT:
        break;
    case CONFIRMED:
        chaos_count(&stats[S_ABANDON_CONFIRMED], 1);
        break;
    case AMBIGUOUS:
        chaos_count(&stats[S_ABANDON_AMBIGUOUS], 1);
        break;
    case HIDDEN:
        chaos_count(&stats[S_ABANDON_UNKNOWN], 1);
        break;
    case LOST:
        chaos_violation(violations, V_LOST_ABANDONMENT,
                        "%s %s: acquired with %s, but its last owner (worker %u#%u) died owning it", kind, obj, told,
                        r.slot, r.incarnation);
        break;
    case SPURIOUS:
        chaos_violation(violations, V_SPURIOUS_ABANDONMENT,
                        "%s %s: acquired with WAIT_ABANDONED, but its last owner (worker %u#%u) %s it and no "
                        "dead worker was acquiring it",
                        kind, obj, r.slot, r.incarnation, r.state == REC_NONE ? "(none) never had" : "released");
        break;
    case TWO_OWNERS:
        chaos_violation(violations, V_DOUBLE_OWNER, "%s %s: acquired with %s while worker %u#%u, alive, owns it",
                        kind, obj, told, r.slot, r.incarnation);
        break;
    }
    take_ownership(sh, slot, incarnation, name);
}

void chaos_owner_created(struct chaos_shared *sh, struct chaos_worker *me, uint32_t slot, uint32_t incarnation,
                         uint32_t name)
{
    chaos_count(&me->stats[S_OWNED_CREATE], 1);
    take_ownership(sh, slot, incarnation, name);
}

void chaos_owner_releasing(struct chaos_shared *sh, uint32_t slot, uint32_t incarnation, uint32_t name)
{
    atomic_store(&sh->owner_rec[name], pack(slot, incarnation, REC_RELEASING)); /* seq_cst: before the release */
}

void chaos_owner_still(struct chaos_shared *sh, uint32_t slot, uint32_t incarnation, uint32_t name)
{
    atomic_store(&sh->owner_rec[name], pack(slot, incarnation, REC_OWNED)); /* seq_cst: as take_ownership */
}

void chaos_owner_worker_dead(struct chaos_shared *sh, struct chaos_worker *w)
{
    /* seq_cst: the worker stored it before each wait; it is dead (reaped), so this is its last value */
    uint64_t intent = atomic_load(&w->intent);
    for (uint32_t name = 0; name < CHAOS_MAX_NAMES; name++)
        if (intent & (1ull << name)) atomic_fetch_add(&sh->dead_intents[name], 1); /* seq_cst: before DEAD */
    atomic_store(&w->intent, 0);
}

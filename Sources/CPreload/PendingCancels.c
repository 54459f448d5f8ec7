// Explicit cancels of tasks that had not started yet (Docs/Run.md, "Time order").
//
// A task's cancellation handler is registered when the task starts; a `Task.cancel()` before that fires no
// handler, and the handler's first run at registration (on the task's own thread, maybe much later) no longer
// knows who cancelled. So the cancel hook files the cancel here by task id before it calls the runtime, and:
// - the handler fired during the call (the task was running): the hook records it; the entry is left to be
//   overwritten;
// - it did not, and the task has ended (its end marks the slot): the cancel changed nothing, nothing is written;
// - it did not otherwise: the hook writes a *provisional* cancel (CT_CANCEL_PENDING) at the call's time into its
//   ring. The writer holds the file at that time until the entry is resolved: the task's start took it (the
//   cancel reached it before it ran: written as an explicit cancel at the call's time), or the task turns out to
//   have ended (dropped). A task that does neither within the writer's hold limit (it waits that long for a
//   thread, or it is one the library does not watch) is given up: its provisional cancel is dropped, and a start
//   that takes the entry later records the cancel itself, then written late and marked so.
#define _GNU_SOURCE
#include "Internal.h"

#include <stdbool.h>

/// 65,536 slots by task id (2 MiB of zero pages, touched only where used). A cancel that finds its slot busy
/// with another task's unresolved cancel is not filed: its task's start records the cancel with reason unknown.
#define PENDING_SLOTS (1u << 16)

enum {
    SLOT_FREE = 0,
    SLOT_CANCELLING = 1,  // filed; the cancel call has not returned yet (overwritable: it may have fired)
    SLOT_WAITING = 2,     // the call fired no handler: a provisional cancel waits in the writer
    SLOT_STARTED = 3,     // the task's start took it: the writer writes the provisional cancel
    SLOT_GIVEN_UP = 4,    // the writer stopped waiting: a start that takes it now records the cancel itself
};

typedef struct {
    _Atomic uint32_t lock;
    uint32_t state;
    uint64_t task, time, by;
} pending_cancel;
static pending_cancel filed_cancels[PENDING_SLOTS];

/// The id of the last task that ended, per slot: the writer tells "ended before the cancel" from "not started
/// yet" by it. Overwritten by a later task of the same slot; the provisional cancel is then given up after the
/// hold limit, which drops it just the same.
static _Atomic uint64_t ended_tasks[PENDING_SLOTS];

static pending_cancel *slot_of(uint64_t task) { return &filed_cancels[task & (PENDING_SLOTS - 1)]; }

bool ct_pending_file(uint64_t task, uint64_t time, uint64_t by) {
    pending_cancel *p = slot_of(task);
    ct_slot_lock(&p->lock);
    bool filed = p->state != SLOT_WAITING && p->state != SLOT_STARTED;
    if (filed) p->task = task, p->time = time, p->by = by, p->state = SLOT_CANCELLING;
    ct_slot_unlock(&p->lock);
    return filed;
}

bool ct_pending_unfired(uint64_t task) {
    pending_cancel *p = slot_of(task);
    // Read before the state, as the writer does: the task's end stored it before its handler went, so a cancel
    // that found no handler sees it (through the runtime's status lock); a start that took the entry did so
    // before its task could end. Most cancels that fire nothing are of ended tasks: no provisional for those.
    bool has_ended = atomic_load_explicit(&ended_tasks[task & (PENDING_SLOTS - 1)], memory_order_acquire) == task;
    ct_slot_lock(&p->lock);
    bool ours = p->task == task && (p->state == SLOT_CANCELLING || p->state == SLOT_STARTED);
    if (ours && p->state == SLOT_CANCELLING) {
        p->state = has_ended ? SLOT_FREE : SLOT_WAITING;
        ours = !has_ended;
    }
    ct_slot_unlock(&p->lock);
    return ours;
}

enum ct_pending_take ct_pending_take(uint64_t task, uint64_t *time, uint64_t *by) {
    pending_cancel *p = slot_of(task);
    enum ct_pending_take result = CT_TAKE_NONE;
    ct_slot_lock(&p->lock);
    if (p->task == task) {
        if (p->state == SLOT_CANCELLING || p->state == SLOT_WAITING) {
            p->state = SLOT_STARTED;
            result = CT_TAKE_WRITER_HAS_IT;
        } else if (p->state == SLOT_GIVEN_UP) {
            p->state = SLOT_FREE;
            *time = p->time;
            *by = p->by;
            result = CT_TAKE_RECORD_IT;
        }
    }
    ct_slot_unlock(&p->lock);
    return result;
}

void ct_pending_task_ended(uint64_t task) {
    atomic_store_explicit(&ended_tasks[task & (PENDING_SLOTS - 1)], task, memory_order_release);
}

enum ct_pending_verdict ct_pending_resolve(uint64_t task, bool give_up) {
    pending_cancel *p = slot_of(task);
    // Read before the state: a start that took the entry did so before its task could end.
    bool has_ended = atomic_load_explicit(&ended_tasks[task & (PENDING_SLOTS - 1)], memory_order_acquire) == task;
    enum ct_pending_verdict verdict = CT_VERDICT_DROP;
    ct_slot_lock(&p->lock);
    if (p->task == task && p->state == SLOT_STARTED) {
        p->state = SLOT_FREE;
        verdict = CT_VERDICT_WRITE;
    } else if (p->task == task && p->state == SLOT_WAITING) {
        if (has_ended) {
            p->state = SLOT_FREE;
        } else if (give_up) {
            p->state = SLOT_GIVEN_UP;
        } else {
            verdict = CT_VERDICT_WAIT;
        }
    }
    ct_slot_unlock(&p->lock);
    return verdict;
}

// Shared between the hooks (Hooks.c) and the event buffers and writer (Writer.c). Not installed.
#ifndef CANCELTRACE_PRELOAD_INTERNAL_H
#define CANCELTRACE_PRELOAD_INTERNAL_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// The format's codes this writer uses (Docs/TraceFormat.md, .json). RunCommandTests reads these lines and checks
// each against TraceFormat's EventKind table and CancelTraceVersion: they are the contract, not a free copy.
#define CT_WIRE_MAJOR 1
#define CT_WIRE_MINOR 1
#define CT_WIRE_INFO 0x01
#define CT_WIRE_STRING 0x02
#define CT_WIRE_CLOSE 0x03
#define CT_WIRE_SPAWN 0x10
#define CT_WIRE_CANCEL 0x11
#define CT_WIRE_END 0x16
#define CT_WIRE_DROPPED 0x18
#define CT_WIRE_MARK 0x19
#define CT_WIRE_SITE 0x80
#define CT_WIRE_SIGNAL 0x81
#define CT_RECORDER_VERSION "0.1.0"

/// Event kinds in the per-thread buffers; the writer turns them into format records.
enum ct_kind {
    CT_SPAWN = 1,   // f0 task, f1 parent, f2 how (| CT_SPAWN_* flags | descriptor << 16), f3..f5 return addresses
                    // (innermost first)
    CT_CANCEL = 2,  // f0 task, f1 by, f2 reason
    CT_END = 3,     // f0 task, f1 outcome, f2 error type name (const char *, lives forever), f3 its length
    CT_SIGNAL = 4,  // f0 task, f1 what (0 flag, 1 received), f2 via (static const char *)
    CT_CANCEL_PENDING = 5,  // f0 task, f1 by: an explicit cancel of a task not started yet (PendingCancels.c);
                            // the writer holds the file at its time until ct_pending_resolve says what it was
};

/// Flag in a spawn's `how`: the task is an `async let` child.
#define CT_SPAWN_ASYNC_LET 0x100
/// Flag in a spawn's `how`: the task's result type is Void.
#define CT_SPAWN_VOID 0x200
/// Bits 16… of a spawn's `how`: the address of the closure's descriptor (its first field after the substitute
/// AsyncFunctionPointer is the closure's real function), or 0.
#define CT_SPAWN_DESC_SHIFT 16

/// Message of a cancel written later than its time (the writer had passed it): Docs/TraceFormat.md.
#define CT_LATE_CANCEL_MESSAGE "recorded late: requested earlier than this time"

/// Mark label written after the spawn of a task whose operation returns Void and cannot throw (Docs/Run.md).
#define CT_MARK_VOID_NEVER "returns Void, cannot throw"

/// The part of a closure descriptor the writer reads: the closure's function, and the writer's own cache of
/// whether that function is a non-throwing operation (0 unknown, 1 cannot throw, 2 may throw).
typedef struct {
    int32_t relative_function;
    uint32_t context_size;
    void *function;
    uint32_t room_offset;
    uint32_t cannot_throw;  // written and read by the writer thread only
} ct_desc_head;

/// One event: 64 bytes, written by one thread into its own ring, read by the writer thread.
typedef struct {
    uint64_t time;
    uint32_t kind;
    uint32_t unused;
    uint64_t f[6];
} ct_event;

/// Whether events are recorded (false before setup, after the trace closed, and in a forked child).
extern _Atomic int ct_recording;

/// Nanoseconds since the trace started.
uint64_t ct_now(void);

/// Opens the calling thread's recording window and returns the time now (nanoseconds since the trace started).
/// While a window is open the writer writes nothing later than the window's first time, so an event timed now
/// and published before `ct_end` (after a runtime call: a spawn, a cancel) still reaches the file in time order.
/// Windows nest (a cancellation handler running inside a hooked cancel); `ct_end` closes each.
uint64_t ct_begin(void);

/// Closes the window `ct_begin` opened.
void ct_end(void);

/// Appends one event to the calling thread's buffer: no lock, no allocation (after the thread's first event).
/// Call it inside a window. Drops and counts the event when the buffer is full.
void ct_emit(uint32_t kind, uint64_t time, uint64_t f0, uint64_t f1, uint64_t f2, uint64_t f3, uint64_t f4,
             uint64_t f5);

/// One event timed now, in its own window.
static inline void ct_record(uint32_t kind, uint64_t f0, uint64_t f1, uint64_t f2, uint64_t f3) {
    uint64_t time = ct_begin();
    ct_emit(kind, time, f0, f1, f2, f3, 0, 0);
    ct_end();
}

/// A lock of one table slot: threads meet on it only when they touch the same slot at once (no lock shared by
/// every cancel or spawn). Held for a few stores.
static inline void ct_slot_lock(_Atomic uint32_t *lock) {
    for (int spins = 0; atomic_exchange_explicit(lock, 1, memory_order_acquire); spins++) {
        if (spins > 64) sched_yield();  // its holder was preempted
    }
}

static inline void ct_slot_unlock(_Atomic uint32_t *lock) { atomic_store_explicit(lock, 0, memory_order_release); }

// Explicit cancels of tasks not started yet (PendingCancels.c).

/// Files the explicit cancel of `task` made at `time` by `by`, before the runtime's cancel runs. False when the
/// slot holds another task's unresolved cancel (then nothing is filed).
bool ct_pending_file(uint64_t task, uint64_t time, uint64_t by);

/// After a filed cancel fired no handler: true when the caller must write the provisional cancel
/// (CT_CANCEL_PENDING) at the filed time; false when the task had ended (nothing to record) or the entry was
/// overwritten meanwhile.
bool ct_pending_unfired(uint64_t task);

enum ct_pending_take { CT_TAKE_NONE, CT_TAKE_WRITER_HAS_IT, CT_TAKE_RECORD_IT };

/// At the task's start (its cancellation handler's first run, already cancelled): NONE when no cancel of it is
/// filed; WRITER_HAS_IT when the provisional cancel will be written; RECORD_IT (with the filed time and
/// canceller) when the writer gave up waiting and the caller must record the cancel itself.
enum ct_pending_take ct_pending_take(uint64_t task, uint64_t *time, uint64_t *by);

/// A watched task ended (called before its cancellation handler is removed).
void ct_pending_task_ended(uint64_t task);

enum ct_pending_verdict { CT_VERDICT_WRITE, CT_VERDICT_DROP, CT_VERDICT_WAIT };

/// The writer's question about a provisional cancel: WRITE it (the task took it at its start), DROP it (the task
/// had ended: the cancel changed nothing; or it was given up), or WAIT. With `give_up`, never WAIT.
enum ct_pending_verdict ct_pending_resolve(uint64_t task, bool give_up);

/// The calling thread's stack bounds, cached with its buffer: frame walks never leave them.
void ct_stack_bounds(uintptr_t *low, uintptr_t *high);

/// Opens the trace file and starts the writer thread. `items` are metadata key/value pairs (NULL-terminated).
/// Returns 0 on success; on failure prints one line to stderr and returns -1 (nothing is recorded).
int ct_writer_start(const char *path, const char *const *items);

/// Writes everything buffered and the `close` record; called once at exit.
void ct_writer_finish(void);

/// In a forked child: stop recording without touching locks the parent's threads may have held.
void ct_writer_forget_after_fork(void);

#endif

// The hooks `canceltrace run` preloads into a Swift program (Docs/Run.md).
//
// Every swift_* entry point of libswift_Concurrency.so has protected visibility: calls the app makes through its
// PLT can be interposed, calls inside the runtime cannot. The library defines the entry points the app calls
// (swift_task_create, swift_asyncLet_begin, Task.cancel, cancelAll, Task.isCancelled, Task.checkCancellation),
// records, and forwards to the runtime's own definition (dlsym RTLD_NEXT).
//
// Start and end of a task: swift_task_create gets, instead of the closure's AsyncFunctionPointer, a substitute
// whose function is a small per-closure stub and whose context is larger by a room of our own (struct room). The
// stub runs first on the new task: it saves the context's ResumeParent in the room, puts the end stub there, and
// registers a cancellation handler; the end stub sees the error the task finished with. Both are built once per
// distinct closure entry in executable memory, so any number of closures works.
#define _GNU_SOURCE
#include "Internal.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__linux__) && defined(__x86_64__)
#define CT_SUPPORTED 1
#else
#define CT_SUPPORTED 0
#endif

#define SWIFTCALL __attribute__((swiftcall))

/// Runtime internal layouts (`_swift_concurrency_debug_internal_layout_version`) this library was checked
/// against: ResumeParent at context offset 8, the AsyncLet task slot at 0x18, Task<_, any Error> boxing.
static const unsigned known_layouts[] = {1};

typedef struct {
    void *task;
    void *context;
} task_and_context;

typedef struct {
    const void *value;
    const void *type;
    const void *conformance;
} error_value;

typedef struct {
    const char *text;
    size_t length;
} type_name;

typedef SWIFTCALL void (*handler_fn)(void *__attribute__((swift_context)));

static SWIFTCALL task_and_context (*real_create)(size_t, void *, const void *, const void *, void *);
static SWIFTCALL void (*real_async_let_begin)(void *, void *, const void *, const void *, void *, void *);
static SWIFTCALL void *(*real_get_current)(void);
static SWIFTCALL uint64_t (*real_task_id)(void *);
static SWIFTCALL bool (*real_is_cancelled)(void *);
static SWIFTCALL void *(*real_add_handler)(handler_fn, void *);
static SWIFTCALL void (*real_remove_handler)(void *);
static void (*real_get_error_value)(const void *, void **, error_value *);
static SWIFTCALL type_name (*real_get_type_name)(const void *, bool);
static const void *void_metadata;  // `()`'s type metadata: a task whose result type is Void (find_void_metadata)

/// `()`'s metadata as swift_task_create receives it. `$sytN` is the full metadata record; the metadata pointer
/// proper is past its value-witness slot. Checked by name, so that a runtime laid out otherwise gets no mark.
static const void *find_void_metadata(void) {
    const uint8_t *full = dlsym(RTLD_DEFAULT, "$sytN");
    if (!full || !real_get_type_name) return NULL;
    const void *candidates[] = {full + sizeof(void *), full};
    for (int i = 0; i < 2; i++) {
        type_name n = real_get_type_name(candidates[i], false);
        if (n.length == 2 && memcmp(n.text, "()", 2) == 0) return candidates[i];
    }
    return NULL;
}

/// Full: start, end and every cancellation; degraded (unknown runtime layout): spawns and explicit cancels.
static bool full_mode;

// MARK: - Descriptors: one per distinct closure entry

/// The substitute AsyncFunctionPointer and the two stubs for one closure entry. 128 bytes, in executable memory.
typedef struct ct_desc {
    int32_t relative_function;  // +0  substitute AsyncFunctionPointer: → entry_stub
    uint32_t context_size;      // +4  the closure's context size + the room
    void *function;             // +8  the closure's real entry (ct_common_entry jumps through this offset)
    uint32_t room_offset;       // +16
    uint32_t cannot_throw;      // +20 the writer's cache (ct_desc_head)
    void *common_entry;         // +24 jumped to by entry_stub
    void *common_end;           // +32 jumped to by end_stub
    uint8_t pad[24];
    uint8_t entry_stub[32];     // +64 lea desc(%rip), %rax; jmp *common_entry(%rip)
    uint8_t end_stub[32];       // +96 lea desc(%rip), %rax; jmp *common_end(%rip)
} ct_desc;
_Static_assert(sizeof(ct_desc) == 128, "stub offsets below assume 128-byte descriptors");
_Static_assert(offsetof(ct_desc, function) == offsetof(ct_desc_head, function) &&
                   offsetof(ct_desc, cannot_throw) == offsetof(ct_desc_head, cannot_throw),
               "the writer reads ct_desc_head");

/// Our part of a task's initial context, after the closure's own.
typedef struct {
    void *resume_parent;  // the runtime's ResumeParent, restored by the end stub
    void *record;         // the cancellation handler record
    void *task;
    uint64_t id;
    // Written by the spawning thread after swift_task_create returns (the task may already run): valid only while
    // `tag` == `id` (the context's memory may hold an earlier task's room).
    uint64_t parent_id;
    void *parent_task;  // only dereferenced for structured children, which never outlive their parent
    uint64_t how;
    _Atomic uint64_t tag;
} room;

extern void ct_common_entry(void);
extern void ct_common_end(void);

#define TABLE_SIZE (1u << 16)
typedef struct {
    _Atomic(const void *) key;
    _Atomic(ct_desc *) desc;
} table_slot;
static table_slot *table;  // AsyncFunctionPointer → descriptor; lock-free lookups
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *code_next, *code_end;  // executable memory for descriptors

static ct_desc *new_desc(void) {
    if (code_next == code_end) {
        size_t size = 256 << 10;
        void *memory = mmap(NULL, size, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (memory == MAP_FAILED) return NULL;
        code_next = memory;
        code_end = code_next + size;
    }
    ct_desc *d = (ct_desc *)code_next;
    code_next += sizeof(ct_desc);
    return d;
}

static void write_stub(uint8_t *stub, int32_t to_desc, int32_t to_slot) {
    // lea rel32(%rip), %rax = 48 8D 05 rel32; jmp *rel32(%rip) = FF 25 rel32
    stub[0] = 0x48, stub[1] = 0x8D, stub[2] = 0x05;
    memcpy(stub + 3, &to_desc, 4);
    stub[7] = 0xFF, stub[8] = 0x25;
    memcpy(stub + 9, &to_slot, 4);
    stub[13] = 0xCC;
}

static ct_desc *build_desc(const void *afp) {
    ct_desc *d = new_desc();
    if (!d) return NULL;
    const int32_t *fields = afp;
    d->function = (uint8_t *)afp + fields[0];
    d->room_offset = ((uint32_t)fields[1] + 15u) & ~15u;
    d->context_size = d->room_offset + (uint32_t)sizeof(room);
    d->common_entry = (void *)ct_common_entry;
    d->common_end = (void *)ct_common_end;
    write_stub(d->entry_stub, -(64 + 7), 24 - (64 + 13));
    write_stub(d->end_stub, -(96 + 7), 32 - (96 + 13));
    d->relative_function = (int32_t)offsetof(ct_desc, entry_stub);
    __builtin___clear_cache((char *)d, (char *)(d + 1));
    return d;
}

/// Looks `afp` up; with `insert`, adds it when missing (caller holds table_lock). NULL when absent or full.
static ct_desc *find_desc(const void *afp, uint32_t start, bool insert) {
    for (uint32_t i = 0, j = start; i < TABLE_SIZE; i++, j = (j + 1) & (TABLE_SIZE - 1)) {
        const void *key = atomic_load_explicit(&table[j].key, memory_order_acquire);
        if (key == afp) return atomic_load_explicit(&table[j].desc, memory_order_acquire);
        if (key) continue;
        if (!insert) return NULL;
        ct_desc *d = build_desc(afp);
        atomic_store_explicit(&table[j].desc, d, memory_order_release);
        atomic_store_explicit(&table[j].key, afp, memory_order_release);  // published after its descriptor
        return d;
    }
    return NULL;
}

/// The substitute for the AsyncFunctionPointer `afp`, built the first time (under a lock, once per distinct
/// closure entry); NULL when out of memory or slots (the task then runs unobserved apart from its spawn).
static ct_desc *substitute(const void *afp) {
    if (!table || !afp) return NULL;
    uint32_t start = (uint32_t)((((uintptr_t)afp >> 3) * 0x9E3779B97F4A7C15ull) >> 48) & (TABLE_SIZE - 1);
    ct_desc *d = find_desc(afp, start, false);
    if (d) return d;
    pthread_mutex_lock(&table_lock);
    d = find_desc(afp, start, true);
    pthread_mutex_unlock(&table_lock);
    return d;
}

// MARK: - Per-thread context of a cancel call

static __thread __attribute__((tls_model("initial-exec"))) void *explicit_target;  // inside Task.cancel of this task
static __thread __attribute__((tls_model("initial-exec"))) uint64_t cancel_all_by;  // inside cancelAll by this task
static __thread __attribute__((tls_model("initial-exec"))) int in_cancel_hook;      // nested hooked cancel calls
static __thread __attribute__((tls_model("initial-exec"))) int explicit_fired;      // the handler saw explicit_target
static __thread __attribute__((tls_model("initial-exec"))) void *registering;       // room whose handler is being added
static __thread __attribute__((tls_model("initial-exec"))) uint64_t last_signal_task;
static __thread __attribute__((tls_model("initial-exec"))) const char *last_signal_via;

static uint64_t id_of(void *task) { return task ? real_task_id(task) : 0; }

/// `async let` children by task id, with their parent: swift_asyncLet_begin does not hand back the child's
/// context, so its room has no parent link; the cancellation handler looks here instead (off the hot path: only
/// on a cancel). Overwritten on collision (that child's cancel then reads as reason unknown, as before).
#define ALET_SLOTS 1024
typedef struct {
    _Atomic uint32_t lock;
    uint64_t task, parent_id;
    void *parent_task;  // dereferenced only while the child runs: a structured child never outlives its parent
} alet_parent;
static alet_parent alets[ALET_SLOTS];

static void alet_put(uint64_t task, uint64_t parent_id, void *parent_task) {
    alet_parent *a = &alets[task & (ALET_SLOTS - 1)];
    ct_slot_lock(&a->lock);
    a->task = task, a->parent_id = parent_id, a->parent_task = parent_task;
    ct_slot_unlock(&a->lock);
}

static bool alet_find(uint64_t task, alet_parent *out) {
    alet_parent *a = &alets[task & (ALET_SLOTS - 1)];
    ct_slot_lock(&a->lock);
    out->task = a->task, out->parent_id = a->parent_id, out->parent_task = a->parent_task;
    ct_slot_unlock(&a->lock);
    return out->task == task && task != 0;
}

// MARK: - Start, cancellation, end

/// The cancellation handler, called by the runtime on the cancelling thread under the task's status lock:
/// records, nothing more. `swift_task_getCurrent()` there is the task that cancelled.
static SWIFTCALL void on_cancel(void *context __attribute__((swift_context))) {
    room *r = context;
    if (!atomic_load_explicit(&ct_recording, memory_order_relaxed)) return;
    if (explicit_target == r->task) {  // the Task.cancel hook records it
        explicit_fired = 1;
        return;
    }
    void *current = real_get_current();
    uint64_t by = id_of(current);
    uint64_t reason = 0;
    bool known = atomic_load_explicit(&r->tag, memory_order_acquire) == r->id;
    uint64_t parent_id = known ? r->parent_id : 0, how = known ? r->how : 0;
    void *parent_task = known ? r->parent_task : NULL;
    alet_parent a;
    if (!known && alet_find(r->id, &a)) {  // an `async let` child
        known = true;
        parent_id = a.parent_id;
        parent_task = a.parent_task;
        how = 1;
    }
    if (known && cancel_all_by && parent_id == cancel_all_by) {
        reason = 1;
    } else if (known && (how == 1 || how == 3) && parent_task && real_is_cancelled(parent_task)) {
        reason = 4;
        by = parent_id;
    } else if (registering == r) {
        // Cancelled before it started (the handler runs at registration): by a Task.cancel call, when one is
        // filed for it (PendingCancels.c). Its provisional cancel, held by the writer, is then written at the
        // call's time; only when the writer gave up waiting is it recorded here, with the call's time, which the
        // writer then raises and marks as late.
        uint64_t time = 0, filed_by = 0;
        switch (ct_pending_take(r->id, &time, &filed_by)) {
        case CT_TAKE_WRITER_HAS_IT:
            return;
        case CT_TAKE_RECORD_IT:
            ct_begin();
            ct_emit(CT_CANCEL, time, r->id, filed_by, 1, 0, 0, 0);
            ct_end();
            return;
        case CT_TAKE_NONE:
            break;
        }
        by = 0;
    } else if (current == r->task) {
        reason = 1;  // cancelled itself (`withUnsafeCurrentTask { $0?.cancel() }` runs inside the runtime)
    }
    ct_record(CT_CANCEL, r->id, by, reason, 0);
}

__attribute__((visibility("hidden"))) void ct_on_task_start(void *context, ct_desc *d) {
    room *r = (room *)((uint8_t *)context + d->room_offset);
    void **slots = context;
    r->resume_parent = slots[1];
    slots[1] = d->end_stub;
    r->task = real_get_current();
    r->id = id_of(r->task);
    r->record = NULL;
    registering = r;
    r->record = real_add_handler(on_cancel, r);
    registering = NULL;
}

/// The error's type name, unboxing `any Error` (a throwing Task boxes its error once more).
static void error_type(void *error, const char **name, size_t *length) {
    for (int depth = 0; depth < 4 && error; depth++) {
        void *scratch = NULL;
        error_value value = {0};
        real_get_error_value(error, &scratch, &value);
        if (!value.type) break;
        type_name n = real_get_type_name(value.type, false);
        if ((n.length == 5 && memcmp(n.text, "Error", 5) == 0) || (n.length == 9 && memcmp(n.text, "any Error", 9) == 0)) {
            error = value.value ? *(void *const *)value.value : NULL;
            continue;
        }
        *name = n.text;
        *length = n.length;
        return;
    }
    *name = NULL;
    *length = 0;
}

__attribute__((visibility("hidden"))) void *ct_on_task_end(void *context, void *error, ct_desc *d) {
    room *r = (room *)((uint8_t *)context + d->room_offset);
    void *resume = r->resume_parent;
    ct_pending_task_ended(r->id);  // before the handler goes: a cancel that misses it finds the task ended
    if (r->record) real_remove_handler(r->record);
    r->record = NULL;
    if (atomic_load_explicit(&ct_recording, memory_order_relaxed)) {
        uint64_t outcome = 0;
        const char *name = NULL;
        size_t length = 0;
        if (error) {
            error_type(error, &name, &length);
            outcome = (length == 17 && memcmp(name, "CancellationError", 17) == 0) ? 1 : 2;
        }
        ct_record(CT_END, r->id, outcome, (uint64_t)(uintptr_t)name, length);
    }
    ((void **)context)[1] = resume;
    return resume;
}

// MARK: - Spawns

enum { FLAG_CHILD = 1 << 8, FLAG_INLINE = 1 << 9, FLAG_COPY_LOCALS = 1 << 10, FLAG_ENQUEUE = 1 << 12 };

/// spawn.how from swift_task_create's flags and option records ({flags; next; payload}, kind = flags & 0xff).
static uint64_t spawn_kind(size_t flags, void *options) {
    bool group = false;
    for (int n = 0; options && n < 16; n++) {
        size_t kind = ((size_t *)options)[0] & 0xff;
        if (kind == 1) group = true;
        options = ((void **)options)[1];
    }
    if (flags & FLAG_CHILD) return group ? 3 : 1;
    if (flags & FLAG_COPY_LOCALS) return 0;
    if (flags & FLAG_ENQUEUE) return 2;
    return 4;
}

/// Return addresses of the spawn call, innermost first: the caller is often Task.init or addTask emitted into
/// the app; the writer skips those it can name. Frame pointers are followed only inside this thread's stack.
static __attribute__((noinline)) void spawn_frames(uint64_t frames[3]) {
    frames[0] = frames[1] = frames[2] = 0;
    uintptr_t low, high;
    ct_stack_bounds(&low, &high);
    uintptr_t *fp = __builtin_frame_address(0);
    fp = (uintptr_t *)fp[0];  // the hook's frame
    for (int i = 0; i < 3; i++) {
        if ((uintptr_t)fp < low || (uintptr_t)fp + 16 > high || ((uintptr_t)fp & 7)) return;
        frames[i] = fp[1];
        uintptr_t next = fp[0] & 0x0FFFFFFFFFFFFFFFull;  // async frames mark the saved %rbp with bit 60
        if (next <= (uintptr_t)fp) return;
        fp = (uintptr_t *)next;
    }
}

static void resolve(void);

SWIFTCALL task_and_context swift_task_create(size_t flags, void *options, const void *result_type,
                                             const void *entry, void *closure) {
    if (__builtin_expect(!real_create, 0)) resolve();
    if (!atomic_load_explicit(&ct_recording, memory_order_relaxed)) {
        return real_create(flags, options, result_type, entry, closure);
    }
    uint64_t time = ct_begin();  // the window stays open over the runtime call: the child's first events are later
    void *parent = real_get_current();
    uint64_t how = spawn_kind(flags, options);
    ct_desc *d = (full_mode && !(flags & FLAG_INLINE)) ? substitute(entry) : NULL;
    uint64_t frames[3];
    spawn_frames(frames);
    task_and_context result = real_create(flags, options, result_type, d ? (const void *)d : entry, closure);
    if (result_type == void_metadata) how |= CT_SPAWN_VOID;
    if (d) how |= (uint64_t)(uintptr_t)d << CT_SPAWN_DESC_SHIFT;
    uint64_t id = id_of(result.task);
    uint64_t parent_id = id_of(parent);
    if (d && result.context) {
        room *r = (room *)((uint8_t *)result.context + d->room_offset);
        r->parent_id = parent_id;
        r->parent_task = parent;
        r->how = how & 0xFF;
        atomic_store_explicit(&r->tag, id, memory_order_release);
    }
    ct_emit(CT_SPAWN, time, id, parent_id, how, frames[0], frames[1], frames[2]);
    ct_end();
    return result;
}

SWIFTCALL void swift_asyncLet_begin(void *alet, void *options, const void *result_type, const void *entry,
                                    void *closure, void *result_buffer) {
    if (__builtin_expect(!real_async_let_begin, 0)) resolve();
    if (!full_mode || !atomic_load_explicit(&ct_recording, memory_order_relaxed)) {
        real_async_let_begin(alet, options, result_type, entry, closure, result_buffer);
        return;
    }
    uint64_t time = ct_begin();
    void *parent = real_get_current();
    uint64_t parent_id = id_of(parent);
    ct_desc *d = substitute(entry);
    uint64_t frames[3];
    spawn_frames(frames);
    real_async_let_begin(alet, options, result_type, d ? (const void *)d : entry, closure, result_buffer);
    void *task = (void *)(*(uintptr_t *)((uint8_t *)alet + 0x18) & ~(uintptr_t)0xF);
    uint64_t how = 1 | CT_SPAWN_ASYNC_LET | (result_type == void_metadata ? CT_SPAWN_VOID : 0) |
                   ((uint64_t)(uintptr_t)d << CT_SPAWN_DESC_SHIFT);
    uint64_t id = id_of(task);
    alet_put(id, parent_id, parent);
    ct_emit(CT_SPAWN, time, id, parent_id, how, frames[0], frames[1], frames[2]);
    ct_end();
}

// MARK: - Explicit cancels: the root cause of a cancellation

#define REAL(name) static SWIFTCALL void (*name)(void *, void *, void *, void *)
REAL(real_task_cancel_method);
REAL(real_swift_task_cancel);
REAL(real_group_cancel_all);
REAL(real_throwing_group_cancel_all);
REAL(real_discarding_cancel_all);
REAL(real_throwing_discarding_cancel_all);
REAL(real_swift_group_cancel_all);

/// Records an explicit cancel of `task` by the current task when it cancels something: a task that is running
/// (its cancellation handler fires here, synchronously, and sees `explicit_target`) or one that has not started
/// (a provisional cancel at this time, which the writer writes once the task's start took it: PendingCancels.c).
/// A cancel of a task that has already ended, or was already cancelled, changes nothing and is not recorded
/// (`defer { task.cancel() }` on a finished task is common). In degraded mode there is no handler: every call is
/// recorded.
static void explicit_cancel(SWIFTCALL void (*real)(void *, void *, void *, void *), void *task, void *a1, void *a2,
                            void *a3) {
    if (in_cancel_hook || !atomic_load_explicit(&ct_recording, memory_order_relaxed) || !task) {
        real(task, a1, a2, a3);
        return;
    }
    in_cancel_hook = 1;
    // The window stays open over the cancel: the handlers it runs (children cancelled by their parent) are later.
    uint64_t time = ct_begin(), id = id_of(task), by = id_of(real_get_current());
    if (!full_mode) {
        ct_emit(CT_CANCEL, time, id, by, 1, 0, 0, 0);
        ct_end();
        real(task, a1, a2, a3);
        in_cancel_hook = 0;
        return;
    }
    bool filed = !real_is_cancelled(task) && ct_pending_file(id, time, by);
    void *saved = explicit_target;
    explicit_target = task;
    explicit_fired = 0;
    real(task, a1, a2, a3);
    explicit_target = saved;
    // Fired: recorded here. Its filed entry stays until overwritten; it can never match again (ids are unique
    // and the handler runs once), and not clearing it saves a lock per cancel. Not fired: the task has not
    // started (its start takes the entry) or has ended; the writer holds this provisional cancel until it knows.
    if (explicit_fired) {
        ct_emit(CT_CANCEL, time, id, by, 1, 0, 0, 0);
    } else if (filed && ct_pending_unfired(id)) {
        ct_emit(CT_CANCEL_PENDING, time, id, by, 0, 0, 0, 0);
    }
    ct_end();
    in_cancel_hook = 0;
}

/// cancelAll: the handlers of the group's children record their cancel as explicit, by the owner.
static void cancel_all(SWIFTCALL void (*real)(void *, void *, void *, void *), void *group, void *a1, void *a2,
                       void *a3) {
    if (in_cancel_hook || !atomic_load_explicit(&ct_recording, memory_order_relaxed)) {
        real(group, a1, a2, a3);
        return;
    }
    in_cancel_hook = 1;
    uint64_t saved = cancel_all_by;
    cancel_all_by = id_of(real_get_current());
    real(group, a1, a2, a3);
    cancel_all_by = saved;
    in_cancel_hook = 0;
}

#define CANCEL_HOOK(symbol, fn, real, kind)                                                                   \
    SWIFTCALL void fn(void *a0, void *a1, void *a2, void *a3) __asm__(symbol);                                 \
    SWIFTCALL void fn(void *a0, void *a1, void *a2, void *a3) {                                                \
        if (__builtin_expect(!real, 0)) resolve();                                                            \
        kind(real, a0, a1, a2, a3);                                                                           \
    }

CANCEL_HOOK("$sScT6cancelyyF", hook_task_cancel, real_task_cancel_method, explicit_cancel)
CANCEL_HOOK("swift_task_cancel", hook_swift_task_cancel, real_swift_task_cancel, explicit_cancel)
CANCEL_HOOK("$sScG9cancelAllyyF", hook_group_cancel_all, real_group_cancel_all, cancel_all)
CANCEL_HOOK("$sScg9cancelAllyyF", hook_throwing_group_cancel_all, real_throwing_group_cancel_all, cancel_all)
CANCEL_HOOK("$ss19DiscardingTaskGroupV9cancelAllyyF", hook_discarding_cancel_all, real_discarding_cancel_all,
            cancel_all)
CANCEL_HOOK("$ss27ThrowingDiscardingTaskGroupV9cancelAllyyF", hook_throwing_discarding_cancel_all,
            real_throwing_discarding_cancel_all, cancel_all)
CANCEL_HOOK("swift_taskGroup_cancelAll", hook_swift_group_cancel_all, real_swift_group_cancel_all, cancel_all)

// MARK: - Signals: the task's code meets its cancellation

static void signal_flag(const char *via) {
    void *task = real_get_current();
    uint64_t id = id_of(task);
    if (!id || (id == last_signal_task && via == last_signal_via)) return;  // a polling loop: once per task
    last_signal_task = id;
    last_signal_via = via;
    ct_record(CT_SIGNAL, id, 0, (uint64_t)(uintptr_t)via, 0);
}

static SWIFTCALL bool (*real_task_is_cancelled_getter)(void);
SWIFTCALL bool hook_is_cancelled(void) __asm__("$sScTss5NeverORszABRs_rlE11isCancelledSbvgZ");
SWIFTCALL bool hook_is_cancelled(void) {
    if (__builtin_expect(!real_task_is_cancelled_getter, 0)) resolve();
    bool cancelled = real_task_is_cancelled_getter();
    if (cancelled && full_mode && atomic_load_explicit(&ct_recording, memory_order_relaxed)) {
        signal_flag("Task.isCancelled");
    }
    return cancelled;
}

static SWIFTCALL void (*real_check_cancellation)(void *__attribute__((swift_context)), void **__attribute__((swift_error_result)));
SWIFTCALL void hook_check_cancellation(void *self __attribute__((swift_context)), void **__attribute__((swift_error_result)) error)
    __asm__("$sScTss5NeverORszABRs_rlE17checkCancellationyyKFZ");
SWIFTCALL void hook_check_cancellation(void *self __attribute__((swift_context)), void **__attribute__((swift_error_result)) error) {
    if (__builtin_expect(!real_check_cancellation, 0)) resolve();
    real_check_cancellation(self, error);
    if (*error && full_mode && atomic_load_explicit(&ct_recording, memory_order_relaxed)) {
        signal_flag("Task.checkCancellation");
    }
}

/// `withUnsafeThrowingContinuation` (and `withCheckedThrowingContinuation` at -O) are inlined into the app, which
/// waits in swift_continuation_await inside the runtime: no return to hook. The resume is a PLT call from the
/// resuming code, with the continuation (= the waiting task) and the error: a CancellationError resumed into a
/// task that is cancelled is `received` by that task.
static SWIFTCALL void (*real_throwing_resume_with_error)(void *, void *);
SWIFTCALL void swift_continuation_throwingResumeWithError(void *task, void *error) {
    if (__builtin_expect(!real_throwing_resume_with_error, 0)) resolve();
    if (task && error && full_mode && atomic_load_explicit(&ct_recording, memory_order_relaxed) &&
        real_is_cancelled(task)) {
        const char *name;
        size_t length;
        error_type(error, &name, &length);
        if (length == 17 && memcmp(name, "CancellationError", 17) == 0) {
            ct_record(CT_SIGNAL, id_of(task), 1, (uint64_t)(uintptr_t)"continuation resume", 0);
        }
    }
    real_throwing_resume_with_error(task, error);
}

// MARK: - Deliveries: a CancellationError returned into a cancelled task
#if CT_SUPPORTED

#include "CallHooks.h"

/// One hooked async function (offsets used by Trampolines.S: function +8, room_offset +16, resume +24).
typedef struct {
    const char *via;
    void *function;
    uint32_t room_offset;
    uint32_t flag;  // 1: returning while the task is cancelled is a `flag` (a sequence ending on cancellation);
                    // 2: a normal return while cancelled is a `flag`, a CancellationError `received`
    void *resume;
    uint64_t pad[2];
} ct_call_desc;
_Static_assert(sizeof(ct_call_desc) == 48, "CallHooks.S indexes descriptors by 48 bytes");

__attribute__((visibility("hidden"))) ct_call_desc ct_call_descs[CT_CALL_HOOK_COUNT];

__attribute__((visibility("hidden"))) void *ct_on_call_end(void *context, void *error, ct_call_desc *d) {
    void **slots = context;
    void *resume = *(void **)((uint8_t *)context + d->room_offset);
    slots[1] = resume;
    if (d->flag == 2 && !error) {  // returned normally from code with a cancellation handler
        if (full_mode && atomic_load_explicit(&ct_recording, memory_order_relaxed)) {
            void *task = real_get_current();
            if (task && real_is_cancelled(task)) signal_flag(d->via);
        }
        return resume;
    }
    if (d->flag == 1) {  // non-throwing or typed throws: %r13 is not an error here
        if (full_mode && atomic_load_explicit(&ct_recording, memory_order_relaxed)) {
            void *task = real_get_current();
            if (task && real_is_cancelled(task)) signal_flag(d->via);
        }
        return resume;
    }
    if (error && full_mode && atomic_load_explicit(&ct_recording, memory_order_relaxed)) {
        void *task = real_get_current();
        if (task && real_is_cancelled(task)) {
            const char *name;
            size_t length;
            error_type(error, &name, &length);
            if (length == 17 && memcmp(name, "CancellationError", 17) == 0) {
                ct_record(CT_SIGNAL, id_of(task), 1, (uint64_t)(uintptr_t)d->via, 0);
            }
        }
    }
    return resume;
}

/// The addresses, in the loaded module `path` at `base`, of the `count` symbols `names` (its .symtab: local symbols
/// too); 0 for those not found.
static void symtab_find(const char *path, uintptr_t base, const char *const *names, uintptr_t *found, int count) {
    for (int i = 0; i < count; i++) found[i] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    Elf64_Ehdr eh;
    Elf64_Shdr *sh = NULL;
    Elf64_Sym *syms = NULL;
    char *strtab = NULL;
    if (pread(fd, &eh, sizeof eh, 0) != sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shnum > 4096) goto done;
    sh = malloc(sizeof(Elf64_Shdr) * eh.e_shnum);
    if (!sh || pread(fd, sh, sizeof(Elf64_Shdr) * eh.e_shnum, (off_t)eh.e_shoff) != (ssize_t)(sizeof(Elf64_Shdr) * eh.e_shnum)) goto done;
    for (int s = 0; s < eh.e_shnum; s++) {
        if (sh[s].sh_type != SHT_SYMTAB || sh[s].sh_link >= eh.e_shnum || sh[s].sh_size > (64u << 20)) continue;
        Elf64_Shdr *names_section = &sh[sh[s].sh_link];
        if (names_section->sh_size > (64u << 20)) break;
        syms = malloc(sh[s].sh_size);
        strtab = malloc(names_section->sh_size + 1);
        if (!syms || !strtab || pread(fd, syms, sh[s].sh_size, (off_t)sh[s].sh_offset) != (ssize_t)sh[s].sh_size ||
            pread(fd, strtab, names_section->sh_size, (off_t)names_section->sh_offset) != (ssize_t)names_section->sh_size) break;
        strtab[names_section->sh_size] = 0;
        for (size_t j = 0; j < sh[s].sh_size / sizeof(Elf64_Sym); j++) {
            if (syms[j].st_name >= names_section->sh_size || syms[j].st_value == 0) continue;
            for (int i = 0; i < count; i++) {
                if (!found[i] && strcmp(strtab + syms[j].st_name, names[i]) == 0) found[i] = base + syms[j].st_value;
            }
        }
        break;
    }
done:
    free(syms);
    free(strtab);
    free(sh);
    close(fd);
}

/// Whether `address` lies in a writable segment of a loaded module that is not made read-only after relocation.
typedef struct {
    uintptr_t address;
    int writable;
} writable_query;

static int find_writable(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    writable_query *q = data;
    int in_writable = 0, in_relro = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (q->address < start || q->address + sizeof(void *) > start + ph->p_memsz) continue;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) in_writable = 1;
        if (ph->p_type == PT_GNU_RELRO) in_relro = 1;
    }
    if (in_writable) q->writable = !in_relro;
    return in_writable;
}

/// A witness hook: the runtime's witness (a local symbol, `found[0]`), its `Tu` (`found[1]`) and the conformance's
/// witness table pattern (`found[2]`), found in the runtime's .symtab; returns the pattern's slot that holds the
/// runtime's `Tu` (the caller puts our `Tu` there once the descriptor is ready). Generic code in the runtime reads
/// the witness from tables instantiated from that pattern, so it calls our stub first. NULL (no hook, no signal)
/// unless every name was found, the slot holds exactly the runtime's `Tu` and the pattern is in writable memory.
static void **witness_slot(const uintptr_t found[3], void **function, const uint32_t **real_tu) {
    *function = NULL;
    *real_tu = NULL;
    if (!found[0] || !found[1] || !found[2]) return NULL;
    void **pattern = (void **)found[2];
    for (int slot = 1; slot < 16; slot++) {
        writable_query q = {(uintptr_t)&pattern[slot], 0};
        dl_iterate_phdr(find_writable, &q);
        if (!q.writable) return NULL;
        if (pattern[slot] != (void *)found[1]) continue;
        *function = (void *)found[0];
        *real_tu = (const uint32_t *)found[1];
        return &pattern[slot];
    }
    return NULL;
}

/// Points each hooked function at the runtime's and gives callers a context size with room for ours. Runs before
/// any Swift code can call them, whatever else the library does.
static void setup_call_hooks(void) {
    // The witnesses' names, their `Tu` and their tables, looked up in one pass over the runtime's .symtab.
    static char tu_names[CT_CALL_HOOK_COUNT][256];
    const char *names[3 * CT_CALL_HOOK_COUNT];
    uintptr_t found[3 * CT_CALL_HOOK_COUNT] = {0};
    int count = 0;
    for (int i = 0; i < CT_CALL_HOOK_COUNT; i++) {
        snprintf(tu_names[i], sizeof tu_names[i], "%sTu", ct_call_hook_names[i].function);
        if (!ct_call_hook_names[i].witness_table[0]) continue;
        names[count++] = ct_call_hook_names[i].function;
        names[count++] = tu_names[i];
        names[count++] = ct_call_hook_names[i].witness_table;
    }
    Dl_info info;
    void *runtime_symbol = dlsym(RTLD_NEXT, "swift_task_getCurrent");
    if (count && runtime_symbol && dladdr(runtime_symbol, &info) && info.dli_fname) {
        symtab_find(info.dli_fname, (uintptr_t)info.dli_fbase, names, found, count);
    }
    for (int i = 0, w = 0; i < CT_CALL_HOOK_COUNT; i++) {
        const uint32_t *real_tu;
        void *function;
        void **slot = NULL;
        if (ct_call_hook_names[i].witness_table[0]) {
            slot = witness_slot(&found[w], &function, &real_tu);
            w += 3;
        } else {
            real_tu = dlsym(RTLD_NEXT, tu_names[i]);
            function = dlsym(RTLD_NEXT, ct_call_hook_names[i].function);
        }
        ct_call_desc *d = &ct_call_descs[i];
        d->via = ct_call_hook_names[i].via;
        d->flag = (uint32_t)ct_call_hook_names[i].flag;
        d->resume = ct_call_resumes[i];
        d->function = function;
        d->room_offset = real_tu ? ((real_tu[1] + 15u) & ~15u) : 4080;
        ct_call_tus[i][1] = d->room_offset + 16;
        if (slot) *slot = ct_call_tus[i];  // before any Swift code runs: the pattern is only read from now on
    }
}

#endif

// MARK: - Setup

static void *next_symbol(const char *name) { return dlsym(RTLD_NEXT, name); }

static void resolve(void) {
    real_create = next_symbol("swift_task_create");
    real_async_let_begin = next_symbol("swift_asyncLet_begin");
    real_get_current = next_symbol("swift_task_getCurrent");
    real_task_id = next_symbol("swift_task_getJobTaskId");
    real_is_cancelled = next_symbol("swift_task_isCancelled");
    real_add_handler = next_symbol("swift_task_addCancellationHandler");
    real_remove_handler = next_symbol("swift_task_removeCancellationHandler");
    real_get_error_value = next_symbol("swift_getErrorValue");
    real_get_type_name = next_symbol("swift_getTypeName");
    real_task_cancel_method = next_symbol("$sScT6cancelyyF");
    real_swift_task_cancel = next_symbol("swift_task_cancel");
    real_group_cancel_all = next_symbol("$sScG9cancelAllyyF");
    real_throwing_group_cancel_all = next_symbol("$sScg9cancelAllyyF");
    real_discarding_cancel_all = next_symbol("$ss19DiscardingTaskGroupV9cancelAllyyF");
    real_throwing_discarding_cancel_all = next_symbol("$ss27ThrowingDiscardingTaskGroupV9cancelAllyyF");
    real_swift_group_cancel_all = next_symbol("swift_taskGroup_cancelAll");
    real_task_is_cancelled_getter = next_symbol("$sScTss5NeverORszABRs_rlE11isCancelledSbvgZ");
    real_check_cancellation = next_symbol("$sScTss5NeverORszABRs_rlE17checkCancellationyyKFZ");
    real_throwing_resume_with_error = next_symbol("swift_continuation_throwingResumeWithError");
}

/// Build tools a traced `swift test` starts: never traced.
static bool is_build_tool(const char *name) {
    static const char *const tools[] = {"swift", "swift-build", "swift-test", "swift-run", "swift-package",
                                        "swift-frontend", "swift-driver", "swiftc", "swift-autolink-extract",
                                        "swift-plugin-server", "swift-api-digester", "swift-symbolgraph-extract",
                                        "clang", "clang++", "ld", "ld.lld", "lld", "ld.gold", "llvm-symbolizer",
                                        "sourcekit-lsp", "swift-help", "canceltrace", NULL};
    for (int i = 0; tools[i]; i++) {
        if (strcmp(name, tools[i]) == 0) return true;
    }
    // Package manifests and plugins that SwiftPM compiles and runs while building.
    size_t n = strlen(name);
    bool manifest = n > 9 && strcmp(name + n - 9, "-manifest") == 0;
    return manifest || strncmp(name, "swift-frontend", 14) == 0 || strstr(name, "-tool") != NULL;
}

/// Whether the main executable carries Swift metadata sections (a statically linked Swift runtime).
static bool main_executable_is_swift(void) {
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool found = false;
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof eh, 0) == sizeof eh && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
        eh.e_shentsize == sizeof(Elf64_Shdr) && eh.e_shnum > 0 && eh.e_shnum < 4096 && eh.e_shstrndx < eh.e_shnum) {
        Elf64_Shdr *sh = malloc(sizeof(Elf64_Shdr) * eh.e_shnum);
        if (sh && pread(fd, sh, sizeof(Elf64_Shdr) * eh.e_shnum, (off_t)eh.e_shoff) ==
                      (ssize_t)(sizeof(Elf64_Shdr) * eh.e_shnum)) {
            Elf64_Shdr names = sh[eh.e_shstrndx];
            char *strtab = names.sh_size < (1 << 20) ? malloc(names.sh_size + 1) : NULL;
            if (strtab && pread(fd, strtab, names.sh_size, (off_t)names.sh_offset) == (ssize_t)names.sh_size) {
                strtab[names.sh_size] = 0;
                for (int i = 0; i < eh.e_shnum && !found; i++) {
                    if (sh[i].sh_name < names.sh_size && strcmp(strtab + sh[i].sh_name, "swift5_typeref") == 0) found = true;
                }
            }
            free(strtab);
        }
        free(sh);
    }
    close(fd);
    return found;
}

/// Whether this executable is part of the Swift toolchain that provides the concurrency runtime
/// (`TOOLCHAIN/usr/lib/swift/linux/libswift_Concurrency.so` → anything under `TOOLCHAIN/usr/`): `swift-help`,
/// `swift-test`, plugin servers… are build tools, never the program under test.
static bool is_toolchain_executable(void) {
    Dl_info info;
    char exe[4096], runtime[4096];
    if (!dladdr((void *)real_create, &info) || !info.dli_fname) return false;
    // The runtime is often found as TOOLCHAIN/usr/bin/../lib/swift/linux/…: compare real paths.
    if (!realpath(info.dli_fname, runtime) || !realpath("/proc/self/exe", exe)) return false;
    const char *lib = strstr(runtime, "/lib/swift/");
    if (!lib) return false;
    size_t prefix = (size_t)(lib - runtime) + 1;  // "TOOLCHAIN/usr/"
    return strncmp(exe, runtime, prefix) == 0 && strncmp(exe + prefix, "bin/", 4) == 0;
}

static void after_fork_in_child(void) { ct_writer_forget_after_fork(); }

__attribute__((constructor)) static void ct_setup(void) {
#if CT_SUPPORTED
    setup_call_hooks();
#endif
    const char *folder = getenv("CANCELTRACE_OUTPUT");
    if (!folder || !*folder) return;
    const char *name = program_invocation_short_name;
    if (is_build_tool(name)) return;
    resolve();
    if (real_create && is_toolchain_executable()) return;
    if (!real_create || !real_get_current || !real_task_id) {
        if (main_executable_is_swift()) {
            fprintf(stderr, "canceltrace: %s links the Swift runtime statically; `canceltrace run` needs "
                            "libswift_Concurrency.so. It runs untraced.\n", name);
        }
        return;
    }
#if !CT_SUPPORTED
    fprintf(stderr, "canceltrace: `canceltrace run` records on x86_64 Linux only; %s runs untraced.\n", name);
    return;
#else
    const unsigned *layout = dlsym(RTLD_DEFAULT, "_swift_concurrency_debug_internal_layout_version");
    unsigned version = layout ? *layout : 0;
    full_mode = false;
    for (size_t i = 0; i < sizeof known_layouts / sizeof *known_layouts; i++) {
        if (version == known_layouts[i]) full_mode = true;
    }
    const char *test_unknown = getenv("CANCELTRACE_TEST_UNKNOWN_LAYOUT");
    if (test_unknown && strcmp(test_unknown, "1") == 0) full_mode = false;
    if (full_mode && (!real_async_let_begin || !real_is_cancelled || !real_add_handler || !real_remove_handler ||
                      !real_get_error_value || !real_get_type_name)) {
        full_mode = false;
    }
    if (full_mode) void_metadata = find_void_metadata();
    if (full_mode) {
        table = mmap(NULL, sizeof(table_slot) * TABLE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (table == MAP_FAILED) table = NULL;
        ct_desc *probe = table ? new_desc() : NULL;  // executable memory allowed here?
        if (!probe) full_mode = false;
        else code_next -= sizeof(ct_desc);
    }
    char notice[256] = "";
    if (!full_mode) {
        snprintf(notice, sizeof notice,
                 "Swift concurrency runtime layout %u is not one canceltrace knows: only spawns and explicit "
                 "cancels are recorded (no ends, no other cancellations)", version);
        fprintf(stderr, "canceltrace: %s\n", notice);
    }
    char path[4096], pid[32], layout_text[32], wall[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    snprintf(layout_text, sizeof layout_text, "%u", version);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(wall, sizeof wall, "%llu", (unsigned long long)now.tv_sec * 1000000000ull + (unsigned long long)now.tv_nsec);
    char safe_name[64];
    size_t n = 0;
    for (const char *c = name; *c && n < sizeof safe_name - 1; c++) {
        safe_name[n++] = (*c == '/' || *c == '\\' || (unsigned char)*c < 32) ? '_' : *c;
    }
    safe_name[n] = 0;
    snprintf(path, sizeof path, "%s/%s.%s.ctrace", folder, safe_name, pid);
    const char *items[] = {"runtime", "swift", "recorder", "CancelTrace.Preload", "recorder-version", CT_RECORDER_VERSION,
                           "pid", pid, "process", name, "wall-clock-start-ns", wall, "clock-resolution-ns", "1",
                           "swift-concurrency-layout", layout_text, "preload-mode", full_mode ? "full" : "degraded",
                           full_mode ? NULL : "notice", notice, NULL, NULL};
    if (ct_writer_start(path, items) != 0) return;
    pthread_atfork(NULL, NULL, after_fork_in_child);
#endif
}

/// At exit: an async `main` calls exit() from inside its task, which therefore never returns; its exit is its end.
__attribute__((destructor)) static void ct_teardown(void) {
    if (full_mode && real_get_current && atomic_load(&ct_recording)) {
        void *task = real_get_current();
        if (task) ct_record(CT_END, id_of(task), 0, 0, 0);
    }
    ct_writer_finish();
}

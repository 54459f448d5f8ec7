// Per-thread event buffers and the writer thread that turns them into a trace file (Docs/TraceFormat.md).
//
// Each recording thread owns a ring of fixed-size events (single producer, single consumer: the writer). The
// writer wakes every flush interval or when a ring is half full, drains every ring, sorts by time, writes the
// events up to its horizon (below), encodes format v1 records, compresses them with zlib and writes each chunk
// with a single write(2).
//
// The horizon, as in the Swift recorder (Sources/TraceRecorder/EventBuffer.swift): a thread sets its ring's
// `busy` (a sequentially consistent store) before it reads the clock and clears it once its event is published;
// the writer reads the clock, then every `busy`. A thread seen idle can only publish later times; a busy one
// nothing earlier than the first time of its open window (`floor`). So file order is time order without holding
// back a fixed delay, even when a thread is preempted mid-event or a hook keeps its window open over a runtime
// call (a spawn is timed before the task exists).
#define _GNU_SOURCE
#include "Internal.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define RING_SIZE (1u << 15)         // events per thread: 2 MiB (a burst of cancels: one event each, ~1 µs apart)
#define CHUNK_RAW_LIMIT (60u << 10)  // cut chunks below the format's 64 KiB recorder size

_Atomic int ct_recording = 0;

static uint64_t start_ns;

/// How long the writer waits for one thread: a window open longer (a blocked cancellation handler) stops holding
/// it back, its event is then raised to the written time; a provisional cancel waiting longer for its task to
/// start is given up (PendingCancels.c). 1 s; CANCELTRACE_TEST_MAX_HOLD_MS sets it for tests.
static uint64_t max_hold_ns = 1000000000ull;

static uint64_t monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t ct_now(void) { return monotonic_ns() - start_ns; }

// MARK: - Rings

typedef struct ct_ring {
    _Atomic uint64_t head;   // written by the owning thread
    _Atomic int busy;        // the owning thread has a window open (ct_begin … ct_end)
    _Atomic uint64_t floor;  // the first time of the open window
    char pad0[40];
    _Atomic uint64_t tail;  // written by the writer
    char pad1[56];
    _Atomic uint64_t dropped;
    _Atomic int owned;  // 0 once the owning thread exited: a new thread may take the ring over
    uint32_t index;
    uintptr_t stack_low, stack_high;
    struct ct_ring *next;
    ct_event events[RING_SIZE];
} ct_ring;

static _Atomic(ct_ring *) rings;
static pthread_mutex_t rings_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t ring_count;
static pthread_key_t ring_key;

// 0: no ring yet; 1: has one; 2: the thread is exiting (its key destructor ran): drop its events.
static __thread __attribute__((tls_model("initial-exec"))) ct_ring *my_ring;
static __thread __attribute__((tls_model("initial-exec"))) int my_ring_state;
static __thread __attribute__((tls_model("initial-exec"))) int my_depth;  // open windows (they nest)

static void wake_writer(void);

static void ring_released(void *ring) {
    atomic_store_explicit(&((ct_ring *)ring)->owned, 0, memory_order_release);
    my_ring = NULL;
    my_ring_state = 2;
}

static ct_ring *ring_for_thread(void) {
    if (my_ring_state == 2) return NULL;
    ct_ring *ring = NULL;
    pthread_mutex_lock(&rings_lock);
    for (ct_ring *r = atomic_load(&rings); r; r = r->next) {
        // Only a ring the writer has emptied: a new thread writing behind an exited one's events would drop.
        if (atomic_load_explicit(&r->owned, memory_order_acquire) == 0 &&
            atomic_load_explicit(&r->tail, memory_order_acquire) == atomic_load_explicit(&r->head, memory_order_relaxed)) {
            ring = r;
            break;
        }
    }
    if (!ring) {
        ring = calloc(1, sizeof(ct_ring));
        if (ring) {
            ring->index = ring_count++;
            ring->next = atomic_load(&rings);
            atomic_store_explicit(&rings, ring, memory_order_release);
        }
    }
    if (ring) atomic_store(&ring->owned, 1);
    pthread_mutex_unlock(&rings_lock);
    if (!ring) {
        my_ring_state = 2;
        return NULL;
    }
    pthread_attr_t attr;
    ring->stack_low = ring->stack_high = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *addr;
        size_t size;
        if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
            ring->stack_low = (uintptr_t)addr;
            ring->stack_high = (uintptr_t)addr + size;
        }
        pthread_attr_destroy(&attr);
    }
    pthread_setspecific(ring_key, ring);
    my_ring = ring;
    my_ring_state = 1;
    return ring;
}

void ct_stack_bounds(uintptr_t *low, uintptr_t *high) {
    ct_ring *ring = my_ring ? my_ring : ring_for_thread();
    *low = ring ? ring->stack_low : 0;
    *high = ring ? ring->stack_high : 0;
}

uint64_t ct_begin(void) {
    ct_ring *ring = my_ring;
    if (__builtin_expect(!ring, 0)) ring = ring_for_thread();
    if (my_depth++ || !ring) return ct_now();
    atomic_store_explicit(&ring->busy, 1, memory_order_seq_cst);  // before the clock read (the writer's Dekker pair)
    uint64_t time = ct_now();
    atomic_store_explicit(&ring->floor, time, memory_order_release);
    return time;
}

void ct_end(void) {
    ct_ring *ring = my_ring;
    if (--my_depth == 0 && ring) atomic_store_explicit(&ring->busy, 0, memory_order_release);
}

void ct_emit(uint32_t kind, uint64_t time, uint64_t f0, uint64_t f1, uint64_t f2, uint64_t f3, uint64_t f4,
             uint64_t f5) {
    ct_ring *ring = my_ring;
    if (__builtin_expect(!ring, 0)) return;  // ct_begin made it, unless the thread is exiting or out of memory
    uint64_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
    if (head - tail >= RING_SIZE) {
        atomic_fetch_add_explicit(&ring->dropped, 1, memory_order_relaxed);
        wake_writer();
        return;
    }
    ct_event *e = &ring->events[head & (RING_SIZE - 1)];
    e->time = time;
    e->kind = kind;
    e->f[0] = f0, e->f[1] = f1, e->f[2] = f2, e->f[3] = f3, e->f[4] = f4, e->f[5] = f5;
    atomic_store_explicit(&ring->head, head + 1, memory_order_release);
    if (((head + 1) & (RING_SIZE / 2 - 1)) == 0) wake_writer();  // twice per ring, well before it is full
}

// MARK: - Byte buffers and the string table (writer thread only)

typedef struct {
    uint8_t *bytes;
    size_t count, capacity;
} buf;

static int buf_reserve(buf *b, size_t more) {
    if (b->count + more <= b->capacity) return 0;
    size_t capacity = b->capacity ? b->capacity : 4096;
    while (capacity < b->count + more) capacity *= 2;
    uint8_t *bytes = realloc(b->bytes, capacity);
    if (!bytes) return -1;
    b->bytes = bytes;
    b->capacity = capacity;
    return 0;
}

static void put_byte(buf *b, uint8_t v) {
    if (buf_reserve(b, 1) == 0) b->bytes[b->count++] = v;
}

static void put_varint(buf *b, uint64_t v) {
    while (v >= 0x80) {
        put_byte(b, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    put_byte(b, (uint8_t)v);
}

static void put_bytes(buf *b, const void *bytes, size_t n) {
    if (buf_reserve(b, n) == 0) {
        memcpy(b->bytes + b->count, bytes, n);
        b->count += n;
    }
}

typedef struct {
    char *text;
    size_t length;
    uint64_t hash, id;
} interned;

static interned *strings;
static size_t strings_capacity, strings_count;

static uint64_t fnv1a(const char *text, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)text[i]) * 1099511628211ull;
    return h;
}

/// The id of `text`, defining it in `out` (the current chunk) the first time. 0 for empty or on failure.
static uint64_t intern(buf *out, const char *text, size_t n) {
    if (!text || n == 0) return 0;
    if (n > 65535) {  // the format's limit, cut at a UTF-8 scalar boundary as the Swift and Python recorders do
        n = 65535;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80) n--;  // text[n] continues a scalar: back off
    }
    if (strings_count * 2 >= strings_capacity) {
        size_t capacity = strings_capacity ? strings_capacity * 2 : 1024;
        interned *table = calloc(capacity, sizeof(interned));
        if (!table) return 0;
        for (size_t i = 0; i < strings_capacity; i++) {
            if (!strings[i].text) continue;
            size_t j = strings[i].hash & (capacity - 1);
            while (table[j].text) j = (j + 1) & (capacity - 1);
            table[j] = strings[i];
        }
        free(strings);
        strings = table;
        strings_capacity = capacity;
    }
    uint64_t h = fnv1a(text, n);
    size_t j = h & (strings_capacity - 1);
    while (strings[j].text) {
        if (strings[j].hash == h && strings[j].length == n && memcmp(strings[j].text, text, n) == 0) return strings[j].id;
        j = (j + 1) & (strings_capacity - 1);
    }
    char *copy = malloc(n);
    if (!copy) return 0;
    memcpy(copy, text, n);
    uint64_t id = ++strings_count;
    strings[j] = (interned){copy, n, h, id};
    put_byte(out, CT_WIRE_STRING);
    put_varint(out, id);
    put_varint(out, n);
    put_bytes(out, text, n);
    return id;
}

// MARK: - The trace file

static int trace_fd = -1;
static buf chunk;        // the current chunk's raw records
static buf compressed;   // scratch for one framed chunk
static uint64_t last_time;  // time base of the current chunk's deltas
static uint64_t written_time;  // the latest time written in any chunk: no record is written earlier (an event
                               // is raised to it only after a window held open past max_hold_ns, or for a cancel
                               // of a task that started after the writer gave up waiting for it; a raised cancel
                               // carries CT_LATE_CANCEL_MESSAGE)
static ct_event *pending;   // [pending_first, pending_count): drained, not yet written, sorted by time
static size_t pending_first, pending_count, pending_capacity;
static ct_event *scratch;   // merge_drained's copy of a round's new events
static size_t scratch_capacity;
static uint64_t dropped_reported;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t writer_thread;
static _Atomic int writer_stop;
static int finished;
static uint64_t flush_interval_ns = 50000000ull;

static void put_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static void write_all(const uint8_t *bytes, size_t n) {
    while (n > 0 && trace_fd >= 0) {
        ssize_t w = write(trace_fd, bytes, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "canceltrace: cannot write the trace: %s; recording stops\n", strerror(errno));
            atomic_store(&ct_recording, 0);
            close(trace_fd);
            trace_fd = -1;
            return;
        }
        bytes += w;
        n -= (size_t)w;
    }
}

/// Compresses and writes the current chunk (marker, lengths, CRC-32 of lengths + payload, zlib payload).
static void flush_chunk(void) {
    if (chunk.count == 0) return;
    uLongf bound = compressBound((uLong)chunk.count);
    compressed.count = 0;
    if (buf_reserve(&compressed, 16 + bound) != 0) return;
    uLongf clen = bound;
    if (compress2(compressed.bytes + 16, &clen, chunk.bytes, (uLong)chunk.count, 1) != Z_OK) return;
    uint8_t *h = compressed.bytes;
    memcpy(h, "CTCK", 4);
    put_le32(h + 4, (uint32_t)clen);
    put_le32(h + 8, (uint32_t)chunk.count);
    uLong crc = crc32(0L, h + 4, 8);
    crc = crc32(crc, h + 16, (uInt)clen);
    put_le32(h + 12, (uint32_t)crc);
    write_all(compressed.bytes, 16 + clen);
    chunk.count = 0;
    last_time = 0;
}

/// The delta of `time` in the current chunk, never earlier than anything written before (file order = time order).
static uint64_t next_delta(uint64_t time) {
    if (time < written_time) time = written_time;
    uint64_t delta = time - last_time;
    last_time = written_time = time;
    return delta;
}

static void put_delta(uint64_t time) { put_varint(&chunk, next_delta(time)); }

// MARK: - Naming code addresses (writer thread only)

/// The function symbols of one module (its .symtab, read from the file once), to tell a spawn made by a stdlib
/// wrapper emitted into the app (Task.init, addTask) from the app's own code.
typedef struct {
    uint64_t start, size;
    uint32_t name;  // offset into names
} symbol;

typedef struct module {
    char *path;
    symbol *symbols;
    size_t count;
    char *names;
    struct module *next;
} module;

static module *modules;

static int by_address(const void *a, const void *b) {
    const symbol *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static module *load_module(const char *path) {
    for (module *m = modules; m; m = m->next) {
        if (strcmp(m->path, path) == 0) return m;
    }
    module *m = calloc(1, sizeof(module));
    if (!m) return NULL;
    m->path = strdup(path);
    m->next = modules;
    modules = m;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return m;
    Elf64_Ehdr eh;
    Elf64_Shdr *sections = NULL;
    if (pread(fd, &eh, sizeof eh, 0) != sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shnum > 65000) goto done;
    sections = malloc(sizeof(Elf64_Shdr) * eh.e_shnum);
    if (!sections || pread(fd, sections, sizeof(Elf64_Shdr) * eh.e_shnum, (off_t)eh.e_shoff) !=
                         (ssize_t)(sizeof(Elf64_Shdr) * eh.e_shnum)) goto done;
    for (int i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr *symtab = &sections[i];
        if (symtab->sh_type != SHT_SYMTAB || symtab->sh_link >= eh.e_shnum) continue;
        Elf64_Shdr *strtab = &sections[symtab->sh_link];
        size_t n = symtab->sh_size / sizeof(Elf64_Sym);
        if (n == 0 || n > (1u << 24) || strtab->sh_size > (256u << 20)) break;
        Elf64_Sym *syms = malloc(symtab->sh_size);
        m->names = malloc(strtab->sh_size + 1);
        m->symbols = malloc(n * sizeof(symbol));
        if (syms && m->names && m->symbols &&
            pread(fd, syms, symtab->sh_size, (off_t)symtab->sh_offset) == (ssize_t)symtab->sh_size &&
            pread(fd, m->names, strtab->sh_size, (off_t)strtab->sh_offset) == (ssize_t)strtab->sh_size) {
            m->names[strtab->sh_size] = 0;
            for (size_t j = 0; j < n; j++) {
                if (ELF64_ST_TYPE(syms[j].st_info) != STT_FUNC || syms[j].st_value == 0) continue;
                if (syms[j].st_name >= strtab->sh_size) continue;
                m->symbols[m->count++] = (symbol){syms[j].st_value, syms[j].st_size, syms[j].st_name};
            }
            qsort(m->symbols, m->count, sizeof(symbol), by_address);
        } else {
            m->count = 0;
        }
        free(syms);
        break;
    }
done:
    free(sections);
    close(fd);
    return m;
}

/// The name of the function at `offset` in `m`, or NULL.
static const char *symbol_at(module *m, uint64_t offset) {
    if (!m || m->count == 0) return NULL;
    size_t low = 0, high = m->count;
    while (low < high) {
        size_t mid = (low + high) / 2;
        if (m->symbols[mid].start <= offset) low = mid + 1;
        else high = mid;
    }
    if (low == 0) return NULL;
    symbol *s = &m->symbols[low - 1];
    if (s->size && offset >= s->start + s->size) return NULL;
    return m->names + s->name;
}

/// The file of a loaded module (dladdr names the main executable "" or as it was started, maybe relative).
static const char *module_path(const Dl_info *info) {
    static char self[4096];
    if (info->dli_fname[0] == '/') return info->dli_fname;  // a library; the executable's name may be relative
    if (!*self) {
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) return program_invocation_short_name;
        self[n] = 0;
    }
    return self;
}

/// Whether a frame is the Swift runtime or a stdlib wrapper emitted into the app (Task.init, Task.detached,
/// TaskGroup.addTask…): the spawn site is its caller.
static int is_wrapper_frame(uint64_t address) {
    Dl_info info;
    if (!dladdr((void *)(uintptr_t)address, &info) || !info.dli_fname) return 0;
    if (strstr(info.dli_fname, "libswift_Concurrency")) return 1;
    const char *name = info.dli_sname;
    if (!name) name = symbol_at(load_module(module_path(&info)), address - (uint64_t)(uintptr_t)info.dli_fbase);
    if (!name) return 0;
    return strncmp(name, "$sScT", 5) == 0 || strncmp(name, "$sScG", 5) == 0 || strncmp(name, "$sScg", 5) == 0 ||
           strstr(name, "TaskGroupV") != NULL;
}

/// "module+0xOFFSET" of a code address, the module by its path (so `canceltrace run` can symbolize it).
static uint64_t intern_site(uint64_t address) {
    Dl_info info;
    char text[4200];
    if (address && dladdr((void *)(uintptr_t)address, &info) && info.dli_fname) {
        snprintf(text, sizeof text, "%s+0x%llx", module_path(&info),
                 (unsigned long long)(address - (uint64_t)(uintptr_t)info.dli_fbase));
    } else {
        snprintf(text, sizeof text, "0x%llx", (unsigned long long)address);
    }
    return intern(&chunk, text, strlen(text));
}

/// Spawn sites by their three innermost return addresses: dladdr and the symbol lookup run once per call site,
/// not per spawn.
typedef struct {
    uint64_t address, b, c, location;
} site_slot;

/// The slot index of the return addresses (a, b, c) in a table of `capacity` slots.
static size_t site_hash(uint64_t a, uint64_t b, uint64_t c, size_t capacity) {
    return ((a ^ b * 0xC2B2AE3D27D4EB4Full ^ c * 0x165667B19E3779F9ull) * 0x9E3779B97F4A7C15ull >> 20) & (capacity - 1);
}
static site_slot *sites;
static size_t sites_capacity, sites_count;

/// The string id of the site of a spawn whose return addresses are `a`, `b`, `c` (innermost first): the first
/// that is not a wrapper. Cached by all three.
static uint64_t site_for(uint64_t a, uint64_t b, uint64_t c) {
    if (!a) return 0;
    if (sites_count * 2 >= sites_capacity) {
        size_t capacity = sites_capacity ? sites_capacity * 2 : 1024;
        site_slot *table = calloc(capacity, sizeof(site_slot));
        if (!table) return 0;
        for (size_t i = 0; i < sites_capacity; i++) {
            if (!sites[i].address) continue;
            size_t j = site_hash(sites[i].address, sites[i].b, sites[i].c, capacity);
            while (table[j].address) j = (j + 1) & (capacity - 1);
            table[j] = sites[i];
        }
        free(sites);
        sites = table;
        sites_capacity = capacity;
    }
    // Keyed by all three frames: the innermost is often a wrapper (`Task.init`, `addTask`) emitted once into the
    // binary and shared by every caller, so it alone does not tell the call site.
    size_t j = site_hash(a, b, c, sites_capacity);
    while (sites[j].address) {
        if (sites[j].address == a && sites[j].b == b && sites[j].c == c) return sites[j].location;
        j = (j + 1) & (sites_capacity - 1);
    }
    uint64_t frames[3] = {a, b, c}, site = a;
    for (int i = 0; i < 3 && frames[i]; i++) {
        site = frames[i];
        if (!is_wrapper_frame(site)) break;
    }
    uint64_t location = intern_site(site);
    sites[j] = (site_slot){a, b, c, location};
    sites_count++;
    return location;
}

/// Whether `function`, a task's entry, is a thunk from a non-throwing closure (what the compiler passes for
/// `Task<_, Never>` and TaskGroup/DiscardingTaskGroup children; a throwing closure is passed as itself): its
/// demangled name is "… reabstraction thunk helper … from @async () -> (…) to …" with no `@error` result in the
/// source type. Unnamed (stripped): false.
static int is_non_throwing_thunk(void *function) {
    static char *(*demangle)(const char *, size_t, char *, size_t *, uint32_t);
    if (!demangle) demangle = (char *(*)(const char *, size_t, char *, size_t *, uint32_t))dlsym(RTLD_DEFAULT, "swift_demangle");
    Dl_info info;
    if (!demangle || !dladdr(function, &info) || !info.dli_fname) return 0;
    const char *name = symbol_at(load_module(module_path(&info)),
                                 (uint64_t)(uintptr_t)function - (uint64_t)(uintptr_t)info.dli_fbase);
    if (!name && info.dli_saddr == function) name = info.dli_sname;
    if (!name || strncmp(name, "$s", 2) != 0) return 0;
    char *text = demangle(name, strlen(name), NULL, NULL, 0);
    if (!text) return 0;
    // "… reabstraction thunk helper <…> from SOURCE to TARGET": the closure's own type is SOURCE.
    int result = 0;
    const char *thunk = strstr(text, "thunk helper");
    const char *from = thunk ? strstr(thunk, " from ") : NULL;
    if (from) {
        const char *source = from + 6, *to = strstr(source, " to ");
        size_t n = to ? (size_t)(to - source) : strlen(source);
        result = memmem(source, n, "@async", 6) && !memmem(source, n, "@error", 6);
    }
    free(text);
    return result;
}

/// Whether a spawn's task runs an operation that returns Void and cannot throw; cached in its descriptor.
static int returns_void_cannot_throw(uint64_t how) {
    ct_desc_head *d = (ct_desc_head *)(uintptr_t)(how >> CT_SPAWN_DESC_SHIFT);
    if (!(how & CT_SPAWN_VOID) || !d) return 0;
    if (!d->cannot_throw) d->cannot_throw = is_non_throwing_thunk(d->function) ? 1 : 2;
    return d->cannot_throw == 1;
}

static void encode(const ct_event *e) {
    switch (e->kind) {
    case CT_SPAWN: {
        // The runtime knows no task names: a task is named by how it was made.
        static const char *const names[] = {"Task", "child", "Task.detached", "addTask", "main"};
        uint64_t how = e->f[2] & 0xFF;
        const char *name = (e->f[2] & CT_SPAWN_ASYNC_LET) ? "async let" : how < 5 ? names[how] : "task";
        uint64_t name_id = intern(&chunk, name, strlen(name));
        put_byte(&chunk, CT_WIRE_SPAWN);
        put_delta(e->time);
        put_varint(&chunk, e->f[0]);
        put_varint(&chunk, e->f[1]);
        put_varint(&chunk, name_id);
        put_varint(&chunk, how);
        uint64_t location = site_for(e->f[3], e->f[4], e->f[5]);
        if (location) {
            uint8_t bytes[32];
            buf body = {bytes, 0, sizeof bytes};  // three varints: never grows
            put_varint(&body, 0);  // same time as the spawn
            put_varint(&body, e->f[0]);
            put_varint(&body, location);
            put_byte(&chunk, CT_WIRE_SITE);
            put_varint(&chunk, body.count);
            put_bytes(&chunk, body.bytes, body.count);
        }
        if (returns_void_cannot_throw(e->f[2])) {
            uint64_t label = intern(&chunk, CT_MARK_VOID_NEVER, strlen(CT_MARK_VOID_NEVER));
            put_byte(&chunk, CT_WIRE_MARK);
            put_varint(&chunk, 0);  // same time as the spawn
            put_varint(&chunk, e->f[0]);
            put_varint(&chunk, label);
        }
        break;
    }
    case CT_CANCEL: {
        // Written later than its time: the file says so (Docs/TraceFormat.md, cancel.message).
        uint64_t message = e->time < written_time ? intern(&chunk, CT_LATE_CANCEL_MESSAGE, strlen(CT_LATE_CANCEL_MESSAGE)) : 0;
        put_byte(&chunk, CT_WIRE_CANCEL);
        put_delta(e->time);
        put_varint(&chunk, e->f[0]);
        put_varint(&chunk, e->f[1]);
        put_varint(&chunk, e->f[2]);
        put_varint(&chunk, message);
        break;
    }
    case CT_END: {
        uint64_t error = intern(&chunk, (const char *)(uintptr_t)e->f[2], (size_t)e->f[3]);
        put_byte(&chunk, CT_WIRE_END);
        put_delta(e->time);
        put_varint(&chunk, e->f[0]);
        put_varint(&chunk, e->f[1]);
        put_varint(&chunk, error);
        break;
    }
    case CT_SIGNAL: {
        const char *via = (const char *)(uintptr_t)e->f[2];
        uint64_t via_id = intern(&chunk, via, via ? strlen(via) : 0);
        uint8_t body[40];
        buf b = {body, 0, sizeof body};
        put_varint(&b, next_delta(e->time));
        put_varint(&b, e->f[0]);
        put_varint(&b, e->f[1]);
        put_varint(&b, via_id);
        put_byte(&chunk, CT_WIRE_SIGNAL);
        put_varint(&chunk, b.count);
        put_bytes(&chunk, body, b.count);
        break;
    }
    }
    if (chunk.count >= CHUNK_RAW_LIMIT) flush_chunk();
}

static int by_time(const void *a, const void *b) {
    const ct_event *x = a, *y = b;
    if (x->time != y->time) return x->time < y->time ? -1 : 1;
    return x->unused < y->unused ? -1 : x->unused > y->unused;  // `unused` holds the drain order here
}

/// The latest time up to which no event can still arrive: the writer's clock reading (`*now`), held back to the
/// window's first time of each thread caught in the middle of recording (after a short spin: nearly always a few
/// nanoseconds; a thread descheduled inside its window, or in a runtime call, holds back only what is later).
static uint64_t horizon(uint64_t *now_out) {
    uint64_t now = ct_now();
    *now_out = now;
    atomic_thread_fence(memory_order_seq_cst);
    uint64_t horizon = now;
    for (ct_ring *r = atomic_load_explicit(&rings, memory_order_acquire); r; r = r->next) {
        for (int spins = 0; atomic_load_explicit(&r->busy, memory_order_seq_cst); spins++) {
            if (spins == 1000) {
                uint64_t floor = atomic_load_explicit(&r->floor, memory_order_acquire);
                if (floor < horizon && floor + max_hold_ns >= now) horizon = floor;
                break;
            }
#if defined(__x86_64__)
            __builtin_ia32_pause();
#endif
        }
    }
    return horizon;
}

/// Whether the provisional cancel `e` is written (as an explicit cancel at its own time), dropped, or holds the
/// writer at its time: at `now`, and for good on the last round.
static enum ct_pending_verdict resolve_provisional(const ct_event *e, uint64_t now, int last) {
    return ct_pending_resolve(e->f[0], last || now > e->time + max_hold_ns);
}

/// Sorts the events drained this round (from `sorted` on) and merges them into the sorted ones before, from the
/// back: only the older events later than the first new one move, nearly none as times mostly increase. A writer
/// held at a provisional cancel keeps many events: re-sorting them all would cost that much every round.
static void merge_drained(size_t sorted) {
    size_t added = pending_count - sorted;
    if (added == 0) return;
    qsort(pending + sorted, added, sizeof(ct_event), by_time);
    if (sorted == pending_first || by_time(&pending[sorted - 1], &pending[sorted]) < 0) return;
    if (scratch_capacity < added) {
        ct_event *grown = realloc(scratch, added * sizeof(ct_event));
        if (!grown) {
            qsort(pending + pending_first, pending_count - pending_first, sizeof(ct_event), by_time);
            return;
        }
        scratch = grown;
        scratch_capacity = added;
    }
    memcpy(scratch, pending + sorted, added * sizeof(ct_event));
    size_t old = sorted, out = pending_count;
    for (size_t j = added; j > 0;) {
        if (old > pending_first && by_time(&pending[old - 1], &scratch[j - 1]) > 0) pending[--out] = pending[--old];
        else pending[--out] = scratch[--j];
    }
}

/// Moves every ring's events into `pending`, sorted. Returns the events dropped so far (all rings).
static uint64_t drain(void) {
    static uint32_t order;  // drain order across rounds: breaks ties between equal times
    uint64_t dropped = 0;
    if (pending_first > 0 && pending_first >= pending_count - pending_first) {  // more written than kept: compact
        memmove(pending, pending + pending_first, (pending_count - pending_first) * sizeof(ct_event));
        pending_count -= pending_first;
        pending_first = 0;
    }
    size_t sorted = pending_count;
    for (ct_ring *r = atomic_load_explicit(&rings, memory_order_acquire); r; r = r->next) {
        dropped += atomic_load_explicit(&r->dropped, memory_order_relaxed);
        uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
        uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
        if (head == tail) continue;
        if (pending_count + (head - tail) > pending_capacity) {
            size_t capacity = pending_capacity ? pending_capacity : 4096;
            while (capacity < pending_count + (head - tail)) capacity *= 2;
            ct_event *grown = realloc(pending, capacity * sizeof(ct_event));
            if (!grown) break;
            pending = grown;
            pending_capacity = capacity;
        }
        for (; tail != head; tail++) {
            ct_event *e = &pending[pending_count++];
            *e = r->events[tail & (RING_SIZE - 1)];
            e->unused = order++;
        }
        atomic_store_explicit(&r->tail, tail, memory_order_release);
    }
    merge_drained(sorted);
    return dropped;
}

/// Drains every ring and writes the events up to `horizon` (all of them when `horizon` is UINT64_MAX), stopping
/// at a provisional cancel still unresolved; with `flush`, writes the partial chunk too. Called with `write_lock`
/// held. Writes at most a ring's half between drains: the backlog a hold leaves (thousands of events once a
/// provisional cancel is resolved) must not keep the threads' rings waiting until they drop.
static void write_round(uint64_t horizon, uint64_t now, int flush) {
    uint64_t dropped;
    for (;;) {
        dropped = drain();
        size_t n = pending_first, budget = RING_SIZE / 2;
        int held = 0;
        for (; n < pending_count && pending[n].time <= horizon && budget > 0; n++, budget--) {
            ct_event *e = &pending[n];
            if (e->kind == CT_CANCEL_PENDING) {
                enum ct_pending_verdict verdict = resolve_provisional(e, now, horizon == UINT64_MAX);
                if (verdict == CT_VERDICT_WAIT) {
                    held = 1;
                    break;
                }
                if (verdict == CT_VERDICT_DROP) continue;
                e->kind = CT_CANCEL;
                e->f[2] = 1;  // explicit
            }
            encode(e);
        }
        pending_first = n;
        if (held || budget > 0) break;
    }
    if (dropped > dropped_reported) {
        put_byte(&chunk, CT_WIRE_DROPPED);
        put_delta(written_time);
        put_varint(&chunk, dropped - dropped_reported);
        dropped_reported = dropped;
    }
    if (flush) flush_chunk();
}

// The writer's wake-up: a ring half full (or full) bumps `wake_word` and wakes the writer's futex, only while it
// waits: no lock, so a hook stays async-signal-safe. A wake-up that just misses the wait costs at most one
// interval's delay.
static _Atomic uint32_t wake_word;
static _Atomic int writer_waiting;

static void wake_writer(void) {
    if (!atomic_load_explicit(&writer_waiting, memory_order_relaxed)) return;
    int saved = errno;  // the program's, around its own call
    atomic_fetch_add_explicit(&wake_word, 1, memory_order_release);
    syscall(SYS_futex, &wake_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    errno = saved;
}

// Test support (Tests/RunScenarios): a test program waits on the writer's progress instead of sleeping.
static _Atomic uint64_t rounds, written_monotonic;

/// Rounds the writer thread has completed (each drains every ring and writes what it may).
__attribute__((visibility("default"))) uint64_t canceltrace_preload_writer_rounds(void) {
    return atomic_load_explicit(&rounds, memory_order_acquire);
}

/// The latest time the writer has written (nothing earlier follows it in the file), as CLOCK_MONOTONIC
/// nanoseconds; 0 before its first round.
__attribute__((visibility("default"))) uint64_t canceltrace_preload_written_monotonic_ns(void) {
    return atomic_load_explicit(&written_monotonic, memory_order_relaxed);
}

static void *writer_main(void *unused) {
    (void)unused;
    uint64_t deadline = monotonic_ns() + flush_interval_ns;
    while (!atomic_load(&writer_stop)) {
        uint32_t seen = atomic_load_explicit(&wake_word, memory_order_acquire);
        atomic_store_explicit(&writer_waiting, 1, memory_order_seq_cst);
        for (uint64_t now = monotonic_ns(); now < deadline && !atomic_load(&writer_stop) &&
                                            atomic_load_explicit(&wake_word, memory_order_acquire) == seen;
             now = monotonic_ns()) {
            struct timespec wait = {(time_t)((deadline - now) / 1000000000ull), (long)((deadline - now) % 1000000000ull)};
            syscall(SYS_futex, &wake_word, FUTEX_WAIT_PRIVATE, seen, &wait, NULL, 0);  // returns on a wake or change
        }
        atomic_store_explicit(&writer_waiting, 0, memory_order_relaxed);
        uint64_t now = monotonic_ns();
        int flush = now >= deadline;  // the partial chunk once per interval: a crash loses at most about that
        if (flush) deadline = now + flush_interval_ns;
        pthread_mutex_lock(&write_lock);
        if (!finished) {
            uint64_t clock;
            uint64_t until = horizon(&clock);
            write_round(until, clock, flush);
            atomic_store_explicit(&written_monotonic, start_ns + written_time, memory_order_relaxed);
            atomic_fetch_add_explicit(&rounds, 1, memory_order_release);
        }
        pthread_mutex_unlock(&write_lock);
    }
    return NULL;
}

int ct_writer_start(const char *path, const char *const *items) {
    start_ns = monotonic_ns();
    const char *interval = getenv("CANCELTRACE_FLUSH_MS");
    if (interval && atoi(interval) > 0) flush_interval_ns = (uint64_t)atoi(interval) * 1000000ull;
    const char *hold = getenv("CANCELTRACE_TEST_MAX_HOLD_MS");
    if (hold && atoll(hold) > 0) max_hold_ns = (uint64_t)atoll(hold) * 1000000ull;
    if (pthread_key_create(&ring_key, ring_released) != 0) return -1;
    trace_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (trace_fd < 0) {
        fprintf(stderr, "canceltrace: cannot create %s: %s; the program runs untraced\n", path, strerror(errno));
        return -1;
    }
    static const uint8_t header[16] = {0x89, 'C', 'T', 'R', 'A', 'C', 'E', '\n', CT_WIRE_MAJOR, 0, CT_WIRE_MINOR, 0, 0, 0, 0, 0};
    write_all(header, sizeof header);
    for (size_t i = 0; items[i] && items[i + 1]; i += 2) {
        uint64_t key = intern(&chunk, items[i], strlen(items[i]));
        uint64_t value = intern(&chunk, items[i + 1], strlen(items[i + 1]));
        put_byte(&chunk, CT_WIRE_INFO);
        put_varint(&chunk, 0);
        put_varint(&chunk, key);
        put_varint(&chunk, value);
    }
    flush_chunk();
    // The writer thread must not receive the program's signals.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int failed = pthread_create(&writer_thread, NULL, writer_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (failed) {
        close(trace_fd);
        trace_fd = -1;
        return -1;
    }
    atomic_store(&ct_recording, 1);
    return 0;
}

void ct_writer_finish(void) {
    if (trace_fd < 0) return;
    atomic_store(&ct_recording, 0);
    atomic_store(&writer_stop, 1);
    pthread_mutex_lock(&write_lock);
    if (!finished) {
        finished = 1;
        write_round(UINT64_MAX, ct_now(), 1);
        put_byte(&chunk, CT_WIRE_CLOSE);
        put_delta(ct_now());
        flush_chunk();
        close(trace_fd);
        trace_fd = -1;
    }
    pthread_mutex_unlock(&write_lock);
}

void ct_writer_forget_after_fork(void) {
    atomic_store(&ct_recording, 0);
    // The writer thread does not exist here, and its lock may be held: never write, never close (the parent's
    // descriptor stays open in the child until it execs, which O_CLOEXEC handles).
    trace_fd = -1;
    finished = 1;
}

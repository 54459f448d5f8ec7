// Counts heap allocations by interposing the allocator: the executable's definitions of malloc & co. take
// precedence over libc's for every library in the process (ELF symbol interposition), and forward to glibc's
// __libc_* entry points. Linux/glibc only; elsewhere the counters stay 0 and malloc_counter_active() says so.
#include "MallocCounter.h"
#include <stddef.h>
#include <errno.h>

#if defined(__linux__) && defined(__GLIBC__)
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static _Thread_local uint64_t thread_count;

// The process-wide counts are kept per thread too, in a block each thread claims on its first allocation from a
// static pool (never released: a thread's counts outlive it), so that no cache line is written by two threads
// per allocation. Two atomic adds on shared counters cost every allocation a cache-line transfer between cores,
// which the churn bench's traced runs (four allocations more per task) paid for the measurement itself. Only
// the owner writes a block (relaxed stores); readers sum all blocks with relaxed loads. Threads beyond the pool
// share one more block with atomic adds.
enum { block_count = 1024 };
typedef struct {
    uint64_t count;
    uint64_t size_classes[64];
} __attribute__((aligned(64))) Block;
static Block blocks[block_count];
static Block overflow;
static uint32_t blocks_claimed;
static _Thread_local Block *thread_block;

static Block *claim_block(void) {
    uint32_t index = __atomic_fetch_add(&blocks_claimed, 1, __ATOMIC_RELAXED);
    return index < block_count ? &blocks[index] : &overflow;
}

static inline void bump(uint64_t *counter, int shared) {
    if (shared) __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
    else __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

static inline void count(size_t size) {
    thread_count++;
    Block *block = thread_block;
    if (!block) block = thread_block = claim_block();
    int shared = block == &overflow;
    bump(&block->count, shared);
    bump(&block->size_classes[size ? 64 - __builtin_clzll((unsigned long long)size) : 0], shared);
}

static uint64_t sum(size_t offset) {
    uint32_t claimed = __atomic_load_n(&blocks_claimed, __ATOMIC_RELAXED);
    if (claimed > block_count) claimed = block_count;
    uint64_t total = __atomic_load_n((uint64_t *)((char *)&overflow + offset), __ATOMIC_RELAXED);
    for (uint32_t index = 0; index < claimed; index++) {
        total += __atomic_load_n((uint64_t *)((char *)&blocks[index] + offset), __ATOMIC_RELAXED);
    }
    return total;
}

void *malloc(size_t size) { count(size); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { count(n * size); return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { count(size); return __libc_realloc(p, size); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t alignment, size_t size) { count(size); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { count(size); return __libc_memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size) {
    count(size);
    void *p = __libc_memalign(alignment, size);
    if (!p && size) return ENOMEM;
    *out = p;
    return 0;
}

uint64_t malloc_counter_thread(void) { return thread_count; }
uint64_t malloc_counter_process(void) { return sum(offsetof(Block, count)); }
uint64_t malloc_counter_size_class(int bits) {
    return bits >= 0 && bits < 64 ? sum(offsetof(Block, size_classes) + (size_t)bits * sizeof(uint64_t)) : 0;
}
int malloc_counter_active(void) { return 1; }
#else
uint64_t malloc_counter_thread(void) { return 0; }
uint64_t malloc_counter_process(void) { return 0; }
uint64_t malloc_counter_size_class(int bits) { return 0; }
int malloc_counter_active(void) { return 0; }
#endif

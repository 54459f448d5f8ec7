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
static uint64_t process_count;
static uint64_t size_classes[64];

static inline void count(size_t size) {
    thread_count++;
    __atomic_fetch_add(&process_count, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&size_classes[size ? 64 - __builtin_clzll((unsigned long long)size) : 0], 1, __ATOMIC_RELAXED);
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
uint64_t malloc_counter_process(void) { return __atomic_load_n(&process_count, __ATOMIC_RELAXED); }
uint64_t malloc_counter_size_class(int bits) {
    return bits >= 0 && bits < 64 ? __atomic_load_n(&size_classes[bits], __ATOMIC_RELAXED) : 0;
}
int malloc_counter_active(void) { return 1; }
#else
uint64_t malloc_counter_thread(void) { return 0; }
uint64_t malloc_counter_process(void) { return 0; }
uint64_t malloc_counter_size_class(int bits) { return 0; }
int malloc_counter_active(void) { return 0; }
#endif

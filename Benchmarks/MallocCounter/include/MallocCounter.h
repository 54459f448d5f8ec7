#ifndef CANCELTRACE_MALLOC_COUNTER_H
#define CANCELTRACE_MALLOC_COUNTER_H
#include <stdint.h>

/// Heap allocations (malloc, calloc, realloc, memalign family) made by the calling thread so far.
uint64_t malloc_counter_thread(void);
/// Heap allocations made by every thread so far.
uint64_t malloc_counter_process(void);
/// Heap allocations made by every thread so far of a size that needs `bits` bits (2^(bits-1) ≤ size < 2^bits;
/// class 0: size 0).
uint64_t malloc_counter_size_class(int bits);
/// Whether the interposed allocator is the one in use (0 on platforms where it is not built).
int malloc_counter_active(void);

#endif

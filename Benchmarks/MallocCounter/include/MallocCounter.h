#ifndef CANCELTRACE_MALLOC_COUNTER_H
#define CANCELTRACE_MALLOC_COUNTER_H
#include <stdint.h>

/// Heap allocations (malloc, calloc, realloc, memalign family) made by the calling thread so far.
uint64_t malloc_counter_thread(void);
/// Heap allocations made by every thread so far.
uint64_t malloc_counter_process(void);
/// Whether the interposed allocator is the one in use (0 on platforms where it is not built).
int malloc_counter_active(void);

#endif

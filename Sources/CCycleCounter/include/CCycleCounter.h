#ifndef CCYCLECOUNTER_H
#define CCYCLECOUNTER_H

#include <stdint.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

/// The CPU's time-stamp counter (rdtsc), 0 where there is none. Not ordered with the instructions around it
/// (rdtscp or lfence would cost twice as much): it may read a few cycles early, which is why the event clock never
/// hands out a time earlier than its previous one.
static inline uint64_t cancel_trace_cycles(void) {
#if defined(__x86_64__)
    return __rdtsc();
#else
    return 0;
#endif
}

/// The counter read in program order: after every earlier instruction has completed (a locked store before it
/// is globally visible) and before any later one starts. Per-thread event buffers need this: the writer's merge
/// horizon and a task's cancel-before-end order compare these readings with atomic flags set around them.
static inline uint64_t cancel_trace_cycles_ordered(void) {
#if defined(__x86_64__)
    _mm_lfence();
    uint64_t cycles = __rdtsc();
    _mm_lfence();
    return cycles;
#else
    return 0;
#endif
}

/// The counter read after every earlier instruction has completed (as `cancel_trace_cycles_ordered`), without
/// the second fence: what a recording thread needs. Later instructions may start before the read completes,
/// but none that matters can overtake it: the stores that publish the event hold the reading (a data
/// dependency), x86 makes stores visible in program order and only after the instructions before them retire,
/// and the read happens before it retires. So a flag set by a locked instruction after the read (a task's
/// cancel) is still visible only after the reading was taken.
static inline uint64_t cancel_trace_cycles_after_prior(void) {
#if defined(__x86_64__)
    _mm_lfence();
    return __rdtsc();
#else
    return 0;
#endif
}

/// A hint to the CPU that the thread is spinning on a lock (x86 `pause`).
static inline void cancel_trace_spin_pause(void) {
#if defined(__x86_64__)
    _mm_pause();
#endif
}

/// Whether the counter ticks at a constant rate whatever the power state (CPUID 0x80000007 EDX bit 8,
/// "invariant TSC").
static inline int cancel_trace_has_invariant_cycles(void) {
#if defined(__x86_64__)
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx)) return 0;
    return (edx & (1u << 8)) != 0;
#else
    return 0;
#endif
}

#endif

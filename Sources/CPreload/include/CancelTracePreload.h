#ifndef CANCELTRACE_PRELOAD_H
#define CANCELTRACE_PRELOAD_H

// The LD_PRELOAD library behind `canceltrace run` (Docs/Run.md). It has no API: loaded into a dynamically linked
// Swift program, it interposes the concurrency runtime's exported entry points and writes a trace file to
// $CANCELTRACE_OUTPUT/NAME.PID.ctrace. Environment:
//   CANCELTRACE_OUTPUT        folder for trace files (required; without it the library does nothing)
//   CANCELTRACE_FLUSH_MS      writer interval in milliseconds (default 50)
//   CANCELTRACE_TEST_UNKNOWN_LAYOUT=1  behave as on a runtime whose internal layout is unknown (tests)
//   CANCELTRACE_TEST_MAX_HOLD_MS       how long the writer waits for one thread's window or for a cancelled task
//                                      to start (default 1000; tests)
// For tests, two symbols a traced program can look up with dlsym to wait on the writer instead of sleeping:
//   uint64_t canceltrace_preload_writer_rounds(void)         rounds the writer thread has completed
//   uint64_t canceltrace_preload_written_monotonic_ns(void)  the latest time written, CLOCK_MONOTONIC ns

#endif

#ifndef CANCELTRACE_PRELOAD_H
#define CANCELTRACE_PRELOAD_H

// The LD_PRELOAD library behind `canceltrace run` (Docs/Run.md). It has no API: loaded into a dynamically linked
// Swift program, it interposes the concurrency runtime's exported entry points and writes a trace file to
// $CANCELTRACE_OUTPUT/NAME.PID.ctrace. Environment:
//   CANCELTRACE_OUTPUT        folder for trace files (required; without it the library does nothing)
//   CANCELTRACE_FLUSH_MS      writer interval in milliseconds (default 50)
//   CANCELTRACE_TEST_UNKNOWN_LAYOUT=1  behave as on a runtime whose internal layout is unknown (tests)

#endif

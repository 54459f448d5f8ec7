#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CCycleCounter

/// The clock a session stamps its events with: nanoseconds since the session started, on `CLOCK_MONOTONIC`.
///
/// Reading `CLOCK_MONOTONIC` costs 60 ns and more on some VMs, most of an event's budget. Where the CPU has an
/// invariant cycle counter and the kernel itself keeps time with it (Linux clocksource `tsc`, so the counters of
/// all CPUs agree), an event reads the counter instead (`rdtsc`) and converts it with a scale measured against
/// `CLOCK_MONOTONIC`. Elsewhere it reads `CLOCK_MONOTONIC` itself.
///
/// Recording threads only take a raw `stamp` (cycles, or monotonic nanoseconds), which compares across threads;
/// the writer thread converts stamps to session times in the order it writes them (`time(ofStamp:)`). At every
/// chunk handoff the writer re-anchors on `CLOCK_MONOTONIC` and re-measures the scale over the whole session, so
/// times stay within one chunk's drift of the monotonic clock. A converted time is never earlier than the
/// previous one, so file order stays time order.
struct EventClock {
    /// `CLOCK_MONOTONIC` at the session's start: time 0.
    private let start: UInt64
    let usesCycles: Bool
    private let startCycles: UInt64
    /// Session time at `anchorCycles`.
    private var anchorNanoseconds: UInt64
    private var anchorCycles: UInt64
    /// Nanoseconds per cycle, 32.32 fixed point.
    private var scale: UInt64
    /// The latest time handed out.
    private var last: UInt64 = 0

    /// Setting this environment variable to `monotonic` makes sessions started afterwards read
    /// `CLOCK_MONOTONIC` for every event, as a check on the cycle counter (the benchmark compares the two).
    static let choiceVariable = "CANCELTRACE_EVENT_CLOCK"

    init() {
        let forcedMonotonic = getenv(EventClock.choiceVariable).map { String(cString: $0) == "monotonic" } ?? false
        let calibration = forcedMonotonic ? nil : CycleCalibration.process
        usesCycles = calibration != nil
        scale = calibration ?? 0
        startCycles = usesCycles ? cancel_trace_cycles_ordered() : 0
        start = MonotonicClock.now()
        anchorCycles = startCycles
        anchorNanoseconds = 0
    }

    /// A raw reading for an event: the cycle counter or `CLOCK_MONOTONIC`, read in program order (see
    /// `cancel_trace_cycles_ordered`). Readings of either kind compare across threads.
    @inline(__always)
    static func stamp(usesCycles: Bool) -> UInt64 {
        usesCycles ? cancel_trace_cycles_ordered() : MonotonicClock.now()
    }

    /// `stamp(usesCycles:)` for a recording thread's event, whose own stores are ordered after it anyway: one
    /// fence instead of two (`cancel_trace_cycles_after_prior`).
    @inline(__always)
    static func eventStamp(usesCycles: Bool) -> UInt64 {
        usesCycles ? cancel_trace_cycles_after_prior() : MonotonicClock.now()
    }

    @inline(__always)
    func stamp() -> UInt64 { Self.stamp(usesCycles: usesCycles) }

    /// The session time of `stamp`; never less than the previous result.
    @inline(__always)
    mutating func time(ofStamp stamp: UInt64) -> UInt64 {
        var time: UInt64
        if usesCycles {
            if stamp >= anchorCycles {
                let (high, low) = (stamp &- anchorCycles).multipliedFullWidth(by: scale)
                time = anchorNanoseconds &+ (high << 32 | low >> 32)
            } else {
                // Stamped before the last re-anchoring and written after it.
                let (high, low) = (anchorCycles &- stamp).multipliedFullWidth(by: scale)
                let back = high << 32 | low >> 32
                time = anchorNanoseconds > back ? anchorNanoseconds &- back : 0
            }
        } else {
            time = stamp > start ? stamp &- start : 0
        }
        if time < last { time = last }
        last = time
        return time
    }

    /// Nanoseconds since the session started; never less than the previous reading.
    @inline(__always)
    mutating func now() -> UInt64 { time(ofStamp: stamp()) }

    /// The latest time handed out.
    var latest: UInt64 { last }

    /// Re-anchors on `CLOCK_MONOTONIC` and re-measures the scale over the session so far (the longer the
    /// baseline, the smaller the error). Called at chunk handoffs: one `clock_gettime` per chunk.
    mutating func recalibrate() {
        guard usesCycles else { return }
        let cycles = cancel_trace_cycles_ordered()
        let nanoseconds = MonotonicClock.now() &- start
        let span = cycles &- startCycles
        if nanoseconds >= 10_000_000, span > 0,
           let measured = CycleCalibration.scale(nanoseconds: nanoseconds, cycles: span) {
            scale = measured
        }
        anchorCycles = cycles
        anchorNanoseconds = max(nanoseconds, last)
    }
}

/// Whether events can use the cycle counter, and its first scale, measured once per process.
enum CycleCalibration {
    /// Nanoseconds per cycle (32.32 fixed point), or nil when the cycle counter is not usable here.
    static let process: UInt64? = measure()

    static func scale(nanoseconds: UInt64, cycles: UInt64) -> UInt64? {
        guard cycles > 0, nanoseconds >> 32 < cycles else { return nil }
        return cycles.dividingFullWidth((high: nanoseconds >> 32, low: nanoseconds << 32)).quotient
    }

    private static func measure() -> UInt64? {
        guard cancel_trace_has_invariant_cycles() != 0, kernelKeepsTimeWithCycleCounter() else { return nil }
        // About a millisecond against CLOCK_MONOTONIC; a clock read costs well under a microsecond, so the
        // first chunk's times are off by less than 0.1 % until the first handoff re-measures.
        let startNanoseconds = MonotonicClock.now()
        let startCycles = cancel_trace_cycles()
        var nanoseconds = startNanoseconds
        var cycles = startCycles
        while nanoseconds &- startNanoseconds < 1_000_000 {
            nanoseconds = MonotonicClock.now()
            cycles = cancel_trace_cycles()
        }
        guard let scale = scale(nanoseconds: nanoseconds &- startNanoseconds, cycles: cycles &- startCycles),
              scale > 0 else { return nil }
        return scale
    }

    /// Linux only: the current clocksource is `tsc`, i.e. the kernel found the counters synchronised and stable.
    private static func kernelKeepsTimeWithCycleCounter() -> Bool {
        #if os(Linux)
        guard let file = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r") else {
            return false
        }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 32)
        guard fgets(&line, Int32(line.count), file) != nil else { return false }
        let name = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.hasPrefix("tsc")
        #else
        return false
        #endif
    }
}

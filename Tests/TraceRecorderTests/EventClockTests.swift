#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import TraceRecorder

/// The event clock's promises: session times in nanoseconds of the monotonic clock, never going backwards,
/// whether it reads the cycle counter or `CLOCK_MONOTONIC`.
@Suite struct EventClockTests {
    @Test func readingsNeverGoBackwardsAcrossRecalibrations() {
        var clock = EventClock()
        var last: UInt64 = 0
        var backwards = 0
        for i in 0..<200_000 {
            if i % 997 == 0 { clock.recalibrate() }
            let time = clock.now()
            if time < last { backwards += 1 }
            last = time
        }
        #expect(backwards == 0)
    }

    @Test func readingsAreNanosecondsOfTheMonotonicClock() {
        let before = MonotonicClock.now()
        var clock = EventClock()
        // Wait for the monotonic clock itself to pass 20 ms, rather than trusting a sleep's length.
        while MonotonicClock.now() - before < 20_000_000 { usleep(1_000) }
        clock.recalibrate()
        let time = clock.now()
        let elapsed = MonotonicClock.now() - before
        // Re-anchored on CLOCK_MONOTONIC: between the 20 ms waited for and the time that really passed.
        #expect(time >= 20_000_000)
        #expect(time <= elapsed)
    }
}

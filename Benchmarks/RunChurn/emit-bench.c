// The preload library's hot path alone (Docs/Performance.md, "`canceltrace run`"): THREADS threads at once each
// record EVENTS events the way a hook does (take the time, append one event to the thread's ring) while the
// writer thread merges, encodes, compresses and writes them to PATH; the counterpart of `canceltrace-bench
// recorder`'s "N thread(s) × 100 k events" rows for the Swift recorder. Built as one unit with the library's
// Writer.c and PendingCancels.c (so it sees the rings' drop counters) by `python3 Benchmarks/run-overhead.py --emit`.
//
// Each thread first fills its ring once and waits for the writer to take it (so no page is faulted in while
// measuring). With fewer than half a ring of EVENTS, nothing waits for the writer: the hot path alone. Prints:
// threads, CPU ns per event per thread (mean of the threads' CPU time), wall ns per event of all threads
// together, events dropped (ring full).
#include "../../Sources/CPreload/Writer.c"
#include "../../Sources/CPreload/PendingCancels.c"  // the writer resolves provisional cancels there

typedef struct {
    uint64_t events;
    double cpu_per_event;
} bench_thread;

static pthread_barrier_t barrier, done;

static uint64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/// One hook's event, as the build of this file records it.
static inline void record(uint64_t i) {
    // A hook's `signal` event: task id, what, via (a static string), as signal_flag records it. (Before the
    // recording windows, the hooks called `ct_emit(kind, ct_now(), …)`: the old build of this file did that.)
    ct_record(CT_SIGNAL, i + 1, 0, (uint64_t)(uintptr_t)"bench", 0);
}

static void *bench_main(void *argument) {
    bench_thread *t = argument;
    // Warm up: fill the ring once (its pages faulted in) and wait until the writer has taken it all.
    for (uint64_t i = 0; i < RING_SIZE; i++) record(i);
    while (atomic_load(&my_ring->tail) != atomic_load(&my_ring->head)) usleep(100);
    pthread_barrier_wait(&barrier);
    uint64_t begin = thread_cpu_ns();
    for (uint64_t i = 0; i < t->events; i++) {
        record(i);
    }
    t->cpu_per_event = (double)(thread_cpu_ns() - begin) / (double)t->events;
    pthread_barrier_wait(&done);  // no thread exits (handing its ring to a later one) before all are done
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: emit-bench THREADS EVENTS-PER-THREAD TRACE-PATH\n");
        return 2;
    }
    int threads = atoi(argv[1]);
    uint64_t events = strtoull(argv[2], NULL, 10);
    if (threads < 1 || threads > 256 || events == 0) return 2;
    const char *items[] = {"runtime", "swift", "recorder", "CancelTrace.Preload.emit-bench", NULL, NULL};
    if (ct_writer_start(argv[3], items) != 0) return 1;
    pthread_barrier_init(&barrier, NULL, (unsigned)threads + 1);
    pthread_barrier_init(&done, NULL, (unsigned)threads);
    pthread_t handles[256];
    bench_thread work[256];
    for (int i = 0; i < threads; i++) {
        work[i] = (bench_thread){events, 0};
        pthread_create(&handles[i], NULL, bench_main, &work[i]);
    }
    pthread_barrier_wait(&barrier);
    uint64_t start = monotonic_ns();
    for (int i = 0; i < threads; i++) pthread_join(handles[i], NULL);
    uint64_t wall = monotonic_ns() - start;
    ct_writer_finish();
    double cpu = 0;
    for (int i = 0; i < threads; i++) cpu += work[i].cpu_per_event;
    uint64_t dropped = 0;
    for (ct_ring *r = atomic_load(&rings); r; r = r->next) dropped += atomic_load(&r->dropped);
    printf("%d %.1f %.1f %llu\n", threads, cpu / threads, (double)wall / (double)(events * (uint64_t)threads),
           (unsigned long long)dropped);
    return 0;
}

"""Where the recorded events go: ``Recorder`` takes them from ``_buffer.events`` in batches, on the thread that
fills a batch, on a periodic flush thread and at stop, and hands them to the writer process, or encodes them in
this process when none can be started (or CANCELTRACE_WRITER=inprocess). Each chunk is written with one write()
call, so a killed process leaves a readable, truncated trace."""
import os
import sys
import threading

from . import _format as F
from ._buffer import events as _events
from ._writer_process import WriterProcess


class Recorder:
    """The output of one recording. ``on_tick`` (or None) runs on the flush thread after each periodic flush."""

    def __init__(self, path, flush_interval=1.0, level=1, process=None, on_tick=None):
        self.path = path
        self.sink = F.FileSink(path)
        target = int(os.environ.get("CANCELTRACE_CHUNK_BYTES", F.CHUNK_RAW_TARGET))
        self.writer = None
        if os.environ.get("CANCELTRACE_WRITER", "process") != "inprocess" and os.name == "posix":
            try:
                self.writer = WriterProcess(self.sink.fd, path, level, target)
            except Exception:
                self.writer = None
        if self.writer is not None:
            self.sink.close()          # the writer has its own descriptor of the file
            self.chunks = None
        else:
            self.chunks = F.ChunkWriter(self.sink, level, target)
        self.flush_lock = threading.Lock()
        self.failed = False
        self.event_count = 0
        self.unforced = False          # a batch went to the writer since the last forced flush
        self.flush_interval = flush_interval
        self.process = process
        self.on_tick = on_tick
        self.stopped = False           # stop() has begun: no flush thread any more
        self._stop = threading.Event()
        self._thread = None

    # -- writing
    def flush_from_producer(self):
        """Called on the recording thread when a batch is full; never waits for a flush in progress."""
        if self.flush_lock.acquire(blocking=False):
            try:
                self._drain(False)
            finally:
                self.flush_lock.release()

    def flush(self, force=True, timeout=-1):
        """Hand over the pending events; with ``force``, also get the partial chunk onto disk."""
        if not self.flush_lock.acquire(timeout=timeout):
            return
        try:
            self._drain(force)
        finally:
            self.flush_lock.release()

    def _drain(self, force):
        ev = _events
        n = len(ev)
        if self.failed:
            del ev[:n]
            return
        batch = ev[:n]
        del ev[:n]
        self.event_count += n
        try:
            if self.writer is not None:
                if n or (force and self.unforced):
                    self.writer.send(batch, force)
                    self.unforced = not force
            else:
                if n:
                    self.chunks.add(batch)
                if force:
                    self.chunks.flush()
        except Exception as e:
            self._failed(e)

    def _failed(self, error):
        self.failed = True
        if self.writer is not None:
            if self.writer.proc.poll() == 1:
                return                 # the writer said why
            error = "the writer process stopped (%s)" % (error,)
        try:
            sys.stderr.write("canceltrace: cannot write %s: %s; recording stopped\n" % (self.path, error))
        except Exception:
            pass

    def close(self, timeout=30):
        """Flush everything and close the file (waiting for the writer process to finish it)."""
        try:
            self.flush(force=True, timeout=5)
        finally:
            if self.writer is not None:
                status = self.writer.close(timeout)
                if status not in (0, 1) and not self.failed:
                    self._failed("exit status %s" % (status,))
            else:
                self.sink.close()

    def abandon(self):
        """After fork, in the child: stop without touching the parent's trace."""
        if self.writer is not None:
            self.writer.abandon()
        else:
            self.sink.close()

    # -- the flush thread
    def _periodic(self):
        stop = self._stop
        while not stop.wait(self.flush_interval):
            try:
                self.flush(force=True, timeout=0.5)
                if self.on_tick is not None:
                    self.on_tick()
            except Exception:
                pass

    def start_thread(self):
        if self.flush_interval and self.flush_interval > 0:
            self._thread = threading.Thread(target=self._periodic, name="canceltrace-flush", daemon=True)
            self._thread.start()

    def stop_thread(self):
        """At stop: the flush thread ends after its current flush."""
        self.stopped = True
        self._stop.set()

    def pause_thread(self):
        """Before fork(): end the flush thread, so that the process forks with one thread (3.12+ warns about
        fork() in a multi-threaded process)."""
        thread = self._thread
        if thread is not None:
            self._stop.set()
            thread.join(1.0)
            self._thread = None

    def resume_thread(self):
        """After a fork, in the parent (see _tasks._resume_flush)."""
        try:
            if self._thread is None and not self.stopped:
                self._stop = threading.Event()
                self.start_thread()
        except BaseException:
            pass

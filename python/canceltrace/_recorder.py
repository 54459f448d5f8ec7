"""The asyncio recorder: start, stop, marks, and what happens at fork and os._exit.

Design rules (see Docs/Python.md):
- never change the program's behaviour: every hook calls the original first-class behaviour and every
  recording step is wrapped so that no exception of ours reaches user code;
- the hot path (``_tasks``: spawn / cancel / end) appends one small tuple to a list; encoding, compression and
  the write happen in batches (``_output``: on the thread that fills a batch, on a periodic daemon thread, and
  at exit);
- every chunk is written with one write() call, so a killed process leaves a readable, truncated trace.

Parts: ``_tasks`` (the traced Task, the hot path, and the recording's state), ``_buffer`` (pending records and
the string table), ``_cancellers`` (who cancelled and why), ``_sites`` (site and test marks), ``_errors``; and,
loaded by the first start(): ``_sysmon`` and ``_handlers`` (3.12+ catches), ``_patches`` (installing into
asyncio), ``_output`` and ``_writer_process`` (getting the records into the file).
"""
import atexit
import os
import sys
import time

from asyncio import tasks as _aio_tasks

from . import _buffer
from . import _format as F
from . import _sites
from . import _suppress
from . import _tasks
from ._version import __version__

PY = sys.version_info[:2]
_perf_ns = time.perf_counter_ns

_rec = None                      # the Recorder of the running recording (the pytest plugin reads it)
_SID_PENDING = 0                 # string id of "pending at shutdown"
_abandoned = []                  # recorders a forked child let go of (see _after_fork_child)


def start(path, process=None, flush_interval=None, level=None):
    """Start recording every asyncio task of this process to ``path``. Returns the Recorder."""
    global _rec, _SID_PENDING
    if _rec is not None:
        return _rec
    # The parts only a recording needs load with the first one: importing canceltrace (every pytest run, through
    # the plugin's entry point) stays cheap.
    from . import _output, _patches
    # A fresh trace: new string table, ids above every earlier recording's.
    _buffer.reset()
    for bad in _suppress.reset():
        sys.stderr.write("canceltrace: CANCELTRACE_IGNORE: not understood, ignored: %r\n" % (bad,))
    try:
        cwd = os.getcwd() + os.sep
    except OSError:
        cwd = ""
    _sites.reset(cwd)
    _tasks.begin(_tasks.next_id(), int(os.environ.get("CANCELTRACE_BATCH", "4096")),
                 os.environ.get("CANCELTRACE_TASK_NAMES", "") == "full")
    if flush_interval is None:
        flush_interval = float(os.environ.get("CANCELTRACE_FLUSH_INTERVAL", "1.0"))
    if level is None:
        level = int(os.environ.get("CANCELTRACE_ZLIB_LEVEL", "1"))
    rec = _output.Recorder(path, flush_interval=flush_interval, level=level, process=process)
    _tasks._t0 = _perf_ns()
    _rec = _tasks._rec = rec
    if PY >= (3, 12):
        from . import _sysmon
        if _sysmon.install():
            _tasks._catches = _sysmon
            rec.on_tick = _sysmon.settle     # narrows the events on the flush thread
    _write_info(process)
    _tasks._SID_CANCELLED = _buffer.sid("CancelledError")
    _SID_PENDING = _buffer.sid("pending at shutdown")
    _patches.install()
    _tasks._active = True
    rec.flush(force=True)            # header + metadata on disk at once
    rec.start_thread()
    atexit.register(stop)
    if os._exit is _original_os_exit:
        os._exit = _os_exit
    return rec


def stop():
    """Stop recording: record ends of finished tasks, mark tasks still pending, write `close`, close the file."""
    global _rec
    rec = _rec
    if rec is None or not _tasks._active:
        return None
    try:
        t = _tasks._now()
        for task in _live_tasks():
            if _tasks._traced_id(task) and task._ct_st is not _tasks._ENDED:
                try:
                    if task.done():
                        _tasks._record_end(task, t)
                    else:
                        _sites.write(task, t)
                        _buffer.append((F.MARK, t, task._ct_id, _SID_PENDING))
                except Exception:
                    pass
        _buffer.append((F.CLOSE, _tasks._now()))
    except Exception:
        pass
    _tasks._active = False
    rec.stop_thread()
    try:
        rec.close()
    except Exception:
        pass
    _stop_watching_catches()
    from . import _patches
    _patches.uninstall()
    if os._exit is _os_exit:
        os._exit = _original_os_exit
    try:
        atexit.unregister(stop)
    except Exception:
        pass
    _rec = _tasks._rec = None
    return rec


def is_recording():
    return _tasks._active


def mark(label, task=None):
    """Add a user mark (``task``: a Task, or None for the current task)."""
    if not _tasks._active:
        return
    try:
        tid = _tasks._running_task_id() if task is None else _tasks._traced_id(task)
        _buffer.append((F.MARK, _tasks._now(), tid, _buffer.sid(str(label))))
    except BaseException:
        pass


def set_test(nodeid):
    """The tasks created from now on belong to test ``nodeid`` (the pytest plugin calls this at each setup)."""
    if _tasks._active:
        try:
            _sites.add_test(_tasks.next_id(), nodeid)
        except Exception:
            pass


def _write_info(process):
    res = time.get_clock_info("perf_counter").resolution
    wall = time.time_ns() - (_perf_ns() - _tasks._t0)
    items = [
        ("runtime", "python"),
        ("recorder", "canceltrace.python"),
        ("recorder-version", __version__),
        ("pid", str(os.getpid())),
        ("process", process or os.path.basename(sys.argv[0] or "python")),
        ("wall-clock-start-ns", str(wall)),
        ("clock-resolution-ns", str(max(1, int(round(res * 1e9))))),
        ("python-version", "%d.%d.%d" % sys.version_info[:3]),
        ("python-implementation", sys.implementation.name),
        ("caught-detection", "sys.monitoring" if _tasks._catches is not None else "inferred-at-end"),
    ]
    for k, v in items:
        _buffer.append((F.INFO, 0, _buffer.sid(k), _buffer.sid(v)))


def _live_tasks():
    out = []
    for name in ("_scheduled_tasks", "_all_tasks", "_eager_tasks"):
        coll = getattr(_aio_tasks, name, None)
        if coll is None or callable(coll):
            continue
        try:
            out.extend(list(coll))
        except Exception:
            pass
    return out


# ---------------------------------------------------------------------------------------------------------
# os._exit and fork

_original_os_exit = os._exit


def _os_exit(status):
    """os._exit while recording: hand what is recorded to the file first (no `close`: the trace reads as not
    closed, and tasks still running have no end)."""
    rec = _rec
    if rec is not None and _tasks._active:
        try:
            rec.flush(force=True, timeout=1.0)
        except BaseException:
            pass
    _original_os_exit(status)


_os_exit.__name__ = _os_exit.__qualname__ = "_exit"
_os_exit.__doc__ = _original_os_exit.__doc__


def _before_fork():
    rec = _rec
    if rec is not None:
        try:
            rec.pause_thread()
        except BaseException:
            pass


def _after_fork_parent():
    if _rec is not None:
        _tasks._flush_paused = True      # restarted by the next cancel or full batch (_tasks._resume_flush)


def _after_fork_child():
    # The child must not write into the parent's trace.
    global _rec
    rec = _rec
    if rec is None:
        return
    _tasks._active = False
    del _buffer.events[:]
    _rec = _tasks._rec = None
    try:
        rec.abandon()
    except Exception:
        pass
    # Kept: collecting it would make subprocess warn that the (parent's) writer process is still running.
    _abandoned.append(rec)
    _stop_watching_catches()


def _stop_watching_catches():
    catches = _tasks._catches
    if catches is not None:
        _tasks._catches = None
        catches.uninstall()


# Registered once, when the package is imported; they do nothing while not recording.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_parent, after_in_child=_after_fork_child)

"""The traced Task and what it records on the program's own thread: spawn, cancel, uncancel and end.

This is the hot path. It reads this module's globals directly (set by ``_recorder.start()``/``stop()`` and the
fork hooks) and appends one small tuple per event to ``_buffer.events``. Everything slower lives elsewhere:
who cancelled (``_cancellers``), sites and marks (``_sites``), 3.12+ catch watching (``_sysmon``, installed
into ``_catches``), the output (``_output``), installing the hooks (``_patches``).
"""
import asyncio
import itertools
import sys
import time
import types

from asyncio import events as _aio_events
from asyncio import tasks as _aio_tasks

from . import _buffer
from . import _cancellers
from . import _format as F
from . import _sites
from ._errors import error_name, is_exit_error

_CancelledError = asyncio.CancelledError
_get_running_loop = _aio_events._get_running_loop
_current_task = _aio_tasks.current_task
_BaseTask = _aio_tasks.Task          # normally the C _asyncio.Task
_perf_ns = time.perf_counter_ns      # CLOCK_MONOTONIC on Linux
_getframe = sys._getframe
_CoroType = types.CoroutineType

# ---------------------------------------------------------------------------------------------------------
# State of the recording (one per process), set by _recorder

_active = False
_rec = None                      # the output (_output.Recorder): full batches go to it
_t0 = 0
_ids = itertools.count(1)
_first_id = 1                    # tasks with a smaller id belong to an earlier recording in this process
_batch = 4096
_full_names = False              # CANCELTRACE_TASK_NAMES=full: also record default names ("Task-7")
_SID_CANCELLED = 0               # string id of "CancelledError"
_catches = None                  # 3.12+: the _sysmon module while it watches catches
_flush_paused = False            # the flush thread was stopped for a fork (see _resume_flush)
_fast_end = False                # 3.12+: `end` from PY_RETURN / PY_UNWIND of the task's coroutine, no done callback
_ret_codes = {}                  # id(code) -> code of task coroutines with local PY_RETURN events (_sysmon)
_how_override = 0                # set while TaskGroup.create_task runs (_patches)

_events = _buffer.events
_append = _buffer.append
_strings = _buffer.strings.ids
_sid = _buffer.sid
_callers = _cancellers.callers

_SPAWN = F.SPAWN
_END = F.END
_HOW_ROOT = F.HOW_ROOT
_SITE_LATENCY_NS = 100_000_000  # slower to end than this after its cancel: gets its site (slow-cancellation default)


def begin(first_id, batch, full_names):
    """A new recording: task ids from ``first_id`` on."""
    global _ids, _first_id, _batch, _full_names, _flush_paused
    forget_spawn_specs()
    _flush_paused = False
    _first_id = first_id
    _ids = itertools.count(first_id)
    _batch = batch
    _full_names = full_names


def next_id():
    """The id the next task will get."""
    global _ids
    n = next(_ids)
    _ids = itertools.count(n)
    return n


def _now():
    return _perf_ns() - _t0


# ---------------------------------------------------------------------------------------------------------
# Which tasks are traced

def _traced_id(task):
    """The trace id of ``task`` when it is a traced task of this recording, else 0. (Tasks of an earlier
    recording in this process keep their smaller ids.) The hot paths spell this test out instead of calling
    it (a call costs more than the test): CTTask.__init__ and _record_cancel; _mon_return and _mon_unwind
    test for CTTask itself (3.12+: the backport's traced class exists on 3.9/3.10 only)."""
    try:
        return task._ct_id if type(task) in _TRACED and task._ct_id >= _first_id else 0
    except Exception:
        return 0


def _running_task():
    """The running task when it is a traced task of this recording, else None."""
    loop = _get_running_loop()
    if loop is None:
        return None
    task = _current_task(loop)
    return task if _traced_id(task) else None


def _running_task_id():
    loop = _get_running_loop()
    if loop is None:
        return 0
    return _traced_id(_current_task(loop))


class _State:
    """Cancellation bookkeeping of one traced task, created on its first cancel request. The class attributes
    are the initial values (no __init__: creating one runs no Python frame)."""
    pend = 0        # cancel requests not withdrawn
    seen = False    # a caught was recorded since the last request
    open = None     # 3.12+: the catch being watched (_sysmon.Catch)
    tg = 0          # requests from a TaskGroup interrupting its owner
    owned = 0       # scope-owned requests: catches of them are the scope's, and its owner consumes them
    scopes = None   # their scopes, in order (_cancellers.OwnedScope)
    blind = False   # counted in _sysmon.blind_pending
    first = 0       # perf_counter_ns of the first cancel request (see _record_end: when to write the site)


_ENDED = _State()           # sentinel: the task's end was recorded


# ---------------------------------------------------------------------------------------------------------
# Spawn

# What spawning a task of an unnamed coroutine records, cached per code object. A tuple, not a named class: it is
# read at every spawn, and on 3.9-3.11 indexing a tuple costs less than reading a slot.
#   (string id of the task's name, its end is seen by monitoring (no done callback),
#    the coroutine's __qualname__ (functools.wraps coroutines share one code), the code (keeps its id its own))
_spawn_specs = {}     # id(code) -> spawn spec, for unnamed coroutines
_spawn_specs_q = {}   # (id(code), qualname) -> the same, for further qualnames of one code object


def forget_spawn_specs():
    _spawn_specs.clear()
    _spawn_specs_q.clear()


def _name_sid(coro, name):
    try:
        q = coro.__qualname__
    except AttributeError:
        q = type(coro).__qualname__
    if name is not None:
        q = "%s (%s)" % (q, name)
    sid = _strings.get(q)
    return sid if sid is not None else _sid(q)


def _loopless_parent():
    loop = _get_running_loop()
    return _current_task(loop) if loop is not None else None


def _spawn_spec(coro, name):
    """(name string id, or 0 to name it after creation; end seen by monitoring) for a task of ``coro``. Caches
    the answer for unnamed coroutines (the common case) in _spawn_specs."""
    fast = False
    if type(coro) is not _CoroType:
        return (0 if _full_names and name is None else _name_sid(coro, name)), False
    code = coro.cr_code
    if _fast_end:
        fast = id(code) in _ret_codes or _catches.watch_returns(code)
    if name is not None:
        return _name_sid(coro, name), fast
    if _full_names:
        return 0, fast
    q = coro.__qualname__
    sid = _name_sid(coro, None)
    first = _spawn_specs.get(id(code))
    if first is None or first[2] is q:
        _spawn_specs[id(code)] = (sid, fast, q, code)
    else:
        # Another function with the same code (functools.wraps-decorated coroutines share the wrapper's code,
        # each with its own __qualname__).
        _spawn_specs_q[(id(code), q)] = (sid, fast, q, code)
    return sid, fast


def _traced_class(_BaseTask):
    """The traced subclass of a task class: the C asyncio.Task (CTTask), or the pure-Python Task that
    backports.asyncio.runner uses on 3.9/3.10 (see _patches)."""

    class CTTask(_BaseTask):
        """asyncio.Task that reports its life to the recorder. Behaviour is the base Task's, unchanged."""

        __slots__ = ("_ct_id", "_ct_st")

        def __init__(self, coro, *, loop=None, name=None, **kw):
            self._ct_st = None
            self._ct_id = 0
            if not _active:
                _BaseTask.__init__(self, coro, loop=loop, name=name, **kw)
                return
            try:
                parent = _current_task(loop) if loop is not None else _loopless_parent()
                if parent is None:
                    pid, how = 0, _HOW_ROOT
                else:                              # _traced_id(parent)
                    pid = parent._ct_id if type(parent) in _TRACED and parent._ct_id >= _first_id else 0
                    how = _how_override
                # the cached spec of an unnamed coroutine's code, else the slow path
                spec = _spawn_specs.get(id(coro.cr_code)) if name is None and type(coro) is _CoroType else None
                if spec is not None and spec[2] is not coro.__qualname__:
                    spec = _spawn_specs_q.get((id(coro.cr_code), coro.__qualname__))
                if kw and kw.get("eager_start"):   # 3.12+: the first step runs inside __init__: record the spawn first
                    if name is None:
                        # loop.create_task(coro, name=...) with a task factory names the task only after creating
                        # it, too late for an eager task's spawn: take the name from its frame.
                        # (3.12's asyncio.create_task also names it afterwards.)
                        f = _getframe(2)
                        if f is not None and f.f_code is _LOOP_CREATE_TASK_CODE:
                            name = f.f_locals.get("name")
                            if name is None and f.f_back is not None and f.f_back.f_code is _CREATE_TASK_CODE:
                                name = f.f_back.f_locals.get("name")
                            if name is not None:
                                name = str(name)
                                spec = None
                    if spec is None:
                        sid, fast = _spawn_spec(coro, name)
                    else:
                        sid, fast = spec[0], spec[1]
                    tid = self._ct_id = next(_ids)
                    _append((_SPAWN, _perf_ns() - _t0, tid, pid, sid or _name_sid(coro, name), how))
                    sid = -1                       # recorded
                elif spec is None:
                    sid, fast = _spawn_spec(coro, name)
                    tid = self._ct_id = next(_ids)
                else:
                    sid, fast = spec[0], spec[1]
                    tid = self._ct_id = next(_ids)
            except BaseException:
                self._ct_id = 0
                _BaseTask.__init__(self, coro, loop=loop, name=name, **kw)
                return
            _BaseTask.__init__(self, coro, loop=loop, name=name, **kw)
            try:
                if sid >= 0:
                    if sid == 0:
                        sid = _name_sid(coro, self.get_name())
                    global _last_spawn
                    _last_spawn = sp = (_SPAWN, _perf_ns() - _t0, tid, pid, sid, how)
                    _append(sp)
                if not fast:
                    self.add_done_callback(_on_done)
                if len(_events) >= _batch:
                    if _flush_paused:
                        _resume_flush()
                    _rec.flush_from_producer()
            except BaseException:
                pass

        def cancel(self, msg=None):
            if _active and self._ct_st is not _ENDED and self._ct_id >= _first_id:
                try:
                    if not self.done():
                        _record_cancel(self, msg, _getframe(1))
                except BaseException:
                    pass
            return _BaseTask.cancel(self, msg)

        def set_name(self, value):
            _BaseTask.set_name(self, value)
            if _active and self._ct_id >= _first_id:
                try:
                    _renamed(self)
                except BaseException:
                    pass

        if hasattr(_BaseTask, "uncancel"):
            def uncancel(self):
                if _active and self._ct_st is not None and self._ct_st is not _ENDED:
                    try:
                        _record_uncancel(self)
                    except BaseException:
                        pass
                return _BaseTask.uncancel(self)

    return CTTask


CTTask = _traced_class(_BaseTask)
# Tasks print as "Task" (repr, "Task exception was never retrieved"), exactly as without the recorder.
CTTask.__name__ = CTTask.__qualname__ = "Task"
_TRACED = {CTTask}     # the traced task classes (CTTask, and the backport's once installed)
_cancellers.register_task_cancel(CTTask.cancel.__code__, traced=True)
try:
    _LOOP_CREATE_TASK_CODE = asyncio.base_events.BaseEventLoop.create_task.__code__
except AttributeError:
    _LOOP_CREATE_TASK_CODE = None
_CREATE_TASK_CODE = getattr(getattr(_aio_tasks, "create_task", None), "__code__", None)

_last_spawn = None


def _renamed(task):
    """asyncio.create_task(coro, name=...) names the task right after creating it (3.9-3.11): if its spawn
    record is still waiting in the buffer, record it under the new name."""
    sp = _last_spawn
    if sp is None or sp[2] != task._ct_id:
        return
    sid = _name_sid(task.get_coro(), task.get_name())
    ev = _events
    for i in range(len(ev) - 1, max(len(ev) - 4, -1), -1):
        if ev[i] is sp:
            del ev[i]
            _append(sp[:4] + (sid,) + sp[5:])
            return


# ---------------------------------------------------------------------------------------------------------
# Cancel and uncancel

def _record_cancel(task, msg, frame):
    code = frame.f_code
    info = _callers.get(id(code))
    if info is not None and info[1] is None:
        # Fast path: user code (explicit) or a plain asyncio caller; the canceller is the running task.
        reason = info[0]
        by = 0
        loop = _get_running_loop()
        if loop is not None:                       # _running_task_id()
            cur = _current_task(loop)
            if type(cur) in _TRACED and cur._ct_id >= _first_id:
                by = cur._ct_id
        group = False
        owned = None
    else:
        cause = _cancellers.cause(frame, task, _get_running_loop())
        reason, group, owned = cause.reason, cause.group, cause.owned
        by = _running_task_id() if cause.by is _cancellers.RUNNING else _traced_id(cause.by)
    st = task._ct_st
    if st is None:
        st = task._ct_st = _State()
        st.first = _perf_ns()
    elif st.scopes:
        _settle_owned(task, st)
    if owned is not None:         # scope-owned (see _sysmon._caught and _record_end)
        st.owned += 1
        if st.scopes is None:
            st.scopes = []
        st.scopes.append(owned)
    elif group:                   # TaskGroup interrupting its owner: remember it (see _record_end)
        st.tg += 1
    _append((F.CANCEL, _perf_ns() - _t0, task._ct_id, by, reason,
             0 if msg is None else _sid(msg if isinstance(msg, str) else repr(msg))))
    st.pend += 1
    st.seen = False
    if _flush_paused:
        _resume_flush()
    if _catches is not None:
        _catches.cancelled(task, st)


def _resume_flush():
    """After a fork, in the parent: restart the flush thread, stopped before the fork (_recorder._before_fork).
    Not restarted by the after-fork hook itself: CPython 3.13 counts the threads after the hooks. Until the next
    cancel or full batch, events wait in memory (and reach the file at the latest at stop)."""
    global _flush_paused
    _flush_paused = False
    _rec.resume_thread()


def _settle_owned(task, st, t=None):
    """Withdraw the scope-owned requests whose scope has exited since (it consumed them; on 3.11+ the library's
    own uncancel() did that already). Called before the task's next cancel and at its end."""
    keep = []
    for owned in st.scopes:
        exited = owned.exited()
        if exited and st.owned > 0 and st.pend > 0:
            if t is None:
                t = _now()
            _append((F.UNCANCEL, t, task._ct_id))
            st.owned -= 1
            st.pend -= 1
        elif not exited:
            keep.append(owned)
    st.scopes = keep
    if st.pend == 0:
        _pending_release(st)


def _record_uncancel(task):
    if task.cancelling() <= 0:
        return
    t = _now()
    st = task._ct_st
    if st.open is not None and st.pend <= 1:
        # The last request is withdrawn while a catch is open: the handler has completed (or is completing)
        # without re-raising; its cleanup ends here, not at the task's next catch or end.
        _catches.close_open(task, st, t, rethrow=False)
    _append((F.UNCANCEL, t, task._ct_id))
    if st.pend > 0:
        st.pend -= 1
        if st.tg > st.pend:
            st.tg = st.pend
        if st.owned > st.pend:
            st.owned = st.pend
            if st.scopes:
                del st.scopes[0]
        if st.pend == 0:
            _pending_release(st)


def _pending_release(st):
    # Monitoring is narrowed later, by _sysmon.settle: switching events re-instruments every code object the
    # program runs next, so a program that cancels one task at a time must not pay that per cancel.
    if st.blind:
        st.blind = False
        if _catches is not None:
            _catches.blind_released()


# ---------------------------------------------------------------------------------------------------------
# End

def _on_done(task):
    try:
        if not _active:
            return
        st = task._ct_st
        if st is _ENDED or task._ct_id < _first_id:
            return
        if st is None and task._exception is None and not task.cancelled():
            task._ct_st = _ENDED          # the common case: never cancelled, returned
            _append((_END, _perf_ns() - _t0, task._ct_id, 0, 0))
            return
        _record_end(task, _now())
    except BaseException:
        pass


def _record_end(task, t, outcome=None, err=0):
    st = task._ct_st
    task._ct_st = _ENDED
    tid = task._ct_id
    if outcome is not None:
        pass
    elif task.cancelled():
        outcome, err = F.OUTCOME_CANCELLED, _SID_CANCELLED
    else:
        exc = task._exception          # reading it does not mark the exception as retrieved
        if exc is None:
            outcome, err = F.OUTCOME_RETURNED, 0
        else:
            outcome, err = F.OUTCOME_FAILED, _sid(error_name(type(exc)))
    if st is not None and st is not _ENDED:
        if outcome != F.OUTCOME_CANCELLED or st.seen or _perf_ns() - st.first > _SITE_LATENCY_NS:
            # A task a finding can be about: it did not end cancelled, caught its cancellation, or took a while.
            _sites.write(task, t)
        if st.open is not None:
            _catches.close_open(task, st, t, rethrow=False)
        if st.scopes:
            _settle_owned(task, st, t)
        had_pending = st.pend > 0
        if (st.tg > 0 or st.owned > 0) and outcome != F.OUTCOME_CANCELLED:
            # A TaskGroup cancelled its owner to interrupt the body and did not withdraw the request: CPython
            # 3.11's TaskGroup.__aexit__ skips uncancel() when the request arrives while it waits for the
            # children (fixed in 3.12). The group turned that cancellation into its ExceptionGroup. Likewise a
            # scope-owned request (anyio on 3.9/3.10, async-timeout) was consumed or converted by its scope.
            # Record the withdrawal.
            n = min(st.tg + st.owned, st.pend)
            for _ in range(n):
                _append((F.UNCANCEL, t, tid))
            st.pend -= n
            st.tg = st.owned = 0
        if st.pend > 0 and outcome != F.OUTCOME_CANCELLED and not st.seen \
                and not (outcome == F.OUTCOME_FAILED and is_exit_error(task._exception)):
            # A pending cancellation is always delivered as CancelledError at the task's next step; a task
            # that then did not end cancelled caught it somewhere we could not see (inferred; see docs).
            # Not when it ended with SystemExit / KeyboardInterrupt (or a group of them): asyncio gives those
            # precedence over a cancellation (a TaskGroup re-raises them), no code of the task converted it.
            _append((F.CAUGHT, t, tid, _SID_CANCELLED))
        if had_pending:
            st.pend = 0
            _pending_release(st)
    _append((F.END, t, tid, outcome, err))


# 3.12+ (registered by _sysmon.install): ends seen as the task's own coroutine returns or unwinds.

def _mon_return(code, offset, retval):
    # The coroutine of a task returned: the task ends `returned` in the same step (C Task sets the result
    # right after), unless a cancel request arrived during this step (then asyncio cancels it instead).
    try:
        loop = _get_running_loop()
        if loop is None or not _active:
            return
        # the running task, if this is the return of its own coroutine (not of a nested call of the same code)
        task = _current_task(loop)
        if type(task) is not CTTask or task._ct_st is _ENDED or task._ct_id < _first_id \
                or task._coro.cr_frame is not _getframe(1):
            return
        if task._must_cancel:
            task.add_done_callback(_on_done)
        elif task._ct_st is None:
            task._ct_st = _ENDED
            _append((_END, _perf_ns() - _t0, task._ct_id, 0, 0))
        else:
            _record_end(task, _now(), F.OUTCOME_RETURNED, 0)
    except BaseException:
        pass


def _mon_unwind(code, offset, exc):
    # An exception leaves a frame. For a task's own coroutine: CancelledError means the task ends `cancelled`
    # in this step; anything else (failed, StopIteration, KeyboardInterrupt...) is left to a done callback,
    # which reads the outcome asyncio settles on.
    if id(code) not in _ret_codes:
        return
    try:
        loop = _get_running_loop()
        if loop is None or not _active:
            return
        task = _current_task(loop)
        if type(task) is not CTTask or task._ct_st is _ENDED or task._ct_id < _first_id \
                or task._coro.cr_frame is not _getframe(1):
            return
        if isinstance(exc, _CancelledError):
            _record_end(task, _now(), F.OUTCOME_CANCELLED, _SID_CANCELLED)
        else:
            task.add_done_callback(_on_done)
    except BaseException:
        pass

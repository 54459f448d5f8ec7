"""The asyncio recorder: hooks task creation, cancel(), uncancel() and task completion, and (on 3.12+)
watches CancelledError being caught and re-raised through ``sys.monitoring``.

Design rules (see Docs/Python.md):
- never change the program's behaviour: every hook calls the original first-class behaviour and every
  recording step is wrapped so that no exception of ours reaches user code;
- the hot path (spawn / end) appends one small tuple to a list; encoding, compression and the write
  happen in batches (on the thread that fills a batch, on a periodic daemon thread, and at exit);
- every chunk is written with one write() call, so a killed process leaves a readable, truncated trace.
"""
import asyncio
import atexit
import dis
import itertools
import marshal
import os
import struct
import sys
import sysconfig
import threading
import time
import types

from asyncio import events as _aio_events
from asyncio import tasks as _aio_tasks

from . import _format as F
from ._version import __version__

PY = sys.version_info[:2]
_CancelledError = asyncio.CancelledError
_get_running_loop = _aio_events._get_running_loop
_current_task = _aio_tasks.current_task
_BaseTask = _aio_tasks.Task          # normally the C _asyncio.Task
_perf_ns = time.perf_counter_ns      # CLOCK_MONOTONIC on Linux

# ---------------------------------------------------------------------------------------------------------
# Module-level state (one recorder per process). Hot paths read these globals directly.

_active = False
_rec = None                      # the Recorder
_events = []                     # pending event tuples (list.append is atomic under the GIL)
_append = _events.append
_t0 = 0
_ids = itertools.count(1)
_first_id = 1                    # tasks with a smaller id belong to an earlier recording in this process
_batch = 4096

_blind_pending = 0               # tasks with a pending cancel whose await chain could not be watched (see below)
_n_open = 0                      # open catches (3.12+ monitoring)
_mon_tool = None                 # sys.monitoring tool id while installed
_MON_RAISES = 0                  # RAISE | RERAISE: while a catch is open
_MON_HANDLED = 0                 # EXCEPTION_HANDLED: while a blind pending cancel exists
_MON_BASE = 0                    # PY_UNWIND while the end is recorded from monitoring (always on while recording)
_fast_end = False                # 3.12+: `end` from PY_RETURN / PY_UNWIND of the task's coroutine, no done callback
_ret_codes = {}                  # id(code) -> code of task coroutines with local PY_RETURN events
_local_events = {}               # id(code) -> (local sys.monitoring events set on it, code)
_CoroType = types.CoroutineType
_GenType = types.GeneratorType
_AsyncGenType = types.AsyncGeneratorType
_DISABLE = None                  # sys.monitoring.DISABLE
_getframe = sys._getframe
_full_names = False              # CANCELTRACE_TASK_NAMES=full: also record default names ("Task-7")

_SID_CANCELLED = 0               # string id of "CancelledError"
_SID_PENDING = 0                 # string id of "pending at shutdown"


def _now():
    return _perf_ns() - _t0


# ---------------------------------------------------------------------------------------------------------
# Strings

_strings = {}
_string_lock = threading.Lock()
_string_count = 0
_string_bytes = 0
_string_fallback = "<string limit reached>"


def _sid(text):
    """The id of ``text``, defining it (before its first use) on first sight."""
    sid = _strings.get(text)
    if sid is not None:
        return sid
    if not text:
        return 0
    return _define(text)


def _define(text):
    global _string_count, _string_bytes
    with _string_lock:
        sid = _strings.get(text)
        if sid is not None:
            return sid
        data = F.bounded_utf8(text)
        if _string_count + 2 >= F.MAX_STRING_COUNT or _string_bytes + len(data) + 64 >= F.MAX_STRING_BYTES:
            # Stay inside the format's limits: later new names all read as one placeholder.
            if text == _string_fallback:
                return 0
            return _strings.get(_string_fallback) or _define_unlocked(_string_fallback, _string_fallback.encode())
        return _define_unlocked(text, data)


def _define_unlocked(text, data):
    global _string_count, _string_bytes
    _string_count += 1
    _string_bytes += len(data)
    sid = _string_count
    _append((F.STRING, sid, data))
    _strings[text] = sid
    return sid


# ---------------------------------------------------------------------------------------------------------
# Classifying who cancelled and why, from the caller's frame (see Docs/Python.md "Cancel reasons").

_ASYNCIO_DIR = os.path.dirname(os.path.abspath(asyncio.__file__)) + os.sep
_OWN_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_STDLIB_DIRS = tuple(
    os.path.abspath(p) + os.sep
    for p in {sysconfig.get_paths().get("stdlib"), sysconfig.get_paths().get("platstdlib"),
              os.path.dirname(os.__file__)} if p
)
_SITE_MARKERS = (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep)

# Caches keyed by id(code) (hashing a code object costs about 1 us); the value keeps the code alive.
_reason_cache = {}   # id(code) -> (reason, special, code)


def _is_internal_file(filename):
    """Code whose catches are not the user's: the standard library (asyncio, contextlib, ...) and ours."""
    if not filename or filename.startswith("<"):
        return True
    path = os.path.abspath(filename)
    if path.startswith(_OWN_DIR) or path.startswith(_ASYNCIO_DIR):
        return True
    if any(m in path for m in _SITE_MARKERS):
        return False
    return path.startswith(_STDLIB_DIRS)


def _classify_code(code):
    fn = code.co_filename or ""
    name = code.co_name
    special = None
    reason = F.REASON_EXPLICIT
    try:
        if code is _TRACED_CANCEL_CODE or code in _TASK_CANCEL_CODES:
            return (F.REASON_PARENT, "task-cancel")
        path = os.path.abspath(fn) if fn and not fn.startswith("<") else fn
    except Exception:
        path = fn
    if path.startswith(_ASYNCIO_DIR):
        base = os.path.basename(path)
        reason = F.REASON_UNKNOWN
        if base == "tasks.py" and name == "cancel":                     # _GatheringFuture.cancel
            reason, special = F.REASON_PARENT, "gather"
        elif base == "tasks.py" and name == "_cancel_and_wait":         # wait_for
            reason, special = F.REASON_TIMEOUT, "wait_for"
        elif base == "timeouts.py" and name == "_on_timeout":           # asyncio.timeout (3.11+)
            reason = F.REASON_TIMEOUT
        elif base == "taskgroups.py" and name == "_abort":               # TaskGroup cancelling its children
            reason, special = F.REASON_SIBLING, "tg-abort"
        elif base == "taskgroups.py" and name == "_on_task_done":        # TaskGroup interrupting its body
            reason, special = F.REASON_SIBLING, "tg-done"
        elif base == "runners.py" and name in ("_cancel_all_tasks", "_on_sigint"):
            reason = F.REASON_SHUTDOWN
        elif base == "base_events.py" and name in ("shutdown_default_executor", "close"):
            reason = F.REASON_SHUTDOWN
        return (reason, special)
    for suffix, func, lib_reason, lib_special in _LIBRARY_CANCELLERS:
        if name == func and path.endswith(suffix):
            return (lib_reason, lib_special)
    return (reason, special)


# Libraries whose cancel scopes cancel a task and consume exactly that cancellation themselves (see Docs/Python.md
# "Scope-owned cancels"): (file path suffix, function calling cancel(), reason, special handling).
_ANYIO = os.sep + os.path.join("anyio", "_backends", "_asyncio.py")
_LIBRARY_CANCELLERS = (
    (_ANYIO, "_deliver_cancellation", F.REASON_EXPLICIT, "anyio-scope"),
    (_ANYIO, "_cancel_all_tasks", F.REASON_SHUTDOWN, None),      # anyio's Runner backport (3.9, 3.10)
    (_ANYIO, "_on_sigint", F.REASON_SHUTDOWN, None),
    (os.sep + os.path.join("async_timeout", "__init__.py"), "_on_timeout", F.REASON_TIMEOUT, "owned"),
)


def _traced_id(task):
    try:
        return task._ct_id if type(task) in _TRACED and task._ct_id >= _first_id else 0
    except Exception:
        return 0


def _running_task_id():
    loop = _get_running_loop()
    if loop is None:
        return 0
    return _traced_id(_current_task(loop))


def _cancel_cause(frame, task):
    """(reason, by-task-id) for a cancel() of ``task`` called from ``frame``. A negative ``by`` means a request
    whose owner withdraws it itself: -1 - by for a TaskGroup interrupting its owner, -(1 << 40) - by for a
    scope-owned request."""
    if frame is None:
        return F.REASON_UNKNOWN, _running_task_id()
    code = frame.f_code
    info = _reason_cache.get(id(code))
    if info is None:
        info = _reason_cache[id(code)] = _classify_code(code) + (code,)
    reason, special = info[0], info[1]
    if special is None:
        return reason, _running_task_id()
    if special == "task-cancel":
        # A task's cancel() passing the request on to the task it awaits (Task.cancel -> fut_waiter.cancel).
        return F.REASON_PARENT, _traced_id(frame.f_locals.get("self"))
    if special == "gather":
        up = frame.f_back
        if up is not None and up.f_code is _TRACED_CANCEL_CODE:
            return F.REASON_PARENT, _traced_id(up.f_locals.get("self"))
        return F.REASON_PARENT, _running_task_id()
    if special == "wait_for":
        # 3.9-3.11 wait_for cancels its inner task either on timeout or because the waiter was cancelled.
        up = frame.f_back
        by = _running_task_id()
        if up is not None and up.f_code.co_name == "wait_for":
            waiter = up.f_locals.get("waiter")
            if waiter is not None and waiter.cancelled():
                return F.REASON_PARENT, by
        return F.REASON_TIMEOUT, by
    if special == "tg-abort":
        up = frame.f_back
        if up is not None and up.f_code.co_name == "_on_task_done":
            return F.REASON_SIBLING, _traced_id(up.f_locals.get("task"))
        # __aexit__ aborts the children because the group's body raised or its owner was cancelled.
        return F.REASON_PARENT, _running_task_id()
    global _owned_scope
    if special == "owned":
        # async-timeout's Timeout: it drops its task (`_task = None`) when it exits.
        _owned_scope = (frame.f_locals.get("self"), "_task")
        return reason, -_OWNED - _running_task_id()
    if special == "anyio-scope":
        # CancelScope._deliver_cancellation(origin): `origin` is the scope that was cancelled. The request is
        # that scope's own when `task` hosts it (anyio counts exactly these for its uncancel() calls): its
        # __exit__ consumes the cancellation it caused. Other tasks in the scope (a task group's children) are
        # expected to end cancelled.
        origin = frame.f_locals.get("origin")
        by = _running_task_id()
        try:
            deadline = getattr(origin, "_deadline", None)
            loop = _get_running_loop()
            if deadline is not None and loop is not None and deadline <= loop.time():
                reason = F.REASON_TIMEOUT
        except Exception:
            pass
        if origin is not None and getattr(origin, "_host_task", None) is task:
            _owned_scope = (origin, "_host_task")    # None again once the scope has exited
            return reason, -_OWNED - by
        return reason, by
    if special == "tg-done":
        # The group interrupts its owner's body; it withdraws this request itself (uncancel) on exit.
        return F.REASON_SIBLING, -1 - _traced_id(frame.f_locals.get("task"))
    return reason, _running_task_id()


# ---------------------------------------------------------------------------------------------------------
# The traced task class

_OWNED = 1 << 40     # see _cancel_cause
_owned_scope = None  # set by _cancel_cause for a scope-owned request: (scope, attribute that is None once exited)

_how_override = 0   # set while TaskGroup.create_task runs (see _install_taskgroup_hook)


def _install_taskgroup_hook():
    """Wrap TaskGroup.create_task (3.11+) so that its tasks are recorded as group children."""
    try:
        from asyncio import taskgroups
    except ImportError:
        return
    original = taskgroups.TaskGroup.create_task
    if getattr(original, "_canceltrace_original", None) is not None:
        return

    def create_task(self, *args, **kwargs):
        global _how_override
        _how_override = F.HOW_GROUP_CHILD
        try:
            return original(self, *args, **kwargs)
        finally:
            _how_override = 0

    create_task.__name__ = original.__name__
    create_task.__qualname__ = original.__qualname__
    create_task.__doc__ = original.__doc__
    create_task.__wrapped__ = original
    create_task._canceltrace_original = original
    taskgroups.TaskGroup.create_task = create_task
    _installed["TaskGroup.create_task"] = original


def _uninstall_taskgroup_hook():
    original = _installed.pop("TaskGroup.create_task", None)
    if original is not None:
        from asyncio import taskgroups
        taskgroups.TaskGroup.create_task = original


class _State:
    """Cancellation bookkeeping of one traced task, created on its first cancel request. The class attributes
    are the initial values (no __init__: creating one runs no Python frame)."""
    pend = 0        # cancel requests not withdrawn
    seen = False    # a caught was recorded since the last request
    open = None     # 3.12+: the catch being watched (see _mon_handled)
    tg = 0          # requests from a TaskGroup interrupting its owner
    owned = 0       # scope-owned requests: catches of them are the scope's, and its owner consumes them
    scopes = None   # their scopes, in order: [(scope, attribute that is None once the scope has exited)]
    blind = False   # counted in _blind_pending
    first = 0       # perf_counter_ns of the first cancel request (see _record_end: when to write the site)


_ENDED = _State()           # sentinel: the task's end was recorded


def _name_sid(coro, name):
    try:
        q = coro.__qualname__
    except AttributeError:
        q = type(coro).__qualname__
    if name is not None:
        q = "%s (%s)" % (q, name)
    sid = _strings.get(q)
    return sid if sid is not None else _sid(q)


_spawn_specs = {}     # id(code) -> (name string id, end seen by monitoring, code, qualname) for unnamed coroutines
_spawn_specs_q = {}   # (id(code), qualname) -> the same, for further qualnames of one code object
_SPAWN = F.SPAWN
_END = F.END
_HOW_ROOT = F.HOW_ROOT


def _loopless_parent():
    loop = _get_running_loop()
    return _current_task(loop) if loop is not None else None


def _spawn_spec(coro, name):
    """(name string id or 0 to name it after creation, end seen by monitoring) for a task of ``coro``; caches
    the answer for unnamed coroutines of the same code (the common case), with the code itself as a third
    item so that its id stays its own."""
    fast = False
    if type(coro) is not _CoroType:
        return (0 if _full_names and name is None else _name_sid(coro, name)), False
    code = coro.cr_code
    if _fast_end:
        fast = id(code) in _ret_codes or _watch_code(code)
    if name is not None:
        return _name_sid(coro, name), fast
    if _full_names:
        return 0, fast
    q = coro.__qualname__
    spec = (_name_sid(coro, None), fast, code, q)
    first = _spawn_specs.get(id(code))
    if first is None or first[3] is q:
        _spawn_specs[id(code)] = spec
    else:
        # Another function with the same code (functools.wraps-decorated coroutines share the wrapper's code,
        # each with its own __qualname__).
        _spawn_specs_q[(id(code), q)] = spec
    return spec


def _traced_class(_BaseTask):
    """The traced subclass of a task class: the C asyncio.Task (CTTask), or the pure-Python Task that
    backports.asyncio.runner uses on 3.9/3.10 (see _install_backport)."""

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
                else:
                    pid = parent._ct_id if type(parent) in _TRACED and parent._ct_id >= _first_id else 0
                    how = _how_override
                # (name string id, end seen by monitoring) of an unnamed coroutine's code, else the slow path
                spec = _spawn_specs.get(id(coro.cr_code)) if name is None and type(coro) is _CoroType else None
                if spec is not None and spec[3] is not coro.__qualname__:
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
                        spec = _spawn_spec(coro, name)
                    tid = self._ct_id = next(_ids)
                    _append((_SPAWN, _perf_ns() - _t0, tid, pid, spec[0] or _name_sid(coro, name), how))
                    spec = (-1, spec[1])
                else:
                    if spec is None:
                        spec = _spawn_spec(coro, name)
                    tid = self._ct_id = next(_ids)
            except BaseException:
                self._ct_id = 0
                _BaseTask.__init__(self, coro, loop=loop, name=name, **kw)
                return
            _BaseTask.__init__(self, coro, loop=loop, name=name, **kw)
            try:
                sid = spec[0]
                if sid >= 0:
                    if sid == 0:
                        sid = _name_sid(coro, self.get_name())
                    global _last_spawn
                    _last_spawn = sp = (_SPAWN, _perf_ns() - _t0, tid, pid, sid, how)
                    _append(sp)
                if not spec[1]:
                    self.add_done_callback(_on_done)
                if len(_events) >= _batch:
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
_TRACED = {CTTask}     # the traced task classes (CTTask, and the backport's once installed)
_TASK_CANCEL_CODES = set()   # code of base classes' cancel() that pass a request on (the backport's)


def _install_backport():
    """backports.asyncio.runner (pytest-asyncio's Runner on 3.9/3.10) creates the main task of each test with
    its own pure-Python Task class: trace it too, with a traced subclass of that class."""
    mod = sys.modules.get("backports.asyncio.runner.runner")
    base = getattr(mod, "Task", None)
    py_task = getattr(_aio_tasks, "_PyTask", None)
    if not isinstance(base, type) or base in _TRACED or py_task is None or not issubclass(base, py_task):
        return
    cls = _traced_class(base)
    cls.__name__ = cls.__qualname__ = base.__name__
    _TRACED.add(cls)
    try:
        _TASK_CANCEL_CODES.add(base.cancel.__code__)
    except AttributeError:
        pass
    _installed["backport"] = (mod, base)
    mod.Task = cls


def _uninstall_backport():
    mod, base = _installed.pop("backport", (None, None))
    if mod is not None:
        mod.Task = base
    try:
        sys.meta_path.remove(_BackportFinder)
    except ValueError:
        pass


_BACKPORT = "backports.asyncio.runner.runner"


class _BackportFinder:
    """On 3.9/3.10, while recording: when backports.asyncio.runner is imported after recording started, trace its
    Task as soon as the module has run (one short call per import of a module not yet loaded)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != _BACKPORT:
            return None
        import importlib.machinery
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        original = loader.exec_module

        def exec_module(module):
            original(module)
            try:
                if _active:
                    _install_backport()
            except Exception:
                pass
        loader.exec_module = exec_module
        return spec

# Tasks print as "Task" (repr, "Task exception was never retrieved"), exactly as without the recorder.
CTTask.__name__ = CTTask.__qualname__ = "Task"
_TRACED_CANCEL_CODE = CTTask.cancel.__code__
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


def _record_cancel(task, msg, frame):
    global _blind_pending
    code = frame.f_code
    info = _reason_cache.get(id(code))
    if info is not None and info[1] is None:
        # Fast path: user code (explicit) or a plain asyncio caller; the canceller is the running task.
        reason = info[0]
        loop = _get_running_loop()
        by = 0
        if loop is not None:
            cur = _current_task(loop)
            if type(cur) in _TRACED and cur._ct_id >= _first_id:
                by = cur._ct_id
    else:
        reason, by = _cancel_cause(frame, task)
    st = task._ct_st
    if st is None:
        st = task._ct_st = _State()
        st.first = _perf_ns()
    elif st.scopes:
        _settle_owned(task, st)
    if by < 0:
        if by <= -_OWNED:         # scope-owned (see _caught and _record_end)
            by = -_OWNED - by
            st.owned += 1
            if st.scopes is None:
                st.scopes = []
            st.scopes.append(_owned_scope)
        else:                     # TaskGroup interrupting its owner: remember it (see _record_end)
            by = -1 - by
            st.tg += 1
    _append((F.CANCEL, _perf_ns() - _t0, task._ct_id, by, reason,
             0 if msg is None else _sid(msg if isinstance(msg, str) else repr(msg))))
    st.pend += 1
    st.seen = False
    if _thread_paused:
        _resume_after_fork()
    if _mon_tool is not None:
        coro = task._coro
        if type(coro) is _CoroType and not coro.cr_running:
            _watch_chain(coro)
        elif not st.blind:
            # A running task (it cancels itself): where it will be suspended when the cancellation arrives is
            # not known yet, so every handled exception is looked at until its request is settled.
            st.blind = True
            _blind_pending += 1
            _monitoring_on()


# ---------------------------------------------------------------------------------------------------------
# Where a task's code is (`site`), and the test it ran in. Written for the tasks findings can be about (at the
# first cancel request, or when the task is left pending at shutdown), so that other tasks cost nothing.

_site_cache = {}      # (id(code), qualname) -> (string id, code)
_tests = []           # pytest: (first task id of the test, string id of "test <nodeid>"), in order
_cwd = ""


def set_test(nodeid):
    """The tasks created from now on belong to test ``nodeid`` (the pytest plugin calls this at each setup)."""
    if _active:
        try:
            _tests.append((_peek_next_id(), _sid("test " + nodeid), nodeid))
        except Exception:
            pass


def _peek_next_id():
    """The id the next task will get."""
    global _ids
    n = next(_ids)
    _ids = itertools.count(n)
    return n


def _site_text(coro):
    try:
        code = coro.cr_code if type(coro) is _CoroType else getattr(coro, "gi_code", None) or coro.ag_code
    except AttributeError:
        code = None
    try:
        q = coro.__qualname__
    except AttributeError:
        q = type(coro).__qualname__
    if code is None:
        return None, q
    key = (id(code), q)
    hit = _site_cache.get(key)
    if hit is not None:
        return hit[0], q
    fn = code.co_filename
    try:
        if _cwd and os.path.isabs(fn) and fn.startswith(_cwd):
            fn = os.path.relpath(fn, _cwd)
    except Exception:
        pass
    sid = _sid("%s:%d (%s)" % (fn, code.co_firstlineno, q))
    _site_cache[key] = (sid, code)
    return sid, q


_SITE_LATENCY_NS = 10_000_000   # a cancelled task that took longer than this to end gets its site


def _write_site(task, t):
    """Write the task's `site` (and the test it ran in, and its suppressions) at time ``t``: at its end when a
    finding can be about it, or when it is left pending at shutdown. Tasks cancelled and ended promptly (most of
    them) cost nothing."""
    try:
        coro = task._coro
        if type(coro) is _CoroType and not _tests and not _suppress.entries:
            # the common case: a coroutine whose site and comment suppressions are known (one dict lookup)
            hit = _site_fast.get(id(coro.cr_code))
            if hit is not None and hit[2] is coro.__qualname__:
                _append((F.SITE, t, task._ct_id, hit[0]))
                if hit[1]:
                    _append((F.MARK, t, task._ct_id, hit[1]))
                return
        _write_site_slow(task, coro, t)
    except Exception:
        pass


_site_fast = {}      # id(code) -> (site string id, "ignore ..." string id or 0, qualname, code)


def _write_site_slow(task, coro, t):
    sid, q = _site_text(coro)
    tid = task._ct_id
    if sid is None:
        sid = _sid(q)
    _append((F.SITE, t, tid, sid))
    test = None
    if _tests:
        import bisect
        i = bisect.bisect_right(_tests, (tid, 1 << 62)) - 1
        if i >= 0:
            test = _tests[i]
            _append((F.MARK, t, tid, test[1]))
    rules = _suppress.rules_for(task, q, test[2] if test else None)
    ignore = _sid("ignore " + rules) if rules else 0
    if ignore:
        _append((F.MARK, t, tid, ignore))
    if type(coro) is _CoroType and not _suppress.entries:
        _site_fast[id(coro.cr_code)] = (sid, ignore, q, coro.cr_code)


from . import _suppress   # noqa: E402  (needs nothing from this module)


def _settle_owned(task, st, t=None):
    """Withdraw the scope-owned requests whose scope has exited since (it consumed them; on 3.11+ the library's
    own uncancel() did that already). Called before the task's next cancel and at its end."""
    keep = []
    for entry in st.scopes:
        try:
            exited = getattr(entry[0], entry[1]) is None
        except Exception:
            exited = False
        if exited and st.owned > 0 and st.pend > 0:
            if t is None:
                t = _now()
            _append((F.UNCANCEL, t, task._ct_id))
            st.owned -= 1
            st.pend -= 1
        elif not exited:
            keep.append(entry)
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
        _close_open(task, st, t, rethrow=False)
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
    # Monitoring is narrowed later, by _monitoring_settle: switching events re-instruments every code object
    # the program runs next, so a program that cancels one task at a time must not pay that per cancel.
    global _blind_pending
    if st.blind:
        st.blind = False
        _blind_pending = max(0, _blind_pending - 1)


def _on_done(task):
    try:
        if not _active:
            return
        st = task._ct_st
        if st is _ENDED or task._ct_id < _first_id:
            return
        if st is None and task._exception is None and not task.cancelled():
            task._ct_st = _ENDED          # the common case: never cancelled, returned
            _append((F.END, _perf_ns() - _t0, task._ct_id, 0, 0))
            return
        _record_end(task, _now())
    except BaseException:
        pass


_error_names = {}    # exception type -> its name in the trace


def _error_name(cls):
    """Built-in exceptions by name (KeyError), asyncio's as asyncio.X (asyncio.TimeoutError on 3.9/3.10; its
    CancelledError stays CancelledError, the trace's name for a cancellation), others module-qualified, so that
    concurrent.futures.CancelledError is not taken for a cancellation."""
    name = _error_names.get(cls)
    if name is None:
        q = getattr(cls, "__qualname__", None) or getattr(cls, "__name__", "?")
        mod = getattr(cls, "__module__", None) or ""
        if cls is _CancelledError or mod == "builtins" or not mod:
            name = q
        elif mod == "asyncio" or mod.startswith("asyncio."):
            name = "asyncio." + q
        else:
            name = mod + "." + q
        if len(_error_names) < 10000:
            _error_names[cls] = name
    return name


_EXIT_ERRORS = (SystemExit, KeyboardInterrupt)


def _is_exit_error(exc):
    """SystemExit / KeyboardInterrupt, or an exception group holding one (what a TaskGroup raises for them)."""
    for _ in range(32):
        if isinstance(exc, _EXIT_ERRORS):
            return True
        inner = getattr(exc, "exceptions", None)
        if not isinstance(inner, tuple) or not inner or not isinstance(exc, BaseException):
            return False
        for e in inner:
            if isinstance(e, _EXIT_ERRORS):
                return True
        exc = inner[0]
    return False


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
            outcome, err = F.OUTCOME_FAILED, _sid(_error_name(type(exc)))
    if st is not None and st is not _ENDED:
        if outcome != F.OUTCOME_CANCELLED or st.seen or _perf_ns() - st.first > _SITE_LATENCY_NS:
            # A task a finding can be about: it did not end cancelled, caught its cancellation, or took a while.
            _write_site(task, t)
        if st.open is not None:
            _close_open(task, st, t, rethrow=False)
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
                and not (outcome == F.OUTCOME_FAILED and _is_exit_error(task._exception)):
            # A pending cancellation is always delivered as CancelledError at the task's next step; a task
            # that then did not end cancelled caught it somewhere we could not see (inferred; see docs).
            # Not when it ended with SystemExit / KeyboardInterrupt (or a group of them): asyncio gives those
            # precedence over a cancellation (a TaskGroup re-raises them), no code of the task converted it.
            _append((F.CAUGHT, t, tid, _SID_CANCELLED))
        if had_pending:
            st.pend = 0
            _pending_release(st)
    _append((F.END, t, tid, outcome, err))


# ---------------------------------------------------------------------------------------------------------
# sys.monitoring (3.12+): caught / cleanup / rethrow, exact for the user's code

_code_info = {}   # id(code) -> False (not user code) | (handler kinds by offset, no-match reraise offsets, code)
_code_keep = []   # keeps the code objects of _code_info alive (so that their ids stay theirs)


def _analyze(code):
    if _is_internal_file(code.co_filename):
        _code_info[id(code)] = False
        _code_keep.append(code)
        return False
    kinds = {}
    entries = {}      # offset of the first instruction inside a handler -> offset of its PUSH_EXC_INFO
    nomatch = set()
    try:
        ins = list(dis.get_instructions(code))
        index = {i.offset: n for n, i in enumerate(ins)}
        for n, i in enumerate(ins):
            op = i.opname
            if op == "PUSH_EXC_INFO":
                nxt = ins[n + 1].opname if n + 1 < len(ins) else ""
                if nxt == "WITH_EXCEPT_START":
                    continue                      # a with/async with exit: the context manager decides
                kind = "finally"
                if nxt == "POP_TOP":
                    kind = "bare"
                else:
                    for j in range(n + 1, min(n + 16, len(ins))):
                        o = ins[j].opname
                        if o in ("CHECK_EXC_MATCH", "CHECK_EG_MATCH"):
                            kind = "except"
                            break
                        if not (o.startswith("LOAD_") or o in ("BUILD_TUPLE", "PUSH_NULL", "COPY", "NOP",
                                                                 "EXTENDED_ARG", "CACHE")):
                            break
                kinds[i.offset] = kind
                if n + 1 < len(ins):
                    entries[ins[n + 1].offset] = i.offset
            elif op == "CHECK_EXC_MATCH" and n + 1 < len(ins):
                j = ins[n + 1]
                if j.opname.startswith("POP_JUMP") and "FALSE" in j.opname:
                    t = index.get(j.argval)
                    if t is not None and ins[t].opname == "RERAISE":
                        nomatch.add(j.argval)
    except Exception:
        _code_info[id(code)] = False
        _code_keep.append(code)
        return False
    info = (kinds, frozenset(nomatch), entries)
    _code_info[id(code)] = info
    _code_keep.append(code)
    return info


def _task_here():
    loop = _get_running_loop()
    if loop is None:
        return None
    task = _current_task(loop)
    return task if type(task) in _TRACED and task._ct_id >= _first_id else None


def _mon_handled(code, offset, exc):
    # Global EXCEPTION_HANDLED, only while a blind pending cancel exists.
    try:
        if not _blind_pending or not _active or not isinstance(exc, _CancelledError):
            return
        info = _code_info.get(id(code))
        if info is None:
            info = _analyze(code)
        if info:
            _caught(code, offset, info, exc)
    except BaseException:
        pass


def _mon_instruction(code, offset):
    # Local INSTRUCTION events on the code objects of a cancelled task's await chain (see _watch_chain): every
    # offset but the first instruction of a handler is disabled on first sight, so only entering a handler
    # costs a call, and only in code a cancellation is going through.
    try:
        info = _code_info.get(id(code))
        push = info[2].get(offset) if info else None
        if push is None:
            return _DISABLE
        exc = sys.exception()
        if _active and isinstance(exc, _CancelledError):
            _caught(code, push, info, exc)
    except BaseException:
        pass
    return None


def _watch_chain(coro):
    """Watch the handlers of every frame a cancellation of this suspended task will be thrown through: its
    coroutine and what it awaits, down to the innermost frame."""
    aw = coro
    for _ in range(256):
        t = type(aw)
        if t is _CoroType:
            code, aw = aw.cr_code, aw.cr_await
        elif t is _GenType:
            code, aw = aw.gi_code, aw.gi_yieldfrom
        elif t is _AsyncGenType:
            code, aw = aw.ag_code, aw.ag_await
        else:
            return
        if id(code) not in _handlers_watched:
            _watch_handlers(code)


_handlers_watched = {}    # id(code) -> code, each code object looked at by _watch_handlers


def _watch_handlers(code):
    _handlers_watched[id(code)] = code
    info = _code_info.get(id(code))
    if info is None:
        info = _analyze(code)
    if info and info[0]:
        _set_local_events(code, sys.monitoring.events.INSTRUCTION)


def _set_local_events(code, event):
    """Add ``event`` to the local events of ``code``; False if that fails."""
    mask = _local_events.get(id(code), (0, None))[0] | event
    try:
        sys.monitoring.set_local_events(_mon_tool, code, mask)
    except Exception:
        return False
    _local_events[id(code)] = (mask, code)
    return True


def _caught(code, offset, info, exc):
    """A CancelledError entered the handler at ``offset`` of ``code`` in the running task."""
    global _n_open
    kind = info[0].get(offset)
    if kind is None:
        return
    task = _task_here()
    if task is None:
        return
    st = task._ct_st
    if st is None or st is _ENDED or st.pend <= st.owned:
        # not this task's own cancellation (e.g. the canceller awaiting its child), or one that a scope of this
        # task requested and will consume itself
        return
    o = st.open
    if o is not None:
        if o[0] is exc and o[1] is code:
            return             # seen already (both the global and the local event report it)
        if exc is not o[0] and st.seen and _called_from(o[1]):
            # Code that the open handler called caught another CancelledError (e.g. it cancelled and awaited a
            # helper task): not this task's cancellation, which the handler still holds.
            return
    t = _now()
    if st.open is not None:
        _close_open(task, st, t, rethrow=False)
    tid = task._ct_id
    e1 = (F.CAUGHT, t, tid, _SID_CANCELLED)
    e2 = (F.CLEANUP_BEGIN, t, tid)
    _append(e1)
    _append(e2)
    # [exception, code, no-match offsets, caught record, cleanup-begin record, first raise, seen before]
    st.open = [exc, code, info[1] if kind == "except" else (), e1, e2, None, st.seen]
    st.seen = True
    if _n_open == 0:
        _n_open = 1
        _monitoring_on(watch_raises=True)
    else:
        _n_open += 1


def _called_from(code):
    """True when a frame of ``code`` is on the stack above the frame that a monitoring callback reports."""
    f = _getframe(3)
    for _ in range(64):
        if f is None:
            return False
        if f.f_code is code:
            return True
        f = f.f_back
    return False


def _close_open(task, st, t, rethrow, threw_error=None):
    global _n_open
    st.open = None
    tid = task._ct_id
    if threw_error is not None:
        _append((F.CLEANUP_END, t, tid, F.RESULT_THREW, _sid(threw_error)))
    else:
        _append((F.CLEANUP_END, t, tid, F.RESULT_OK, 0))
    if rethrow:
        _append((F.RETHROW, t, tid))
    _open_released()


def _open_released():
    global _n_open
    _n_open -= 1
    if _n_open <= 0:
        _n_open = 0


def _open_catch_here():
    """(task, state, open catch) of the running task, or None when it has no catch open."""
    if not _n_open:
        return None
    task = _task_here()
    if task is None:
        return None
    st = task._ct_st
    if st is None or st is _ENDED or st.open is None:
        return None
    return task, st, st.open


def _mon_reraise(code, offset, exc):
    try:
        here = _open_catch_here()
        if here is None:
            return
        task, st, o = here
        if code is not o[1] or exc is not o[0]:
            return
        if offset in o[2]:
            # No except clause matched: the exception was never caught here. Withdraw the tentative records.
            # (No call or backward jump between these checks and the del: no other thread runs in between.)
            st.open = None
            st.seen = o[6]
            ev = _events
            if len(ev) >= 2 and ev[-1] is o[4] and ev[-2] is o[3]:
                del ev[-2:]
            else:
                _append((F.CLEANUP_END, _now(), task._ct_id, F.RESULT_OK, 0))
                _append((F.RETHROW, _now(), task._ct_id))
            _open_released()
            return
        _close_open(task, st, _now(), rethrow=True)
    except BaseException:
        pass


def _mon_raise(code, offset, exc):
    try:
        here = _open_catch_here()
        if here is None:
            return
        task, st, o = here
        if type(exc) is StopIteration:
            return             # an awaited coroutine returned (3.12+ reports its StopIteration as a raise)
        if exc is o[0] or isinstance(exc, _CancelledError):
            if code is o[1]:
                _close_open(task, st, _now(), rethrow=True)      # raise e / raise CancelledError()
            return
        first = o[5]
        if first is None or first[0] is not exc:
            first = o[5] = (exc, code)
        if code is o[1]:
            if first[1] is code:
                _close_open(task, st, _now(), rethrow=False)     # the handler raised another error itself
            else:
                _close_open(task, st, _now(), rethrow=False, threw_error=_error_name(type(exc)))
    except BaseException:
        pass


def _watch_code(code):
    """Enable PY_RETURN on a task coroutine's code object; False (use a done callback) if that fails."""
    if not _set_local_events(code, sys.monitoring.events.PY_RETURN):
        return False
    _ret_codes[id(code)] = code
    return True


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


_mon_current = 0
_mon_lock = threading.Lock()     # _monitoring_on (any thread) vs. _monitoring_settle (the flush thread)


def _monitoring_on(watch_raises=False):
    """Widen at once: EXCEPTION_HANDLED while a blind pending cancel exists, RAISE and RERAISE while a catch
    is open. Narrowing waits for _monitoring_settle."""
    _set_global_events(widen_only=True, watch_raises=watch_raises)


def _monitoring_settle():
    """Narrow the events to what the current state needs (called about once a second by the flush thread):
    code that runs while nothing is being cancelled pays nothing, and bursts of cancels switch events twice,
    not per cancel."""
    if _mon_tool is not None:
        _set_global_events(widen_only=False)


def _set_global_events(widen_only, watch_raises=False):
    global _mon_current
    with _mon_lock:
        want = _MON_BASE | (_mon_current if widen_only else 0)
        if watch_raises or _n_open:
            want |= _MON_RAISES
        if _blind_pending:
            want |= _MON_HANDLED
        if want != _mon_current:
            try:
                sys.monitoring.set_events(_mon_tool, want)
                _mon_current = want
            except Exception:
                pass


def _install_monitoring():
    global _mon_tool, _MON_RAISES, _MON_HANDLED, _MON_BASE, _fast_end, _mon_current, _DISABLE
    mon = getattr(sys, "monitoring", None)
    if mon is None or os.environ.get("CANCELTRACE_NO_MONITORING"):
        return False
    for tool in (4, 3):
        try:
            mon.use_tool_id(tool, "canceltrace")
        except ValueError:
            continue
        ev = mon.events
        mon.register_callback(tool, ev.EXCEPTION_HANDLED, _mon_handled)
        mon.register_callback(tool, ev.RERAISE, _mon_reraise)
        mon.register_callback(tool, ev.RAISE, _mon_raise)
        mon.register_callback(tool, ev.INSTRUCTION, _mon_instruction)
        _DISABLE = mon.DISABLE
        _MON_RAISES = ev.RERAISE | ev.RAISE
        _MON_HANDLED = ev.EXCEPTION_HANDLED
        _MON_BASE = 0
        _mon_tool = tool
        _mon_current = 0
        if not os.environ.get("CANCELTRACE_DONE_CALLBACK"):
            try:
                mon.register_callback(tool, ev.PY_RETURN, _mon_return)
                mon.register_callback(tool, ev.PY_UNWIND, _mon_unwind)
                mon.set_events(tool, ev.PY_UNWIND)
                _MON_BASE = _mon_current = ev.PY_UNWIND
                _fast_end = True
            except Exception:
                _MON_BASE = 0
        return True
    return False


def _uninstall_monitoring():
    global _mon_tool, _mon_current
    if _mon_tool is None:
        return
    global _fast_end, _MON_BASE
    _mon_current = 0
    _fast_end = False
    _MON_BASE = 0
    mon = sys.monitoring
    try:
        mon.set_events(_mon_tool, 0)
        for _, code in list(_local_events.values()):
            try:
                mon.set_local_events(_mon_tool, code, 0)
            except Exception:
                pass
        _local_events.clear()
        _ret_codes.clear()
        _handlers_watched.clear()
        _spawn_specs.clear()
        _spawn_specs_q.clear()
        ev = mon.events
        for e in (ev.EXCEPTION_HANDLED, ev.RERAISE, ev.RAISE, ev.PY_RETURN, ev.PY_UNWIND, ev.INSTRUCTION):
            mon.register_callback(_mon_tool, e, None)
        mon.free_tool_id(_mon_tool)
    except Exception:
        pass
    _mon_tool = None


# ---------------------------------------------------------------------------------------------------------
# The recorder: writing, flushing, installing, stopping

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


class _WriterProcess:
    """The recorder's side of the writer process (_writer.py): batches go to it over a socket, and it encodes,
    compresses and writes them on another core. What it has received reaches the file even if this process is
    killed. Raises OSError when the process cannot be started (the recorder then writes in-process)."""

    START_TIMEOUT = 10.0
    SEND_TIMEOUT = 30.0      # a writer that accepts nothing for this long is taken for dead

    def __init__(self, fd, path, level, target):
        import select
        import socket
        import subprocess
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_writer.py")
        if not sys.executable or not os.path.isfile(script):
            raise OSError("no Python executable or writer script to start")
        mine, theirs = socket.socketpair()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-S", "-E", "-B", script, str(fd), str(level), str(target), path],
                stdin=theirs.fileno(), stdout=subprocess.PIPE, pass_fds=(fd,), close_fds=True,
                start_new_session=True)
        except BaseException:
            mine.close()
            raise
        finally:
            theirs.close()
        try:
            ready, _, _ = select.select([self.proc.stdout], [], [], self.START_TIMEOUT)
            if not ready or self.proc.stdout.readline() != b"ready\n":
                raise OSError("the writer process did not start")
        except BaseException:
            mine.close()
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            self.proc.stdout.close()
        mine.settimeout(self.SEND_TIMEOUT)
        self.sock = mine
        self._no_signal = getattr(socket, "MSG_NOSIGNAL", 0)   # a dead writer is an error, never a SIGPIPE

    def send(self, events, force):
        body = marshal.dumps(events, 2) if events else b""   # version 2: no reference table, twice as fast
        self.sock.sendall(_FRAME.pack(len(body), 1 if force else 0) + body, self._no_signal)

    def close(self, timeout):
        """End the input and wait for the writer to finish the file; its exit status, or None."""
        self.sock.close()
        try:
            return self.proc.wait(timeout)
        except Exception:
            return None

    def abandon(self):
        """In a forked child: let go of the socket so that the writer sees the end when the parent stops."""
        self.sock.close()


_FRAME = struct.Struct("<IB")      # must match _writer.FRAME


class Recorder:
    """Where the events go: batches taken from the event list are encoded into chunks by a writer process, or
    in this process when none can be started (or CANCELTRACE_WRITER=inprocess)."""

    def __init__(self, path, flush_interval=1.0, level=1, process=None):
        self.path = path
        self.sink = F.FileSink(path)
        target = int(os.environ.get("CANCELTRACE_CHUNK_BYTES", F.CHUNK_RAW_TARGET))
        self.writer = None
        if os.environ.get("CANCELTRACE_WRITER", "process") != "inprocess" and os.name == "posix":
            try:
                self.writer = _WriterProcess(self.sink.fd, path, level, target)
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
        self._stop = threading.Event()
        self._thread = None

    # -- writing
    def flush_from_producer(self):
        # Called on the recording thread when a batch is full; never waits for a flush in progress.
        if _thread_paused:
            _resume_after_fork()
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

    def _periodic(self):
        stop = self._stop
        while not stop.wait(self.flush_interval):
            try:
                self.flush(force=True, timeout=0.5)
                _monitoring_settle()
            except Exception:
                pass

    def pause_thread(self):
        """Before fork(): end the flush thread, so that the process forks with one thread (3.12+ warns about
        fork() in a multi-threaded process)."""
        thread = self._thread
        if thread is not None:
            self._stop.set()
            thread.join(1.0)
            self._thread = None

    def resume_thread(self):
        if self._thread is None and _active:
            self._stop = threading.Event()
            self.start_thread()

    def start_thread(self):
        if self.flush_interval and self.flush_interval > 0:
            self._thread = threading.Thread(target=self._periodic, name="canceltrace-flush", daemon=True)
            self._thread.start()


_installed = {}


def _make_info(process):
    res = time.get_clock_info("perf_counter").resolution
    wall = time.time_ns() - (_perf_ns() - _t0)
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
        ("caught-detection", "sys.monitoring" if _mon_tool is not None else "inferred-at-end"),
    ]
    for k, v in items:
        _append((F.INFO, 0, _sid(k), _sid(v)))


def start(path, process=None, flush_interval=None, level=None):
    """Start recording every asyncio task of this process to ``path``. Returns the Recorder."""
    global _active, _rec, _t0, _SID_CANCELLED, _SID_PENDING, _batch, _first_id
    global _string_count, _string_bytes, _blind_pending, _n_open, _ids
    if _rec is not None:
        return _rec
    # A fresh trace: new string table, ids above every earlier recording's.
    _strings.clear()
    _spawn_specs.clear()
    _spawn_specs_q.clear()
    _site_cache.clear()
    _site_fast.clear()
    for bad in _suppress.reset():
        sys.stderr.write("canceltrace: CANCELTRACE_IGNORE: not understood, ignored: %r\n" % (bad,))
    del _tests[:]
    global _cwd
    try:
        _cwd = os.getcwd() + os.sep
    except OSError:
        _cwd = ""
    _string_count = _string_bytes = _blind_pending = _n_open = 0
    del _events[:]
    _first_id = next(_ids)
    _ids = itertools.count(_first_id)
    if flush_interval is None:
        flush_interval = float(os.environ.get("CANCELTRACE_FLUSH_INTERVAL", "1.0"))
    if level is None:
        level = int(os.environ.get("CANCELTRACE_ZLIB_LEVEL", "1"))
    _batch = int(os.environ.get("CANCELTRACE_BATCH", "4096"))
    global _full_names
    _full_names = os.environ.get("CANCELTRACE_TASK_NAMES", "") == "full"
    rec = Recorder(path, flush_interval=flush_interval, level=level, process=process)
    _t0 = _perf_ns()
    _rec = rec
    if PY >= (3, 12):
        _install_monitoring()
    _make_info(process)
    _SID_CANCELLED = _sid("CancelledError")
    _SID_PENDING = _sid("pending at shutdown")
    # Install: loop.create_task() builds tasks.Task(...); eager_task_factory binds its class at import.
    _installed["Task"] = _aio_tasks.Task
    _aio_tasks.Task = CTTask
    if hasattr(_aio_tasks, "create_eager_task_factory"):
        _installed["eager_task_factory"] = _aio_tasks.eager_task_factory
        factory = _aio_tasks.create_eager_task_factory(CTTask)
        _aio_tasks.eager_task_factory = factory
        asyncio.eager_task_factory = factory
    _install_taskgroup_hook()
    try:
        if _BACKPORT in sys.modules:
            _install_backport()
        elif PY < (3, 11) and _BackportFinder not in sys.meta_path:
            sys.meta_path.insert(0, _BackportFinder)
    except Exception:
        pass
    _active = True
    rec.flush(force=True)            # header + metadata on disk at once
    rec.start_thread()
    atexit.register(stop)
    global _fork_hooks
    if hasattr(os, "register_at_fork") and not _fork_hooks:
        os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_parent,
                            after_in_child=_after_fork_child)
        _fork_hooks = True
    if os._exit is _original_os_exit:
        os._exit = _os_exit
    return rec


def mark(label, task=None):
    """Add a user mark (``task``: a Task, or None for the current task)."""
    if not _active:
        return
    try:
        if task is None:
            tid = _running_task_id()
        else:
            tid = _traced_id(task)
        _append((F.MARK, _now(), tid, _sid(str(label))))
    except BaseException:
        pass


_fork_hooks = False
_original_os_exit = os._exit


def _os_exit(status):
    """os._exit while recording: hand what is recorded to the file first (no `close`: the trace reads as not
    closed, and tasks still running have no end)."""
    rec = _rec
    if rec is not None and _active:
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
    # Not restarted here: CPython 3.13 counts the threads after this hook. The next cancel or full batch restarts
    # the flush thread (until then, events wait in memory, and reach the file at the latest at exit).
    global _thread_paused
    if _rec is not None:
        _thread_paused = True


_thread_paused = False


def _resume_after_fork():
    global _thread_paused
    _thread_paused = False
    rec = _rec
    if rec is not None:
        try:
            rec.resume_thread()
        except BaseException:
            pass


def _after_fork_child():
    # The child must not write into the parent's trace.
    global _active, _rec
    _active = False
    del _events[:]
    rec = _rec
    _rec = None
    if rec is not None:
        try:
            rec.abandon()
        except Exception:
            pass
        # Kept: collecting it would make subprocess warn that the (parent's) writer process is still running.
        _abandoned.append(rec)
    _uninstall_monitoring()


_abandoned = []


def stop():
    """Stop recording: record ends of finished tasks, mark tasks still pending, write `close`, close the file."""
    global _active, _rec
    rec = _rec
    if rec is None or not _active:
        return None
    try:
        t = _now()
        for task in _live_tasks():
            if type(task) in _TRACED and task._ct_id >= _first_id and task._ct_st is not _ENDED:
                try:
                    if task.done():
                        _record_end(task, t)
                    else:
                        if task._ct_st is None or task._ct_st is not _ENDED:
                            _write_site(task, t)
                        _append((F.MARK, t, task._ct_id, _SID_PENDING))
                except Exception:
                    pass
        _append((F.CLOSE, _now()))
    except Exception:
        pass
    _active = False
    rec._stop.set()
    try:
        rec.close()
    except Exception:
        pass
    _uninstall_monitoring()
    _uninstall_taskgroup_hook()
    _uninstall_backport()
    if os._exit is _os_exit:
        os._exit = _original_os_exit
    if "Task" in _installed and _aio_tasks.Task is CTTask:
        _aio_tasks.Task = _installed.pop("Task")
    if "eager_task_factory" in _installed:
        f = _installed.pop("eager_task_factory")
        _aio_tasks.eager_task_factory = f
        asyncio.eager_task_factory = f
    try:
        atexit.unregister(stop)
    except Exception:
        pass
    _rec = None
    return rec


def is_recording():
    return _active

"""3.12+: caught / cleanup / rethrow of a task's own CancelledError, exact for the user's code, seen through
``sys.monitoring``; and the tool's installation, including the events ``_tasks`` records ends from.

``_recorder.start()`` installs it and hands it to ``_tasks`` (``_tasks._catches``), which calls ``cancelled``,
``close_open``, ``blind_released`` and ``watch_returns``. Events are widened at once and narrowed lazily
(``settle``, from the flush thread): every ``set_events`` call makes CPython re-instrument the code it runs next.
"""
import os
import sys
import threading
import types

from . import _buffer
from . import _format as F
from . import _tasks
from ._errors import error_name
from ._handlers import by_code as _handlers_by_code, handlers as _handlers

_CancelledError = _tasks._CancelledError
_CoroType = types.CoroutineType
_GenType = types.GeneratorType
_AsyncGenType = types.AsyncGeneratorType
_getframe = sys._getframe
_append = _buffer.append
_events = _buffer.events

tool = None                  # sys.monitoring tool id while installed
blind_pending = 0            # tasks with a pending cancel whose await chain could not be watched
n_open = 0                   # open catches
_RAISES = 0                  # RAISE | RERAISE: while a catch is open
_HANDLED = 0                 # EXCEPTION_HANDLED: while a blind pending cancel exists
_BASE = 0                    # PY_UNWIND while ends are recorded from monitoring (always on while installed)
_DISABLE = None              # sys.monitoring.DISABLE
_current = 0                 # the global events set now
_lock = threading.Lock()     # widening (any thread) vs. settle (the flush thread)
_local_events = {}           # id(code) -> (local events set on it, code)
_handlers_watched = {}       # id(code) -> code, each code object looked at by _watch_handlers


class Catch:
    """A catch being watched: a task's CancelledError entered a handler, which has not finished yet."""

    __slots__ = (
        "exc",           # the CancelledError
        "code",          # the code object of the handler
        "nomatch",       # offsets that mean "no except clause matched" (an except handler), else ()
        "caught",        # the `caught` record, and
        "cleanup",       # the `cleanup-begin` record (withdrawn when no clause matched)
        "first_raise",   # (exception, code) of the first other exception raised while open, or None
        "seen_before",   # the task's `seen` before this catch (restored when no clause matched)
    )


# -- called by _tasks

def cancelled(task, st):
    """A cancel request for ``task``: watch the handlers of every frame its cancellation will be thrown
    through: its coroutine and what it awaits, down to the innermost frame."""
    global blind_pending
    aw = task._coro
    if type(aw) is _CoroType and not aw.cr_running:
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
    elif not st.blind:
        # A running task (it cancels itself): where it will be suspended when the cancellation arrives is
        # not known yet, so every handled exception is looked at until its request is settled.
        st.blind = True
        blind_pending += 1
        _widen()


def blind_released():
    global blind_pending
    blind_pending = max(0, blind_pending - 1)


def close_open(task, st, t, rethrow, threw_error=None):
    """End the task's open catch at ``t``: its cleanup ended (threw ``threw_error``, a name), and with
    ``rethrow`` it re-raised the cancellation."""
    st.open = None
    tid = task._ct_id
    if threw_error is not None:
        _append((F.CLEANUP_END, t, tid, F.RESULT_THREW, _buffer.sid(threw_error)))
    else:
        _append((F.CLEANUP_END, t, tid, F.RESULT_OK, 0))
    if rethrow:
        _append((F.RETHROW, t, tid))
    _open_released()


def watch_returns(code):
    """Enable PY_RETURN on a task coroutine's code object; False (use a done callback) if that fails."""
    if not _set_local_events(code, sys.monitoring.events.PY_RETURN):
        return False
    _tasks._ret_codes[id(code)] = code
    return True


# -- the await chain

def _watch_handlers(code):
    _handlers_watched[id(code)] = code
    info = _handlers(code)
    if info and info.kinds:
        _set_local_events(code, sys.monitoring.events.INSTRUCTION)


def _set_local_events(code, event):
    """Add ``event`` to the local events of ``code``; False if that fails."""
    mask = _local_events.get(id(code), (0, None))[0] | event
    try:
        sys.monitoring.set_local_events(tool, code, mask)
    except Exception:
        return False
    _local_events[id(code)] = (mask, code)
    return True


# -- monitoring callbacks

def _mon_handled(code, offset, exc):
    # Global EXCEPTION_HANDLED, only while a blind pending cancel exists.
    try:
        if not blind_pending or not _tasks._active or not isinstance(exc, _CancelledError):
            return
        info = _handlers_by_code.get(id(code))
        if info is None:
            info = _handlers(code)
        if info:
            _caught(code, offset, info, exc)
    except BaseException:
        pass


def _mon_instruction(code, offset):
    # Local INSTRUCTION events on the code objects of a cancelled task's await chain (see cancelled): every
    # offset but the first instruction of a handler is disabled on first sight, so only entering a handler
    # costs a call, and only in code a cancellation is going through.
    try:
        info = _handlers_by_code.get(id(code))
        push = info.entries.get(offset) if info else None
        if push is None:
            return _DISABLE
        exc = sys.exception()
        if _tasks._active and isinstance(exc, _CancelledError):
            _caught(code, push, info, exc)
    except BaseException:
        pass
    return None


def _caught(code, offset, info, exc):
    """A CancelledError entered the handler at ``offset`` of ``code`` in the running task."""
    global n_open
    kind = info.kinds.get(offset)
    if kind is None:
        return
    task = _tasks._running_task()
    if task is None:
        return
    st = task._ct_st
    if st is None or st is _tasks._ENDED or st.pend <= st.owned:
        # not this task's own cancellation (e.g. the canceller awaiting its child), or one that a scope of this
        # task requested and will consume itself
        return
    o = st.open
    if o is not None:
        if o.exc is exc and o.code is code:
            return             # seen already (both the global and the local event report it)
        if exc is not o.exc and st.seen and _called_from(o.code):
            # Code that the open handler called caught another CancelledError (e.g. it cancelled and awaited a
            # helper task): not this task's cancellation, which the handler still holds.
            return
    t = _tasks._now()
    if st.open is not None:
        close_open(task, st, t, rethrow=False)
    tid = task._ct_id
    e1 = (F.CAUGHT, t, tid, _tasks._SID_CANCELLED)
    e2 = (F.CLEANUP_BEGIN, t, tid)
    _append(e1)
    _append(e2)
    o = st.open = Catch()
    o.exc, o.code, o.nomatch = exc, code, info.nomatch if kind == "except" else ()
    o.caught, o.cleanup, o.first_raise, o.seen_before = e1, e2, None, st.seen
    st.seen = True
    if n_open == 0:
        n_open = 1
        _widen(watch_raises=True)
    else:
        n_open += 1


def _called_from(code):
    """True when a frame of ``code`` is on the stack above the frame that a monitoring callback reports
    (frames: this, _caught, the callback, the reported frame)."""
    f = _getframe(3)
    for _ in range(64):
        if f is None:
            return False
        if f.f_code is code:
            return True
        f = f.f_back
    return False


def _open_released():
    global n_open
    n_open -= 1
    if n_open <= 0:
        n_open = 0


def _open_catch_here():
    """(task, state, open catch) of the running task, or None when it has no catch open."""
    if not n_open:
        return None
    task = _tasks._running_task()
    if task is None:
        return None
    st = task._ct_st
    if st is None or st is _tasks._ENDED or st.open is None:
        return None
    return task, st, st.open


def _mon_reraise(code, offset, exc):
    try:
        here = _open_catch_here()
        if here is None:
            return
        task, st, o = here
        if code is not o.code or exc is not o.exc:
            return
        if offset in o.nomatch:
            # No except clause matched: the exception was never caught here. Withdraw the tentative records.
            # (No call or backward jump between these checks and the del: no other thread runs in between.)
            st.open = None
            st.seen = o.seen_before
            ev = _events
            if len(ev) >= 2 and ev[-1] is o.cleanup and ev[-2] is o.caught:
                del ev[-2:]
            else:
                _append((F.CLEANUP_END, _tasks._now(), task._ct_id, F.RESULT_OK, 0))
                _append((F.RETHROW, _tasks._now(), task._ct_id))
            _open_released()
            return
        close_open(task, st, _tasks._now(), rethrow=True)
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
        if exc is o.exc or isinstance(exc, _CancelledError):
            if code is o.code:
                close_open(task, st, _tasks._now(), rethrow=True)      # raise e / raise CancelledError()
            return
        first = o.first_raise
        if first is None or first[0] is not exc:
            first = o.first_raise = (exc, code)
        if code is o.code:
            if first[1] is code:
                close_open(task, st, _tasks._now(), rethrow=False)     # the handler raised another error itself
            else:
                close_open(task, st, _tasks._now(), rethrow=False, threw_error=error_name(type(exc)))
    except BaseException:
        pass


# -- which events are on

def _widen(watch_raises=False):
    """Widen at once: EXCEPTION_HANDLED while a blind pending cancel exists, RAISE and RERAISE while a catch
    is open. Narrowing waits for settle()."""
    _set_global_events(widen_only=True, watch_raises=watch_raises)


def settle():
    """Narrow the events to what the current state needs (called about once a second by the flush thread):
    code that runs while nothing is being cancelled pays nothing, and bursts of cancels switch events twice,
    not per cancel."""
    if tool is not None:
        _set_global_events(widen_only=False)


def _set_global_events(widen_only, watch_raises=False):
    global _current
    with _lock:
        want = _BASE | (_current if widen_only else 0)
        if watch_raises or n_open:
            want |= _RAISES
        if blind_pending:
            want |= _HANDLED
        if want != _current:
            try:
                sys.monitoring.set_events(tool, want)
                _current = want
            except Exception:
                pass


# -- installing

def install():
    """Take a sys.monitoring tool id and register the callbacks; True when installed. Unless
    CANCELTRACE_DONE_CALLBACK is set, task ends are then recorded from PY_RETURN / PY_UNWIND (``_tasks``)."""
    global tool, _RAISES, _HANDLED, _BASE, _current, _DISABLE, blind_pending, n_open
    blind_pending = n_open = 0
    mon = getattr(sys, "monitoring", None)
    if mon is None or os.environ.get("CANCELTRACE_NO_MONITORING"):
        return False
    for candidate in (4, 3):
        try:
            mon.use_tool_id(candidate, "canceltrace")
        except ValueError:
            continue
        ev = mon.events
        mon.register_callback(candidate, ev.EXCEPTION_HANDLED, _mon_handled)
        mon.register_callback(candidate, ev.RERAISE, _mon_reraise)
        mon.register_callback(candidate, ev.RAISE, _mon_raise)
        mon.register_callback(candidate, ev.INSTRUCTION, _mon_instruction)
        _DISABLE = mon.DISABLE
        _RAISES = ev.RERAISE | ev.RAISE
        _HANDLED = ev.EXCEPTION_HANDLED
        _BASE = 0
        tool = candidate
        _current = 0
        if not os.environ.get("CANCELTRACE_DONE_CALLBACK"):
            try:
                mon.register_callback(tool, ev.PY_RETURN, _tasks._mon_return)
                mon.register_callback(tool, ev.PY_UNWIND, _tasks._mon_unwind)
                mon.set_events(tool, ev.PY_UNWIND)
                _BASE = _current = ev.PY_UNWIND
                _tasks._fast_end = True
            except Exception:
                _BASE = 0
        return True
    return False


def uninstall():
    """Switch every event off and free the tool id."""
    global tool, _current, _BASE
    if tool is None:
        return
    _current = 0
    _tasks._fast_end = False
    _BASE = 0
    mon = sys.monitoring
    try:
        mon.set_events(tool, 0)
        for _, code in list(_local_events.values()):
            try:
                mon.set_local_events(tool, code, 0)
            except Exception:
                pass
        _local_events.clear()
        _tasks._ret_codes.clear()
        _handlers_watched.clear()
        _tasks.forget_spawn_specs()      # they cached "end seen by monitoring"
        ev = mon.events
        for e in (ev.EXCEPTION_HANDLED, ev.RERAISE, ev.RAISE, ev.PY_RETURN, ev.PY_UNWIND, ev.INSTRUCTION):
            mon.register_callback(tool, e, None)
        mon.free_tool_id(tool)
    except Exception:
        pass
    tool = None

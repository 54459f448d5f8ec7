"""Who cancelled a task and why, from the frame that called ``cancel()`` (Docs/Python.md "Cancel reasons").

Knows asyncio's own cancellers (gather, wait_for, timeouts, TaskGroup, runners, the loop) and a few libraries'
(``LIBRARY_CANCELLERS``); anything else is user code, an explicit cancel. Knows nothing of the recording: it
answers with task objects, and the caller (``_tasks``) turns them into trace ids.
"""
import asyncio
import os

from . import _format as F

_ASYNCIO_DIR = os.path.dirname(os.path.abspath(asyncio.__file__)) + os.sep

# Libraries whose cancel scopes cancel a task and consume exactly that cancellation themselves (see Docs/Python.md
# "Scope-owned cancels"): (file path suffix, function calling cancel(), reason, special handling).
_ANYIO = os.sep + os.path.join("anyio", "_backends", "_asyncio.py")
LIBRARY_CANCELLERS = (
    (_ANYIO, "_deliver_cancellation", F.REASON_EXPLICIT, "anyio-scope"),
    (_ANYIO, "_cancel_all_tasks", F.REASON_SHUTDOWN, None),      # anyio's Runner backport (3.9, 3.10)
    (_ANYIO, "_on_sigint", F.REASON_SHUTDOWN, None),
    (os.sep + os.path.join("async_timeout", "__init__.py"), "_on_timeout", F.REASON_TIMEOUT, "owned"),
)

RUNNING = object()   # a cause's canceller: the running task


# What a code object calling cancel() is, classified once: (reason, special handling its frame needs or None when
# the canceller is the running task, the code itself (keeps its id, the key, its own)). A tuple, not a named
# class: _tasks reads it at every cancel, and on 3.9-3.11 reading a slot costs several times an index.
callers = {}         # id(code) -> (reason, special, code) (hashing a code object costs about 1 us)


class OwnedScope:
    """The scope that owns a cancel request: the request is consumed once ``getattr(scope, attribute)`` is None
    (the scope has exited)."""

    __slots__ = ("scope", "attribute")

    def exited(self):
        try:
            return getattr(self.scope, self.attribute) is None
        except Exception:
            return False


def _owned(scope, attribute):
    owned = OwnedScope()
    owned.scope, owned.attribute = scope, attribute
    return owned


class Cause:
    """Why a task was cancelled: the reason, the canceller (a task, or RUNNING), and who withdraws the request
    itself: a TaskGroup interrupting its owner (``group``), or the scope in ``owned``."""

    __slots__ = ("reason", "by", "group", "owned")

    def __init__(self, reason, by=RUNNING, group=False, owned=None):
        self.reason, self.by, self.group, self.owned = reason, by, group, owned


_traced_cancel_code = None       # the traced Task.cancel (its frame holds the task)
_task_cancel_codes = set()       # Task.cancel methods that pass a request on to what the task awaits


def register_task_cancel(code, traced=False):
    """``code`` is a Task.cancel method: a cancel() it calls passes its task's request on (reason parent)."""
    global _traced_cancel_code
    if traced:
        _traced_cancel_code = code
    _task_cancel_codes.add(code)


def caller(code):
    """(reason, special, code) for ``code``, classified once."""
    info = callers.get(id(code))
    if info is None:
        info = callers[id(code)] = _classify(code) + (code,)
    return info


def _classify(code):
    fn = code.co_filename or ""
    name = code.co_name
    special = None
    reason = F.REASON_EXPLICIT
    try:
        if code in _task_cancel_codes:
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
    for suffix, func, lib_reason, lib_special in LIBRARY_CANCELLERS:
        if name == func and path.endswith(suffix):
            return (lib_reason, lib_special)
    return (reason, special)


def cause(frame, task, running_loop):
    """The Cause of a cancel() of ``task`` called from ``frame`` (None: unknown caller). ``running_loop`` is
    the running event loop or None."""
    if frame is None:
        return Cause(F.REASON_UNKNOWN)
    reason, special, _ = caller(frame.f_code)
    if special is None:
        return Cause(reason)
    if special == "task-cancel":
        # A task's cancel() passing the request on to the task it awaits (Task.cancel -> fut_waiter.cancel).
        return Cause(F.REASON_PARENT, frame.f_locals.get("self"))
    if special == "gather":
        up = frame.f_back
        if up is not None and up.f_code is _traced_cancel_code:
            return Cause(F.REASON_PARENT, up.f_locals.get("self"))
        return Cause(F.REASON_PARENT)
    if special == "wait_for":
        # 3.9-3.11 wait_for cancels its inner task either on timeout or because the waiter was cancelled.
        up = frame.f_back
        if up is not None and up.f_code.co_name == "wait_for":
            waiter = up.f_locals.get("waiter")
            if waiter is not None and waiter.cancelled():
                return Cause(F.REASON_PARENT)
        return Cause(F.REASON_TIMEOUT)
    if special == "tg-abort":
        up = frame.f_back
        if up is not None and up.f_code.co_name == "_on_task_done":
            return Cause(F.REASON_SIBLING, up.f_locals.get("task"))
        # __aexit__ aborts the children because the group's body raised or its owner was cancelled.
        return Cause(F.REASON_PARENT)
    if special == "owned":
        # async-timeout's Timeout: it drops its task (`_task = None`) when it exits.
        return Cause(reason, owned=_owned(frame.f_locals.get("self"), "_task"))
    if special == "anyio-scope":
        # CancelScope._deliver_cancellation(origin): `origin` is the scope that was cancelled. The request is
        # that scope's own when `task` hosts it (anyio counts exactly these for its uncancel() calls): its
        # __exit__ consumes the cancellation it caused. Other tasks in the scope (a task group's children) are
        # expected to end cancelled.
        origin = frame.f_locals.get("origin")
        try:
            deadline = getattr(origin, "_deadline", None)
            if deadline is not None and running_loop is not None and deadline <= running_loop.time():
                reason = F.REASON_TIMEOUT
        except Exception:
            pass
        if origin is not None and getattr(origin, "_host_task", None) is task:
            return Cause(reason, owned=_owned(origin, "_host_task"))    # None again once the scope has exited
        return Cause(reason)
    if special == "tg-done":
        # The group interrupts its owner's body; it withdraws this request itself (uncancel) on exit.
        return Cause(F.REASON_SIBLING, frame.f_locals.get("task"), group=True)
    return Cause(reason)

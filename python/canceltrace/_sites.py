"""Where a task's code is (`site`), the test it was created in (a `test <nodeid>` mark) and its suppressions
(an `ignore ...` mark). Written only for the tasks a finding can be about (``_tasks._record_end`` decides, and
tasks left pending at shutdown), so that other tasks cost nothing.
"""
import os
import types

from . import _buffer
from . import _format as F
from . import _suppress

_CoroType = types.CoroutineType
_append = _buffer.append
_sid = _buffer.sid


class _FastSite:
    """A coroutine code object's site and suppressions, when no test or configuration entry can change them."""

    __slots__ = ("site", "ignore", "qualname", "code")   # string ids; the code keeps its id its own


_fast = {}            # id(code) -> _FastSite
_texts = {}           # (id(code), qualname) -> (site string id, code)
_test_first = []      # pytest: the first task id of each test, in order
_test_marks = []      # ... and its (string id of "test <nodeid>", nodeid)
_cwd = ""


def reset(cwd):
    """A new trace, recorded with ``cwd`` (ending in a separator, or empty) as the current folder."""
    global _cwd
    _fast.clear()
    _texts.clear()
    del _test_first[:]
    del _test_marks[:]
    _cwd = cwd


def add_test(first_id, nodeid):
    """Tasks from id ``first_id`` on belong to test ``nodeid``."""
    _test_first.append(first_id)
    _test_marks.append((_sid("test " + nodeid), nodeid))


def write(task, t):
    """Append the task's `site` and marks at time ``t``."""
    try:
        coro = task._coro
        if type(coro) is _CoroType and not _test_first and not _suppress.entries:
            # the common case: a coroutine whose site and comment suppressions are known (one dict lookup)
            hit = _fast.get(id(coro.cr_code))
            if hit is not None and hit.qualname is coro.__qualname__:
                _append((F.SITE, t, task._ct_id, hit.site))
                if hit.ignore:
                    _append((F.MARK, t, task._ct_id, hit.ignore))
                return
        _write_slow(task, coro, t)
    except Exception:
        pass


def _write_slow(task, coro, t):
    sid, q = _site_text(coro)
    tid = task._ct_id
    if sid is None:
        sid = _sid(q)
    _append((F.SITE, t, tid, sid))
    nodeid = None
    if _test_first:
        import bisect
        i = bisect.bisect_right(_test_first, tid) - 1
        if i >= 0:
            mark, nodeid = _test_marks[i]
            _append((F.MARK, t, tid, mark))
    rules = _suppress.rules_for(task, q, nodeid)
    ignore = _sid("ignore " + rules) if rules else 0
    if ignore:
        _append((F.MARK, t, tid, ignore))
    if type(coro) is _CoroType and not _suppress.entries:
        hit = _FastSite()
        hit.site, hit.ignore, hit.qualname, hit.code = sid, ignore, q, coro.cr_code
        _fast[id(coro.cr_code)] = hit


def _site_text(coro):
    """(string id of `file:line (qualname)`, or None when the code is not known; qualname)."""
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
    hit = _texts.get(key)
    if hit is not None:
        return hit[0], q
    fn = code.co_filename
    try:
        if _cwd and os.path.isabs(fn) and fn.startswith(_cwd):
            fn = os.path.relpath(fn, _cwd)
    except Exception:
        pass
    sid = _sid("%s:%d (%s)" % (fn, code.co_firstlineno, q))
    _texts[key] = (sid, code)
    return sid, q

"""pytest plugin: ``pytest --canceltrace=out.ctrace`` (loaded through the ``pytest11`` entry point; ``-p
canceltrace`` works too).

One trace for the whole session; every test adds a mark ("test <nodeid>") when its setup starts, and the tasks
a finding can be about carry the id of the test they were created in. pytest-xdist: each worker writes
``out.<worker>.ctrace`` and the controller, which runs no test, records nothing and names the workers' files.
"""
import os

from . import _recorder, _suppress


def pytest_addoption(parser):
    group = parser.getgroup("canceltrace", "CancelTrace asyncio cancellation recorder")
    group.addoption("--canceltrace", action="store", dest="canceltrace", default=None, metavar="FILE",
                    help="record every asyncio task of the test session into FILE (a .ctrace trace)")
    parser.addini("canceltrace_ignore", type="linelist", default=[],
                  help="canceltrace: findings to suppress, one per line: test:GLOB, function:GLOB or task:GLOB, "
                       "optionally followed by [rule, ...]")


def _worker_path(path, worker):
    root, ext = os.path.splitext(path)
    return "%s.%s%s" % (root, worker, ext or ".ctrace")


def _is_xdist_controller(config):
    if getattr(config, "workerinput", None) is not None:
        return False
    try:
        return bool(config.getoption("numprocesses", None)) or config.getoption("dist", "no") != "no"
    except (ValueError, AttributeError):
        return False


def pytest_configure(config):
    path = config.getoption("canceltrace", None)
    if not path:
        return
    import pytest
    if _is_xdist_controller(config):
        config._canceltrace_workers = path
        return
    if getattr(config, "workerinput", None) is not None:     # pytest-xdist worker: one file per worker
        path = _worker_path(path, config.workerinput.get("workerid", "w"))
    try:
        _recorder.start(path, process="pytest")
    except OSError as e:
        raise pytest.UsageError("canceltrace: cannot write %s: %s" % (path, e.strerror or e))
    bad = _suppress.configure(config.getini("canceltrace_ignore"))
    if bad:
        _recorder.stop()
        raise pytest.UsageError("canceltrace: canceltrace_ignore: not understood: %r (expected test:GLOB, "
                                "function:GLOB or task:GLOB, optionally followed by [rule, ...])" % (bad[0],))
    config._canceltrace_path = path


def pytest_runtest_setup(item):
    if _recorder.is_recording():
        _recorder.mark("test " + item.nodeid, task=None)
        _recorder.set_test(item.nodeid)


def pytest_unconfigure(config):
    path = getattr(config, "_canceltrace_path", None)
    if path:
        _recorder.stop()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    path = getattr(config, "_canceltrace_path", None)
    if path and _recorder._rec is not None:
        rec = _recorder._rec
        rec.flush(force=True, timeout=5)
        terminalreporter.write_line("canceltrace: recording to %s (%d events so far); run `canceltrace check %s`"
                                    % (path, rec.event_count, path))
    pattern = getattr(config, "_canceltrace_workers", None)
    if pattern:
        import glob
        root, ext = os.path.splitext(pattern)
        files = sorted(glob.glob(glob.escape(root) + ".*" + glob.escape(ext or ".ctrace")))
        files = [f for f in files if f != pattern] or [_worker_path(pattern, "<worker>")]
        terminalreporter.write_line("canceltrace: one trace per xdist worker: %s; run `canceltrace check FILE` "
                                    "on each" % ", ".join(files))

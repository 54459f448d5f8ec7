"""pytest plugin: ``pytest --canceltrace=out.ctrace`` (loaded through the ``pytest11`` entry point; ``-p
canceltrace`` works too).

One trace for the whole session; every test adds a mark ("test <nodeid>") when its setup starts, and the tasks
a finding can be about carry the id of the test they were created in. The trace is closed when the session
finishes and the summary shows `canceltrace check` of it (the analyzer, found by ``_analyzer``). pytest-xdist:
each worker writes ``out.<worker>.ctrace``; the controller, which runs no test, records nothing and checks each
worker's file.
"""
import os

from . import _analyzer, _recorder, _suppress


def _hookimpl(**options):
    """``@pytest.hookimpl(**options)`` without importing pytest (``import canceltrace`` must not load it): pluggy
    reads these options from the function's ``pytest_impl`` attribute and fills in the rest."""
    def mark(function):
        function.pytest_impl = dict(options)
        return function
    return mark


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
        config._canceltrace_worker_files = []
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
    # Only the session that started the recording marks its tests: a pytest run inside a test (pytester's
    # in-process runs) has its own config, and its tests must not take over the outer test's tasks.
    if getattr(item.config, "_canceltrace_path", None) and _recorder.is_recording():
        _recorder.mark("test " + item.nodeid, task=None)
        _recorder.set_test(item.nodeid)


@_hookimpl(trylast=True)
def pytest_sessionfinish(session):
    # After the session's fixtures are torn down (the runner's sessionfinish), before the summary and before an
    # xdist worker reports back: the trace is closed here so `check` can read all of it.
    config = session.config
    path = getattr(config, "_canceltrace_path", None)
    if path and _recorder.is_recording():
        _recorder.stop()
    workeroutput = getattr(config, "workeroutput", None)
    if path and workeroutput is not None:
        workeroutput["canceltrace"] = path


def pytest_unconfigure(config):
    if getattr(config, "_canceltrace_path", None):
        _recorder.stop()          # a session that ended before sessionfinish


@_hookimpl(optionalhook=True)        # a pytest-xdist hook
def pytest_testnodedown(node, error):
    # pytest-xdist controller: the file each worker wrote (absent when a worker died before reporting).
    pattern = getattr(node.config, "_canceltrace_workers", None)
    if pattern:
        output = getattr(node, "workeroutput", None) or {}
        worker = getattr(getattr(node, "gateway", None), "id", "<worker>")
        node.config._canceltrace_worker_files.append(output.get("canceltrace") or _worker_path(pattern, worker))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    files = []
    if getattr(config, "_canceltrace_path", None):
        files = [config._canceltrace_path]
    elif getattr(config, "_canceltrace_workers", None):
        files = sorted(set(config._canceltrace_worker_files))
        if not files:
            return
        terminalreporter.write_line("canceltrace: one trace per xdist worker: %s" % ", ".join(files))
    for path in files:
        _summarize(terminalreporter, path)


def _summarize(reporter, path):
    """The analyzer's findings for PATH under the test summary (pytest's exit status is not changed)."""
    reporter.section("canceltrace check %s" % path, sep="-")
    color = "always" if getattr(reporter, "hasmarkup", False) else "never"
    result = _analyzer.check(path, ["--color", color])
    if result is None:
        reporter.write_line("canceltrace: wrote %s; %s" % (path, _analyzer.not_found_line()[len("canceltrace: "):]))
        return
    _, out, err = result
    for line in out.rstrip("\n").splitlines():
        reporter.write_line(line)
    for line in err.rstrip("\n").splitlines():
        reporter.write_line(line)

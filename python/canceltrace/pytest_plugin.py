"""pytest plugin: ``pytest -p canceltrace --canceltrace=out.ctrace``.

One trace for the whole session; every test adds a mark ("test <nodeid>") when its setup starts.
"""
import os

from . import _recorder


def pytest_addoption(parser):
    group = parser.getgroup("canceltrace", "CancelTrace asyncio cancellation recorder")
    group.addoption("--canceltrace", action="store", dest="canceltrace", default=None, metavar="FILE",
                    help="record every asyncio task of the test session into FILE (a .ctrace trace)")


def pytest_configure(config):
    path = config.getoption("canceltrace", None)
    if not path:
        return
    if getattr(config, "workerinput", None) is not None:     # pytest-xdist worker: one file per worker
        root, ext = os.path.splitext(path)
        path = "%s.%s%s" % (root, config.workerinput.get("workerid", "w"), ext or ".ctrace")
    _recorder.start(path, process="pytest")
    config._canceltrace_path = path


def pytest_runtest_setup(item):
    if _recorder.is_recording():
        _recorder.mark("test " + item.nodeid, task=None)


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

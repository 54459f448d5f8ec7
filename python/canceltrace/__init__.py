"""CancelTrace recorder for Python asyncio programs.

    python -m canceltrace run app.py [args...]       # writes app.ctrace
    pytest -p canceltrace --canceltrace=out.ctrace   # one trace per test session, each test a mark
    CANCELTRACE_OUTPUT=out.ctrace + import canceltrace.auto

Standard library only. The trace format is Docs/TraceFormat.md (v1).
"""
from ._version import __version__
from ._recorder import start, stop, mark, is_recording

# pytest plugin hooks, so that ``pytest -p canceltrace`` works; they import nothing from pytest at load time.
from .pytest_plugin import (  # noqa: F401
    pytest_addoption,
    pytest_configure,
    pytest_runtest_setup,
    pytest_sessionfinish,
    pytest_testnodedown,
    pytest_unconfigure,
    pytest_terminal_summary,
)

__all__ = ["start", "stop", "mark", "is_recording", "__version__"]

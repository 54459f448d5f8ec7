"""Installing the traced Task into asyncio and taking it out again: ``asyncio.tasks.Task`` (what
``loop.create_task()`` builds), the eager task factory (3.12+), ``TaskGroup.create_task`` (3.11+, to record
group children) and the pure-Python Task of ``backports.asyncio.runner`` (pytest-asyncio's Runner on 3.9/3.10).
"""
import asyncio
import sys

from asyncio import tasks as _aio_tasks

from . import _cancellers
from . import _format as F
from . import _tasks

PY = sys.version_info[:2]
_installed = {}          # what was replaced, to put back at uninstall
_BACKPORT = "backports.asyncio.runner.runner"


def install():
    _installed["Task"] = _aio_tasks.Task
    _aio_tasks.Task = _tasks.CTTask
    if hasattr(_aio_tasks, "create_eager_task_factory"):
        _installed["eager_task_factory"] = _aio_tasks.eager_task_factory
        factory = _aio_tasks.create_eager_task_factory(_tasks.CTTask)
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


def uninstall():
    _uninstall_taskgroup_hook()
    _uninstall_backport()
    if "Task" in _installed and _aio_tasks.Task is _tasks.CTTask:
        _aio_tasks.Task = _installed.pop("Task")
    if "eager_task_factory" in _installed:
        f = _installed.pop("eager_task_factory")
        _aio_tasks.eager_task_factory = f
        asyncio.eager_task_factory = f


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
        _tasks._how_override = F.HOW_GROUP_CHILD
        try:
            return original(self, *args, **kwargs)
        finally:
            _tasks._how_override = 0

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


def _install_backport():
    """backports.asyncio.runner creates the main task of each test with its own pure-Python Task class: trace
    it too, with a traced subclass of that class."""
    mod = sys.modules.get(_BACKPORT)
    base = getattr(mod, "Task", None)
    py_task = getattr(_aio_tasks, "_PyTask", None)
    if not isinstance(base, type) or base in _tasks._TRACED or py_task is None or not issubclass(base, py_task):
        return
    cls = _tasks._traced_class(base)
    cls.__name__ = cls.__qualname__ = base.__name__
    _tasks._TRACED.add(cls)
    try:
        _cancellers.register_task_cancel(base.cancel.__code__)
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
                if _tasks._active:
                    _install_backport()
            except Exception:
                pass
        loader.exec_module = exec_module
        return spec

"""How the trace names an exception type, and which errors take precedence over a pending cancellation."""
import asyncio

_CancelledError = asyncio.CancelledError
_names = {}          # exception type -> its name in the trace

EXIT_ERRORS = (SystemExit, KeyboardInterrupt)


def error_name(cls):
    """Built-in exceptions by name (KeyError), asyncio's as asyncio.X (asyncio.TimeoutError on 3.9/3.10; its
    CancelledError stays CancelledError, the trace's name for a cancellation), others module-qualified, so that
    concurrent.futures.CancelledError is not taken for a cancellation."""
    name = _names.get(cls)
    if name is None:
        q = getattr(cls, "__qualname__", None) or getattr(cls, "__name__", "?")
        mod = getattr(cls, "__module__", None) or ""
        if cls is _CancelledError or mod == "builtins" or not mod:
            name = q
        elif mod == "asyncio" or mod.startswith("asyncio."):
            name = "asyncio." + q
        else:
            name = mod + "." + q
        if len(_names) < 10000:
            _names[cls] = name
    return name


def is_exit_error(exc):
    """SystemExit / KeyboardInterrupt, or an exception group holding one (what a TaskGroup raises for them):
    asyncio gives those precedence over a cancellation, so no code of the task converted it."""
    for _ in range(32):
        if isinstance(exc, EXIT_ERRORS):
            return True
        inner = getattr(exc, "exceptions", None)
        if not isinstance(inner, tuple) or not inner or not isinstance(exc, BaseException):
            return False
        for e in inner:
            if isinstance(e, EXIT_ERRORS):
                return True
        exc = inner[0]
    return False

"""``import canceltrace.auto``: start recording when CANCELTRACE_OUTPUT names a file.

For programs started by something else: set CANCELTRACE_OUTPUT=path and import this module early (for
example from a ``sitecustomize.py`` or a ``.pth`` file, or with ``python -c "import canceltrace.auto; ..."``).
``%p`` in the path is replaced by the process id.
"""
import os

from . import _recorder

_path = os.environ.get("CANCELTRACE_OUTPUT")
if _path and not _recorder.is_recording():
    try:
        _recorder.start(_path.replace("%p", str(os.getpid())))
    except Exception as _e:  # never break the program because tracing could not start
        import sys
        sys.stderr.write("canceltrace: not recording: %s\n" % (_e,))

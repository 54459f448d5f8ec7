"""Finding the analyzer: the Swift ``canceltrace`` program. The platform wheel installs it next to the Python
interpreter's scripts (as ruff and uv install theirs); a Swift build on ``PATH`` or ``CANCELTRACE_BIN`` works too.
There is no analyzer in Python: a second one would disagree with the real one.
"""
import os
import subprocess
import sys

NOT_FOUND_STATUS = 127          # like a shell's "command not found"

HOW_TO_GET = ("the analyzer `canceltrace` is not installed: install the canceltrace wheel for this platform "
              "(python/tools/build_wheel.sh builds it), put a `canceltrace` built from the Swift package on PATH, "
              "or set CANCELTRACE_BIN")


def _executable(path):
    return bool(path) and os.path.isfile(path) and os.access(path, os.X_OK)


def find():
    """The analyzer's path, or None. Order: ``CANCELTRACE_BIN``; the one the wheel installed into this
    interpreter's scripts folder (or the user scheme's, for ``pip install --user``); ``canceltrace`` on PATH."""
    explicit = os.environ.get("CANCELTRACE_BIN")
    if explicit:
        return explicit if _executable(explicit) else None
    # Imported here, not at the top: `import canceltrace` loads this module (through the plugin), and outside
    # pytest, which has them already, these two (with bz2, lzma, fnmatch) were a third of its own import cost.
    import shutil
    import sysconfig
    name = "canceltrace.exe" if os.name == "nt" else "canceltrace"
    folders = [sysconfig.get_path("scripts")]
    try:
        folders.append(sysconfig.get_path("scripts", sysconfig.get_preferred_scheme("user")))
    except (AttributeError, KeyError):          # get_preferred_scheme is 3.10+
        folders.append(sysconfig.get_path("scripts", "%s_user" % os.name))
    folders.append(os.path.dirname(sys.executable))
    for folder in folders:
        if folder and _executable(os.path.join(folder, name)):
            return os.path.join(folder, name)
    return shutil.which(name)


def not_found_line():
    if os.environ.get("CANCELTRACE_BIN"):
        return "canceltrace: CANCELTRACE_BIN=%r is not an executable file" % os.environ["CANCELTRACE_BIN"]
    return "canceltrace: " + HOW_TO_GET


def exec_command(argv):
    """Runs ``canceltrace ARGV...`` in place of this process (its output, exit status and signals are the
    command's); returns 127 with one line on stderr when there is no analyzer, 126 when it cannot be run."""
    binary = find()
    if binary is None:
        sys.stderr.write(not_found_line() + "\n")
        return NOT_FOUND_STATUS
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        if os.name == "posix":
            os.execv(binary, [binary] + list(argv))
        return subprocess.call([binary] + list(argv))
    except OSError as e:            # e.g. a binary for another machine: one line, as a shell would say it
        sys.stderr.write("canceltrace: cannot run %s: %s\n" % (binary, e.strerror or e))
        return 126


def check(path, extra=()):
    """``canceltrace check PATH`` captured: (status, stdout, stderr), or None when there is no analyzer."""
    binary = find()
    if binary is None:
        return None
    try:
        res = subprocess.run([binary, "check", str(path), "--quiet"] + list(extra), capture_output=True, text=True,
                             errors="replace")
    except OSError as e:
        return 126, "", "canceltrace: cannot run %s: %s\n" % (binary, e.strerror or e)
    return res.returncode, res.stdout, res.stderr

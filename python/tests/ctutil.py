"""Helpers shared by the tests: run a program under the recorder, parse sample headers, match events."""
import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap

from conftest import PKG_ROOT, SAMPLES

from canceltrace.reader import read


def env_with_pkg(extra=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = PKG_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("CANCELTRACE_OUTPUT", None)
    if extra:
        env.update(extra)
    return env


def record(script, out, args=(), env=None, cwd=None, timeout=60):
    cmd = [sys.executable, "-m", "canceltrace", "run", "--output", str(out), str(script)] + list(args)
    return subprocess.run(cmd, env=env_with_pkg(env), cwd=cwd, capture_output=True, text=True, timeout=timeout)


def run_pytest(folder, tests, *args, trace=None, env=None, timeout=120):
    """pytest in a child process in ``folder``, on the test files ``tests`` ({name: source}, dedented and written
    there), with the plugin loaded as `pytest -p canceltrace` and ``--canceltrace=TRACE`` when ``trace`` is given.
    The child's pytest-asyncio, when installed, gets its loop scope set as this suite's pyproject.toml sets it (a
    folder of its own has no configuration, and pytest-asyncio warns when the option is unset)."""
    for name, source in tests.items():
        with open(os.path.join(str(folder), name), "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(source))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "canceltrace"]
    if importlib.util.find_spec("pytest_asyncio") is not None:
        cmd += ["-o", "asyncio_default_fixture_loop_scope=function"]
    if trace is not None:
        cmd.append("--canceltrace=%s" % trace)
    return subprocess.run(cmd + list(args) + list(tests), cwd=str(folder), env=env_with_pkg(env), capture_output=True,
                          text=True, timeout=timeout)


def run_plain(script, args=(), env=None, cwd=None, timeout=60):
    cmd = [sys.executable, str(script)] + list(args)
    return subprocess.run(cmd, env=env_with_pkg(env), cwd=cwd, capture_output=True, text=True, timeout=timeout)


def sample_paths():
    return sorted(os.path.join(SAMPLES, f) for f in os.listdir(SAMPLES) if f.endswith(".py"))


_HDR = re.compile(r"^# (EXPECT(?:-NO)?(?:-EVENTS)?|EXIT|REQUIRES)(?:-(\d+)\.(\d+)\+)?: (.*)$")


def sample_spec(path, version=None):
    """The sample's declared expectations for this Python version (later version-specific lines override)."""
    version = version or sys.version_info[:2]
    spec = {"EXPECT": [], "EXPECT-EVENTS": [], "EXPECT-NO-EVENTS": [], "EXIT": 0, "REQUIRES": (3, 9)}
    extra_events = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = _HDR.match(line.rstrip("\n"))
            if not m:
                continue
            key, major, minor, value = m.groups()
            if major is not None and version < (int(major), int(minor)):
                continue
            if key == "REQUIRES":
                spec[key] = tuple(int(x) for x in value.split("."))
            elif key == "EXIT":
                spec[key] = int(value)
            elif key == "EXPECT-EVENTS" and major is not None:
                extra_events.extend(json.loads(value))
            else:
                spec[key] = json.loads(value)
    spec["EXPECT-EVENTS"] = spec["EXPECT-EVENTS"] + extra_events
    return spec


def task_names(trace):
    return {e["task"]: e["name"] for e in trace.events if e["kind"] == "spawn"}


def name_matches(full, short):
    """'long_task' matches the recorded 'long_task (Task-2)'."""
    return full == short or full.startswith(short + " ") or full.split(" (")[0].split(".")[-1] == short


def event_matches(ev, want, names):
    for k, v in want.items():
        if k in ("task", "by", "parent"):
            if not name_matches(names.get(ev.get(k), ""), v):
                return False
        elif ev.get(k) != v:
            return False
    return True


def find_events(trace, want):
    names = task_names(trace)
    return [e for e in trace.events if event_matches(e, want, names)]


def findings_match(found, expected):
    """Both lists of {rule, task(Name)}: equal as multisets by rule and task-name match."""
    left = list(found)
    for exp in expected:
        for i, f in enumerate(left):
            if f["rule"] == exp["rule"] and name_matches(f.get("taskName", ""), exp["task"]):
                del left[i]
                break
        else:
            return False, "missing %r in %r" % (exp, found)
    if left:
        return False, "unexpected %r" % (left,)
    return True, ""


def wait_for_writer(path, timeout=60.0):
    """After the recorded program dies, its writer process finishes the file on its own: wait until no process
    has the file open any more (Linux /proc). The timeout is a bound for a writer that never finishes, not a
    measurement: on a loaded CI machine a healthy writer can take seconds to be scheduled and finish."""
    import time
    target = os.path.realpath(str(path))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        held = False
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                fds = os.listdir("/proc/%s/fd" % pid)
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink("/proc/%s/fd/%s" % (pid, fd)) == target:
                        held = True
                        break
                except OSError:
                    pass
            if held:
                break
        if not held:
            return
        time.sleep(0.02)
    raise AssertionError("%s is still open after %.0f s" % (path, timeout))


def unrethrown_catches(trace):
    """Names of tasks that caught their own cancellation (a `caught` while one of their cancel requests was not
    withdrawn), did not rethrow after that catch, and did not end cancelled: the tasks `canceltrace check`
    reports as swallowed-cancellation (returned) or cancellation-converted (failed). Same semantics as the Swift
    rule: the catch decides, a later withdrawal does not undo it."""
    names = task_names(trace)
    pending, own, rethrown, out = {}, {}, {}, []
    for e in trace.events:
        k, t = e["kind"], e.get("task")
        if k == "cancel":
            pending[t] = pending.get(t, 0) + 1
        elif k == "uncancel":
            pending[t] = max(0, pending.get(t, 0) - 1)
        elif k == "caught" and pending.get(t, 0) > 0:
            own[t], rethrown[t] = True, False
        elif k == "rethrow":
            rethrown[t] = True
        elif k == "end" and own.get(t) and not rethrown.get(t) and e["outcome"] != "cancelled":
            out.append(names.get(t, "#%d" % t))
    return out


def analyzer():
    """The Swift `canceltrace` the package would use (CANCELTRACE_BIN, the wheel's, or PATH), or None."""
    from canceltrace import _analyzer
    return _analyzer.find()


def check_with_cli(path, statuses=(0, 1)):
    """`canceltrace check --format json` findings of ``path`` when the analyzer is at hand, else None."""
    binary = analyzer()
    if not binary:
        return None
    res = subprocess.run([binary, "check", str(path), "--format", "json"], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode in statuses, res.stderr
    data = json.loads(res.stdout)
    return data["findings"] if isinstance(data, dict) else data

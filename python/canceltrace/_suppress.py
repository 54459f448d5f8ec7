"""Suppression: which findings the user declared deliberate, for one task, one function or one test.

Two ways, both documented in Docs/Python.md ("Suppressing a finding"):
- a comment in the task's coroutine function (on the ``async def`` line or any line of its body, e.g. the
  ``except`` line of a deliberate swallow): ``# canceltrace: ignore`` (every rule) or
  ``# canceltrace: ignore[swallowed-cancellation, leaked-task]``;
- configuration entries ``test:GLOB``, ``function:GLOB`` or ``task:GLOB``, each optionally followed by
  ``[rule, ...]``, from ``CANCELTRACE_IGNORE`` (separated by ``;`` or new lines) or the pytest ini option
  ``canceltrace_ignore`` (one per line). GLOB is an fnmatch pattern on the pytest node id, the coroutine's
  qualified name, or the task's name.

Default suppressions: two anyio internals that catch their task's cancellation by design and hand it on (see
``DEFAULTS``); ``CANCELTRACE_DEFAULT_IGNORES=0`` turns them off.

The recorder writes the decision as a task mark ``ignore RULES`` (``ignore all`` for every rule) next to the
task's ``site``; ``canceltrace check`` does not report that task under those rules. Only tasks that were
cancelled or left pending (the ones findings are about) are looked at, once per function.
"""
import linecache
import os

_COMMENT = r"#\s*canceltrace:\s*ignore(?:\[([^\]]*)\])?"
_ENTRY = r"^\s*(test|function|task):(.+?)\s*(?:\[([^\]]*)\])?\s*$"

entries = []           # (kind, glob, rules or None); the recorder reads it (nothing to match when empty)

# (file path ending, qualified name) -> rules. Library code whose swallow is correct by design and not the user's
# to fix; matched by file and name, for one rule only (Docs/Python.md, "Default suppressions" says why each).
DEFAULTS = {
    # anyio.to_process: waits for the loop's shutdown cancel, then stops the worker processes and returns.
    ("/anyio/_backends/_asyncio.py", "_shutdown_process_pool_on_exit"): ["swallowed-cancellation"],
    # anyio.from_thread: hands the cancellation to the calling thread by cancelling the future it waits on.
    ("/anyio/from_thread.py", "BlockingPortal._call_func"): ["swallowed-cancellation"],
}
_defaults_on = True      # CANCELTRACE_DEFAULT_IGNORES=0 turns DEFAULTS off (read by reset)

_by_code = {}          # id(code) -> (rules from comments or None, code)


def configure(lines):
    """Add configuration entries (strings); returns the entries that could not be parsed."""
    import re
    bad = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(_ENTRY, line)
        if not m:
            bad.append(line)
            continue
        entries.append((m.group(1), m.group(2), _rules(m.group(3))))
    return bad


def reset():
    global _defaults_on
    del entries[:]
    _by_code.clear()
    _defaults_on = os.environ.get("CANCELTRACE_DEFAULT_IGNORES", "1") != "0"
    env = os.environ.get("CANCELTRACE_IGNORE")
    if env:
        return configure(env.replace(";", "\n").split("\n"))
    return []


def _rules(text):
    if text is None:
        return None
    rules = [r.strip() for r in text.split(",") if r.strip()]
    return rules or None


def _merge(found, rules):
    """Rules accumulate; None means every rule."""
    if found is False:
        return rules
    if found is None or rules is None:
        return None
    return found + [r for r in rules if r not in found]


def _comment_rules(code):
    """The rules named by `# canceltrace: ignore` comments in the function of ``code``: False if none."""
    hit = _by_code.get(id(code))
    if hit is not None:
        return hit[0]
    found = False
    try:
        lines = linecache.getlines(code.co_filename)
        first = code.co_firstlineno
        last = max((ln for _, _, ln in code.co_lines() if ln), default=first) if hasattr(code, "co_lines") \
            else max((ln for _, ln in _lnotab_lines(code)), default=first)
        # decorators sit above co_firstlineno on 3.9/3.10 (not on 3.11+); the def line is included either way
        for line in lines[first - 1:last]:
            if "canceltrace" in line:
                import re
                m = re.search(_COMMENT, line)
                if m:
                    found = _merge(found, _rules(m.group(1)))
    except Exception:
        found = False
    _by_code[id(code)] = (found, code)
    return found


def _default_rules(code, qualname):
    """The DEFAULTS entry of the function of ``code`` named ``qualname``, or None."""
    path = code.co_filename.replace(os.sep, "/")
    for (ending, name), rules in DEFAULTS.items():
        if qualname == name and path.endswith(ending):
            return rules
    return None


def _lnotab_lines(code):
    import dis
    return dis.findlinestarts(code)


def rules_for(task, qualname, test):
    """The rules suppressed for ``task`` ("all", "rule,rule") or "" when none."""
    found = False
    coro = getattr(task, "_coro", None)
    code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
    if code is not None:
        found = _comment_rules(code)
        rules = _default_rules(code, qualname) if _defaults_on else None
        if rules:
            found = _merge(found, rules)
    if entries:
        import fnmatch
        try:
            name = task.get_name()
        except Exception:
            name = ""
        for kind, glob, rules in entries:
            subject = test if kind == "test" else qualname if kind == "function" else name
            if subject and fnmatch.fnmatchcase(subject, glob):
                found = _merge(found, rules)
    if found is False:
        return ""
    return "all" if found is None else ",".join(found)

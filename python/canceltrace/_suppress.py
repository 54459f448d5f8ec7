"""Suppression: which findings the user declared deliberate, for one task, one function or one test.

Two ways, both documented in Docs/Python.md ("Suppressing a finding"):
- a comment in the task's coroutine function (on the ``async def`` line or any line of its body, e.g. the
  ``except`` line of a deliberate swallow): ``# canceltrace: ignore`` (every rule) or
  ``# canceltrace: ignore[swallowed-cancellation, leaked-task]``;
- configuration entries ``test:GLOB``, ``function:GLOB`` or ``task:GLOB``, each optionally followed by
  ``[rule, ...]``, from ``CANCELTRACE_IGNORE`` (separated by ``;`` or new lines) or the pytest ini option
  ``canceltrace_ignore`` (one per line). GLOB is an fnmatch pattern on the pytest node id, the coroutine's
  qualified name, or the task's name.

The recorder writes the decision as a task mark ``ignore RULES`` (``ignore all`` for every rule) next to the
task's ``site``; ``canceltrace check`` does not report that task under those rules. Only tasks that were
cancelled or left pending (the ones findings are about) are looked at, once per function.
"""
import linecache
import os

_COMMENT = r"#\s*canceltrace:\s*ignore(?:\[([^\]]*)\])?"
_ENTRY = r"^\s*(test|function|task):(.+?)\s*(?:\[([^\]]*)\])?\s*$"

entries = []           # (kind, glob, rules or None); the recorder reads it (nothing to match when empty)
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
    del entries[:]
    _by_code.clear()
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

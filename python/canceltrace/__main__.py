"""python -m canceltrace run [--output FILE] (script.py | -m module) [args...]
python -m canceltrace events FILE [--json]   (decode a trace in Python)
python -m canceltrace check FILE [options]   (the analyzer `canceltrace check`; also timeline, stats, export)
"""
import argparse
import json
import os
import runpy
import sys


def _usage():
    sys.stderr.write(__doc__)
    return 2


def _run(argv):
    output = None
    module = None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-o", "--output"):
            if i + 1 >= len(argv):
                return _usage()
            output = argv[i + 1]
            i += 2
        elif a.startswith("--output="):
            output = a.split("=", 1)[1]
            i += 1
        elif a == "-m":
            if i + 1 >= len(argv):
                return _usage()
            module = argv[i + 1]
            rest = argv[i + 2:]
            break
        elif a in ("-h", "--help"):
            sys.stdout.write(__doc__)
            return 0
        elif a.startswith("-") and a != "-":
            sys.stderr.write("canceltrace run: unknown option %s (options: --output FILE, -m MODULE)\n" % a)
            return 2
        else:
            rest = argv[i + 1:]
            break
    else:
        return _usage()
    script = None if module else argv[i]
    # Fail as `python app.py` / `python -m mod` would, before any trace is written.
    if module:
        import importlib.util
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            sys.stderr.write("%s: No module named %s\n" % (sys.executable, module))
            return 1
    elif not os.path.isfile(script):
        path = os.path.abspath(script)
        error = "[Errno 21] Is a directory" if os.path.isdir(path) else "[Errno 2] No such file or directory"
        sys.stderr.write("%s: can't open file %r: %s\n" % (sys.executable, path, error))
        return 2
    if output is None:
        base = module if module else os.path.splitext(os.path.basename(script))[0]
        output = base + ".ctrace"

    from . import _recorder
    try:
        _recorder.start(output, process=module or os.path.basename(script))
    except OSError as e:
        sys.stderr.write("canceltrace: cannot write %s: %s\n" % (output, e.strerror or e))
        return 2
    if module:
        sys.argv = [module] + rest     # runpy sets argv[0] to the module's file
    else:
        sys.argv = [script] + rest
        sys.path[0] = os.path.dirname(os.path.abspath(script))
    try:
        if module:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(script, run_name="__main__")
    finally:
        _recorder.stop()
    return 0


# Handed to the Swift analyzer (canceltrace/_analyzer.py), arguments unchanged.
_ANALYZER_COMMANDS = ("check", "timeline", "stats", "export")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        return _usage()
    cmd, rest = argv[0], argv[1:]
    if cmd == "run":
        return _run(rest)
    if cmd in _ANALYZER_COMMANDS:
        from . import _analyzer
        return _analyzer.exec_command(argv)
    if cmd == "events":
        ap = argparse.ArgumentParser(prog="python -m canceltrace " + cmd)
        ap.add_argument("file")
        ap.add_argument("--json", action="store_true")
        ns = ap.parse_args(rest)
        from .reader import TraceError, read
        try:
            tr = read(ns.file)
        except (OSError, TraceError) as e:
            sys.stderr.write("canceltrace: error: %s: %s\n" % (ns.file, e))
            return 2
        for e in tr.events:
            print(json.dumps(e) if ns.json else " ".join("%s=%s" % kv for kv in e.items()))
        for n in tr.notices:            # as `canceltrace events` prints them, and with its exit status
            print("%s: %s" % ("damaged" if n.damage else "note", n))
        if tr.damaged_chunks:
            count = tr.damaged_chunks
            sys.stderr.write("canceltrace: error: %s: damaged trace: %d chunk%s or records skipped (see the notes above)\n"
                             % (ns.file, count, "" if count == 1 else "s"))
            return 2
        return 0
    return _usage()


if __name__ == "__main__":
    sys.exit(main())

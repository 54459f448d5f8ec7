"""Regenerate the shared test vectors in Tests/Vectors/python/.

Each vector is a trace written by this recorder (`<name>.ctrace`) and, next to it, the events it decodes to
(`<name>.events.json`: kinds and field names as in Docs/TraceFormat.md, strings resolved to their text,
enumerations by name, times in nanoseconds). A Swift test can read the same files and compare.

    python python/tools/make_vectors.py        # with the interpreter whose recording you want
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.dirname(HERE)
REPO = os.path.dirname(PKG)
OUT = os.path.join(REPO, "Tests", "Vectors", "python")
sys.path.insert(0, PKG)
from canceltrace.reader import read  # noqa: E402

STABLE_INFO = ("pid", "wall-clock-start-ns")


def listing(trace, source):
    return {
        "source": source,
        "format": "%d.%d" % (trace.major, trace.minor),
        "closed": trace.closed,
        "truncated": trace.truncated,
        "chunks": trace.chunks,
        "events": trace.events,
    }


def write(name, data, source):
    path = os.path.join(OUT, name + ".ctrace")
    with open(path, "wb") as f:
        f.write(data)
    tr = read(path)
    with open(os.path.join(OUT, name + ".events.json"), "w") as f:
        json.dump(listing(tr, source), f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(name, len(data), "bytes,", len(tr.events), "events,", tr.chunks, "chunks")


def record(sample, env=None):
    tmp = os.path.join(OUT, "_tmp.ctrace")
    e = dict(os.environ, PYTHONPATH=PKG, **(env or {}))
    subprocess.run([sys.executable, "-m", "canceltrace", "run", "--output", tmp,
                    os.path.join(REPO, "Samples", "Python", sample)], env=e, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(tmp, "rb") as f:
        data = f.read()
    os.remove(tmp)
    return data


def main():
    os.makedirs(OUT, exist_ok=True)
    v = "%d.%d" % sys.version_info[:2]
    tag = "py" + v.replace(".", "")
    # Small batches and chunks so that even these small traces span several chunks.
    small = {"CANCELTRACE_BATCH": "8", "CANCELTRACE_CHUNK_BYTES": "200", "CANCELTRACE_TASK_NAMES": "full"}
    for sample in ("cancel_cleanup_reraise.py", "swallow_bare_except.py", "taskgroup_sibling_failure.py"):
        if sample.startswith("taskgroup") and sys.version_info < (3, 11):
            continue
        data = record(sample, small)
        write("%s-%s" % (sample[:-3], tag), data, "Samples/Python/%s recorded by Python %s" % (sample, v))
    # A truncated file: the cleaner trace cut in the middle of its last chunk.
    data = record("cancel_cleanup_reraise.py", small)
    write("truncated-%s" % tag, data[:len(data) - 7], "cancel_cleanup_reraise.py, last 7 bytes cut off (Python %s)" % v)


if __name__ == "__main__":
    main()

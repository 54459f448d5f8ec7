"""A minimal, preview implementation of the analyzer rules, for the recorder's own tests and for a quick look
when the Swift ``canceltrace`` is not at hand. The product analyzer is ``canceltrace check``; this one knows
only swallowed-cancellation, cancellation-converted and leaked-task, with the semantics of the brief:

- a cancel request counts against a task until an ``uncancel`` of that task withdraws it;
- a ``caught`` while the task has a pending request is the task catching its own cancellation; a ``caught``
  with none pending (the canceller catching its child's CancelledError) is not a swallow;
- swallowed-cancellation (error): own cancellation caught, not rethrown afterwards, the task returned;
- cancellation-converted (warning): same, but the task failed with another error (not when the cancel reason
  was timeout and the error is a TimeoutError);
- leaked-task (warning): no ``end`` before the trace ended.
"""


def findings(trace):
    tasks = {}
    out = []
    for e in trace.events:
        k = e["kind"]
        if k == "spawn":
            tasks[e["task"]] = {"name": e["name"], "pending": 0, "reasons": [], "caught": False,
                                "open": False, "ended": False}
            continue
        st = tasks.get(e.get("task"))
        if st is None:
            continue
        if k == "cancel":
            st["pending"] += 1
            st["reasons"].append(e["reason"])
        elif k == "uncancel":
            if st["pending"] > 0:
                st["pending"] -= 1
                if st["reasons"]:
                    st["reasons"].pop()
        elif k == "caught":
            if st["pending"] > 0:
                st["caught"] = True
                st["open"] = True
        elif k == "rethrow":
            st["open"] = False
        elif k == "end":
            st["ended"] = True
            if st["caught"] and st["open"]:
                if e["outcome"] == "returned":
                    out.append({"rule": "swallowed-cancellation", "level": "error", "task": e["task"],
                                "taskName": st["name"]})
                elif e["outcome"] == "failed":
                    if not ("timeout" in st["reasons"] and "TimeoutError" in e["error"]):
                        out.append({"rule": "cancellation-converted", "level": "warning", "task": e["task"],
                                    "taskName": st["name"]})
    for tid, st in tasks.items():
        if not st["ended"]:
            out.append({"rule": "leaked-task", "level": "warning", "task": tid, "taskName": st["name"]})
    ignored = {}      # task -> rules named by its "ignore ..." marks (see Docs/Rules.md)
    for e in trace.events:
        if e["kind"] == "mark" and e["label"].startswith("ignore "):
            ignored.setdefault(e["task"], set()).update(e["label"][7:].split(","))
    return [f for f in out if not ({"all", f["rule"]} & ignored.get(f["task"], set()))]

"""Where a code object's exception handlers start and what kind they are, read from its bytecode (3.11+
layout: PUSH_EXC_INFO at each handler). ``_sysmon`` uses this to see a CancelledError enter user code's
handlers; the standard library's and our own code are not the user's and get no analysis.
"""
import asyncio
import dis
import os
import sysconfig

_ASYNCIO_DIR = os.path.dirname(os.path.abspath(asyncio.__file__)) + os.sep
_OWN_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_STDLIB_DIRS = tuple(
    os.path.abspath(p) + os.sep
    for p in {sysconfig.get_paths().get("stdlib"), sysconfig.get_paths().get("platstdlib"),
              os.path.dirname(os.__file__)} if p
)
_SITE_MARKERS = (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep)


def is_internal_file(filename):
    """Code whose catches are not the user's: the standard library (asyncio, contextlib, ...) and ours."""
    if not filename or filename.startswith("<"):
        return True
    path = os.path.abspath(filename)
    if path.startswith(_OWN_DIR) or path.startswith(_ASYNCIO_DIR):
        return True
    if any(m in path for m in _SITE_MARKERS):
        return False
    return path.startswith(_STDLIB_DIRS)


class Handlers:
    """The exception handlers of one code object."""

    __slots__ = (
        "kinds",      # offset of a handler's PUSH_EXC_INFO -> "except" | "bare" | "finally"
        "nomatch",    # offsets of the RERAISE an except clause jumps to when no clause matched
        "entries",    # offset of the first instruction inside a handler -> offset of its PUSH_EXC_INFO
    )


by_code = {}     # id(code) -> Handlers, or False (not user code, or not analysable)
_keep = []       # the code objects of by_code, kept alive so that their ids stay theirs


def handlers(code):
    """The Handlers of ``code`` (analysed once), or False."""
    info = by_code.get(id(code))
    if info is None:
        info = by_code[id(code)] = _analyze(code)
        _keep.append(code)
    return info


def _analyze(code):
    if is_internal_file(code.co_filename):
        return False
    kinds = {}
    entries = {}
    nomatch = set()
    try:
        ins = list(dis.get_instructions(code))
        index = {i.offset: n for n, i in enumerate(ins)}
        for n, i in enumerate(ins):
            op = i.opname
            if op == "PUSH_EXC_INFO":
                nxt = ins[n + 1].opname if n + 1 < len(ins) else ""
                if nxt == "WITH_EXCEPT_START":
                    continue                      # a with/async with exit: the context manager decides
                kind = "finally"
                if nxt == "POP_TOP":
                    kind = "bare"
                else:
                    for j in range(n + 1, min(n + 16, len(ins))):
                        o = ins[j].opname
                        if o in ("CHECK_EXC_MATCH", "CHECK_EG_MATCH"):
                            kind = "except"
                            break
                        if not (o.startswith("LOAD_") or o in ("BUILD_TUPLE", "PUSH_NULL", "COPY", "NOP",
                                                                 "EXTENDED_ARG", "CACHE")):
                            break
                kinds[i.offset] = kind
                if n + 1 < len(ins):
                    entries[ins[n + 1].offset] = i.offset
            elif op == "CHECK_EXC_MATCH" and n + 1 < len(ins):
                j = ins[n + 1]
                if j.opname.startswith("POP_JUMP") and "FALSE" in j.opname:
                    t = index.get(j.argval)
                    if t is not None and ins[t].opname == "RERAISE":
                        nomatch.add(j.argval)
    except Exception:
        return False
    info = Handlers()
    info.kinds, info.nomatch, info.entries = kinds, frozenset(nomatch), entries
    return info

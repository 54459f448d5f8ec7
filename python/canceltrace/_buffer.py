"""What recording appends to: the pending records and the trace's string table.

Records are tuples in the order of Docs/TraceFormat.md's fields (the time as nanoseconds since the recording
started); the output (``_output.Recorder``) takes them in batches and encodes them elsewhere. A name goes into
the string table once, as a `string` record appended before its first use.
"""
import threading

from . import _format as F

events = []                  # pending records (list.append is atomic under the GIL)
append = events.append

FALLBACK = "<string limit reached>"


class StringTable:
    """Text -> string id for one trace. Stays inside the format's limits: past them, every new text reads as
    FALLBACK."""

    __slots__ = ("ids", "_lock", "_count", "_bytes")

    def __init__(self):
        self.ids = {}            # hot paths read this dict directly (it is cleared, never replaced)
        self._lock = threading.Lock()
        self._count = 0
        self._bytes = 0

    def reset(self):
        """A new trace: no string defined yet."""
        self.ids.clear()
        self._count = self._bytes = 0

    def sid(self, text):
        """The id of ``text``, defining it (before its first use) on first sight; 0 for an empty text."""
        sid = self.ids.get(text)
        if sid is not None:
            return sid
        if not text:
            return 0
        return self._define(text)

    def _define(self, text):
        with self._lock:
            sid = self.ids.get(text)
            if sid is not None:
                return sid
            data = F.bounded_utf8(text)
            if self._count + 2 >= F.MAX_STRING_COUNT or self._bytes + len(data) + 64 >= F.MAX_STRING_BYTES:
                if text == FALLBACK:
                    return 0
                return self.ids.get(FALLBACK) or self._add(FALLBACK, FALLBACK.encode())
            return self._add(text, data)

    def _add(self, text, data):
        self._count += 1
        self._bytes += len(data)
        sid = self._count
        append((F.STRING, sid, data))
        self.ids[text] = sid
        return sid


strings = StringTable()
sid = strings.sid


def reset():
    """A new trace: nothing pending, no string defined."""
    del events[:]
    strings.reset()

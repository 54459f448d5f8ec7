"""Trace format v1 constants and the low-level chunk writer (see Docs/TraceFormat.md).

Standard library only. Every varint is unsigned LEB128; chunk headers are little-endian.
"""
import os
import struct
import zlib

MAGIC = b"\x89CTRACE\n"
MAJOR = 1
MINOR = 1                            # 1.1: extension kinds site (0x80), signal (0x81)
HEADER = MAGIC + struct.pack("<HHI", MAJOR, MINOR, 0)
CHUNK_MARKER = b"CTCK"
CHUNK_RAW_TARGET = 64 << 10          # recorders cut chunks at 64 KiB raw
MAX_CHUNK_RAW = 16 << 20
MAX_STRING_LENGTH = 65535
MAX_STRING_COUNT = 1 << 20
MAX_STRING_BYTES = 64 << 20

# Core kinds
INFO = 0x01
STRING = 0x02
CLOSE = 0x03
SPAWN = 0x10
CANCEL = 0x11
CAUGHT = 0x12
CLEANUP_BEGIN = 0x13
CLEANUP_END = 0x14
RETHROW = 0x15
END = 0x16
UNCANCEL = 0x17
DROPPED = 0x18
MARK = 0x19
# Extension kinds (format 1.1): body = length:varint, then the time delta and fields as in a core record
SITE = 0x80
SIGNAL = 0x81

KIND_NAMES = {
    INFO: "info", STRING: "string", CLOSE: "close", SPAWN: "spawn", CANCEL: "cancel",
    CAUGHT: "caught", CLEANUP_BEGIN: "cleanup-begin", CLEANUP_END: "cleanup-end",
    RETHROW: "rethrow", END: "end", UNCANCEL: "uncancel", DROPPED: "dropped", MARK: "mark", SITE: "site",
    SIGNAL: "signal",
}
# Field names after the time delta, in order (string records are special: id, utf8).
KIND_FIELDS = {
    INFO: ("key", "value"),
    CLOSE: (),
    SPAWN: ("task", "parent", "name", "how"),
    CANCEL: ("task", "by", "reason", "message"),
    CAUGHT: ("task", "error"),
    CLEANUP_BEGIN: ("task",),
    CLEANUP_END: ("task", "result", "error"),
    RETHROW: ("task",),
    END: ("task", "outcome", "error"),
    UNCANCEL: ("task",),
    DROPPED: ("count",),
    MARK: ("task", "label"),
    SITE: ("task", "location"),
    SIGNAL: ("task", "what", "via"),
}
STRING_FIELDS = {
    INFO: ("key", "value"), SPAWN: ("name",), CANCEL: ("message",), CAUGHT: ("error",),
    CLEANUP_END: ("error",), END: ("error",), MARK: ("label",),
    SITE: ("location",), SIGNAL: ("via",),
}

# Enumerations
HOW_UNSTRUCTURED, HOW_CHILD, HOW_DETACHED, HOW_GROUP_CHILD, HOW_ROOT = range(5)
HOW_NAMES = ("unstructured", "child", "detached", "group-child", "root")
REASON_UNKNOWN, REASON_EXPLICIT, REASON_TIMEOUT, REASON_SIBLING, REASON_PARENT, REASON_SHUTDOWN = range(6)
REASON_NAMES = ("unknown", "explicit", "timeout", "sibling-failure", "parent", "shutdown")
RESULT_OK, RESULT_THREW = 0, 1
RESULT_NAMES = ("ok", "threw")
OUTCOME_RETURNED, OUTCOME_CANCELLED, OUTCOME_FAILED = 0, 1, 2
OUTCOME_NAMES = ("returned", "cancelled", "failed")
SIGNAL_FLAG, SIGNAL_RECEIVED, SIGNAL_STOPPED = 0, 1, 2
SIGNAL_NAMES = ("flag", "received", "stopped")

# Enumerations by (kind, field): their value names, and the value a reader reads in place of one it does not
# know (the one that claims least; Docs/TraceFormat.md "Unknown enumeration values").
ENUMS = {
    ("spawn", "how"): (HOW_NAMES, HOW_UNSTRUCTURED),
    ("cancel", "reason"): (REASON_NAMES, REASON_UNKNOWN),
    ("cleanup-end", "result"): (RESULT_NAMES, RESULT_THREW),
    ("end", "outcome"): (OUTCOME_NAMES, OUTCOME_FAILED),
    ("signal", "what"): (SIGNAL_NAMES, SIGNAL_FLAG),
}


def varint(value):
    """Unsigned LEB128 encoding of ``value`` (0 <= value < 2**64)."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


VARINT_TABLE_SIZE = 1 << 14
_tables = None  # (encodings of 0 ..< 2**14, first two bytes of larger values by their low 14 bits); see varint_tables


def varint_tables():
    """``(table, lo14)``: ``table[v]`` is ``varint(v)`` for ``v < 2**14`` (most fields: ids, enums, short deltas);
    a value ``v >= 2**14`` encodes as ``lo14[v & 0x3FFF] + varint(v >> 14)``.

    Built at the first encode, not at import: only a writer needs them, and ``import canceltrace`` (every pytest
    run, through the plugin) would otherwise pay for them. Built by splitting laid-out byte strings with ``struct``
    rather than by 2 × 16,384 Python-level encodings (about a tenth of the time)."""
    global _tables
    if _tables is None:
        n = VARINT_TABLE_SIZE
        pairs = bytearray(2 * n)                         # value i at [2i, 2i + 2): low 7 bits | 0x80, then i >> 7
        pairs[0::2] = bytes(range(0x80, 0x100)) * 128
        pairs[1::2] = b"".join(bytes((h,)) * 128 for h in range(128))
        # struct.Struct, not struct.unpack: the module's format cache would keep the 16,384-code formats alive
        table = struct.Struct("1s" * 128).unpack(bytes(range(128)))
        table += struct.Struct("2s" * (n - 128)).unpack(pairs[256:])
        pairs[1::2] = b"".join(bytes((h,)) * 128 for h in range(0x80, 0x100))   # continuation bit on the second
        _tables = (table, struct.Struct("2s" * n).unpack(pairs))
    return _tables


def bounded_utf8(text):
    """UTF-8 bytes of ``text`` cut to at most MAX_STRING_LENGTH bytes at a scalar boundary."""
    data = text.encode("utf-8", "replace")
    if len(data) <= MAX_STRING_LENGTH:
        return data
    end = MAX_STRING_LENGTH
    while end > 0 and (data[end] & 0xC0) == 0x80:
        end -= 1
    return data[:end]


def encode_events(events, out, last_time=0):
    """Append the records for ``events`` (tuples) to bytearray ``out``; returns the new last time.

    Tuples are ``(STRING, id, utf8_bytes)`` or ``(kind, time, field, ...)``.
    """
    table, lo = _tables or varint_tables()
    size = VARINT_TABLE_SIZE
    big = 1 << 28
    for ev in events:
        kind = ev[0]
        out.append(kind)
        if kind == STRING:
            data = ev[2]
            out += table[ev[1]] if ev[1] < size else varint(ev[1])
            n = len(data)
            out += table[n] if n < size else varint(n)
            out += data
            continue
        if kind >= 0x80:
            # An extension record: the same body as a core record, after its length; its time delta moves the
            # chunk's clock like a core record's (as the Swift reader and recorder do).
            body = bytearray()
            last_time = encode_events(((0,) + ev[1:],), body, last_time)
            out += varint(len(body) - 1)
            out += body[1:]
            continue
        t = ev[1]
        if t > last_time:
            d = t - last_time
            last_time = t
            if d < size:
                out += table[d]
            elif d < big:
                out += lo[d & 0x3FFF]
                out += table[d >> 14]
            else:
                out += varint(d)
        else:
            out.append(0)
        for f in ev[2:]:
            if f < size:
                out += table[f]
            elif f < big:
                out += lo[f & 0x3FFF]
                out += table[f >> 14]
            else:
                out += varint(f)
    return last_time


def frame_chunk(payload, level=6):
    """The bytes of one chunk holding ``payload`` (raw records)."""
    comp = zlib.compress(bytes(payload), level)
    lengths = struct.pack("<II", len(comp), len(payload))
    crc = zlib.crc32(comp, zlib.crc32(lengths)) & 0xFFFFFFFF
    return CHUNK_MARKER + lengths + struct.pack("<I", crc) + comp


class FileSink:
    """Writes the header, then each chunk with a single write() call (crash-safe framing)."""

    def __init__(self, path, fd=None):
        """Create ``path`` and write the header; or, given ``fd``, go on writing a file already started."""
        self.path = path
        self.bytes_written = 0
        if fd is not None:
            self.fd = fd
            return
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
        self.fd = os.open(path, flags, 0o644)
        self.write(HEADER)

    def write(self, data):
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
        self.bytes_written += len(data)

    def close(self):
        if self.fd >= 0:
            try:
                os.close(self.fd)
            finally:
                self.fd = -1


class ChunkWriter:
    """Encodes event tuples into chunks of about ``target`` raw bytes; each chunk goes to the sink in one write.
    Used in the recording process, or in the writer process (see _writer.py)."""

    def __init__(self, sink, level=1, target=CHUNK_RAW_TARGET):
        self.sink = sink
        self.level = level
        self.target = target
        self.chunk = bytearray()
        self.last = 0

    def add(self, events):
        """Encode ``events``, writing each chunk that reaches the target. Raises OSError from the sink."""
        step = 64
        for i in range(0, len(events), step):
            self.last = encode_events(events[i:i + step], self.chunk, self.last)
            if len(self.chunk) >= self.target:
                self.flush()

    def flush(self):
        """Write the partial chunk, if any (so that a crash loses at most what came after)."""
        if self.chunk:
            payload = self.chunk
            self.chunk = bytearray()
            self.last = 0
            self.sink.write(frame_chunk(payload, self.level))

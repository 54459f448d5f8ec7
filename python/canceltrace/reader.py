"""A small, independent reader for trace format v1 (used by the tests and ``python -m canceltrace events``).

It follows Docs/TraceFormat.md: it yields every event of every intact chunk, reports truncation, damaged
chunks (with their offset) and undecodable records, and fails outright only on an empty file, a short file,
a missing magic or an unsupported major version.
"""
import struct
import zlib

from . import _format as F


class TraceError(Exception):
    """The file cannot be read at all (not a trace, wrong major version, empty)."""


class Trace:
    def __init__(self):
        self.major = None
        self.minor = None
        self.info = []            # [(key, value)]
        self.events = []          # [dict] in file order, strings resolved, enums named
        self.notices = []         # human-readable problems
        self.closed = False
        self.truncated = False
        self.chunks = 0
        self.strings = {0: ""}

    def tasks(self):
        return {e["task"]: e for e in self.events if e["kind"] == "spawn"}


def _varint(buf, pos):
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("varint runs past the payload")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ValueError("varint too long")


def _enum_name(kind, field, value):
    """The name of enumeration value ``value``; an unknown one reads as the field's fallback, as in every reader."""
    spec = F.ENUMS.get((kind, field))
    if spec is None:
        return value
    names, fallback = spec
    return names[value] if value < len(names) else names[fallback]


def read_bytes(data):
    tr = Trace()
    if len(data) == 0:
        raise TraceError("empty file")
    if len(data) < 16:
        raise TraceError("file shorter than the trace header")
    if data[:8] != F.MAGIC:
        raise TraceError("not a CancelTrace file (bad magic)")
    tr.major, tr.minor, _ = struct.unpack_from("<HHI", data, 8)
    if tr.major != F.MAJOR:
        raise TraceError("unsupported major version %d" % tr.major)
    pos = 16
    last_chunk_time = 0
    while pos < len(data):
        if len(data) - pos < 16:
            tr.truncated = True
            tr.notices.append("truncated: the file ends inside the chunk at byte %d" % pos)
            break
        if data[pos:pos + 4] != F.CHUNK_MARKER:
            nxt = data.find(F.CHUNK_MARKER, pos + 1)
            tr.notices.append("damaged chunk at byte %d: no chunk marker" % pos)
            if nxt < 0:
                break
            pos = nxt
            continue
        clen, rlen, crc = struct.unpack_from("<III", data, pos + 4)
        if not (1 <= clen <= F.MAX_CHUNK_RAW + (64 << 10)) or not (1 <= rlen <= F.MAX_CHUNK_RAW):
            tr.notices.append("damaged chunk at byte %d: lengths out of range" % pos)
            nxt = data.find(F.CHUNK_MARKER, pos + 4)
            if nxt < 0:
                break
            pos = nxt
            continue
        end = pos + 16 + clen
        if end > len(data):
            tr.truncated = True
            tr.notices.append("truncated: the file ends inside the chunk at byte %d" % pos)
            break
        payload = data[pos + 16:end]
        if zlib.crc32(payload, zlib.crc32(data[pos + 4:pos + 12])) & 0xFFFFFFFF != crc:
            tr.notices.append("damaged chunk at byte %d: checksum mismatch" % pos)
            pos = end if data[end:end + 4] == F.CHUNK_MARKER or end == len(data) else data.find(F.CHUNK_MARKER, pos + 4)
            if pos < 0:
                break
            continue
        try:
            d = zlib.decompressobj()
            raw = d.decompress(payload, rlen + 1)
            if len(raw) != rlen or not d.eof:
                raise zlib.error("inflates to %d bytes, expected %d" % (len(raw), rlen))
        except zlib.error as e:
            tr.notices.append("damaged chunk at byte %d: %s" % (pos, e))
            pos = end
            continue
        tr.chunks += 1
        last_chunk_time = _decode_chunk(tr, raw, pos, last_chunk_time)
        pos = end
    if not tr.closed and not tr.truncated:
        tr.notices.append("the trace was not closed (the process stopped before the recorder finished)")
    return tr


def _decode_chunk(tr, raw, chunk_offset, floor):
    t = 0
    pos = 0
    raised = False
    while pos < len(raw):
        start = pos
        kind = raw[pos]
        pos += 1
        try:
            if kind == F.STRING:
                sid, pos = _varint(raw, pos)
                n, pos = _varint(raw, pos)
                if n > F.MAX_STRING_LENGTH or pos + n > len(raw):
                    raise ValueError("string over the limit or past the payload")
                tr.strings[sid] = raw[pos:pos + n].decode("utf-8", "replace")
                pos += n
                continue
            body_end = None
            if kind >= 0x80:
                n, pos = _varint(raw, pos)
                if kind not in F.KIND_FIELDS:
                    pos += n
                    tr.notices.append("skipped extension record 0x%02x" % kind)
                    continue
                body_end = pos + n
            fields = F.KIND_FIELDS.get(kind)
            if fields is None:
                raise ValueError("unknown core kind 0x%02x" % kind)
            delta, pos = _varint(raw, pos)
            t += delta                     # extension records move the chunk's clock too
            values = []
            for _ in fields:
                v, pos = _varint(raw, pos)
                values.append(v)
            if body_end is not None:
                if pos > body_end:
                    raise ValueError("extension record longer than its length")
                pos = body_end             # a newer writer may add fields: skip them
        except ValueError as e:
            tr.notices.append("undecodable record in chunk at byte %d, payload offset %d: %s" % (chunk_offset, start, e))
            break
        # A time before the last one given out is raised to it; the chunk's deltas still count from its own times.
        shown = t
        if t < floor:
            if not raised:
                tr.notices.append("times went backwards in chunk at byte %d" % chunk_offset)
                raised = True
            shown = floor
        floor = shown
        name = F.KIND_NAMES[kind]
        ev = {"kind": name, "time": shown}
        string_fields = F.STRING_FIELDS.get(kind, ())
        for fname, v in zip(fields, values):
            if fname in string_fields:
                ev[fname] = tr.strings.get(v, "<lost string #%d>" % v)
            else:
                ev[fname] = _enum_name(name, fname, v)
        if kind == F.INFO:
            tr.info.append((ev["key"], ev["value"]))
        if kind == F.CLOSE:
            tr.closed = True
        tr.events.append(ev)
    return floor


def read(path):
    with open(path, "rb") as f:
        return read_bytes(f.read())

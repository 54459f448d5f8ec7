"""A small, independent reader for trace format v1 (used by the tests and ``python -m canceltrace events``).

It follows Docs/TraceFormat.md: it yields every event of every intact chunk, reports truncation, damaged
chunks (with their offset) and undecodable records, and fails outright only on an empty file, a short file,
a missing magic, an unsupported major version or a string table over its limit. It finds chunks and splits
records as the Swift reader does (TraceReader, ChunkReader, RecordScanner), and its notices and errors are
that reader's texts: tests/test_vectors_swift.py compares them with `canceltrace check --format json`.
"""
import struct
import zlib

from . import _format as F


MAX_NOTICES = 1000      # damage and backwards-time notices kept (TraceReader.maxNotices); more are only counted
MAX_INFO_ITEMS = 1024   # info records kept in ``Trace.info`` (TraceLayout.maxInfoItems); all stay in ``events``


class TraceError(Exception):
    """The file cannot be read at all (not a trace, wrong major version, empty): the Swift reader's
    ``TraceReadError`` texts."""


class Notice(str):
    """Something the reader noticed and recovered from, in the Swift reader's words (``ReadNotice``), so that
    ``python -m canceltrace events`` and ``canceltrace`` say the same about the same file."""
    damage = False          # data was lost to a damaged chunk or record (``ReadNotice.isDamage``)


class DamageNotice(Notice):
    damage = True


class Trace:
    def __init__(self):
        self.major = None
        self.minor = None
        self.info = []            # [(key, value)]
        self.events = []          # [dict] in file order, strings resolved, enums named
        self.notices = []         # [Notice] in the order the Swift reader gives them
        self.elided_notices = 0   # damage and backwards-time notices past MAX_NOTICES
        self.damaged_chunks = 0   # chunks skipped wholly or from a malformed record on, including elided ones
        self.closed = False
        self.truncated = False
        self.chunks = 0
        self.strings = {0: ""}
        self._string_bytes = 0
        self._skipped_kinds = {}  # unknown extension kind -> records skipped

    def tasks(self):
        return {e["task"]: e for e in self.events if e["kind"] == "spawn"}

    def _note(self, notice):
        """Keeps a damage or backwards-time notice, or counts it once MAX_NOTICES are kept (as the Swift reader)."""
        if notice.damage:
            self.damaged_chunks += 1
        if len(self.notices) < MAX_NOTICES:
            self.notices.append(notice)
        else:
            self.elided_notices += 1


class _Malformed(Exception):
    """A record that cannot be decoded (``RecordScanner.Malformed``); its text is the Swift reader's reason."""


def _varint(buf, pos, end):
    """``(value, next position)``, or None when the varint runs past ``end`` or over 64 bits."""
    result = 0
    shift = 0
    while pos < end:
        b = buf[pos]
        pos += 1
        if shift == 63 and b > 1:
            return None
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            return None
    return None


def _timed(buf, pos, end, count):
    """The time delta and ``count`` fields at ``pos``: ``(values, next position)``, or None past ``end``."""
    values = []
    for _ in range(count + 1):
        r = _varint(buf, pos, end)
        if r is None:
            return None
        values.append(r[0])
        pos = r[1]
    return values, pos


def _guess_format(prefix):
    """A name for common non-trace inputs (as the Swift reader's), so the error says what the file is."""
    if prefix.startswith(b"\x1f\x8b"):
        return "a gzip file"
    if len(prefix) >= 2 and prefix[0] == 0x78 and prefix[1] in (0x01, 0x5E, 0x9C, 0xDA):
        return "a bare zlib stream"
    if prefix.startswith(b"PK"):
        return "a zip file"
    if prefix.startswith(b"\x7fELF"):
        return "an ELF executable"
    if prefix[:1] in (b"{", b"["):
        return "JSON text"
    if all(b in (9, 10, 13) or 32 <= b < 127 or b >= 0x80 for b in prefix):
        try:
            prefix.decode("utf-8")
            return "a text file"
        except UnicodeDecodeError:
            pass
    return None


def _enum_name(kind, field, value):
    """The name of enumeration value ``value``; an unknown one reads as the field's fallback, as in every reader."""
    spec = F.ENUMS.get((kind, field))
    if spec is None:
        return value
    names, fallback = spec
    return names[value] if value < len(names) else names[fallback]


def read_bytes(data):
    """Every event of every intact chunk of the trace ``data``, with the notices the Swift reader gives for it.
    Raises TraceError when it is not a trace of this major version."""
    tr = Trace()
    size = len(data)
    magic = F.MAGIC
    if size == 0:
        raise TraceError("empty file, not a trace")
    if data[:len(magic)] != magic:
        if data[:len(magic)] == magic[:size]:
            raise TraceError("not a trace: only %d bytes, shorter than the 16-byte header" % size)
        looks = _guess_format(bytes(data[:512]))
        expected = "expected the bytes \\x89CTRACE\\n at byte 0"
        raise TraceError("not a trace: " + ("this looks like %s (%s)" % (looks, expected) if looks else expected))
    if size < 16:
        raise TraceError("not a trace: only %d bytes, shorter than the 16-byte header" % size)
    tr.major, tr.minor, _ = struct.unpack_from("<HHI", data, 8)
    if tr.major != F.MAJOR:
        raise TraceError("unsupported trace format version %d.%d: this reader understands %d.x"
                         % (tr.major, tr.minor, F.MAJOR))
    if tr.minor > F.MINOR:
        tr.notices.append(Notice("written by format version %d.%d, newer than this reader's %d.%d; unknown records are "
                                 "skipped" % (tr.major, tr.minor, F.MAJOR, F.MINOR)))
    marker = F.CHUNK_MARKER

    def corrupt(offset, reason):
        tr._note(DamageNotice("corrupt chunk at byte %d: %s; skipped it and read on" % (offset, reason)))

    def resync(offset, reason):
        """Reports damage at ``offset``; where the next chunk marker after it is (or the end of the file)."""
        corrupt(offset, reason)
        nxt = data.find(marker, offset + 1)
        return size if nxt < 0 else nxt

    def truncated(offset):
        tr.truncated = True
        tr.notices.append(Notice("truncated: the file ends inside the chunk at byte %d; everything before it was "
                                 "read" % offset))

    # Chunks, as ChunkReader.nextChunk finds them.
    pos = 16
    last_time = 0
    rejected = 0                        # bytes of candidate chunks whose CRC did not match
    while pos < size:
        offset = pos
        if size - pos < 16:
            truncated(offset)
            break
        if data[pos:pos + 4] != marker:
            pos = resync(offset, "no chunk marker")
            continue
        clen, rlen, crc = struct.unpack_from("<III", data, pos + 4)
        if not (0 < clen <= F.MAX_CHUNK_RAW + (64 << 10) and 0 < rlen <= F.MAX_CHUNK_RAW):
            pos = resync(offset, "implausible lengths (compressed %d, raw %d)" % (clen, rlen))
            continue
        end = pos + 16 + clen
        if end > size:
            # The file ends before the declared end: truncation, unless the length was damaged and a chunk follows.
            if data.find(marker, pos + 1) >= 0:
                pos = resync(offset, "its length runs past the end of the file")
                continue
            truncated(offset)
            break
        payload = data[pos + 16:end]
        if zlib.crc32(payload, zlib.crc32(data[pos + 4:pos + 12])) & 0xFFFFFFFF != crc:
            # Go on after the declared end when a marker (or the end of the file) is there, or when the bytes of
            # failed candidates are over the Swift reader's budget; else look for the next marker.
            rejected += end - pos
            if end == size or data[end:end + 4] == marker or rejected > 16 * offset + (256 << 20):
                corrupt(offset, "CRC mismatch")
                pos = end
            else:
                pos = resync(offset, "CRC mismatch")
            continue
        pos = end
        raw, failure = _inflate(payload, rlen)
        if failure:
            corrupt(offset, failure)
            continue
        tr.chunks += 1
        last_time = _decode_chunk(tr, raw, offset, last_time)
    for kind in sorted(tr._skipped_kinds):
        count = tr._skipped_kinds[kind]
        tr.notices.append(Notice("skipped %d record%s of unknown kind 0x%x (written by a newer recorder)"
                                 % (count, "" if count == 1 else "s", kind)))
    if not tr.closed and not tr.truncated:
        tr.notices.append(Notice("truncated: the trace was not closed by its recorder (process stopped early?); "
                                 "read %d bytes" % size))
    return tr


def _inflate(payload, rlen):
    """``(raw, None)``, or ``(None, reason)`` in the Swift reader's words (zlib's ``uncompress`` there)."""
    d = zlib.decompressobj()
    try:
        raw = d.decompress(payload, rlen + 1)
    except zlib.error:
        return None, "invalid zlib data"
    if len(raw) > rlen or (len(raw) == rlen and not d.eof):
        return None, "inflates to more than its declared %d bytes" % rlen
    if not d.eof:
        return None, "invalid zlib data"
    if len(raw) < rlen:
        return None, "inflates to %d bytes, not the declared %d" % (len(raw), rlen)
    return raw, None


def _decode_chunk(tr, raw, chunk_offset, floor):
    """Appends the events of one inflated chunk; returns the last time given out. Records are split as
    RecordScanner splits them, with its reasons for the ones it cannot decode."""
    t = 0
    pos = 0
    end = len(raw)
    raised = False
    while pos < end:
        start = pos
        kind = raw[pos]
        pos += 1
        try:
            if kind >= 0x80:
                r = _varint(raw, pos, end)
                if r is None or r[0] > end - r[1]:
                    raise _Malformed("extension record runs past the chunk")
                body_end = r[1] + r[0]
                fields = F.KIND_FIELDS.get(kind)
                if fields is None:
                    tr._skipped_kinds[kind] = tr._skipped_kinds.get(kind, 0) + 1
                    pos = body_end
                    continue
                r = _timed(raw, r[1], body_end, len(fields))
                if r is None:
                    raise _Malformed("%s record shorter than its fields" % F.KIND_NAMES[kind])
                values = r[0]
                pos = body_end             # a newer writer may add fields: skip them
            elif kind == F.STRING:
                r = _varint(raw, pos, end)
                r2 = r and _varint(raw, r[1], end)
                if not r2:
                    raise _Malformed("string record runs past the chunk")
                sid, (n, pos) = r[0], r2
                if n > F.MAX_STRING_LENGTH:
                    raise _Malformed("string #%d is %d bytes, over the %d-byte limit" % (sid, n, F.MAX_STRING_LENGTH))
                if n > end - pos:
                    raise _Malformed("string record runs past the chunk")
                if not 0 < sid <= F.MAX_STRING_COUNT:
                    raise _Malformed("string id %d out of range" % sid)
                text = raw[pos:pos + n].decode("utf-8", "replace")
                pos += n
                old = tr.strings.get(sid)
                tr._string_bytes += len(text.encode("utf-8")) - (len(old.encode("utf-8")) if old else 0)
                if tr._string_bytes > F.MAX_STRING_BYTES:
                    raise TraceError("string table exceeds %d strings or %d MiB at byte %d"
                                     % (F.MAX_STRING_COUNT, F.MAX_STRING_BYTES >> 20, chunk_offset))
                tr.strings[sid] = text
                continue
            else:
                fields = F.KIND_FIELDS.get(kind)
                if fields is None:
                    raise _Malformed("unknown event kind 0x%x" % kind)
                r = _timed(raw, pos, end, len(fields))
                if r is None:
                    raise _Malformed("record runs past the chunk")
                values, pos = r
            if t + values[0] >= 1 << 64:
                raise _Malformed("time overflows 64 bits")
        except _Malformed as e:
            tr._note(DamageNotice("malformed record in the chunk at byte %d (payload byte %d): %s; skipped the rest "
                                  "of that chunk" % (chunk_offset, start, e)))
            break
        t += values[0]                     # extension records move the chunk's clock too
        # A time before the last one given out is raised to it; the chunk's deltas still count from its own times.
        shown = t
        if t < floor:
            if not raised:
                tr._note(Notice("timestamps went backwards in the chunk at byte %d; raised them to the previous "
                                "time" % chunk_offset))
                raised = True
            shown = floor
        floor = shown
        name = F.KIND_NAMES[kind]
        ev = {"kind": name, "time": shown}
        string_fields = F.STRING_FIELDS.get(kind, ())
        for fname, v in zip(fields, values[1:]):
            if fname in string_fields:
                ev[fname] = tr.strings.get(v, "<lost string #%d>" % v)
            else:
                ev[fname] = _enum_name(name, fname, v)
        if kind == F.INFO and len(tr.info) < MAX_INFO_ITEMS:
            tr.info.append((ev["key"], ev["value"]))
        if kind == F.CLOSE:
            tr.closed = True
        tr.events.append(ev)
    return floor


def read(path):
    with open(path, "rb") as f:
        return read_bytes(f.read())

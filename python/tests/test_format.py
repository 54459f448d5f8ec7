"""The writer produces exactly the bytes of Docs/TraceFormat.md, and the reader survives damage."""
import os
import subprocess
import sys
import struct
import zlib

import pytest

from canceltrace import _format as F
from canceltrace.reader import TraceError, read_bytes


def test_varint():
    assert F.varint(0) == b"\x00"
    assert F.varint(127) == b"\x7f"
    assert F.varint(128) == b"\x80\x01"
    assert F.varint(1_000_000) == bytes.fromhex("C0843D")
    assert F.varint(2 ** 64 - 1) == b"\xff" * 9 + b"\x01"
    for v in (0, 5, 16383, 16384, 2 ** 35 + 7):
        out = bytearray()
        F.encode_events([(F.DROPPED, 0, v)], out)
        assert bytes(out[2:]) == F.varint(v)


def test_varint_tables_match_varint_for_every_entry():
    table, lo14 = F.varint_tables()
    assert len(table) == len(lo14) == F.VARINT_TABLE_SIZE
    assert list(table) == [F.varint(v) for v in range(F.VARINT_TABLE_SIZE)]
    for low in range(F.VARINT_TABLE_SIZE):
        for high in (1, 127, 128, 2 ** 40):
            v = (high << 14) | low
            assert lo14[low] + F.varint(high) == F.varint(v)


def test_importing_canceltrace_builds_no_varint_table_and_loads_no_analyzer_lookup():
    # Every pytest run imports canceltrace through the plugin entry point; only a writer encodes (and in the
    # writer process by default), so the 2 x 16,384-entry tables wait for the first encode; the analyzer lookup's
    # modules wait for the lookup.
    code = ("import sys; before = set(sys.modules); import canceltrace; from canceltrace import _format as F; "
            "assert F._tables is None, 'tables built at import'; "
            "loaded = {'shutil', 'sysconfig'} & (set(sys.modules) - before); assert not loaded, loaded; "
            "F.encode_events([(F.DROPPED, 0, 1)], bytearray()); assert F._tables is not None, 'not after encode'")
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(F.__file__)))   # the canceltrace under test
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, (package_root, os.environ.get("PYTHONPATH")))))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr


def test_header_bytes():
    assert F.HEADER == bytes.fromhex("89 43 54 52 41 43 45 0A 01 00 01 00 00 00 00 00")   # v1.1


def test_spec_example_chunk():
    # "An example" in Docs/TraceFormat.md
    out = bytearray()
    last = F.encode_events([
        (F.STRING, 1, b"main"),
        (F.SPAWN, 1_000_000, 1, 0, 1, F.HOW_ROOT),
        (F.END, 3_000_000, 1, F.OUTCOME_RETURNED, 0),
        (F.CLOSE, 3_000_000),
    ], out)
    assert bytes(out) == bytes.fromhex("02 01 04 6D 61 69 6E 10 C0 84 3D 01 00 01 04 16 80 89 7A 01 00 00 03 00")
    assert last == 3_000_000
    chunk = F.frame_chunk(out)
    assert chunk[:4] == b"CTCK"
    clen, rlen, crc = struct.unpack_from("<III", chunk, 4)
    assert rlen == len(out) and clen == len(chunk) - 16
    assert crc == zlib.crc32(chunk[16:], zlib.crc32(chunk[4:12])) & 0xFFFFFFFF
    assert zlib.decompress(chunk[16:]) == bytes(out)


def _trace(chunks):
    data = F.HEADER
    for events in chunks:
        out = bytearray()
        F.encode_events(events, out)
        data += F.frame_chunk(out)
    return data


def test_round_trip_every_kind():
    evs = [
        (F.STRING, 1, b"k"), (F.STRING, 2, "v\u00e9".encode()),
        (F.INFO, 0, 1, 2),
        (F.STRING, 3, b"main"),
        (F.SPAWN, 10, 1, 0, 3, F.HOW_ROOT),
        (F.SPAWN, 20, 2, 1, 3, F.HOW_GROUP_CHILD),
        (F.CANCEL, 30, 2, 1, F.REASON_TIMEOUT, 2),
        (F.CAUGHT, 31, 2, 3),
        (F.CLEANUP_BEGIN, 32, 2),
        (F.CLEANUP_END, 40, 2, F.RESULT_THREW, 1),
        (F.RETHROW, 41, 2),
        (F.UNCANCEL, 42, 2),
        (F.END, 50, 2, F.OUTCOME_CANCELLED, 3),
        (F.DROPPED, 51, 7),
        (F.MARK, 52, 1, 1),
        (F.END, 60, 1, 9, 0),           # unknown outcome reads as failed
        (F.CLOSE, 61),
    ]
    tr = read_bytes(_trace([evs[:6], evs[6:]]))
    assert tr.closed and not tr.truncated and tr.chunks == 2 and tr.notices == []
    kinds = [e["kind"] for e in tr.events]
    assert kinds == ["info", "spawn", "spawn", "cancel", "caught", "cleanup-begin", "cleanup-end", "rethrow",
                     "uncancel", "end", "dropped", "mark", "end", "close"]
    assert tr.info == [("k", "v\u00e9")]
    assert tr.events[3] == {"kind": "cancel", "time": 30, "task": 2, "by": 1, "reason": "timeout", "message": "v\u00e9"}
    assert tr.events[6]["result"] == "threw" and tr.events[6]["error"] == "k"
    assert tr.events[12]["outcome"] == "failed"
    assert tr.events[2]["how"] == "group-child"


def test_truncated_and_damaged():
    data = _trace([[(F.STRING, 1, b"a"), (F.SPAWN, 5, 1, 0, 1, 4)], [(F.END, 9, 1, 0, 0)], [(F.CLOSE, 10)]])
    tr = read_bytes(data[:-3])
    assert tr.truncated and [e["kind"] for e in tr.events] == ["spawn", "end"]
    # flip a payload byte of the second chunk: its CRC fails, the others still read
    first_len = struct.unpack_from("<I", data, 20)[0]
    second = 16 + 16 + first_len
    bad = bytearray(data)
    bad[second + 17] ^= 0xFF
    tr = read_bytes(bytes(bad))
    assert tr.notices[0] == "corrupt chunk at byte %d: CRC mismatch; skipped it and read on" % second
    assert [e["kind"] for e in tr.events] == ["spawn", "close"]


@pytest.mark.parametrize("data,msg", [(b"", "empty file"), (b"\x89CTRACE", "shorter than the 16-byte header"),
                                      (b"x" * 20, "looks like a text file"), (b"\x00" * 20, "expected the bytes"),
                                      (F.MAGIC + struct.pack("<HHI", 2, 0, 0), "version 2.0")])
def test_reader_rejects(data, msg):
    with pytest.raises(TraceError, match=msg):
        read_bytes(data)


def test_long_strings_are_bounded():
    s = "\u00e9" * 40000          # 80000 bytes
    b = F.bounded_utf8(s)
    assert len(b) <= F.MAX_STRING_LENGTH
    b.decode("utf-8")


def test_site_extension_record_round_trip():
    # format 1.1: kind 0x80, body = length, then time delta and fields like a core record; readers skip trailing
    # fields a newer writer may add.
    out = bytearray()
    F.encode_events([(F.STRING, 1, b"a.py:3 (f)"), (F.SPAWN, 5, 1, 0, 1, 4), (F.SITE, 7, 1, 1)], out)
    assert bytes(out[-5:]) == bytes([0x80, 3, 2, 1, 1])
    from canceltrace.reader import read_bytes
    data = F.HEADER + F.frame_chunk(out + bytes([0x80, 4, 0, 1, 1, 9]) + bytes([0xA1, 2, 0, 0]))
    tr = read_bytes(data)
    sites = [e for e in tr.events if e["kind"] == "site"]
    assert sites == [{"kind": "site", "time": 7, "task": 1, "location": "a.py:3 (f)"},
                     {"kind": "site", "time": 7, "task": 1, "location": "a.py:3 (f)"}]    # delta 0 from the site
    assert any("0xa1" in n for n in tr.notices)   # an extension kind this reader does not know: skipped


def test_extension_time_moves_the_chunk_clock():
    # As in the Swift reader: an extension's time delta counts like a core record's.
    out = bytearray()
    F.encode_events([(F.SPAWN, 5, 1, 0, 0, 4), (F.SITE, 9, 1, 0), (F.END, 12, 1, 0, 0)], out)
    assert bytes(out) == bytes([F.SPAWN, 5, 1, 0, 0, 4, 0x80, 3, 4, 1, 0, F.END, 3, 1, 0, 0])
    from canceltrace.reader import read_bytes
    tr = read_bytes(F.HEADER + F.frame_chunk(out))
    assert [(e["kind"], e["time"]) for e in tr.events] == [("spawn", 5), ("site", 9), ("end", 12)]

"""Traces written by the Swift writer (Tests/Vectors/swift, made by Tests/TraceFormatTests/SwiftVectorTests.swift)
decode here to the events listed beside them: the other direction of Tests/Vectors/python. They hold what this
package's recorder never writes: dropped, every enumeration value and values out of range (each field's fallback),
site and signal with trailing fields, an unknown extension kind, times going backwards across chunks, a long name.

The reader's notices and errors are the Swift reader's texts: checked against each listing, and against what
`canceltrace check --format json` (the Swift reader itself) says about these vectors and about a corpus of
damaged traces made here, one per kind of damage the readers recover from or refuse."""
import json
import os
import struct
import subprocess
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest

import ctutil
from conftest import REPO
from canceltrace import _format as F
from canceltrace.reader import MAX_NOTICES, TraceError, read, read_bytes

SWIFT_VECTORS = os.path.join(REPO, "Tests", "Vectors", "swift")
NAMES = sorted(f[:-7] for f in os.listdir(SWIFT_VECTORS) if f.endswith(".ctrace")) if os.path.isdir(SWIFT_VECTORS) else []


def _load(name):
    with open(os.path.join(SWIFT_VECTORS, name + ".events.json"), encoding="utf-8") as f:
        return read(os.path.join(SWIFT_VECTORS, name + ".ctrace")), json.load(f)


def test_swift_vectors_exist():
    assert {"every-core-kind", "extensions", "out-of-range-enums", "backwards-across-chunks"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_swift_vector_decodes_to_listing(name):
    tr, want = _load(name)
    assert tr.events == want["events"]
    assert tr.closed == want["closed"]
    assert tr.truncated == want["truncated"]
    assert tr.chunks == want["chunks"]
    assert dict(tr.info)["runtime"] == "swift"
    # The Swift reader's texts: unknown extension kinds are counted per kind, backwards times noted once per chunk.
    skipped = []
    for entry in want["skippedKinds"]:
        kind, count = entry.split(" × ")
        skipped.append("skipped %s record%s of unknown kind %s (written by a newer recorder)"
                       % (count, "" if count == "1" else "s", kind))
    backwards = ["timestamps went backwards in the chunk at byte %d; raised them to the previous time" % o
                 for o in want["timeWentBackwardsInChunksAt"]]
    assert tr.notices == backwards + skipped
    assert not any(n.damage for n in tr.notices)


def test_every_kind_the_format_has_is_in_a_swift_vector():
    seen = set()
    for name in NAMES:
        seen |= {e["kind"] for e in _load(name)[1]["events"]}
    assert seen == set(F.KIND_NAMES.values()) - {"string"}


def test_both_recorders_cut_a_long_name_the_same_way():
    tr, want = _load("every-core-kind")
    text = "é" * (want["longName"] // 2)
    names = [e["name"] for e in tr.events if e["kind"] == "spawn"]
    cut = [n for n in names if len(n) > 1000]
    assert cut == [F.bounded_utf8(text).decode("utf-8")]
    assert len(cut[0].encode("utf-8")) == F.MAX_STRING_LENGTH - 1


# Damaged and foreign files: name -> bytes, as both readers see them. Damage a reader recovers from is in one file
# (the notices are compared in order); what ends the reading or refuses the file has a file of its own.
def _chunk(events):
    out = bytearray()
    F.encode_events(events, out)
    return F.frame_chunk(out)


def _framed(payload, raw_length=None, compressed=None, compressed_length=None):
    """A chunk of ``payload`` with a correct CRC over whatever lengths and compressed bytes are given."""
    comp = zlib.compress(payload) if compressed is None else compressed
    lengths = struct.pack("<II", len(comp) if compressed_length is None else compressed_length,
                          len(payload) if raw_length is None else raw_length)
    return F.CHUNK_MARKER + lengths + struct.pack("<I", zlib.crc32(comp, zlib.crc32(lengths)) & 0xFFFFFFFF) + comp


def _flipped(data, at):
    bad = bytearray(data)
    bad[at] ^= 0xFF
    return bytes(bad)


def _with_lengths(chunk, compressed_length):
    return chunk[:4] + struct.pack("<I", compressed_length) + chunk[8:]


def _damaged():
    h = F.HEADER
    first = _chunk([(F.STRING, 1, b"main"), (F.SPAWN, 5, 1, 0, 1, F.HOW_ROOT)])
    good = _chunk([(F.MARK, 1000, 1, 0)])           # at the same time each: no backwards notice of its own
    close = _chunk([(F.CLOSE, 1000)])
    payload = b"\x19\x00\x01\x00" * 30            # marks: inflate to more bytes than they compress to
    comp = zlib.compress(payload)
    records = {                                     # raw records for a chunk of their own, each after a good one
        "unknown core kind": b"\x19" + F.varint(1000) + b"\x01\x00\x04\x00",   # a mark, then kind 4
        "fields past the chunk": b"\x10\x05\x01",
        "varint over 64 bits": b"\x19" + b"\xff" * 9 + b"\x02\x01\x00",
        "string over the limit": b"\x02\x07" + F.varint(70000) + b"x",
        "string past the chunk": b"\x02\x07\x05ab",
        "string header past the chunk": b"\x02\x87",
        "string id 0": b"\x02\x00\x01a",
        "string id over the limit": b"\x02" + F.varint(F.MAX_STRING_COUNT + 1) + b"\x01a",
        "extension past the chunk": b"\x80\x10\x00",
        "site shorter than its fields": b"\x80\x01\x00",
        "signal shorter than its fields": b"\x81\x02\x00\x01",
        "unknown extension kinds (counted at the end)": b"\x9f\x02\x00\x01\x85\x00\x9f\x00\x9f\x01\x07",
    }
    every_kind = [
        first,
        _flipped(good, 17), good,                                   # CRC mismatch, a chunk after it
        _with_lengths(good, len(good) - 17), good,                  # CRC mismatch, no chunk there: look for one
        b"garbage!", good,                                          # no chunk marker
        _framed(payload, raw_length=0), good,                       # implausible lengths
        _with_lengths(good, F.MAX_CHUNK_RAW + (64 << 10) + 1), good,
        _with_lengths(good, 1 << 20), good,                         # runs past the end, a chunk after it
        _framed(payload, compressed=b"this is not a zlib stream"), good,
        _framed(payload, raw_length=len(payload) - 7), good,        # inflates to more
        _framed(payload, raw_length=len(payload) + 7), good,        # inflates to less
        _framed(payload, compressed=comp[:-4]), good,               # stream cut just before its checksum
        _framed(payload, compressed=comp[:len(comp) // 2]), good,   # cut in the middle
    ]
    for raw in records.values():
        every_kind += [_framed(raw), good]
    every_kind += [_chunk([(F.MARK, 10, 1, 0), (F.MARK, 20, 1, 0)]),   # backwards, noted once for the chunk
                   _chunk([(F.MARK, 30, 1, 0)]),                      # and once for this one
                   _framed(b"\x19" + F.varint(2 ** 64 - 1) + b"\x01\x00\x19\x01\x01\x00")]   # time overflows
    newer = F.MAGIC + struct.pack("<HHI", F.MAJOR, 9, 0)
    return {
        # recovered from; no close record at the end, and a newer minor version
        "damage-of-every-kind": newer + b"".join(every_kind),
        "damage-past-the-notice-limit": h + first + b"".join(_flipped(good, 17) + b"?" for _ in range(MAX_NOTICES + 5))
        + close,
        # where the file ends
        "ends-inside-a-chunk": h + first + close[:-3],
        "ends-inside-a-chunk-header": h + first + close[:10],
        "ends-in-a-chunk-whose-crc-fails": h + first + _flipped(close, 17),
        "ends-before-a-chunk-length": h + first + _with_lengths(close, 1 << 20),
        # refused outright
        "empty": b"",
        "magic-only": F.MAGIC[:5],
        "header-cut": F.HEADER[:12],
        "major-version-2": F.MAGIC + struct.pack("<HHI", 2, 3, 0) + first,
        "text": b"hello, this is a text file\n" * 3,
        "text-cut-inside-a-character": b"x" * 511 + "\u00e9".encode(),
        "gzip": b"\x1f\x8b\x08\x00" + b"\x00" * 20,
        "zlib": zlib.compress(b"a trace? no" * 4),
        "zip": b"PK\x03\x04" + b"\x00" * 20,
        "elf": b"\x7fELF\x02\x01\x01" + b"\x00" * 20,
        "json": b'{"events": []}',
        "binary": bytes(range(256)),
    }


DAMAGED = _damaged()
# The shared vectors that have something to say (the clean ones are compared with their listings above).
SHARED = [os.path.join("Tests", "Vectors", "swift", n + ".ctrace") for n in ("extensions", "backwards-across-chunks")] \
    + [os.path.join("Tests", "Vectors", "python", "truncated-py39.ctrace")]


def _swift_reads(path):
    """What the Swift reader says about ``path``: ``("notices", [...], damage notices)`` or ``("error", text)``,
    from `canceltrace check --format json` and its stderr."""
    res = subprocess.run([ctutil.analyzer(), "check", path, "--format", "json"], capture_output=True, text=True,
                         timeout=120)
    if res.stdout.strip():
        assert res.returncode in (0, 1, 2, 3), res.stderr
        damaged = [line for line in res.stderr.splitlines() if "damaged trace: " in line]
        count = int(damaged[0].split("damaged trace: ")[1].split()[0]) if damaged else 0
        return "notices", json.loads(res.stdout)["notices"], count
    assert res.returncode == 2, res.stderr
    prefix = "canceltrace: error: %s: " % path
    line, = res.stderr.splitlines()
    assert line.startswith(prefix), line
    return "error", line[len(prefix):]


@pytest.fixture(scope="module")
def swift_reads(tmp_path_factory):
    """The Swift reader's word on every case, by name (the analyzer runs on them all at once: a debug build takes
    half a CPU-second to start)."""
    if not ctutil.analyzer():
        pytest.skip("no analyzer (CANCELTRACE_BIN, the wheel's, or canceltrace on PATH)")
    folder = tmp_path_factory.mktemp("damaged")
    paths = {name: os.path.join(REPO, name) for name in SHARED}
    for name, data in DAMAGED.items():
        paths[name] = str(folder / (name + ".ctrace"))
        with open(paths[name], "wb") as f:
            f.write(data)
    with ThreadPoolExecutor(4) as pool:
        results = pool.map(_swift_reads, paths.values())
        return {name: (path, result) for (name, path), result in zip(paths.items(), results)}


@pytest.mark.parametrize("name", sorted(DAMAGED) + SHARED)
def test_notices_and_errors_say_what_the_swift_reader_says(name, swift_reads):
    path, swift = swift_reads[name]
    try:
        tr = read(path)
        mine = ("notices", list(tr.notices), tr.damaged_chunks)   # every damaged chunk, also past the cap
    except TraceError as e:
        mine = ("error", str(e))
    assert mine[1], "neither reader has anything to say about %s" % name
    assert mine == swift


def test_every_kind_of_damage_is_noted_once_and_counted():
    tr = read_bytes(DAMAGED["damage-of-every-kind"])
    corrupt = [n for n in tr.notices if n.startswith("corrupt chunk")]
    malformed = [n for n in tr.notices if n.startswith("malformed record")]
    backwards = [n for n in tr.notices if n.startswith("timestamps went backwards")]
    assert (len(corrupt), len(malformed), len(backwards)) == (11, 12, 2)   # 11 framings; 11 records + the overflow
    assert tr.damaged_chunks == 23 and all(n.damage for n in corrupt + malformed)
    assert [n for n in tr.notices if not n.damage] == [
        "written by format version 1.9, newer than this reader's 1.1; unknown records are skipped"] + backwards + [
        "skipped 1 record of unknown kind 0x85 (written by a newer recorder)",
        "skipped 3 records of unknown kind 0x9f (written by a newer recorder)",
        "truncated: the trace was not closed by its recorder (process stopped early?); read %d bytes"
        % len(DAMAGED["damage-of-every-kind"])]
    assert [e["kind"] for e in tr.events].count("mark") == 28     # every good chunk after a damaged one is read

    tr = read_bytes(DAMAGED["damage-past-the-notice-limit"])
    assert len(tr.notices) == MAX_NOTICES and tr.elided_notices == 5 and tr.damaged_chunks == MAX_NOTICES + 5
    assert tr.closed


@pytest.mark.parametrize("name", ["damage-past-the-notice-limit", "ends-inside-a-chunk", "text"])
def test_events_command_prints_notices_and_exits_like_the_swift_one(name, tmp_path):
    """`python -m canceltrace events`: notices on stdout after the events, then one error line and exit 2 for damage
    or a refused file — what `canceltrace events` does, word for word on stderr."""
    import sys
    path = str(tmp_path / (name + ".ctrace"))
    with open(path, "wb") as f:
        f.write(DAMAGED[name])
    res = subprocess.run([sys.executable, "-m", "canceltrace", "events", path], capture_output=True, text=True,
                         timeout=120)
    lines = res.stdout.splitlines()
    if name == "damage-past-the-notice-limit":
        assert res.returncode == 2
        assert sum(line.startswith("damaged: corrupt chunk") for line in lines) == MAX_NOTICES
        assert res.stderr == "canceltrace: error: %s: damaged trace: %d chunks or records skipped (see the notes above)\n" \
            % (path, MAX_NOTICES + 5)
    elif name == "ends-inside-a-chunk":
        assert res.returncode == 0 and res.stderr == ""
        assert lines[-1].startswith("note: truncated: the file ends inside the chunk at byte")
    else:
        assert res.returncode == 2 and lines == []
        assert res.stderr.startswith("canceltrace: error: %s: " % path) and len(res.stderr.splitlines()) == 1
    if ctutil.analyzer():
        swift = subprocess.run([ctutil.analyzer(), "events", path], capture_output=True, text=True, timeout=120)
        assert (swift.returncode, swift.stderr) == (res.returncode, res.stderr)

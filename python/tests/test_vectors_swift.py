"""Traces written by the Swift writer (Tests/Vectors/swift, made by Tests/TraceFormatTests/SwiftVectorTests.swift)
decode here to the events listed beside them: the other direction of Tests/Vectors/python. They hold what this
package's recorder never writes: dropped, every enumeration value and values out of range (each field's fallback),
site and signal with trailing fields, an unknown extension kind, times going backwards across chunks, a long name."""
import json
import os

import pytest

from conftest import REPO
from canceltrace import _format as F
from canceltrace.reader import read

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
    skipped = [n for n in tr.notices if n.startswith("skipped extension record")]
    assert len(skipped) == sum(int(k.split(" × ")[1]) for k in want["skippedKinds"])
    backwards = [n for n in tr.notices if n.startswith("times went backwards")]
    assert backwards == ["times went backwards in chunk at byte %d" % o for o in want["timeWentBackwardsInChunksAt"]]
    assert not [n for n in tr.notices if "damaged" in n or "undecodable" in n]


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

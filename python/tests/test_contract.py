"""The Python writer and reader against Docs/TraceFormat.json, the format's tables as data generated from the
Swift side (FormatDescription): kinds, fields, enumerations with their fallbacks, limits. No hand copy may drift."""
import json
import os

import pytest

from canceltrace import _format as F
from canceltrace.reader import _enum_name

CONTRACT = os.path.join(os.path.dirname(__file__), "..", "..", "Docs", "TraceFormat.json")


@pytest.fixture(scope="module")
def contract():
    with open(CONTRACT, encoding="utf-8") as f:
        return json.load(f)


def test_version_magic_and_limits(contract):
    assert (F.MAJOR, F.MINOR) == (contract["version"]["major"], contract["version"]["minor"])
    assert F.MAGIC == bytes(contract["magic"])
    assert F.CHUNK_MARKER == bytes(contract["chunkMarker"])
    limits = contract["limits"]
    assert F.MAX_CHUNK_RAW == limits["maxChunkRawLength"]
    assert F.CHUNK_RAW_TARGET == limits["defaultChunkRawLength"]
    assert F.MAX_STRING_LENGTH == limits["maxStringLength"]
    assert F.MAX_STRING_COUNT == limits["maxStringCount"]
    assert F.MAX_STRING_BYTES == limits["maxStringTableBytes"]


def test_every_kind_with_its_code_name_and_fields(contract):
    kinds = {k["code"]: k for k in contract["kinds"]}
    assert set(F.KIND_NAMES) == set(kinds), "Python knows exactly the contract's kinds"
    for code, name in F.KIND_NAMES.items():
        assert kinds[code]["name"] == name
        assert kinds[code]["extension"] == (code >= contract["limits"]["firstExtensionKind"])
        if code == F.STRING:
            continue
        assert tuple(f["name"] for f in kinds[code]["fields"]) == F.KIND_FIELDS[code], name
        strings = tuple(f["name"] for f in kinds[code]["fields"] if f["type"] == "string")
        assert strings == F.STRING_FIELDS.get(code, ()), name


def test_every_enumeration_and_its_fallback(contract):
    seen = set()
    for kind in contract["kinds"]:
        for field in kind["fields"]:
            if field["type"] != "enum":
                continue
            key = (kind["name"], field["name"])
            seen.add(key)
            names, fallback = F.ENUMS[key]
            assert list(names) == field["values"], key
            assert fallback == field["fallback"], key
            # The reader applies the rule: an unknown value reads as the fallback.
            assert _enum_name(key[0], key[1], 200) == field["values"][field["fallback"]]
    assert seen == set(F.ENUMS)

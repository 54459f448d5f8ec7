"""The shared vectors in Tests/Vectors/python decode to the events listed next to them."""
import json
import os

import pytest

from conftest import VECTORS
from canceltrace.reader import read

NAMES = sorted(f[:-7] for f in os.listdir(VECTORS) if f.endswith(".ctrace")) if os.path.isdir(VECTORS) else []


def test_vectors_exist():
    assert NAMES, "no vectors in %s (run python/tools/make_vectors.py)" % VECTORS


@pytest.mark.parametrize("name", NAMES)
def test_vector_decodes_to_listing(name):
    tr = read(os.path.join(VECTORS, name + ".ctrace"))
    with open(os.path.join(VECTORS, name + ".events.json"), encoding="utf-8") as f:
        want = json.load(f)
    assert tr.events == want["events"]
    assert tr.closed == want["closed"]
    assert tr.truncated == want["truncated"]
    assert tr.chunks == want["chunks"]
    assert dict(tr.info)["runtime"] == "python"

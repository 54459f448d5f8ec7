"""Every sample in Samples/Python, recorded by this recorder, has its declared events, and gives exactly its
declared findings under `canceltrace check` (when the analyzer is at hand: CANCELTRACE_BIN, the wheel's, PATH)."""
import json
import os
import subprocess
import sys

import pytest

import ctutil
from canceltrace.reader import read

SAMPLES = ctutil.sample_paths()
IDS = [os.path.basename(p)[:-3] for p in SAMPLES]


def _recorded(path, tmp_path):
    spec = ctutil.sample_spec(path)
    if sys.version_info[:2] < spec["REQUIRES"]:
        pytest.skip("needs Python %d.%d+" % spec["REQUIRES"])
    out = tmp_path / (os.path.basename(path)[:-3] + ".ctrace")
    res = ctutil.record(path, out)
    assert res.returncode == spec["EXIT"], res.stderr
    plain = ctutil.run_plain(path)
    assert plain.returncode == res.returncode
    assert plain.stdout == res.stdout, "the recorder changed the program's output"
    tr = read(str(out))
    assert tr.closed and not tr.truncated, tr.notices
    return spec, out, tr


@pytest.mark.parametrize("path", SAMPLES, ids=IDS)
def test_sample_events(path, tmp_path):
    spec, out, tr = _recorded(path, tmp_path)
    for want in spec["EXPECT-EVENTS"]:
        assert ctutil.find_events(tr, want), "no event like %r in\n%s" % (want, "\n".join(map(str, tr.events)))
    for want in spec["EXPECT-NO-EVENTS"]:
        assert not ctutil.find_events(tr, want), "unexpected event like %r" % (want,)


@pytest.mark.parametrize("path", SAMPLES, ids=IDS)
def test_sample_checked_by_swift_cli(path, tmp_path):
    binary = ctutil.analyzer()
    if not binary:
        pytest.skip("no `canceltrace` analyzer (CANCELTRACE_BIN, the wheel's or PATH) for the cross-language check")
    spec, out, tr = _recorded(path, tmp_path)
    res = subprocess.run([binary, "check", str(out), "--format", "json"], capture_output=True, text=True, timeout=60)
    has_error = any(ctutil_level(f) == "error" for f in spec["EXPECT"])
    assert res.returncode == (1 if has_error else 0), res.stdout + res.stderr
    found = _parse_findings(res.stdout)
    # Only the rules the samples declare are compared; slow-* thresholds depend on the machine.
    found = [f for f in found if f["rule"] not in ("slow-cancellation", "slow-cleanup")]
    ok, why = ctutil.findings_match(found, spec["EXPECT"])
    assert ok, why + "\n" + res.stdout


_LEVELS = {"swallowed-cancellation": "error"}


def ctutil_level(f):
    return _LEVELS.get(f["rule"], "warning")


def _parse_findings(text):
    text = text.strip()
    if not text:
        return []
    try:
        data = json.loads(text)
    except ValueError:
        data = [json.loads(line) for line in text.splitlines() if line.strip()]
    if isinstance(data, dict):
        data = data.get("findings", data.get("diagnostics", []))
    return data

"""Turns the pure-Python canceltrace wheel into a platform wheel that carries the Swift `canceltrace` CLI, the way
ruff and uv ship theirs: the binary goes to ``canceltrace-VERSION.data/scripts/``, so pip installs it next to the
interpreter's scripts (``venv/bin/canceltrace``) and ``canceltrace._analyzer`` finds it there.

    python3 python/tools/platform_wheel.py BINARY OUTDIR     (build_wheel.sh calls it after the Swift build)

Refuses a binary that needs a shared library other than the C library's (the Swift runtime must be linked
statically: ``--static-swift-stdlib``), and tags the wheel ``manylinux_2_N_<arch>`` with N the newest glibc
symbol version the binary uses. Standard library only (plus pip, to build the pure wheel from pyproject.toml).
"""
import base64
import csv
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(HERE)

# The C library and its parts (glibc): present on every Linux system a manylinux wheel may be installed on.
C_LIBRARY = {"libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libutil.so.1",
             "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"}


def fail(message):
    sys.stderr.write("platform_wheel: %s\n" % message)
    sys.exit(1)


def needed_libraries(binary):
    out = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def glibc_version(binary):
    """The newest GLIBC_x.y symbol version the binary needs, as (x, y)."""
    out = subprocess.run(["readelf", "--dyn-syms", "-W", binary], capture_output=True, text=True, check=True).stdout
    versions = {tuple(int(p) for p in m) for m in re.findall(r"@GLIBC_(\d+)\.(\d+)", out)}
    return max(versions) if versions else (2, 17)


def machine(binary):
    out = subprocess.run(["readelf", "-h", binary], capture_output=True, text=True, check=True).stdout
    if "X86-64" in out:
        return "x86_64"
    if "AArch64" in out:
        return "aarch64"
    fail("%s: unsupported machine: %s" % (binary, out))


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [name, "sha256=" + digest, str(len(data))]


def build(binary, outdir):
    libraries = needed_libraries(binary)
    extra = sorted(set(libraries) - C_LIBRARY)
    if extra:
        fail("%s needs %s besides the C library: build it with --static-swift-stdlib (and static zlib and "
             "libstdc++, see build_wheel.sh)" % (binary, ", ".join(extra)))
    major, minor = glibc_version(binary)
    tag = "py3-none-manylinux_%d_%d_%s" % (major, minor, machine(binary))
    with tempfile.TemporaryDirectory() as tmp:
        # From a clean copy: setuptools reuses a build/ folder and would pack modules deleted since.
        source = os.path.join(tmp, "source")
        shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns(
            ".venv-*", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "tests", "bench", "tools"))
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
                        "--wheel-dir", tmp, source], check=True)
        pure = [f for f in os.listdir(tmp) if f.endswith("-py3-none-any.whl")]
        if len(pure) != 1:
            fail("pip wheel gave %r, expected one py3-none-any wheel" % (pure,))
        stripped = os.path.join(tmp, "canceltrace")
        shutil.copyfile(binary, stripped)
        subprocess.run(["strip", stripped], check=True)
        with open(stripped, "rb") as f:
            exe = f.read()
        name, version = pure[0].split("-")[:2]
        dist_info = "%s-%s.dist-info" % (name, version)
        target = os.path.join(outdir, "%s-%s-%s.whl" % (name, version, tag))
        os.makedirs(outdir, exist_ok=True)
        records = []
        with zipfile.ZipFile(os.path.join(tmp, pure[0])) as src, \
                zipfile.ZipFile(target + ".part", "w", zipfile.ZIP_DEFLATED) as dst:
            def add(info_or_name, data, mode=0o644):
                info = info_or_name if isinstance(info_or_name, zipfile.ZipInfo) else zipfile.ZipInfo(info_or_name)
                info.external_attr = (0o100000 | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                dst.writestr(info, data)
                records.append(record_line(info.filename, data))
            for item in src.infolist():
                if item.filename in (dist_info + "/RECORD",):
                    continue
                data = src.read(item)
                if item.filename == dist_info + "/WHEEL":
                    lines = [l for l in data.decode().splitlines()
                             if l.strip() and not l.startswith(("Tag:", "Root-Is-Purelib:"))]
                    data = ("\n".join(lines + ["Root-Is-Purelib: true", "Tag: " + tag]) + "\n").encode()
                add(zipfile.ZipInfo(item.filename, item.date_time), data)
            add("%s-%s.data/scripts/canceltrace" % (name, version), exe, 0o755)
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(records + [[dist_info + "/RECORD", "", ""]])
            add(dist_info + "/RECORD", out.getvalue().encode())
        os.replace(target + ".part", target)
    print(target)
    return target


if __name__ == "__main__":
    if len(sys.argv) != 3:
        fail("usage: platform_wheel.py BINARY OUTDIR")
    build(sys.argv[1], sys.argv[2])

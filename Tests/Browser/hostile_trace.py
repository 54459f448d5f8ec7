"""Writes a small CancelTrace file (Docs/TraceFormat.md, version 1.0) whose task names try to inject markup.

Written from the format document alone, with Python's zlib, so the browser check does not need a Swift recorder.
main (#1) starts four tasks; #2 is cancelled, catches the cancellation and returns (a swallowed cancellation).
"""
import struct
import sys
import zlib

HOSTILE = [
    "<script>alert(1)</script>",
    "<script>document.title='PWNED'</script>",
    "<img src=x onerror=\"document.title='PWNED'\">",
    "\" onmouseover=\"document.title='PWNED'",
]


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def main(path):
    records = bytearray()
    strings = {}
    last = [0]

    def string(text):
        if text not in strings:
            strings[text] = len(strings) + 1
            data = text.encode("utf-8")
            records.extend(b"\x02" + varint(strings[text]) + varint(len(data)) + data)
        return strings[text]

    def record(kind, time, *fields):
        records.extend(bytes([kind]) + varint(time - last[0]) + b"".join(varint(f) for f in fields))
        last[0] = time

    ms = 1_000_000
    names = [string("main")] + [string(name) for name in HOSTILE]
    caught = string("CancellationError")
    record(0x10, 0, 1, 0, names[0], 4)                      # spawn main, root
    for index in range(len(HOSTILE)):
        record(0x10, (index + 1) * ms, index + 2, 1, names[index + 1], 0)
    for index in range(1, len(HOSTILE)):
        record(0x16, (10 + index) * ms, index + 2, 0, 0)     # the others return
    record(0x11, 20 * ms, 2, 1, 1, 0)                       # main cancels #2, explicit
    record(0x12, 21 * ms, 2, caught)                        # #2 catches it
    record(0x16, 22 * ms, 2, 0, 0)                          # and returns normally
    record(0x16, 30 * ms, 1, 0, 0)
    record(0x03, 30 * ms)                                   # close
    payload = zlib.compress(bytes(records))
    lengths = struct.pack("<II", len(payload), len(records))
    crc = zlib.crc32(lengths + payload) & 0xFFFFFFFF
    with open(path, "wb") as out:
        out.write(b"\x89CTRACE\n" + struct.pack("<HHI", 1, 0, 0))
        out.write(b"CTCK" + lengths + struct.pack("<I", crc) + payload)


if __name__ == "__main__":
    main(sys.argv[1])

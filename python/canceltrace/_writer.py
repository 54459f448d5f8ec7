"""The trace writer process. The recorder sends it batches of event tuples (marshal) over a socket; it encodes,
compresses and writes the chunks, so that this work runs on another core than the traced program, and so that
what it has received reaches the file even when the program is killed.

Run as a script by the recorder (``python -S -E -B _writer.py FD LEVEL TARGET PATH``, stdin: the socket). It
imports only ``_format`` from its own folder and the standard library. It ignores SIGINT and SIGTERM (it is in
its own session; a terminal's Ctrl-C or a supervisor's SIGTERM is for the program) and stops at end of input.

Frames: ``<u32 length><u8 flags>`` then ``length`` bytes of ``marshal.dumps(list of event tuples)``; flag 1
writes the partial chunk after the batch.
"""
import marshal
import os
import signal
import struct
import sys

import _format as F

FRAME = struct.Struct("<IB")
FORCE = 1


def _read_exact(fd, n):
    """``n`` bytes from ``fd``, or None at end of input (a frame cut short by the recorder's death is dropped)."""
    parts = []
    while n > 0:
        data = os.read(fd, min(n, 1 << 20))
        if not data:
            return None
        parts.append(data)
        n -= len(data)
    return b"".join(parts)


def main(argv):
    fd, level, target, path = int(argv[0]), int(argv[1]), int(argv[2]), argv[3]
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    sink = F.FileSink(path, fd=fd)
    writer = F.ChunkWriter(sink, level, target)
    os.write(1, b"ready\n")
    os.close(1)
    try:
        while True:
            head = _read_exact(0, FRAME.size)
            if head is None:
                break
            n, flags = FRAME.unpack(head)
            body = _read_exact(0, n) if n else b""
            if body is None:
                break
            if n:
                writer.add(marshal.loads(body))
            if flags & FORCE:
                writer.flush()
        writer.flush()
    except OSError as e:
        sys.stderr.write("canceltrace: cannot write %s: %s; recording stopped\n" % (path, e))
        return 1
    finally:
        try:
            sink.close()
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The recorder's side of the writer process (``_writer.py``): batches go to it over a socket, and it encodes,
compresses and writes them on another core. What it has received reaches the file even if this process is
killed."""
import marshal
import os
import struct
import sys

_FRAME = struct.Struct("<IB")      # must match _writer.FRAME: body length, flags (1: force)


class WriterProcess:
    """A started writer process. Raises OSError when it cannot be started (the recorder then writes
    in-process)."""

    START_TIMEOUT = 10.0
    SEND_TIMEOUT = 30.0      # a writer that accepts nothing for this long is taken for dead

    def __init__(self, fd, path, level, target):
        import select
        import socket
        import subprocess
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_writer.py")
        if not sys.executable or not os.path.isfile(script):
            raise OSError("no Python executable or writer script to start")
        mine, theirs = socket.socketpair()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-S", "-E", "-B", script, str(fd), str(level), str(target), path],
                stdin=theirs.fileno(), stdout=subprocess.PIPE, pass_fds=(fd,), close_fds=True,
                start_new_session=True)
        except BaseException:
            mine.close()
            raise
        finally:
            theirs.close()
        try:
            ready, _, _ = select.select([self.proc.stdout], [], [], self.START_TIMEOUT)
            if not ready or self.proc.stdout.readline() != b"ready\n":
                raise OSError("the writer process did not start")
        except BaseException:
            mine.close()
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            self.proc.stdout.close()
        mine.settimeout(self.SEND_TIMEOUT)
        self.sock = mine
        self._no_signal = getattr(socket, "MSG_NOSIGNAL", 0)   # a dead writer is an error, never a SIGPIPE

    def send(self, events, force):
        body = marshal.dumps(events, 2) if events else b""   # version 2: no reference table, twice as fast
        self.sock.sendall(_FRAME.pack(len(body), 1 if force else 0) + body, self._no_signal)

    def close(self, timeout):
        """End the input and wait for the writer to finish the file; its exit status, or None."""
        self.sock.close()
        try:
            return self.proc.wait(timeout)
        except Exception:
            return None

    def abandon(self):
        """In a forked child: let go of the socket so that the writer sees the end when the parent stops."""
        self.sock.close()

#!/usr/bin/env python3
"""opencount.py: logs every open of a file in one directory (Linux inotify,
IN_OPEN), one line "open NAME" each, so a test can count how often a server
such as tftpd-hpa (which logs only to syslog) read each file. Test tool only.

Usage: opencount.py [--reads] DIR   (runs until killed; prints "ready" once
watching). With --reads, each line also has the time (seconds, monotonic, 3
decimals) and reads are logged too ("read NAME T", one per burst of reads
inotify coalesces): a probe that ends a transfer before its first DATA block
leaves an open and no read.
"""
import ctypes
import ctypes.util
import os
import struct
import sys
import time

IN_ACCESS = 0x00000001
IN_OPEN = 0x00000020
EVENT_HEAD = struct.Struct("iIII")  # wd, mask, cookie, len


def main():
    args = sys.argv[1:]
    reads = bool(args) and args[0] == "--reads"
    if reads:
        args = args[1:]
    if len(args) != 1:
        sys.stderr.write(__doc__)
        return 2
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    fd = libc.inotify_init()
    if fd < 0:
        sys.stderr.write("inotify_init: %s\n" % os.strerror(ctypes.get_errno()))
        return 1
    mask_wanted = IN_OPEN | (IN_ACCESS if reads else 0)
    if libc.inotify_add_watch(fd, os.fsencode(args[0]), mask_wanted) < 0:
        sys.stderr.write("inotify_add_watch: %s\n" % os.strerror(ctypes.get_errno()))
        return 1
    print("ready", flush=True)
    while True:
        buf = os.read(fd, 65536)
        off = 0
        while off + EVENT_HEAD.size <= len(buf):
            _wd, mask, _cookie, n = EVENT_HEAD.unpack_from(buf, off)
            name = buf[off + EVENT_HEAD.size:off + EVENT_HEAD.size + n].rstrip(b"\0")
            off += EVENT_HEAD.size + n
            if not name:
                continue
            text = name.decode("utf-8", "replace")
            when = " %.3f" % time.monotonic() if reads else ""
            if mask & IN_OPEN:
                print("open " + text + when, flush=True)
            if mask & IN_ACCESS:
                print("read " + text + when, flush=True)


if __name__ == "__main__":
    sys.exit(main())

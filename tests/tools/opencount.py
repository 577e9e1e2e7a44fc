#!/usr/bin/env python3
"""opencount.py: logs every open of a file in one directory (Linux inotify,
IN_OPEN), one line "open NAME" each, so a test can count how often a server
such as tftpd-hpa (which logs only to syslog) read each file. Test tool only.

Usage: opencount.py DIR   (runs until killed; prints "ready" once watching)
"""
import ctypes
import ctypes.util
import os
import struct
import sys

IN_OPEN = 0x00000020
EVENT_HEAD = struct.Struct("iIII")  # wd, mask, cookie, len


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    fd = libc.inotify_init()
    if fd < 0:
        sys.stderr.write("inotify_init: %s\n" % os.strerror(ctypes.get_errno()))
        return 1
    if libc.inotify_add_watch(fd, os.fsencode(sys.argv[1]), IN_OPEN) < 0:
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
            if mask & IN_OPEN and name:
                print("open " + name.decode("utf-8", "replace"), flush=True)


if __name__ == "__main__":
    sys.exit(main())

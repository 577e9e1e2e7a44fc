#!/usr/bin/env python3
"""tftp_flood.py: floods a loadsd on loopback with read requests that are never
acknowledged, from many source addresses in 127.0.0.0/8, and counts what comes
back (for flood_guard.sh and tests/bench/flood_bench.sh).

Sends from NETS x HOSTS addresses 127.A.B.H (A.B from --nets, H = 1..HOSTS), one
socket each, round robin, at --rate requests a second for --seconds; reads every
answer (never ACKs one) until --drain seconds after the last request, then
prints one JSON object: requests and bytes sent, packets and bytes received by
kind, the ratio of bytes received to bytes sent, and transfers started (first
DATA or OACK from a new server port). Standard library only; loopback only.
"""

import argparse
import json
import os
import selectors
import socket
import struct
import sys
import time

OP_DATA, OP_ERROR, OP_OACK = 3, 5, 6


def parse_nets(text):
    """ "77.0-3" -> [(77, 0), (77, 1), (77, 2), (77, 3)]; "77.0,78.5" -> two."""
    nets = []
    for part in text.split(","):
        a, b = part.split(".")
        lo, _, hi = b.partition("-")
        for n in range(int(lo), int(hi or lo) + 1):
            nets.append((int(a), n))
    return nets


def open_sockets(nets, hosts):
    socks = []
    for a, b in nets:
        for h in range(1, hosts + 1):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            s.bind(("127.%d.%d.%d" % (a, b, h), 0))
            s.setblocking(False)
            socks.append(s)
    return socks


class Tally:
    def __init__(self):
        self.sent = 0
        self.sent_bytes = 0
        self.recv = {"data": 0, "oack": 0, "busy": 0, "error": 0, "other": 0}
        self.recv_bytes = 0
        self.data_bytes = 0  # DATA and OACK: what an accepted request earns
        self.transfers = set()

    def note(self, pkt, addr, own):
        self.recv_bytes += len(pkt)
        op = struct.unpack("!H", pkt[:2])[0] if len(pkt) >= 2 else 0
        if op in (OP_DATA, OP_OACK):
            self.recv["data" if op == OP_DATA else "oack"] += 1
            self.data_bytes += len(pkt)
            self.transfers.add((own, addr[1]))
        elif op == OP_ERROR:
            busy = b"busy" in pkt[4:].lower()
            self.recv["busy" if busy else "error"] += 1
        else:
            self.recv["other"] += 1


def drain(sel, tally, wait):
    for key, _ in sel.select(timeout=wait):
        s = key.fileobj
        while True:
            try:
                pkt, addr = s.recvfrom(70000)
            except (BlockingIOError, ConnectionRefusedError):
                break
            tally.note(pkt, addr, key.data)


def flood(args):
    socks = open_sockets(parse_nets(args.nets), args.hosts)
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        sel.register(s, selectors.EVENT_READ, i)
    rrq = struct.pack("!H", 1) + args.name.encode() + b"\0octet\0"
    tally = Tally()
    dest = (args.host, args.port)
    start = time.monotonic()
    end = start + args.seconds
    i = 0
    while True:
        now = time.monotonic()
        if now >= end:
            break
        due = int((now - start) * args.rate) if args.rate > 0 else tally.sent + 64
        while tally.sent < due:
            try:
                socks[i % len(socks)].sendto(rrq, dest)
                tally.sent += 1
                tally.sent_bytes += len(rrq)
            except (BlockingIOError, ConnectionRefusedError):
                pass
            i += 1
        drain(sel, tally, 0.002)
    drain_end = time.monotonic() + args.drain
    while time.monotonic() < drain_end:
        drain(sel, tally, 0.05)
    for s in socks:
        s.close()
    return {
        "addresses": len(socks),
        "seconds": args.seconds,
        "requests": tally.sent,
        "request_bytes": tally.sent_bytes,
        "received": tally.recv,
        "received_bytes": tally.recv_bytes,
        "received_data_bytes": tally.data_bytes,
        "bytes_out_per_byte_in": round(tally.recv_bytes / tally.sent_bytes, 2) if tally.sent_bytes else 0,
        "transfers_started": len(tally.transfers),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--nets", default="77.0-3", help="A.B-C: send from 127.A.B..C.x")
    ap.add_argument("--hosts", type=int, default=50, help="addresses per /24")
    ap.add_argument("--rate", type=float, default=2000, help="requests a second, 0 = as fast as it can")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--drain", type=float, default=1, help="seconds to keep reading after the last request")
    ap.add_argument("--name", default="size_1048576.bin")
    ap.add_argument("--out", help="write the JSON here too")
    args = ap.parse_args()
    result = flood(args)
    text = json.dumps(result, sort_keys=True)
    print(text)
    if args.out:
        with open(args.out + ".tmp", "w") as f:
            f.write(text + "\n")
        os.replace(args.out + ".tmp", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

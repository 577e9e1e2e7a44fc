#!/usr/bin/env python3
# wanprobe.py: the traffic wanemu's accuracy test sends across it: a TCP bulk
# sender and receiver (goodput), a UDP ping-pong (RTT), a UDP burst and its
# receiver (loss, queue, corruption). Standard library only; prints JSON.
import argparse
import json
import os
import socket
import statistics
import struct
import sys
import time

# struct tcp_info (linux/tcp.h): tcpi_options is byte 5, tcpi_rcv_mss the
# u32 at byte 20; TCPI_OPT_TIMESTAMPS is bit 0 of tcpi_options.
TCPI_OPTIONS_AT = 5
TCPI_RCV_MSS_AT = 20
TCPI_OPT_TIMESTAMPS = 1
IPV4_HDR = 20
TCP_HDR = 20
TCP_TS_OPT = 12  # the timestamp option (10 bytes) padded to 12
UDP_IPV4_HDR = 28


def addr(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def ready(path):
    if path:
        with open(path + ".tmp", "w") as f:
            f.write("ready\n")
        os.rename(path + ".tmp", path)


def emit(obj):
    json.dump(obj, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()


def pattern(seq, size):
    """A datagram of size bytes: the sequence number, then bytes that depend on it."""
    body = bytes((seq * 31 + i) & 0xFF for i in range(size - 4))
    return struct.pack("!I", seq) + body


# ---- TCP bulk -------------------------------------------------------------


def bulk_send(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A loss-based congestion control keeps a queue at the bottleneck, so the
    # link never idles: goodput is then the link's rate. BBR (a common host
    # default) paces below it and drains the queue on purpose.
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, args.cc.encode())
    s.settimeout(10)
    s.connect(addr(args.to))
    chunk = b"\xa5" * 262144
    end = time.monotonic() + args.seconds
    sent = 0
    while time.monotonic() < end:
        s.sendall(chunk)
        sent += len(chunk)
    s.shutdown(socket.SHUT_WR)
    s.settimeout(60)  # what the socket buffer still holds crosses a slow link
    s.recv(1)  # the receiver closes once it has everything
    s.close()
    emit({"sent": sent})


def steady_rate(samples, skip, tail):
    """Goodput in bytes per second between the first delivery at or after the
    first byte + skip and the last at or before the last byte - tail: the
    bytes delivered after the one instant up to the other, over the time
    between them (no half-gap error at either end)."""
    t0 = samples[0][0] + skip
    t1 = samples[-1][0] - tail
    inside = [(t, b) for t, b in samples if t0 <= t <= t1]
    if len(inside) < 2 or inside[-1][0] - inside[0][0] < 1.0:
        raise SystemExit("wanprobe: the transfer is too short for a steady window")
    (ta, ba), (tb, bb) = inside[0], inside[-1]
    return (bb - ba) / (tb - ta), tb - ta


def bulk_recv(args):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(addr(args.bind))
    ls.listen(1)
    ls.settimeout(args.timeout)
    ready(args.ready)
    c, _ = ls.accept()
    c.settimeout(args.timeout)
    samples = []
    total = 0
    while True:
        data = c.recv(1 << 20)
        now = time.monotonic()
        if not data:
            break
        total += len(data)
        samples.append((now, total))
    info = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    mss = struct.unpack_from("I", info, TCPI_RCV_MSS_AT)[0]
    ts = info[TCPI_OPTIONS_AT] & TCPI_OPT_TIMESTAMPS
    c.close()
    goodput, window = steady_rate(samples, args.skip, args.tail)
    overhead = IPV4_HDR + TCP_HDR + (TCP_TS_OPT if ts else 0)
    emit({
        "bytes": total,
        "window_s": window,
        "goodput_bps": goodput * 8,
        "mss": mss,
        "header_bytes": overhead,
        # Every full segment is mss payload bytes in mss + overhead IP bytes.
        "ip_rate_bps": goodput * 8 * (mss + overhead) / mss,
    })


# ---- UDP ping-pong ----------------------------------------------------------


def echo(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(addr(args.bind))
    ready(args.ready)
    s.settimeout(args.timeout)
    try:
        while True:
            data, peer = s.recvfrom(65536)
            s.sendto(data, peer)
    except socket.timeout:
        pass


def ping(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(addr(args.to))
    s.settimeout(args.wait)
    rtts, lost = [], 0
    for seq in range(args.count):
        msg = pattern(seq, args.size)
        t0 = time.monotonic()
        s.send(msg)
        try:
            while s.recv(65536) != msg:
                pass
            rtts.append((time.monotonic() - t0) * 1000)
        except socket.timeout:
            lost += 1
        time.sleep(args.gap / 1000)
    emit({
        "count": len(rtts),
        "lost": lost,
        "ip_bytes": args.size + UDP_IPV4_HDR,
        "median_ms": statistics.median(rtts) if rtts else None,
        "min_ms": min(rtts) if rtts else None,
        "max_ms": max(rtts) if rtts else None,
    })


# ---- UDP burst ---------------------------------------------------------------


def udp_send(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    s.connect(addr(args.to))
    for seq in range(args.count):
        s.send(pattern(seq, args.size))
        if args.gap_us:
            time.sleep(args.gap_us / 1e6)
    emit({"sent": args.count, "ip_bytes": args.count * (args.size + UDP_IPV4_HDR)})


def udp_recv(args):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(addr(args.bind))
    ready(args.ready)
    s.settimeout(args.timeout)
    got, intact, corrupted, other = 0, 0, 0, 0
    try:
        while True:
            data = s.recv(65536)
            s.settimeout(args.idle)
            got += 1
            seq = struct.unpack_from("!I", data)[0] if len(data) >= 4 else -1
            diff = sum(a != b for a, b in zip(data, pattern(seq, len(data)))) if seq >= 0 else -1
            if diff == 0:
                intact += 1
            elif diff == 1:
                corrupted += 1
            else:
                other += 1
    except socket.timeout:
        pass
    emit({"received": got, "intact": intact, "one_byte_changed": corrupted, "other": other})


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("bulk-send")
    c.add_argument("--to", required=True)
    c.add_argument("--seconds", type=float, required=True)
    c.add_argument("--cc", default="cubic", help="TCP congestion control (root may pick any available)")
    c = sub.add_parser("bulk-recv")
    c.add_argument("--bind", required=True)
    c.add_argument("--ready")
    c.add_argument("--skip", type=float, default=1.0, help="seconds after the first byte left out")
    c.add_argument("--tail", type=float, default=0.5, help="seconds before the last byte left out")
    c.add_argument("--timeout", type=float, default=60)
    c = sub.add_parser("echo")
    c.add_argument("--bind", required=True)
    c.add_argument("--ready")
    c.add_argument("--timeout", type=float, default=10, help="exit after this long without a datagram")
    c = sub.add_parser("ping")
    c.add_argument("--to", required=True)
    c.add_argument("--count", type=int, default=20)
    c.add_argument("--size", type=int, default=64, help="UDP payload bytes")
    c.add_argument("--gap", type=float, default=5, help="ms between a reply and the next ping")
    c.add_argument("--wait", type=float, default=2, help="seconds before a ping counts as lost")
    c = sub.add_parser("udp-send")
    c.add_argument("--to", required=True)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--size", type=int, default=1000, help="UDP payload bytes (at least 4)")
    c.add_argument("--gap-us", type=float, default=0)
    c = sub.add_parser("udp-recv")
    c.add_argument("--bind", required=True)
    c.add_argument("--ready")
    c.add_argument("--timeout", type=float, default=10, help="seconds to wait for the first datagram")
    c.add_argument("--idle", type=float, default=1, help="seconds of silence that end the burst")
    args = p.parse_args()
    {"bulk-send": bulk_send, "bulk-recv": bulk_recv, "echo": echo, "ping": ping,
     "udp-send": udp_send, "udp-recv": udp_recv}[args.cmd](args)


if __name__ == "__main__":
    main()

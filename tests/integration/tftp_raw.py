#!/usr/bin/env python3
"""tftp_raw.py: a raw-packet TFTP checker for loadsd's integration tests.

Sends crafted requests to a running loadsd and asserts the exact replies;
also a small reference client (--get) and a seeded packet fuzzer. Standard
library only; talks to loopback only; writes nothing but --out and the
fixtures that --make-fixtures puts in the serve directory.
"""

import argparse
import hashlib
import os
import random
import socket
import struct
import sys
import time

OP_RRQ, OP_WRQ, OP_DATA, OP_ACK, OP_ERROR, OP_OACK = 1, 2, 3, 4, 5, 6
BLKSIZE_MAX = 65464
OP_NAMES = {1: "RRQ", 2: "WRQ", 3: "DATA", 4: "ACK", 5: "ERROR", 6: "OACK"}


class CheckFail(Exception):
    """A reply that is not what the protocol requires."""


class TftpError(Exception):
    """The server answered with an ERROR packet."""

    def __init__(self, code, msg):
        super().__init__("ERROR %d %r" % (code, msg))
        self.code = code
        self.msg = msg


# ---- packets ---------------------------------------------------------------


def b(text):
    return text.encode("latin-1") if isinstance(text, str) else text


def build_request(name, mode="octet", opts=(), op=OP_RRQ):
    pkt = struct.pack("!H", op) + b(name) + b"\0" + b(mode) + b"\0"
    for key, value in opts:
        pkt += b(key) + b"\0" + b(value) + b"\0"
    return pkt


def build_ack(block):
    return struct.pack("!HH", OP_ACK, block & 0xFFFF)


def build_error(code, msg):
    return struct.pack("!HH", OP_ERROR, code) + b(msg) + b"\0"


def parse(pkt):
    """Returns (opcode, fields) with fields as a dict; raises CheckFail when the
    server sent something malformed."""
    if len(pkt) < 2:
        raise CheckFail("server sent a %d-byte packet" % len(pkt))
    op = struct.unpack("!H", pkt[:2])[0]
    if op == OP_DATA:
        if len(pkt) < 4:
            raise CheckFail("short DATA from the server")
        return op, {"block": struct.unpack("!H", pkt[2:4])[0], "data": pkt[4:]}
    if op == OP_ACK:
        if len(pkt) != 4:
            raise CheckFail("ACK of %d bytes from the server" % len(pkt))
        return op, {"block": struct.unpack("!H", pkt[2:4])[0]}
    if op == OP_ERROR:
        if len(pkt) < 5 or pkt[-1] != 0 or b"\0" in pkt[4:-1]:
            raise CheckFail("malformed ERROR from the server: %r" % pkt)
        code = struct.unpack("!H", pkt[2:4])[0]
        return op, {"code": code, "msg": pkt[4:-1].decode("latin-1")}
    if op == OP_OACK:
        parts = pkt[2:].split(b"\0")
        if pkt[-1] != 0 or len(parts) % 2 != 1 or len(parts) < 3:
            raise CheckFail("malformed OACK from the server: %r" % pkt)
        opts = {}
        for i in range(0, len(parts) - 1, 2):
            key = parts[i].decode("latin-1").lower()
            if key in opts:
                raise CheckFail("OACK repeats option %r" % key)
            opts[key] = parts[i + 1].decode("latin-1")
        return op, {"opts": opts}
    raise CheckFail("server sent opcode %d: %r" % (op, pkt[:32]))


def describe(pkt):
    try:
        op, f = parse(pkt)
    except CheckFail as e:
        return str(e)
    if op == OP_DATA:
        return "DATA %d (%d bytes)" % (f["block"], len(f["data"]))
    if op == OP_ERROR:
        return "ERROR %d %r" % (f["code"], f["msg"])
    if op == OP_OACK:
        return "OACK %r" % f["opts"]
    return "%s %r" % (OP_NAMES.get(op, op), f)


def netascii_encode(data):
    out = bytearray()
    for c in data:
        if c == 0x0A:
            out += b"\r\n"
        elif c == 0x0D:
            out += b"\r\0"
        else:
            out.append(c)
    return bytes(out)


# ---- sockets -----------------------------------------------------------------


class Ctx:
    def __init__(self, args):
        self.host = args.host
        self.port = args.port
        self.root = args.root
        self.family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        self.amp_seconds = args.amp_seconds
        self.rollover = args.rollover
        self.pid = args.pid
        self.seed = args.seed
        self.count = args.count
        self.net = args.src_net
        self.next_src = 10

    def src(self):
        """A fresh loopback source address per conversation, so the
        per-client transfer limit of one case never touches another."""
        if self.family == socket.AF_INET6:
            return "::1"
        n = self.next_src
        self.next_src += 1
        return "127.%d.%d.%d" % (self.net, n // 250, 1 + n % 250)

    def sock(self, src=None):
        s = socket.socket(self.family, socket.SOCK_DGRAM)
        s.bind((src or self.src(), 0))
        return s

    def expected(self, name):
        with open(os.path.join(self.root, name), "rb") as f:
            return f.read()


def recv(s, wait):
    """One datagram within wait seconds: (bytes, addr), or (None, None)."""
    s.settimeout(max(wait, 0.001))
    try:
        pkt, addr = s.recvfrom(70000)
    except socket.timeout:
        return None, None
    except ConnectionRefusedError:
        return None, None
    return pkt, addr[:2]


def collect(s, seconds):
    """Every datagram arriving within the next seconds."""
    got = []
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return got
        pkt, addr = recv(s, left)
        if pkt is not None:
            got.append((pkt, addr))


def request(ctx, s, pkt, wait=2.0):
    """Sends a request to the listen port; returns (op, fields, server addr)."""
    s.sendto(pkt, (ctx.host, ctx.port))
    reply, addr = recv(s, wait)
    if reply is None:
        raise CheckFail("no answer within %.1f s to %r" % (wait, pkt[:80]))
    op, f = parse(reply)
    return op, f, addr


def expect_error(ctx, pkt, codes, label=""):
    s = ctx.sock()
    try:
        op, f, _ = request(ctx, s, pkt)
    finally:
        s.close()
    if op != OP_ERROR:
        raise CheckFail("%s: want ERROR %s, got %s" % (label or repr(pkt[:60]), codes, describe_of(op, f)))
    if f["code"] not in codes:
        raise CheckFail("%s: want ERROR %s, got ERROR %d %r" % (label or repr(pkt[:60]), codes, f["code"], f["msg"]))
    return f


def describe_of(op, f):
    if op == OP_DATA:
        return "DATA %d (%d bytes)" % (f["block"], len(f["data"]))
    if op == OP_OACK:
        return "OACK %r" % f["opts"]
    if op == OP_ERROR:
        return "ERROR %d %r" % (f["code"], f["msg"])
    return OP_NAMES.get(op, str(op))


def end_transfer(s, addr, code=0, msg="test done"):
    try:
        s.sendto(build_error(code, msg), addr)
    except OSError:
        pass


# ---- a reference client ----------------------------------------------------


def fetch(ctx, name, mode="octet", opts=(), s=None, rollover=0, wait=2.0, hook=None):
    """Downloads name; returns (bytes on the wire, OACK options or None, list of
    block lengths). RFC 7440 client side: ACK every windowsize blocks and the
    last one; on a timeout ACK the last block received in order. hook(event,
    block, server_addr) may inject extra traffic."""
    own = s is None
    s = s or ctx.sock()
    try:
        return fetch_on(ctx, s, name, mode, opts, rollover, wait, hook)
    finally:
        if own:
            s.close()


def fetch_on(ctx, s, name, mode, opts, rollover, wait, hook):
    rrq = build_request(name, mode, opts)
    s.sendto(rrq, (ctx.host, ctx.port))
    server = None
    oack = None
    blksize, window = 512, 1
    expected, last_good, since_ack = 1, 0, 0
    data, lengths = bytearray(), []
    tries = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        pkt, addr = recv(s, wait)
        if pkt is None:
            tries += 1
            if tries > 5:
                raise CheckFail("%s: timed out waiting for block %d" % (name, expected))
            if server is None:
                s.sendto(rrq, (ctx.host, ctx.port))
            else:
                s.sendto(build_ack(last_good), server)
            continue
        if server is not None and addr != server:
            continue
        if socket.inet_pton(ctx.family, addr[0]) != socket.inet_pton(ctx.family, ctx.host):
            raise CheckFail("asked %s, answered from %s: transfer socket not bound to the request's address" % (ctx.host, addr[0]))
        op, f = parse(pkt)
        if op == OP_ERROR:
            raise TftpError(f["code"], f["msg"])
        if op == OP_OACK:
            if server is not None:
                continue  # a resent OACK: our ACK 0 may have crossed it
            if not opts:
                raise CheckFail("OACK to a request without options")
            server, oack = addr, f["opts"]
            blksize = int(oack.get("blksize", 512))
            window = int(oack.get("windowsize", 1))
            s.sendto(build_ack(0), server)
            tries = 0
            continue
        if op != OP_DATA:
            raise CheckFail("unexpected %s during a transfer" % OP_NAMES.get(op, op))
        if server is None:
            server = addr
        if f["block"] != expected:
            continue
        tries = 0
        chunk = f["data"]
        if len(chunk) > blksize:
            raise CheckFail("DATA %d carries %d bytes, blksize %d" % (f["block"], len(chunk), blksize))
        data += chunk
        lengths.append(len(chunk))
        last_good = expected
        expected = (expected + 1) & 0xFFFF
        if expected == 0 and rollover:
            expected = 1
        since_ack += 1
        if hook:
            hook("data", last_good, server)
        if len(chunk) < blksize:
            s.sendto(build_ack(last_good), server)
            return bytes(data), oack, lengths
        if since_ack >= window:
            s.sendto(build_ack(last_good), server)
            since_ack = 0
    raise CheckFail("%s: transfer took over 120 s" % name)


def fetch_expect(ctx, name, opts=(), mode="octet", want=None, **kw):
    got, oack, lengths = fetch(ctx, name, mode, opts, **kw)
    want = ctx.expected(name) if want is None else want
    if got != want:
        raise CheckFail(
            "%s: got %d bytes (sha256 %s), want %d (sha256 %s)"
            % (name, len(got), hashlib.sha256(got).hexdigest()[:16], len(want), hashlib.sha256(want).hexdigest()[:16])
        )
    return oack, lengths


# ---- fixtures ---------------------------------------------------------------


def make_fixtures(root):
    # CR LF of the encoded LF straddles the first block boundary; the CR NUL
    # of a CR straddles the second; the file ends on a LF.
    text = b"a" * 511 + b"\n" + b"b" * 510 + b"\r" + b"tail\r\nline\n" + b"x" * 100 + b"\n"
    with open(os.path.join(root, "netascii_mix.txt"), "wb") as f:
        f.write(text)
    os.makedirs(os.path.join(root, "Sub", "Dir"), exist_ok=True)
    rnd = random.Random(7)
    with open(os.path.join(root, "Sub", "Dir", "Nested.bin"), "wb") as f:
        f.write(bytes(rnd.getrandbits(8) for _ in range(3000)))
    link = os.path.join(root, "escape")
    if not os.path.lexists(link):
        os.symlink("/etc/passwd", link)


# ---- cases ------------------------------------------------------------------

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


@case
def missing_file(ctx):
    expect_error(ctx, build_request("no_such_file.bin"), {1})


@case
def wrq(ctx):
    expect_error(ctx, build_request("size_513.bin", op=OP_WRQ), {2}, "WRQ of an existing file")
    expect_error(ctx, build_request("new_upload.bin", op=OP_WRQ), {2}, "WRQ of a new file")
    expect_error(ctx, build_request("x.bin", "netascii", [("blksize", "1024")], op=OP_WRQ), {2}, "WRQ with options")


@case
def path_escape(ctx):
    for name in ("../etc/passwd", "/../etc/passwd", "..\\etc\\passwd", "Sub/../../etc/passwd", "Sub/Dir/../../../x", ".."):
        expect_error(ctx, build_request(name), {2}, repr(name))


@case
def control_chars(ctx):
    for name in ("size_\x01513.bin", "\x1b[31msize_513.bin", "size_513.bin\x7f"):
        expect_error(ctx, build_request(name), {2}, repr(name))


@case
def symlink_escape(ctx):
    # The issue asks for ERROR 2; a "not found" would also keep the secret, so
    # 1 is tolerated. Data must never come back.
    expect_error(ctx, build_request("escape"), {1, 2}, "symlink to /etc/passwd")


@case
def missing_nul(ctx):
    expect_error(ctx, b"\x00\x01size_513.bin\x00octet", {4}, "mode without NUL")
    expect_error(ctx, b"\x00\x01size_513.bin", {4}, "name without NUL")
    expect_error(ctx, b"\x00\x01", {4}, "bare opcode")
    expect_error(ctx, build_request("size_513.bin") + b"blksize\x001024", {4}, "option value without NUL")
    expect_error(ctx, build_request("size_513.bin") + b"blksize\x00", {4, 8}, "option without a value")


@case
def bad_mode(ctx):
    expect_error(ctx, build_request("size_513.bin", "mail"), {0, 4}, "mode mail")
    expect_error(ctx, build_request("size_513.bin", ""), {0, 4}, "empty mode")


@case
def empty_name(ctx):
    expect_error(ctx, build_request(""), {1, 2, 4}, "empty file name")


@case
def duplicate_option(ctx):
    expect_error(ctx, build_request("size_513.bin", opts=[("blksize", "1024"), ("blksize", "1024")]), {4, 8}, "blksize twice")
    expect_error(ctx, build_request("size_513.bin", opts=[("tsize", "0"), ("TSIZE", "0")]), {4, 8}, "tsize and TSIZE")


@case
def bad_option_values(ctx):
    bad = [
        ("blksize", "abc"),
        ("blksize", "7"),
        ("blksize", "0"),
        ("blksize", ""),
        ("blksize", "-512"),
        ("blksize", "1024x"),
        ("blksize", "99999999999999999999999"),
        ("windowsize", "0"),
        ("windowsize", "abc"),
        ("timeout", "0"),
        ("timeout", "256"),
        ("timeout", "1.5"),
    ]
    for key, value in bad:
        expect_error(ctx, build_request("size_513.bin", opts=[(key, value)]), {8}, "%s %r" % (key, value))


@case
def too_long(ctx):
    expect_error(ctx, build_request("a" * 600), {4}, "600-byte name")
    pad = [("x%d" % i, "y" * 40) for i in range(12)]  # unknown options, 12*45 bytes
    pkt = build_request("size_513.bin", opts=pad)
    assert len(pkt) > 512
    expect_error(ctx, pkt, {4}, "%d-byte request of an existing file" % len(pkt))


@case
def blksize_clamped(ctx):
    oack, lengths = fetch_expect(ctx, "size_513.bin", [("blksize", "100000")])
    bs = int(oack["blksize"])
    if not 8 <= bs <= BLKSIZE_MAX:
        raise CheckFail("blksize 100000 answered with %d" % bs)
    if lengths[0] != min(bs, 513):
        raise CheckFail("first DATA %d bytes with blksize %d" % (lengths[0], bs))


@case
def blksize_bounds(ctx):
    oack, lengths = fetch_expect(ctx, "size_513.bin", [("blksize", "8")])
    if oack != {"blksize": "8"} or len(lengths) != 65 or lengths[-1] != 1:
        raise CheckFail("blksize 8: OACK %r, %d blocks" % (oack, len(lengths)))
    oack, lengths = fetch_expect(ctx, "size_1048576.bin", [("blksize", "65464")])
    if int(oack["blksize"]) > 65464:
        raise CheckFail("blksize 65464 answered %r" % oack)


@case
def option_name_case(ctx):
    oack, _ = fetch_expect(ctx, "size_1048576.bin", [("BlkSize", "1024")])
    if oack != {"blksize": "1024"}:
        raise CheckFail("BlkSize 1024 answered with %r" % oack)


@case
def unknown_option_only(ctx):
    s = ctx.sock()
    try:
        op, f, addr = request(ctx, s, build_request("size_513.bin", opts=[("foo", "bar")]))
        if op != OP_DATA or f["block"] != 1 or len(f["data"]) != 512:
            raise CheckFail("only an unknown option: want DATA 1 (512 bytes), got %s" % describe_of(op, f))
        end_transfer(s, addr)
    finally:
        s.close()
    oack, _ = fetch_expect(ctx, "size_513.bin", [("foo", "bar"), ("blksize", "1024")])
    if oack != {"blksize": "1024"}:
        raise CheckFail("foo + blksize: OACK %r, want only blksize" % oack)


@case
def tsize_octet(ctx):
    oack, _ = fetch_expect(ctx, "size_1048576.bin", [("tsize", "0"), ("blksize", "1468")])
    if oack != {"tsize": "1048576", "blksize": "1468"}:
        raise CheckFail("tsize 0 + blksize 1468: OACK %r" % oack)
    oack, _ = fetch_expect(ctx, "size_0.bin", [("tsize", "0")])
    if oack != {"tsize": "0"}:
        raise CheckFail("tsize of an empty file: OACK %r" % oack)


@case
def tsize_netascii(ctx):
    want = netascii_encode(ctx.expected("netascii_mix.txt"))
    s = ctx.sock()
    try:
        op, f, addr = request(ctx, s, build_request("netascii_mix.txt", "netascii", [("tsize", "0")]))
        if op != OP_DATA or f["block"] != 1:
            raise CheckFail("netascii with only tsize: want DATA 1, got %s" % describe_of(op, f))
        end_transfer(s, addr)
    finally:
        s.close()
    oack, _ = fetch_expect(ctx, "netascii_mix.txt", [("tsize", "0"), ("blksize", "1024")], "netascii", want)
    if oack != {"blksize": "1024"}:
        raise CheckFail("netascii tsize + blksize: OACK %r, want blksize only" % oack)


@case
def netascii_encoding(ctx):
    want = netascii_encode(ctx.expected("netascii_mix.txt"))
    _, lengths = fetch_expect(ctx, "netascii_mix.txt", mode="netascii", want=want)
    _, lengths = fetch_expect(ctx, "netascii_mix.txt", mode="NetASCII", want=want)
    _, lengths = fetch_expect(ctx, "size_1048576.bin", mode="OCTET")


@case
def final_block_empty(ctx):
    _, lengths = fetch_expect(ctx, "size_512.bin")
    if lengths != [512, 0]:
        raise CheckFail("512-byte file at blksize 512: blocks %r, want [512, 0]" % lengths)
    _, lengths = fetch_expect(ctx, "size_0.bin")
    if lengths != [0]:
        raise CheckFail("empty file: blocks %r, want [0]" % lengths)


@case
def rollover(ctx):
    """1 MiB at blksize 16: blocks 1..65535, then the wrap (to 0, or to 1 with
    --rollover 1 given to this checker and the daemon), the last 16 bytes,
    and a zero-length block."""
    _, lengths = fetch_expect(ctx, "size_1048576.bin", [("blksize", "16"), ("windowsize", "32")], rollover=ctx.rollover)
    if len(lengths) != 65537 or lengths[-1] != 0:
        raise CheckFail("%d blocks, last %d bytes; want 65537 and 0" % (len(lengths), lengths[-1]))


@case
def names(ctx):
    want = ctx.expected("Sub/Dir/Nested.bin")
    for name in ("/Sub/Dir/Nested.bin", "sub/dir/nested.BIN", "\\SUB\\dir\\Nested.bin", "/sub\\Dir/NESTED.bin"):
        fetch_expect(ctx, name, want=want)


@case
def timeout_option(ctx):
    for value in ("1", "255", "7"):
        s = ctx.sock()
        try:
            op, f, addr = request(ctx, s, build_request("size_513.bin", opts=[("timeout", value)]))
            if op != OP_OACK or f["opts"] != {"timeout": value}:
                raise CheckFail("timeout %s: got %s" % (value, describe_of(op, f)))
            end_transfer(s, addr, 8, "probe only")
        finally:
            s.close()


@case
def oack_resent(ctx):
    s = ctx.sock()
    try:
        op, f, addr = request(ctx, s, build_request("size_1048576.bin", opts=[("timeout", "1"), ("blksize", "1024")]))
        if op != OP_OACK:
            raise CheckFail("want OACK, got %s" % describe_of(op, f))
        pkt, addr2 = recv(s, 3.5)
        if pkt is None:
            raise CheckFail("OACK not resent within 3.5 s with timeout 1")
        op2, f2 = parse(pkt)
        if op2 != OP_OACK or f2 != f or addr2 != addr:
            raise CheckFail("after an unanswered OACK got %s" % describe(pkt))
        s.sendto(build_ack(0), addr)
        pkt, _ = recv(s, 2)
        if pkt is None or describe(pkt) != "DATA 1 (1024 bytes)":
            raise CheckFail("after a late ACK 0 got %s" % (pkt and describe(pkt)))
        end_transfer(s, addr)
    finally:
        s.close()


@case
def oack_error8_quiet(ctx):
    s = ctx.sock()
    try:
        op, f, addr = request(ctx, s, build_request("size_1048576.bin", opts=[("tsize", "0")]))
        if op != OP_OACK or f["opts"] != {"tsize": "1048576"}:
            raise CheckFail("tsize probe: got %s" % describe_of(op, f))
        s.sendto(build_error(8, "tsize probe only"), addr)
        got = collect(s, 3.0)
        if got:
            raise CheckFail("after the client's ERROR 8 the server sent %s" % describe(got[0][0]))
    finally:
        s.close()


@case
def illegal_packet(ctx):
    """During a transfer, anything from the client but ACK or ERROR (a DATA, a
    request, a truncated ACK) ends it with ERROR 4, and nothing follows."""
    for label, pkt in (("DATA", struct.pack("!HH", OP_DATA, 1) + b"junk"),
                       ("RRQ", build_request("size_513.bin")),
                       ("short ACK", struct.pack("!HB", OP_ACK, 0))):
        s = ctx.sock()
        try:
            op, f, addr = request(ctx, s, build_request("size_1048576.bin", opts=[("timeout", "5")]))
            if op != OP_OACK:
                raise CheckFail("%s: want OACK, got %s" % (label, describe_of(op, f)))
            s.sendto(pkt, addr)
            got = collect(s, 1.5)
            if not got:
                raise CheckFail("%s during a transfer: no answer, want ERROR 4" % label)
            op, f = parse(got[0][0])
            if op != OP_ERROR or f["code"] != 4 or got[0][1] != addr:
                raise CheckFail("%s during a transfer: want ERROR 4 from %s, got %s" % (label, addr, describe(got[0][0])))
            s.sendto(build_ack(0), addr)
            after = collect(s, 1.5)
            if len(got) > 1 or after:
                raise CheckFail("%s: the transfer went on after its ERROR 4: %s" % (label, describe((got[1:] + after)[0][0])))
        finally:
            s.close()


@case
def window_restart(ctx):
    s = ctx.sock()
    try:
        op, f, addr = request(ctx, s, build_request("size_1048576.bin", opts=[("windowsize", "4"), ("timeout", "5")]))
        if op != OP_OACK or f["opts"] != {"windowsize": "4", "timeout": "5"}:
            raise CheckFail("windowsize 4: got %s" % describe_of(op, f))
        s.sendto(build_ack(0), addr)
        first = [describe(p) for p, _ in collect(s, 0.7)]
        want = ["DATA %d (512 bytes)" % n for n in (1, 2, 3, 4)]
        if first != want:
            raise CheckFail("after ACK 0 got %r, want %r" % (first, want))
        s.sendto(build_ack(2), addr)  # partial: the window restarts at 3
        second = [describe(p) for p, _ in collect(s, 0.7)]
        want = ["DATA %d (512 bytes)" % n for n in (3, 4, 5, 6)]
        if second != want:
            raise CheckFail("after a partial ACK 2 got %r, want %r" % (second, want))
        end_transfer(s, addr)
    finally:
        s.close()


@case
def duplicate_ack(ctx):
    s = ctx.sock()
    try:
        op, f, addr = request(ctx, s, build_request("size_1048576.bin", opts=[("windowsize", "1"), ("timeout", "5")]))
        if op != OP_OACK:
            raise CheckFail("want OACK, got %s" % describe_of(op, f))
        s.sendto(build_ack(0), addr)
        pkt, _ = recv(s, 2)
        if pkt is None or describe(pkt) != "DATA 1 (512 bytes)":
            raise CheckFail("after ACK 0 got %s" % (pkt and describe(pkt)))
        s.sendto(build_ack(1), addr)
        s.sendto(build_ack(1), addr)
        got = [describe(p) for p, _ in collect(s, 1.5)]
        if got != ["DATA 2 (512 bytes)"]:
            raise CheckFail("ACK 1 sent twice: got %r, want exactly one DATA 2" % got)
        s.sendto(build_ack(2), addr)
        s.sendto(build_ack(1), addr)  # an old, late duplicate
        got = [describe(p) for p, _ in collect(s, 1.5)]
        if got != ["DATA 3 (512 bytes)"]:
            raise CheckFail("ACK 2 then a stale ACK 1: got %r, want exactly one DATA 3" % got)
        end_transfer(s, addr)
    finally:
        s.close()


@case
def file_shrinks(ctx):
    """A file cut short while it is being sent ends the transfer with an ERROR
    that says so, at the first block past the new end, instead of DATA padded
    with stale or missing bytes. loadsd sends from a mapping of the file: the
    pages past the end are gone, and the daemon must not die of SIGBUS."""
    path = os.path.join(ctx.root, "shrinking.bin")
    with open(path, "wb") as f:
        f.write(ctx.expected("size_1048576.bin"))
    cut = {}

    def hook(event, block, server):
        if block == 4 and not cut:
            os.truncate(path, 2048)
            cut["at"] = block

    try:
        fetch(ctx, "shrinking.bin", hook=hook)
    except TftpError as e:
        if e.code != 0 or "changed" not in e.msg:
            raise CheckFail("want ERROR 0 'File changed while being sent', got %s" % e)
        return
    finally:
        os.unlink(path)
    raise CheckFail("the file shrank to 2048 bytes at block 4, yet the whole transfer went through")


@case
def file_replaced(ctx):
    """A file replaced (a new one renamed over it) while it is being sent:
    the transfer goes on to its end with the bytes it started with, the
    next request gets the new file, and the daemon is still there."""
    path = os.path.join(ctx.root, "replaced.bin")
    old = ctx.expected("size_1048576.bin")
    new = bytes(reversed(old[:300000]))
    with open(path, "wb") as f:
        f.write(old)
    done = {}

    def hook(event, block, server):
        if block == 4 and not done:
            with open(path + ".new", "wb") as f:
                f.write(new)
            os.rename(path + ".new", path)
            done["at"] = block

    try:
        got, _, _ = fetch(ctx, "replaced.bin", hook=hook)
        if bytes(got) != old:
            raise CheckFail("replaced at block 4: got %d bytes, not the %d the transfer began with" % (len(got), len(old)))
        got, _, _ = fetch(ctx, "replaced.bin")
        if bytes(got) != new:
            raise CheckFail("after the replacement a new request got %d bytes, not the new file's %d" % (len(got), len(new)))
    finally:
        os.unlink(path)


@case
def wrong_source(ctx):
    """A stray packet at a transfer socket is ignored or answered with ERROR 5
    (a connected socket never even sees it); the transfer goes on."""
    main = ctx.sock()
    stray_same = ctx.sock(main.getsockname()[0])  # same address, other port
    stray_other = ctx.sock()  # other address
    seen = {}

    def hook(event, block, server):
        if block == 3 and not seen:
            for st in (stray_same, stray_other):
                st.sendto(build_ack(3), server)
                st.sendto(build_error(0, "stray"), server)
                st.sendto(struct.pack("!HH", OP_DATA, 1) + b"junk", server)
            for st, label in ((stray_same, "same address"), (stray_other, "other address")):
                for pkt, _ in collect(st, 0.5):
                    seen[label] = describe(pkt)
                    op, f = parse(pkt)
                    if op != OP_ERROR or f["code"] != 5:
                        seen["bad"] = "stray from %s got %s" % (label, describe(pkt))
            seen["done"] = True

    try:
        fetch_expect(ctx, "size_1048576.bin", [("blksize", "1468"), ("timeout", "5")], s=main, hook=hook)
        same, other = seen.get("same address", "nothing"), seen.get("other address", "nothing")
        print("  stray packets: same address got %s, other address got %s" % (same, other))
        if "bad" in seen:
            raise CheckFail(seen["bad"])
        if "done" not in seen:
            raise CheckFail("stray packets were never sent")
    finally:
        for st in (main, stray_same, stray_other):
            st.close()


@case
def busy(ctx):
    """Run with --max-transfers-per-client 1."""
    first = ctx.sock()
    addr_ip = first.getsockname()[0]
    second = ctx.sock(addr_ip)
    try:
        op, f, addr = request(ctx, first, build_request("size_1048576.bin", opts=[("timeout", "10")]))
        if op != OP_OACK:
            raise CheckFail("first transfer: want OACK, got %s" % describe_of(op, f))
        op2, f2, _ = request(ctx, second, build_request("size_513.bin"))
        if op2 != OP_ERROR or "busy" not in f2["msg"].lower():
            raise CheckFail("second transfer from %s: want an ERROR saying busy, got %s" % (addr_ip, describe_of(op2, f2)))
        end_transfer(first, addr)
        # The slot comes free once the first transfer ended.
        for _ in range(20):
            time.sleep(0.1)
            try:
                fetch_expect(ctx, "size_513.bin", s=second)
                return
            except TftpError as e:
                if "busy" not in e.msg.lower():
                    raise
        raise CheckFail("still busy 2 s after the first transfer ended")
    finally:
        first.close()
        second.close()


def two_per_client(ctx):
    """Run with a per-client limit of at least 2: the second concurrent
    transfer from one address is served."""
    first = ctx.sock()
    second = ctx.sock(first.getsockname()[0])
    try:
        op, f, addr = request(ctx, first, build_request("size_1048576.bin", opts=[("timeout", "10")]))
        if op != OP_OACK:
            raise CheckFail("first transfer: want OACK, got %s" % describe_of(op, f))
        try:
            fetch_expect(ctx, "size_513.bin", s=second)
        finally:
            end_transfer(first, addr)
    finally:
        first.close()
        second.close()


def drain(ctx):
    """SIGTERM (to --pid) in the middle of a transfer: the transfer still
    completes; a request that arrives after the signal starts nothing."""
    late = ctx.sock()
    state = {}

    def hook(event, block, server):
        if block != 100 or state:
            return
        os.kill(ctx.pid, 15)
        state["sent"] = True
        time.sleep(0.3)
        late.sendto(build_request("size_513.bin"), (ctx.host, ctx.port))
        for pkt, _ in collect(late, 0.5):
            if describe(pkt).startswith(("DATA", "OACK")):
                state["late"] = describe(pkt)

    try:
        fetch_expect(ctx, "size_1048576.bin", [("timeout", "5")], hook=hook)
        if "sent" not in state:
            raise CheckFail("SIGTERM was never sent")
        if "late" in state:
            raise CheckFail("a request after SIGTERM got %s" % state["late"])
    finally:
        late.close()


@case
def amplification(ctx):
    """Run with --timeout-ms 1000 --retries 5: a peer that never ACKs gets
    DATA 1 and one resend, not one per retry (2 packets, not 6)."""
    s = ctx.sock()
    try:
        rrq = build_request("size_1048576.bin")
        s.sendto(rrq, (ctx.host, ctx.port))
        got = collect(s, ctx.amp_seconds)
        total = sum(len(p) for p, _ in got)
        print(
            "amplification: %d-byte request, %d packets, %d bytes back in %.0f s, ratio 1:%.1f"
            % (len(rrq), len(got), total, ctx.amp_seconds, total / len(rrq))
        )
        if not got:
            raise CheckFail("no answer at all")
        if total > 2 * 516:
            raise CheckFail("a peer that never ACKs got %d bytes (%d packets), limit %d" % (total, len(got), 2 * 516))
        if any(describe(p) != "DATA 1 (512 bytes)" for p, _ in got):
            raise CheckFail("resends are not all DATA 1: %r" % [describe(p) for p, _ in got])
    finally:
        s.close()


# ---- fuzz -------------------------------------------------------------------

FUZZ_KEYS = ["blksize", "tsize", "timeout", "windowsize", "BLKSIZE", "foo", "", "multicast", "blksize\x01"]
FUZZ_VALUES = ["0", "1", "7", "8", "512", "1468", "65464", "65465", "4294967296", "9" * 40]
FUZZ_VALUES += ["", "abc", "-1", " 1", "0x10", "\xff"]


def fuzz_request(rng):
    names = ["size_513.bin", "size_0.bin", "netascii_mix.txt", "../x", "Sub/Dir/Nested.bin", ""]
    name = rng.choice(names + ["a" * rng.randint(1, 300)])
    mode = rng.choice(["octet", "netascii", "OCTET", "mail", "", "octet\x00x"])
    opts = [(rng.choice(FUZZ_KEYS), rng.choice(FUZZ_VALUES)) for _ in range(rng.randint(0, 6))]
    return build_request(name, mode, opts, rng.choice([OP_RRQ, OP_RRQ, OP_RRQ, OP_WRQ]))


def mutate(rng, pkt):
    pkt = bytearray(pkt)
    kind = rng.randrange(6)
    if kind == 0 and pkt:  # flip bytes
        for _ in range(rng.randint(1, 4)):
            pkt[rng.randrange(len(pkt))] = rng.randrange(256)
    elif kind == 1:  # truncate
        del pkt[rng.randint(0, len(pkt)) :]
    elif kind == 2 and pkt:  # drop or add NULs
        i = rng.randrange(len(pkt))
        if pkt[i] == 0:
            del pkt[i]
        else:
            pkt.insert(i, 0)
    elif kind == 3:  # append junk
        pkt += bytes(rng.randrange(256) for _ in range(rng.randint(1, 600)))
    elif kind == 4:  # new opcode
        pkt[0:2] = struct.pack("!H", rng.choice([0, 3, 4, 5, 6, 7, 255, 0xFFFF]))
    return bytes(pkt)


def fuzz_packet(rng):
    r = rng.random()
    if r < 0.6:
        return mutate(rng, fuzz_request(rng))
    if r < 0.8:
        return fuzz_request(rng)
    return bytes(rng.randrange(256) for _ in range(rng.randint(0, 700)))


def drain_and_close(ctx, s, first_wait=0.0):
    """Reads answers briefly (waiting up to first_wait for the first one); a
    transfer the fuzz packet started is ended. Returns the answers."""
    got = []
    pkt, addr = recv(s, first_wait) if first_wait else (None, None)
    if pkt is not None:
        got.append((pkt, addr))
    got += collect(s, 0.05)
    for pkt, addr in got:
        if len(pkt) >= 2 and pkt[1] in (OP_DATA, OP_OACK) and pkt[0] == 0:
            end_transfer(s, addr)
    s.close()
    return got


@case
def fuzz(ctx):
    rng = random.Random(ctx.seed)
    print("fuzz: seed %d, %d packets" % (ctx.seed, ctx.count))
    base = build_request("size_1048576.bin", opts=[("blksize", "1468"), ("tsize", "0"), ("windowsize", "4")])
    packets = [base[:n] for n in range(len(base))]  # every truncation
    to_listen = max(ctx.count * 2 // 3, len(packets))
    while len(packets) < to_listen:
        packets.append(fuzz_packet(rng))
    silent = []
    for pkt in packets:
        s = ctx.sock("127.%d.200.%d" % (ctx.net, rng.randint(1, 254)))
        s.sendto(pkt, (ctx.host, ctx.port))
        # A request (opcode 1 or 2), however malformed, is never met with silence.
        is_request = len(pkt) >= 2 and pkt[0] == 0 and pkt[1] in (OP_RRQ, OP_WRQ)
        if not drain_and_close(ctx, s, 1.0 if is_request else 0.0) and is_request:
            silent.append(pkt)
    if silent:
        raise CheckFail("%d requests got no answer, e.g. %s" % (len(silent), silent[0].hex()))
    # The rest goes to live transfer sockets, from the transfer's own peer.
    for i in range(ctx.count - len(packets)):
        s = ctx.sock("127.%d.201.%d" % (ctx.net, 1 + i % 254))
        op, f, addr = request(ctx, s, build_request("size_1048576.bin", opts=[("windowsize", "2"), ("timeout", "5")]))
        if op != OP_OACK:
            s.close()
            raise CheckFail("fuzz transfer %d: want OACK, got %s" % (i, describe_of(op, f)))
        s.sendto(build_ack(0), addr)
        collect(s, 0.02)
        data1 = struct.pack("!HH", OP_DATA, 1) + b"x" * 20
        proto = rng.choice([build_ack(2), build_ack(1), build_error(0, "x"), data1, base, b"\x00\x06blksize\x00512\x00"])
        s.sendto(mutate(rng, proto) if rng.random() < 0.8 else fuzz_packet(rng), addr)
        collect(s, 0.02)
        end_transfer(s, addr)
        drain_and_close(ctx, s)
    fetch_expect(ctx, "size_1048576.bin", [("blksize", "1468"), ("windowsize", "8")])
    fetch_expect(ctx, "size_513.bin")


# ---- main ---------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--root", help="the daemon's serve directory (expected contents)")
    ap.add_argument("--case", action="append", default=[], help="run this case (repeatable); default: those --list shows but busy, amplification")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--get", metavar="NAME", help="download NAME to --out (reference client)")
    ap.add_argument("--out")
    ap.add_argument("--opt", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--mode", default="octet")
    ap.add_argument("--wait", type=float, default=2.0)
    ap.add_argument("--make-fixtures", action="store_true")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("LOADSD_FUZZ_SEED", "20240611")))
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--src-net", type=int, default=0, help="send from 127.N.x.y (one N per run keeps per-client limits apart)")
    ap.add_argument("--pid", type=int, default=0, help="the daemon's process id (case drain)")
    ap.add_argument("--rollover", type=int, choices=(0, 1), default=0, help="the daemon's --rollover")
    ap.add_argument("--amp-seconds", type=float, default=20.0)
    args = ap.parse_args()

    special = {"fuzz": fuzz, "drain": drain, "two_per_client": two_per_client}
    if args.list:
        print("\n".join(c.__name__ for c in CASES if c.__name__ not in special))
        return 0
    if args.make_fixtures:
        make_fixtures(args.root)
        return 0
    ctx = Ctx(args)
    if args.get:
        opts = [tuple(o.split("=", 1)) for o in args.opt]
        try:
            data, _, _ = fetch(ctx, args.get, args.mode, opts, wait=args.wait)
        except (TftpError, CheckFail) as e:
            print("get %s: %s" % (args.get, e), file=sys.stderr)
            return 1
        with open(args.out, "wb") as f:
            f.write(data)
        return 0

    names = args.case or [c.__name__ for c in CASES if c.__name__ not in special and c.__name__ not in ("amplification", "busy")]
    by_name = {c.__name__: c for c in CASES}
    by_name.update(special)
    passed = failed = 0
    for name in names:
        if name not in by_name:
            print("unknown case %s" % name, file=sys.stderr)
            return 2
        try:
            by_name[name](ctx)
        except (CheckFail, TftpError, OSError) as e:
            failed += 1
            print("  not ok: %s: %s" % (name, e))
        else:
            passed += 1
            print("  ok: %s" % name)
    if len(names) > 1:
        print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

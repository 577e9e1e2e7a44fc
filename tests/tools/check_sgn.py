#!/usr/bin/env python3
"""check_sgn.py: an independent reading of a signed header, for cross-checks.

Written from shared/design/sgn-format.md alone (it shares no code with
mkbundle.py or server/firmware/sgn.c), so that the writer, the C parser and this agree
only if all three follow the document. Test tooling: never modifies files.

Usage:
  check_sgn.py FILE [--cert CERT.pem] [--name NAME | --no-name]
Parses the header of FILE and prints its fields as JSON. Checks that tag 14
names the file (its base name, case-insensitive; or NAME). With --cert,
verifies the RSA PKCS#1 v1.5 signature over the file with the tag-12 TLV cut
out, using the certificate's public key (openssl dgst -verify).
Exit status: 0 all checks pass, 1 a check fails, 2 usage error.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

CONTAINERS = {3, 7, 9}
DIGESTS = {1: "sha1", 2: "sha256", 3: "sha512"}
KEY_BYTES = [64, 128, 256, 512]


class BadHeader(Exception):
    pass


def be(data):
    return int.from_bytes(data, "big")


def cstring(value, what):
    if b"\0" not in value:
        raise BadHeader("%s is not NUL-terminated" % what)
    return value.split(b"\0", 1)[0].decode("utf-8", "replace")


def parse(data):
    """Returns a dict of the header fields of data."""
    if len(data) < 10 or data[0] != 1 or be(data[1:3]) != 2 or data[5] != 2 or be(data[6:8]) != 2:
        raise BadHeader("no tag 1 then tag 2 at the start")
    hlen = be(data[8:10])
    if hlen % 4 or hlen < 10 or hlen > len(data):
        raise BadHeader("bad header length %d (file %d bytes)" % (hlen, len(data)))
    f = {"version": "%d.%d" % (data[3], data[4]), "header_len": hlen}
    pos = 10
    ends = []  # ends of open containers
    while pos < hlen:
        while ends and ends[-1] == pos:
            ends.pop()
        limit = ends[-1] if ends else hlen
        tag = data[pos]
        if tag == 13:
            pos += 1
            continue
        if pos + 3 > limit:
            raise BadHeader("tag %d at %d: no room for its length" % (tag, pos))
        n = be(data[pos + 1:pos + 3])
        value = data[pos + 3:pos + 3 + n]
        if pos + 3 + n > limit:
            raise BadHeader("tag %d at %d runs past its end" % (tag, pos))
        if tag in f.get("_seen", ()):
            raise BadHeader("tag %d twice" % tag)
        f.setdefault("_seen", []).append(tag)
        if tag in CONTAINERS:
            ends.append(pos + 3 + n)
            pos += 3
            continue
        read_field(f, tag, value, pos)
        pos += 3 + n
    del f["_seen"]
    for key in ("subject", "hash", "algorithm", "key_bytes", "sig_offset", "filename"):
        if key not in f:
            raise BadHeader("%s missing" % key)
    if f["sig_len"] != f["key_bytes"]:
        raise BadHeader("signature of %d bytes for a %d-byte key" % (f["sig_len"], f["key_bytes"]))
    return f


def read_field(f, tag, value, pos):
    if tag == 4:
        f["subject"] = cstring(value, "subject")
    elif tag == 5:
        f["serial"] = value.hex()
    elif tag == 6:
        f["issuer"] = cstring(value, "issuer")
    elif tag == 8 and len(value) == 1 and value[0] in DIGESTS:
        f["hash"] = DIGESTS[value[0]]
    elif tag == 10 and value == b"\0":
        f["algorithm"] = "rsa"
    elif tag == 11 and len(value) == 1 and value[0] < 4:
        f["key_bytes"] = KEY_BYTES[value[0]]
    elif tag == 12:
        f["sig_offset"], f["sig_len"] = pos, len(value)
    elif tag == 14:
        f["filename"] = cstring(value, "file name")
    elif tag == 15 and len(value) == 4:
        f["timestamp"] = be(value)
    elif tag == 28 and len(value) == 2 and pos == 10:
        f["signer_version"] = be(value)
    else:
        raise BadHeader("tag %d with value %s is not allowed here" % (tag, value[:8].hex()))


def verify(path, f, cert):
    """True when the signature checks out against cert's public key."""
    data = open(path, "rb").read()
    start, end = f["sig_offset"], f["sig_offset"] + 3 + f["sig_len"]
    with tempfile.TemporaryDirectory(prefix="check_sgn-") as tmp:
        pub, sig, obj = (os.path.join(tmp, n) for n in ("pub.pem", "sig.bin", "obj.bin"))
        key = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"],
                             capture_output=True, check=True).stdout
        open(pub, "wb").write(key)
        open(sig, "wb").write(data[start + 3:end])
        open(obj, "wb").write(data[:start] + data[end:])
        proc = subprocess.run(["openssl", "dgst", "-" + f["hash"], "-verify", pub, "-signature", sig, obj],
                              capture_output=True, check=False)
        return proc.returncode == 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file")
    p.add_argument("--cert", help="verify the signature with this certificate")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--name", help="expected tag-14 name (default: the file's base name)")
    g.add_argument("--no-name", action="store_true", help="do not check the tag-14 name")
    args = p.parse_args(argv)

    data = open(args.file, "rb").read(65536)
    size = os.path.getsize(args.file)
    ok = True
    try:
        f = parse(data)  # the header is at most 65535 bytes
    except BadHeader as err:
        print(json.dumps({"file": args.file, "ok": False, "error": str(err)}))
        return 1
    if not args.no_name:
        want = args.name or os.path.basename(args.file)
        f["name_ok"] = f["filename"].lower() == want.lower()
        ok = ok and f["name_ok"]
    if args.cert:
        f["signature_ok"] = verify(args.file, f, args.cert)
        ok = ok and f["signature_ok"]
    f.update({"file": args.file, "ok": ok, "payload_len": size - f["header_len"]})
    print(json.dumps(f, sort_keys=True))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

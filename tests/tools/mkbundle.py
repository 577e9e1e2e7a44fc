#!/usr/bin/env python3
"""mkbundle.py: makes test keys, signed files and firmware bundles for loadsd tests.

Test tooling only: Python standard library plus the `openssl` command. It never
touches a catalog or a server; it only writes the files it is asked for. The
signed header follows shared/design/sgn-format.md.

Commands
--------
mkbundle.py keys DIR
    RSA-2048 keys and self-signed certificates (10 years):
      DIR/vendor.{pem,key}     CN=Test Vendor Signer,OU=Test,O=loadsd-tests
      DIR/approval.{pem,key}   CN=Test Approver,O=loadsd-tests
      DIR/untrusted.{pem,key}  CN=Untrusted Signer,O=elsewhere
    Serial numbers are 8 random bytes whose first byte is 0x10-0x7f (so the
    header's big-endian serial and the certificate's are the same bytes).

mkbundle.py sign FILE_IN FILE_OUT --name NAME (--key K.key --cert K.pem | --unsigned-placeholder)
                 [--hash sha1|sha256|sha512] [--timestamp UNIX] [--seed N]
    FILE_OUT = signed header + the bytes of FILE_IN. Header: tag 1 = 1.0,
    tag 2 = header length (padded with tag-13 bytes to a multiple of 4),
    tag 3 {4 subject, 5 serial, 6 issuer}, tag 7 {8 hash, 9 {10 alg 0,
    11 key size index}}, tag 12 signature, tag 14 NAME, tag 15 timestamp.
    Subject and issuer are written "CN=...;OU=...;O=..." (most specific
    first, ';' between parts, NUL-terminated); the serial is the
    certificate's serial as big-endian bytes. The signature is RSA PKCS#1
    v1.5 over the whole output file with the tag-12 TLV (3 bytes + value)
    cut out. --unsigned-placeholder writes the placeholder signer of vendor
    firmware (subject and issuer CN=someSigner, serial 1234567890abcdef)
    and random signature bytes: well formed, not verifiable.

mkbundle.py bundle --keys DIR --out FILE --format zip|tar|tgz|cop|dir [options]
    A realistic firmware bundle: LOAD.loads (signed, tag 14 = LOAD.loads;
    payload: comment block, "#HARDWARE_COMP_1 1", the component names, CRLF)
    and the components it lists:
      jar41sip.9-4-2ES26.sbn cnu41.9-4-2ES26.sbn apps41.9-4-2ES26.sbn
      dsp41.9-4-2ES26.sbn cvm41sip.9-4-2ES26.sbn
    then, beyond five, alternately ext41-N.9-4-2ES26.sb2 and
    sip69xx-N.9-4-2ES26.zz.sgn (N = the 0-based index). Each is --size-kb KiB of
    pseudo-random bytes determined by --seed (a component with a header is
    header + those bytes). The same arguments always give the same bytes
    (fixed timestamps in headers and archives).
      --load NAME          load name (default SIP41.9-4-2SR3-1S)
      --components N       number of components (default 5)
      --size-kb K          payload size of each component (default 64)
      --signer S           vendor | untrusted | placeholder | none: who signs
                           the headers; none = the .loads has no header and
                           no component gets one (default vendor)
      --hash H             digest of every header (default sha256)
      --component-headers [all]
                           every other component (index 0, 2, 4, ...) gets a
                           signed header whose tag 14 is its own name; with
                           "all", every component does
      --term-default       also term41.default.loads, listing the same
                           components (signed, tag 14 = its own name)
      --omit X             leave component X (name or 0-based index) out of
                           the bundle while the .loads still lists it
      --wrong-name         tag 14 of LOAD.loads names another file
      --tamper             flip one byte after signing: in the payload of the
                           first component with a header when there is one,
                           else in the comment block of LOAD.loads
      --tamper-unsigned    flip one byte in the payload of the first component
                           without a header (nothing in the bundle can tell)
      --approval OUT.p7s   detached CMS signature (DER) over the bundle file
      --approval-signer S  approval | untrusted (default approval)
      --seed N             seed for contents (default 1)
      --manifest FILE      also write the JSON summary there
    Formats: zip and tar/tgz hold the files at top level; cop is a signed
    header (tag 14 = the output's own file name, so name it
    ciscocm.SOMETHING.cop.sgn) + tar.gz holding one inner tar with the
    files (the placeholder signer when --signer none); dir writes loose
    files into the directory FILE. Prints a JSON summary on stdout: every
    file in the bundle with size and SHA-256, the .loads names, what was
    omitted or tampered.

mkbundle.py evil --kind KIND --out FILE [--format zip|tar|tgz]
    Archives every import must refuse:
      zipslip  an entry "../../etc/x" (zip by default)
      symlink  a symlink entry dsp41.9-4-2ES26.sbn -> /etc/passwd (tar)
      bomb     one entry of 1 GiB of zeros, about 1 MB compressed (zip; or tgz)
      dupcase  Jar41.sbn and jar41.SBN (tar)
      dupname  a/x.sbn and b/x.sbn: one name after flattening (tar)
      abspath  an entry "/etc/x" (tar)
    Each also holds a harmless regular file, so the refusal is about the
    bad entry alone.

Exit status 0 on success, 2 on a usage error, 1 when openssl or a file operation fails.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import re
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile

HASHES = {"sha1": 1, "sha256": 2, "sha512": 3}
KEY_SIZES = [64, 128, 256, 512]  # tag 11 index -> signature bytes
PLACEHOLDER_SUBJECT = "CN=someSigner"
PLACEHOLDER_SERIAL = bytes.fromhex("1234567890abcdef")
FIXED_EPOCH = 1714000000  # timestamps in bundles, for reproducible bytes
ZIP_DATE = (2024, 4, 25, 0, 0, 0)
CHUNK = 1 << 20

KEY_SUBJECTS = {
    "vendor": "/CN=Test Vendor Signer/OU=Test/O=loadsd-tests",
    "approval": "/CN=Test Approver/O=loadsd-tests",
    "untrusted": "/CN=Untrusted Signer/O=elsewhere",
}

BASE_COMPONENTS = ["jar41sip", "cnu41", "apps41", "dsp41", "cvm41sip"]
COMPONENT_VERSION = "9-4-2ES26"


class ToolError(Exception):
    """A failure worth one line on stderr."""


def openssl(args, data=None):
    """Runs openssl with args; returns stdout bytes or raises ToolError."""
    proc = subprocess.run(["openssl"] + args, input=data, capture_output=True, check=False)
    if proc.returncode != 0:
        raise ToolError("openssl %s failed: %s" % (args[0], proc.stderr.decode(errors="replace").strip()))
    return proc.stdout


# ---------------------------------------------------------------- keys


def cmd_keys(args):
    os.makedirs(args.dir, exist_ok=True)
    for role, subj in KEY_SUBJECTS.items():
        serial = bytes([random.SystemRandom().randint(0x10, 0x7F)]) + os.urandom(7)
        openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
                 "-subj", subj, "-set_serial", "0x" + serial.hex(),
                 "-keyout", os.path.join(args.dir, role + ".key"),
                 "-out", os.path.join(args.dir, role + ".pem")])
    print(json.dumps({"keys": args.dir, "roles": sorted(KEY_SUBJECTS)}))
    return 0


# ---------------------------------------------------------------- header


def tlv(tag, value):
    if len(value) > 0xFFFF:
        raise ToolError("field %d too long" % tag)
    return struct.pack(">BH", tag, len(value)) + value


def text(s):
    return s.encode("utf-8") + b"\0"


class Signer:
    """Who a header names, and the key that signs it (None: placeholder)."""

    def __init__(self, subject, issuer, serial, key_path=None, key_bytes=256, rng=None):
        self.subject = subject
        self.issuer = issuer
        self.serial = serial
        self.key_path = key_path
        self.key_bytes = key_bytes
        self.rng = rng or random.Random(0)

    @classmethod
    def from_cert(cls, cert_path, key_path):
        return cls(cert_name(cert_path, "-subject"), cert_name(cert_path, "-issuer"),
                   cert_serial(cert_path), key_path, key_size_bytes(key_path))

    @classmethod
    def placeholder(cls, seed=0):
        return cls(PLACEHOLDER_SUBJECT, PLACEHOLDER_SUBJECT, PLACEHOLDER_SERIAL,
                   rng=random.Random("placeholder-%d" % seed))


def cert_name(cert_path, which):
    """The certificate's subject or issuer as CN=...;OU=...;O=... ."""
    out = openssl(["x509", "-in", cert_path, "-noout", which, "-nameopt", "RFC2253"]).decode()
    value = out.split("=", 1)[1].strip()
    parts = re.split(r"(?<!\\),", value)  # RFC 2253 lists the most specific part last
    return ";".join(reversed(parts))


def cert_serial(cert_path):
    out = openssl(["x509", "-in", cert_path, "-noout", "-serial"]).decode()
    digits = out.strip().split("=", 1)[1]
    if len(digits) % 2:
        digits = "0" + digits
    return bytes.fromhex(digits)


def key_size_bytes(key_path):
    out = openssl(["pkey", "-in", key_path, "-noout", "-text"]).decode()
    m = re.search(r"\((\d+) bit", out)
    if not m or int(m.group(1)) // 8 not in KEY_SIZES:
        raise ToolError("%s: not an RSA key of 512, 1024, 2048 or 4096 bits" % key_path)
    return int(m.group(1)) // 8


def build_header(signer, hash_name, name, timestamp):
    """Returns (header with a zero signature, offset of the tag-12 TLV)."""
    signer_info = tlv(4, text(signer.subject)) + tlv(5, signer.serial) + tlv(6, text(signer.issuer))
    alg = tlv(10, b"\0") + tlv(11, bytes([KEY_SIZES.index(signer.key_bytes)]))
    sig_info = tlv(8, bytes([HASHES[hash_name]])) + tlv(9, alg)
    head = tlv(1, b"\x01\x00") + tlv(2, b"\0\0") + tlv(3, signer_info) + tlv(7, sig_info)
    sig_offset = len(head)
    body = head + tlv(12, bytes(signer.key_bytes)) + tlv(14, text(name))
    body += tlv(15, struct.pack(">I", timestamp & 0xFFFFFFFF))
    body += b"\x0d" * (-len(body) % 4)
    if len(body) > 0xFFFF:
        raise ToolError("header too long")
    return bytearray(body[:8] + struct.pack(">H", len(body)) + body[10:]), sig_offset


def chunks_of(path):
    with open(path, "rb") as f:
        while True:
            block = f.read(CHUNK)
            if not block:
                return
            yield block


def rsa_sign(key_path, hash_name, pieces):
    """PKCS#1 v1.5 signature of the concatenated pieces (bytes or file paths)."""
    with tempfile.NamedTemporaryFile(prefix="mkbundle-sig-") as sig:
        proc = subprocess.Popen(["openssl", "dgst", "-" + hash_name, "-sign", key_path,
                                 "-binary", "-out", sig.name],
                                stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            for piece in pieces:
                for block in (chunks_of(piece) if isinstance(piece, str) else [piece]):
                    proc.stdin.write(block)
        except BrokenPipeError:
            pass  # openssl stopped reading: its exit status and stderr say why
        finally:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass
        err = proc.stderr.read()
        if proc.wait() != 0:
            raise ToolError("openssl dgst -sign failed: %s" % err.decode(errors="replace").strip())
        return open(sig.name, "rb").read()


def signed_header(signer, hash_name, name, timestamp, payload):
    """The header for payload (bytes or a file path), signature filled in."""
    header, off = build_header(signer, hash_name, name, timestamp)
    end = off + 3 + signer.key_bytes
    if signer.key_path is None:
        signature = bytes(signer.rng.getrandbits(8) for _ in range(signer.key_bytes))
    else:
        signature = rsa_sign(signer.key_path, hash_name, [bytes(header[:off]), bytes(header[end:]), payload])
    if len(signature) != signer.key_bytes:
        raise ToolError("signature is %d bytes, expected %d" % (len(signature), signer.key_bytes))
    header[off + 3:end] = signature
    return bytes(header)


def cmd_sign(args):
    if args.unsigned_placeholder:
        signer = Signer.placeholder(args.seed)
    elif args.key and args.cert:
        signer = Signer.from_cert(args.cert, args.key)
    else:
        raise ToolError("sign needs --key and --cert, or --unsigned-placeholder")
    timestamp = args.timestamp if args.timestamp is not None else int(time.time())
    header = signed_header(signer, args.hash, args.name, timestamp, args.file_in)
    with open(args.file_out + ".tmp", "wb") as out:
        out.write(header)
        for block in chunks_of(args.file_in):
            out.write(block)
    os.replace(args.file_out + ".tmp", args.file_out)
    return 0


# ---------------------------------------------------------------- bundle


def component_names(count, load):
    family = "41"
    m = re.match(r"^[A-Za-z]+(\d+)", load)
    if m:
        family = m.group(1)
    names = [n.replace("41", family, 1) + "." + COMPONENT_VERSION + ".sbn" for n in BASE_COMPONENTS]
    names = names[:count]
    for i in range(len(names), count):
        if i % 2:
            names.append("ext%s-%d.%s.sb2" % (family, i, COMPONENT_VERSION))
        else:
            names.append("sip69xx-%d.%s.zz.sgn" % (i, COMPONENT_VERSION))
    return names


def pseudo_random(seed, index, size):
    """size deterministic bytes for component index (SHAKE-256 stream)."""
    return hashlib.shake_256(b"loadsd-mkbundle:%d:%d" % (seed, index)).digest(size)


def loads_payload(load, names, seed):
    lines = ["# %s.loads" % load,
             "# Test firmware list made by loadsd tests/tools/mkbundle.py (seed %d)." % seed,
             "# Not a real vendor file.",
             "#",
             "#HARDWARE_COMP_1 1"] + names
    return ("\r\n".join(lines) + "\r\n").encode()


def bundle_signer(args):
    if args.signer == "none":
        return None
    if args.signer == "placeholder":
        return Signer.placeholder(args.seed)
    role = args.signer
    return Signer.from_cert(os.path.join(args.keys, role + ".pem"), os.path.join(args.keys, role + ".key"))


def make_files(args, signer):
    """Returns (ordered dict name -> bytes, summary fields)."""
    names = component_names(args.components, args.load)
    stamp = FIXED_EPOCH + args.seed
    files = {}
    signed = set()
    for i, name in enumerate(names):
        payload = pseudo_random(args.seed, i, args.size_kb * 1024)
        headed = args.component_headers == "all" or (args.component_headers and i % 2 == 0)
        if headed and signer is not None:
            files[name] = signed_header(signer, args.hash, name, stamp, payload) + payload
            signed.add(name)
        else:
            files[name] = payload
    loads_names = [args.load + ".loads"]
    if args.term_default:
        loads_names.append("term%s.default.loads" % (re.sub(r"\D", "", names[0].split(".")[0]) or "41"))
    for lname in loads_names:
        payload = loads_payload(args.load if lname == loads_names[0] else lname[:-6], names, args.seed)
        if signer is None:
            files[lname] = payload
            continue
        tag14 = lname
        if args.wrong_name and lname == loads_names[0]:
            tag14 = "SIP41.0-0-0WRONG.loads"
        files[lname] = signed_header(signer, args.hash, tag14, stamp, payload) + payload
        signed.add(lname)
    summary = {"loads": loads_names, "components": names, "signed": sorted(signed)}
    summary["omitted"] = omit(args, names, files)
    summary["tampered"] = tamper(args, names, files, signed)
    if args.tamper_unsigned:
        summary["tampered"] = tamper_unsigned(names, files, signed)
    return files, summary


def omit(args, names, files):
    if args.omit is None:
        return None
    name = args.omit
    if name.isdigit():
        if int(name) >= len(names):
            raise ToolError("--omit %s: there are only %d components" % (name, len(names)))
        name = names[int(name)]
    if name not in names:
        raise ToolError("--omit %s: not a component of this bundle (%s)" % (args.omit, " ".join(names)))
    del files[name]
    return name


def tamper(args, names, files, signed):
    if not args.tamper:
        return None
    targets = [n for n in names if n in signed and n in files]
    if targets:
        name = targets[0]
        data = bytearray(files[name])
        hlen = struct.unpack(">H", data[8:10])[0]
        data[hlen + (len(data) - hlen) // 2] ^= 0xFF
    else:
        name = args.load + ".loads"
        if name not in signed:
            raise ToolError("--tamper needs a signed file (use a signer other than none)")
        data = bytearray(files[name])
        hlen = struct.unpack(">H", data[8:10])[0]
        data[hlen + 2] ^= 0x20  # a letter of the first comment changes case: still parses
    files[name] = bytes(data)
    return name


def tamper_unsigned(names, files, signed):
    targets = [n for n in names if n not in signed and n in files]
    if not targets:
        raise ToolError("--tamper-unsigned needs a component without a header")
    data = bytearray(files[targets[0]])
    data[len(data) // 2] ^= 0xFF
    files[targets[0]] = bytes(data)
    return targets[0]


def tar_bytes(files, compress):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = FIXED_EPOCH
            info.mode = 0o644
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data))
    if not compress:
        return raw.getvalue()
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=FIXED_EPOCH) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def write_zip(path, files):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            z.writestr(info, data)


def write_bundle(args, files, signer):
    out = args.out
    if args.format == "dir":
        os.makedirs(out, exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)
        return
    tmp = out + ".tmp"
    if args.format == "zip":
        write_zip(tmp, files)
    elif args.format in ("tar", "tgz"):
        with open(tmp, "wb") as f:
            f.write(tar_bytes(files, args.format == "tgz"))
    else:  # cop: header + tar.gz holding one inner tar
        inner = tar_bytes(files, False)
        outer = tar_bytes({"cmterm-%s.tar" % args.load: inner}, True)
        cop_signer = signer or Signer.placeholder(args.seed)
        header = signed_header(cop_signer, args.hash, os.path.basename(out), FIXED_EPOCH + args.seed, outer)
        with open(tmp, "wb") as f:
            f.write(header + outer)
    os.replace(tmp, out)


def approve(args):
    if args.approval is None:
        return None
    if args.format == "dir":
        raise ToolError("--approval signs a bundle file: not with --format dir")
    role = args.approval_signer
    openssl(["cms", "-sign", "-binary", "-outform", "DER", "-md", "sha256", "-in", args.out,
             "-signer", os.path.join(args.keys, role + ".pem"),
             "-inkey", os.path.join(args.keys, role + ".key"), "-out", args.approval])
    return {"file": args.approval, "signer": role}


def cmd_bundle(args):
    if args.components < 1 or args.components > 200 or args.size_kb < 0:
        raise ToolError("--components must be 1..200 and --size-kb >= 0")
    signer = bundle_signer(args)
    files, summary = make_files(args, signer)
    write_bundle(args, files, signer)
    summary.update({
        "bundle": args.out,
        "format": args.format,
        "files": {n: {"size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for n, d in files.items()},
        "approval": approve(args),
    })
    if args.format != "dir":
        summary["bundle_sha256"] = hashlib.sha256(open(args.out, "rb").read()).hexdigest()
    text_out = json.dumps(summary, indent=1, sort_keys=True)
    if args.manifest:
        with open(args.manifest, "w") as f:
            f.write(text_out + "\n")
    print(text_out)
    return 0


# ---------------------------------------------------------------- evil


HARMLESS = ("readme.txt", b"harmless regular file\n")


def evil_entries(kind):
    """(name, kind, data) triples: kind 'file' or 'symlink' (data = target)."""
    if kind == "zipslip":
        return [HARMLESS + ("file",), ("../../etc/x", b"escaped\n", "file")]
    if kind == "symlink":
        return [HARMLESS + ("file",), ("dsp41.9-4-2ES26.sbn", b"/etc/passwd", "symlink")]
    if kind == "dupcase":
        return [HARMLESS + ("file",), ("Jar41.sbn", b"one\n", "file"), ("jar41.SBN", b"two\n", "file")]
    if kind == "dupname":
        return [HARMLESS + ("file",), ("a/x.sbn", b"one\n", "file"), ("b/x.sbn", b"two\n", "file")]
    if kind == "abspath":
        return [HARMLESS + ("file",), ("/etc/x", b"absolute\n", "file")]
    raise ToolError("unknown --kind %s" % kind)


def evil_zip(path, entries):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data, kind in entries:
            info = zipfile.ZipInfo("", ZIP_DATE)
            info.filename = name  # set directly: the constructor would normalise it
            info.orig_filename = name
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, so the mode bits count
            info.external_attr = (0o120777 if kind == "symlink" else 0o100644) << 16
            z.writestr(info, data)


def evil_tar(path, entries, compress):
    with tarfile.open(path, "w:gz" if compress else "w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data, kind in entries:
            info = tarfile.TarInfo(name)
            info.mtime = FIXED_EPOCH
            if kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = data.decode()
                tar.addfile(info)
            else:
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))


def zeros(total):
    block = bytes(CHUNK)
    while total > 0:
        n = min(total, CHUNK)
        yield block[:n]
        total -= n


def evil_bomb(path, fmt, size=1 << 30):
    name = "dsp41.9-4-2ES26.sbn"
    if fmt == "zip":
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            z.writestr(zipfile.ZipInfo(HARMLESS[0], ZIP_DATE), HARMLESS[1])
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            with z.open(info, "w", force_zip64=True) as f:
                for block in zeros(size):
                    f.write(block)
        return
    with gzip.GzipFile(path, "wb", compresslevel=9, mtime=FIXED_EPOCH) as gz:
        with tarfile.open(fileobj=gz, mode="w|", format=tarfile.USTAR_FORMAT) as tar:
            info = tarfile.TarInfo(name)
            info.size = size
            info.mtime = FIXED_EPOCH
            tar.addfile(info, ZeroReader(size))


class ZeroReader(io.RawIOBase):
    """A file of n zero bytes, read in pieces."""

    def __init__(self, n):
        self.left = n

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


def cmd_evil(args):
    defaults = {"zipslip": "zip", "bomb": "zip"}
    fmt = args.format or defaults.get(args.kind, "tar")
    if args.kind == "bomb":
        if fmt not in ("zip", "tgz"):
            raise ToolError("a bomb is zip or tgz")
        evil_bomb(args.out, fmt)
    elif fmt == "zip":
        evil_zip(args.out, evil_entries(args.kind))
    else:
        evil_tar(args.out, evil_entries(args.kind), fmt == "tgz")
    print(json.dumps({"evil": args.kind, "format": fmt, "file": args.out}))
    return 0


# ---------------------------------------------------------------- main


def parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    k = sub.add_parser("keys", help="make vendor, approval and untrusted keys and certificates")
    k.add_argument("dir")
    k.set_defaults(func=cmd_keys)

    s = sub.add_parser("sign", help="prefix a file with a signed header")
    s.add_argument("file_in")
    s.add_argument("file_out")
    s.add_argument("--name", required=True, help="tag 14: the file name the header names")
    s.add_argument("--key")
    s.add_argument("--cert")
    s.add_argument("--hash", choices=sorted(HASHES), default="sha256")
    s.add_argument("--unsigned-placeholder", action="store_true")
    s.add_argument("--timestamp", type=int)
    s.add_argument("--seed", type=int, default=1)
    s.set_defaults(func=cmd_sign)

    b = sub.add_parser("bundle", help="build a firmware bundle")
    b.add_argument("--keys", required=True)
    b.add_argument("--out", required=True)
    b.add_argument("--format", choices=["zip", "tar", "tgz", "cop", "dir"], required=True)
    b.add_argument("--load", default="SIP41.9-4-2SR3-1S")
    b.add_argument("--components", type=int, default=5)
    b.add_argument("--size-kb", type=int, default=64)
    b.add_argument("--signer", choices=["vendor", "untrusted", "placeholder", "none"], default="vendor")
    b.add_argument("--hash", choices=sorted(HASHES), default="sha256")
    b.add_argument("--component-headers", nargs="?", const="alternate", choices=["alternate", "all"])
    b.add_argument("--term-default", action="store_true")
    b.add_argument("--omit")
    b.add_argument("--wrong-name", action="store_true")
    b.add_argument("--tamper", action="store_true")
    b.add_argument("--tamper-unsigned", action="store_true")
    b.add_argument("--approval")
    b.add_argument("--approval-signer", choices=["approval", "untrusted"], default="approval")
    b.add_argument("--seed", type=int, default=1)
    b.add_argument("--manifest")
    b.set_defaults(func=cmd_bundle)

    e = sub.add_parser("evil", help="build an archive an import must refuse")
    e.add_argument("--kind", required=True,
                   choices=["zipslip", "symlink", "bomb", "dupcase", "dupname", "abspath"])
    e.add_argument("--out", required=True)
    e.add_argument("--format", choices=["zip", "tar", "tgz"])
    e.set_defaults(func=cmd_evil)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (ToolError, OSError) as err:
        print("mkbundle: %s" % err, file=sys.stderr)
        return 1
    except (ValueError, IndexError) as err:  # e.g. --omit 99
        print("mkbundle: %s" % err, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""tamper_proxy.py: an HTTP proxy in front of one upstream for the branch
tests: forwards every GET (Range included) and, for a blob whose hash is
listed in --tamper-file (one hex per line, read on every request), flips one
byte of the body on its way through: a tampered upstream file; for one
listed in --cut-file, sends half the body and closes the connection: a link
that broke mid-transfer; for one listed with a number of seconds in
--delay-file ("HEX SECONDS"), waits that long first: a slow link. Logs each
request with its Range header.

usage: tamper_proxy.py --listen PORT --upstream http://127.0.0.1:N
       --tamper-file F --cut-file G --delay-file H
"""
import argparse
import http.server
import os
import socketserver
import time
import urllib.error
import urllib.request

ARGS = None


def listed(path, list_file):
    if not path.startswith("/blobs/sha256/") or not os.path.exists(list_file):
        return False
    with open(list_file) as f:
        return path.rsplit("/", 1)[-1] in {line.strip() for line in f}


def delay_of(path):
    if not path.startswith("/blobs/sha256/") or not os.path.exists(ARGS.delay_file):
        return 0.0
    with open(ARGS.delay_file) as f:
        for line in f:
            part = line.split()
            if len(part) == 2 and part[0] == path.rsplit("/", 1)[-1]:
                return float(part[1])
    return 0.0


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        time.sleep(delay_of(self.path))
        req = urllib.request.Request(ARGS.upstream + self.path)
        if self.headers.get("Range"):
            req.add_header("Range", self.headers["Range"])
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, headers, body = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, e.headers, e.read()
        print("proxy: GET %s range=%s -> %d" % (self.path, self.headers.get("Range"), status),
              flush=True)
        if status in (200, 206) and body and listed(self.path, ARGS.tamper_file):
            b = bytearray(body)
            b[len(b) // 2] ^= 0x5A
            body = bytes(b)
        self.send_response(status)
        for h in ("Content-Type", "Content-Range", "ETag", "Cache-Control", "Retry-After"):
            if headers.get(h):
                self.send_header(h, headers[h])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status in (200, 206) and len(body) > 1 and listed(self.path, ARGS.cut_file):
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print("proxy: " + fmt % args, flush=True)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--listen", type=int, required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--tamper-file", required=True)
    p.add_argument("--cut-file", required=True)
    p.add_argument("--delay-file", required=True)
    ARGS = p.parse_args()
    Server(("127.0.0.1", ARGS.listen), Proxy).serve_forever()


if __name__ == "__main__":
    main()

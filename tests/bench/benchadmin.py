#!/usr/bin/env python3
# benchadmin.py: the admin-API client the benchmarks share (imported, or run
# as `benchadmin.py token PORT DATA_DIR` to print a new API token); JSON over
# one keep-alive loopback connection. Never used by make check.
import http.client
import json
import sys


class Api:
    """One connection to loadsd's admin API; token: sent as a Bearer token
    unless a call names its own Authorization header."""

    def __init__(self, port, token=None):
        self.port, self.token = port, token
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method, path, body=None, ctype="application/json", headers=None):
        """(status, body): the body parsed when it is JSON, else bytes."""
        h = dict(headers or {})
        if self.token:
            h.setdefault("Authorization", "Bearer " + self.token)
        if body is not None:
            h["Content-Type"] = ctype
            body = body if isinstance(body, (bytes, str)) else json.dumps(body)
        self.c.request(method, path, body=body, headers=h)
        r = self.c.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data[:1] in (b"{", b"[") else data)


def admin_token(api, data_dir, name="bench"):
    """Logs in as admin with the initial password loadsd wrote in data_dir
    and returns a new API token of that admin's."""
    with open(data_dir + "/initial-admin-password") as f:
        pw = f.read().strip()
    api.c.request("POST", "/api/v1/session", body=json.dumps({"user": "admin", "password": pw}),
                  headers={"Content-Type": "application/json"})
    r = api.c.getresponse()
    login = json.loads(r.read())
    assert r.status == 200, (r.status, login)
    cookie = r.getheader("Set-Cookie").split(";")[0]
    st, tok = api.call("POST", "/api/v1/tokens", {"name": name},
                       headers={"Cookie": cookie, "X-CSRF-Token": login["csrf_token"]})
    assert isinstance(tok, dict) and "token" in tok, (st, tok)
    return tok["token"]


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "token":
        sys.exit("usage: benchadmin.py token PORT DATA_DIR")
    print(admin_token(Api(int(sys.argv[2])), sys.argv[3]))

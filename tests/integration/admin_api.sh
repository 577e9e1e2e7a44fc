#!/bin/sh
# admin_api.sh: the admin HTTP API of a real loadsd on a loopback port, with
# curl: login, sessions, CSRF, roles, bearer tokens, body limits, JSON errors,
# static files and path traversal, security headers, /metrics, throttling.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/admin_lib.sh"

need_cmd curl python3
make_tmpdir
LOADSCTL="${LOADSCTL:-$top_builddir/admin/loadsctl}"
[ -x "$LOADSCTL" ] || die "$LOADSCTL is not built"
echo ready >"$ROOT/ready.txt"

# A web root of our own, a secret beside it and a symlink that escapes.
WEB="$TMPD/web"
mkdir -p "$WEB/css" || die "mkdir failed"
printf '<!doctype html><title>loadsd</title>\n' >"$WEB/index.html"
printf 'body{}\n' >"$WEB/css/app.css"
echo "top secret" >"$TMPD/secret.txt"
ln -s ../secret.txt "$WEB/escape.txt"

pick_port APORT
daemon_start --admin-listen "127.0.0.1:$APORT" --web-root "$WEB"
BASE="http://127.0.0.1:$APORT"

# json_get FILE KEY: a top-level member of a JSON file.
json_get() {
    python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2" 2>/dev/null
}

JSON='-H Content-Type:application/json'

# ---- start: the first-run admin ----
admin_wait
PWFILE="$TMPD/data/initial-admin-password"
[ -f "$PWFILE" ] || die "no $PWFILE after the first start"
PW=$(cat "$PWFILE")
if [ "$(stat -c %a "$PWFILE")" = 600 ]; then pass "initial password file is mode 0600"; else fail "initial password file mode $(stat -c %a "$PWFILE")"; fi
if grep -q "password $PW" "$DAEMON_LOG"; then pass "first-run password printed once on stderr"; else fail "first-run password not printed"; fi

# ---- login ----
req login POST /api/v1/session $JSON -c "$TMPD/admin.jar" -d "{\"user\":\"admin\",\"password\":\"$PW\"}"
expect "login as admin" 200
CSRF=$(json_get "$TMPD/login.body" csrf_token)
[ -n "$CSRF" ] && pass "login returns a CSRF token" || fail "no csrf_token in $(cat "$TMPD/login.body")"
cookie=$(header login Set-Cookie)
case "$cookie" in
*HttpOnly*SameSite=Strict*) pass "session cookie is HttpOnly, SameSite=Strict" ;;
*) fail "session cookie attributes: $cookie" ;;
esac
case "$cookie" in *Secure*) fail "Secure cookie over plain HTTP" ;; *) pass "no Secure flag without TLS" ;; esac
ADMIN="-b $TMPD/admin.jar"

req me GET /api/v1/session $ADMIN
expect "GET session with the cookie" 200
[ "$(json_get "$TMPD/me.body" role)" = admin ] && pass "session role is admin" || fail "session: $(cat "$TMPD/me.body")"

# ---- security headers, on API, static and error responses ----
for n in me login; do :; done
req static GET /
expect "static index" 200
for n in me static; do
    for h in "Content-Security-Policy" "X-Content-Type-Options" "Referrer-Policy" "X-Frame-Options"; do
        [ -n "$(header $n "$h")" ] || fail "$n: no $h header"
    done
done
csp=$(header static Content-Security-Policy)
case "$csp" in
*"script-src 'self'"*"frame-ancestors 'none'"*) pass "CSP: script-src self, frame-ancestors none" ;;
*) fail "CSP is $csp" ;;
esac
case "$csp" in *unsafe-inline*) fail "CSP allows inline script" ;; *) pass "CSP has no unsafe-inline" ;; esac
[ "$(header me X-Content-Type-Options)" = nosniff ] && pass "nosniff" || fail "X-Content-Type-Options"
[ "$(header me Cache-Control)" = no-store ] && pass "API responses: Cache-Control no-store" || fail "Cache-Control $(header me Cache-Control)"
[ "$(header static Content-Type)" = "text/html; charset=utf-8" ] && pass "static Content-Type" || fail "static Content-Type $(header static Content-Type)"
etag=$(header static ETag)
req static304 GET / -H "If-None-Match: $etag"
expect "static with a matching ETag" 304
req css GET /css/app.css
expect "static css" 200
[ "$(header css Content-Type)" = "text/css; charset=utf-8" ] && pass "css Content-Type" || fail "css Content-Type"

# ---- path traversal in static names: 400 or 404, never the file ----
for p in "/../../etc/passwd" "/%2e%2e/%2e%2e/etc/passwd" "/..%2f..%2fetc%2fpasswd" \
    "/css/..%2f..%2f..%2fetc%2fpasswd" "/%2e%2e%5c%2e%2e%5cetc%5cpasswd" "/escape.txt" \
    "/.%2e/secret.txt" "/css/%00/x" "/..;/secret.txt"; do
    req trav GET "$p"
    case "$STATUS" in
    400 | 404)
        if grep -q -e "root:" -e "top secret" "$TMPD/trav.body"; then
            fail "traversal $p: file content leaked"
        else
            pass "traversal $p: $STATUS"
        fi
        ;;
    *) fail "traversal $p: status $STATUS" ;;
    esac
    [ -n "$(header trav Content-Security-Policy)" ] || fail "traversal $p: no CSP on the error"
done
req postweb POST /index.html
expect "POST to a static file" 405

# ---- authentication failures ----
req nocookie GET /api/v1/loads
expect "no cookie" 401
[ "$(json_get "$TMPD/nocookie.body" error)" = unauthorized ] && pass "401 body is a JSON error" || fail "401 body: $(cat "$TMPD/nocookie.body")"
req badcookie GET /api/v1/loads -H "Cookie: loadsd_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
expect "forged session cookie" 401
req wrongpw POST /api/v1/session $JSON -d '{"user":"admin","password":"not-the-password"}'
expect "wrong password" 401
req nouser POST /api/v1/session $JSON -d '{"user":"ghost","password":"whatever-pass"}'
expect "unknown user" 401

# ---- CSRF ----
VIEWER_BODY='{"name":"viewer1","role":"viewer","password":"viewer-password"}'
req csrf0 POST /api/v1/users $ADMIN $JSON -d "$VIEWER_BODY"
expect "POST without X-CSRF-Token" 403
[ "$(json_get "$TMPD/csrf0.body" error)" = csrf ] && pass "CSRF refusal names csrf" || fail "CSRF body $(cat "$TMPD/csrf0.body")"
req csrf1 POST /api/v1/users $ADMIN $JSON -H "X-CSRF-Token: ${CSRF}x" -d "$VIEWER_BODY"
expect "POST with a wrong X-CSRF-Token" 403
req csrf2 DELETE /api/v1/loads/SOMELOAD $ADMIN
expect "DELETE without X-CSRF-Token" 403
req adduser POST /api/v1/users $ADMIN $JSON -H "X-CSRF-Token: $CSRF" -d "$VIEWER_BODY"
expect "add a viewer with the CSRF token" 201
req dupuser POST /api/v1/users $ADMIN $JSON -H "X-CSRF-Token: $CSRF" -d "$VIEWER_BODY"
expect "add the same user again" 409
AC="$ADMIN -H X-CSRF-Token:$CSRF"

# ---- malformed requests ----
req badjson POST /api/v1/users $AC $JSON -d '{"name": "x", '
expect "malformed JSON" 400
[ "$(json_get "$TMPD/badjson.body" error)" = bad_json ] && pass "malformed JSON: error bad_json" || fail "bad_json body $(cat "$TMPD/badjson.body")"
req nofield POST /api/v1/users $AC $JSON -d '{"name":"x2","role":"viewer"}'
expect "missing field" 400
[ "$(json_get "$TMPD/nofield.body" field)" = password ] && pass "400 names the field" || fail "field: $(cat "$TMPD/nofield.body")"
req badrole POST /api/v1/users $AC $JSON -d '{"name":"x3","role":"root","password":"long-enough"}'
expect "bad role" 400
req notjson POST /api/v1/users $AC -H "Content-Type: text/plain" -d 'hello'
expect "a text/plain body" 415
python3 -c 'import sys; sys.stdout.write("{\"pem\":\"" + "A" * (1024 * 1024 + 100) + "\"}")' >"$TMPD/big.json"
req big POST /api/v1/trust $AC $JSON --data-binary "@$TMPD/big.json"
expect "body over 1 MiB (Content-Length)" 413
req bigchunk POST /api/v1/trust $AC $JSON -H "Transfer-Encoding: chunked" --data-binary "@$TMPD/big.json"
expect "body over 1 MiB (chunked)" 413
req badpem POST /api/v1/trust $AC $JSON -d '{"pem":"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n","role":"vendor"}'
expect "a PEM that is no certificate" 400
[ "$(json_get "$TMPD/badpem.body" field)" = pem ] && pass "bad PEM names the field" || fail "bad PEM body $(cat "$TMPD/badpem.body")"
req noload GET /api/v1/loads/NOSUCHLOAD $ADMIN
expect "unknown load" 404
req noroute GET /api/v1/nothing $ADMIN
expect "unknown resource" 404
req badmethod PUT /api/v1/loads $AC $JSON -d '{}'
expect "wrong method" 405
[ -n "$(header badmethod Allow)" ] && pass "405 has Allow: $(header badmethod Allow)" || fail "405 without Allow"

# ---- the viewer ----
req vlogin POST /api/v1/session $JSON -c "$TMPD/viewer.jar" -d '{"user":"viewer1","password":"viewer-password"}'
expect "viewer login" 200
VCSRF=$(json_get "$TMPD/vlogin.body" csrf_token)
VIEW="-b $TMPD/viewer.jar -H X-CSRF-Token:$VCSRF"
req vread GET /api/v1/loads $VIEW
expect "viewer reads loads" 200
req vwrite POST /api/v1/trust $VIEW $JSON -d '{"pem":"x","role":"vendor"}'
expect "viewer adds a trust anchor" 403
req vdel DELETE /api/v1/loads/ANY $VIEW
expect "viewer removes a load" 403
req vusers GET /api/v1/users $VIEW
expect "viewer lists users (admin only)" 403

# ---- bearer tokens ----
req tok POST /api/v1/tokens $AC $JSON -d '{"name":"ci"}'
expect "create an API token" 201
TOKEN=$(json_get "$TMPD/tok.body" token)
req blist GET /api/v1/loads -H "Authorization: Bearer $TOKEN"
expect "bearer token reads" 200
req bwrite POST /api/v1/users -H "Authorization: Bearer $TOKEN" $JSON -d '{"name":"x4"}'
expect "bearer token writes without CSRF (reaches validation)" 400
req bbad GET /api/v1/loads -H "Authorization: Bearer lsd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
expect "unknown bearer token" 401
req bbasic GET /api/v1/loads -H "Authorization: Basic YWRtaW46YWRtaW4="
expect "Basic authorization" 401
CTLTOKEN=$("$LOADSCTL" --data-dir "$TMPD/data" token add viewer1 --name script 2>/dev/null)
req ctltok GET /api/v1/stats -H "Authorization: Bearer $CTLTOKEN"
expect "token from loadsctl token add" 200
req ctltokw DELETE /api/v1/trust/1 -H "Authorization: Bearer $CTLTOKEN"
expect "a viewer's token cannot write" 403

# ---- metrics, stats, audit ----
req metrics GET /metrics -H "Authorization: Bearer $TOKEN"
expect "GET /metrics" 200
if python3 - "$TMPD/metrics.body" <<'EOF'; then
import re, sys
ok = 0
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    if not re.fullmatch(r'[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.eE+-]+', line):
        sys.exit("bad line: " + line)
    ok += 1
sys.exit(0 if ok >= 10 else "too few samples")
EOF
    pass "/metrics parses as Prometheus text"
else
    fail "/metrics: $(head -c 400 "$TMPD/metrics.body")"
fi
req nometrics GET /metrics
expect "/metrics without credentials" 401
req audit GET "/api/v1/audit?limit=5&action=user." $ADMIN
expect "audit page" 200
if grep -q '"actor":"admin","action":"user.add","object":"viewer1"' "$TMPD/audit.body"; then pass "audit names the user who added viewer1"; else fail "audit: $(head -c 400 "$TMPD/audit.body")"; fi
req auditbad GET "/api/v1/audit?limit=0" $ADMIN
expect "audit limit 0" 400

# ---- logout ----
req logout DELETE /api/v1/session $AC
expect "logout" 200
req after GET /api/v1/session $ADMIN
expect "the old cookie after logout" 401

# ---- loadsctl users; the initial password file goes with a new password ----
"$LOADSCTL" --data-dir "$TMPD/data" user list | grep -q viewer1 && pass "loadsctl user list" || fail "loadsctl user list"
echo "admin-password-2" | "$LOADSCTL" --data-dir "$TMPD/data" user passwd admin --password-stdin >/dev/null
[ -f "$PWFILE" ] && fail "initial-admin-password kept after the password change" || pass "initial-admin-password removed after passwd"
req login2 POST /api/v1/session $JSON -c "$TMPD/admin2.jar" -d '{"user":"admin","password":"admin-password-2"}'
expect "login with the new password" 200
ADMIN2="-b $TMPD/admin2.jar"

# ---- throttling, last: it throttles 127.0.0.1 for 15 minutes ----
# A flood of wrong passwords for viewer1 from 127.0.0.1 throttles that
# address, but not the right password from another one (127.0.0.2: the
# server listens on 127.0.0.1 and Linux routes all of 127/8 to lo).
for i in $(seq 1 12); do
    req thr POST /api/v1/session $JSON -d '{"user":"viewer1","password":"wrong-password"}'
    case "$i:$STATUS" in [1-5]:401 | *:429) ;; *) fail "flood try $i: status $STATUS" ;; esac
done
req thr POST /api/v1/session $JSON -d '{"user":"viewer1","password":"viewer-password"}'
expect "the flooding address, right password" 429
retry=$(header thr Retry-After)
case "$retry" in '' | *[!0-9]*) fail "429 without a Retry-After ($retry)" ;; *) pass "429 with Retry-After: $retry" ;; esac
req thr2 POST /api/v1/session --interface 127.0.0.2 $JSON -d '{"user":"viewer1","password":"viewer-password"}'
expect "the right password from another address after the flood" 200
grep -q 'admin login throttled: too many failures for this user from this address (user "viewer1" from 127.0.0.1)' "$DAEMON_LOG" &&
    pass "the throttle is logged" || fail "no throttle line in the log"
[ "$(grep -c 'admin login throttled: too many failures for this user' "$DAEMON_LOG")" = 1 ] &&
    pass "logged once, not once per refused try" || fail "the throttle is logged more than once"
req thr_audit GET '/api/v1/audit?action=login.throttle' $ADMIN2
expect "audit of the throttle" 200
grep -q '"object": *"pair:viewer1@addr:127.0.0.1"' "$TMPD/thr_audit.body" &&
    pass "the throttle is audited" || fail "no login.throttle audit: $(head -c 300 "$TMPD/thr_audit.body")"

daemon_stop

# ---- HTTPS with --admin-cert/--admin-key ----
if command -v openssl >/dev/null 2>&1 &&
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
        -keyout "$TMPD/key.pem" -out "$TMPD/cert.pem" >/dev/null 2>&1; then
    pick_port APORT
    daemon_start --data-dir "$TMPD/data2" --admin-listen "127.0.0.1:$APORT" \
        --admin-cert "$TMPD/cert.pem" --admin-key "$TMPD/key.pem" --web-root "$WEB"
    BASE="https://127.0.0.1:$APORT"
    PW=$(cat "$TMPD/data2/initial-admin-password")
    req tls POST /api/v1/session --cacert "$TMPD/cert.pem" $JSON -d "{\"user\":\"admin\",\"password\":\"$PW\"}"
    expect "login over HTTPS" 200
    cookie=$(header tls Set-Cookie)
    case "$cookie" in
    __Host-loadsd_session=*Secure*) pass "HTTPS cookie: __Host- prefix and Secure" ;;
    *) fail "HTTPS cookie: $cookie" ;;
    esac
    [ -n "$(header tls Strict-Transport-Security)" ] && pass "HSTS under TLS" || fail "no HSTS under TLS"
    if curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$APORT/"; then fail "plain HTTP answered on the HTTPS port"; else pass "plain HTTP refused on the HTTPS port"; fi
    daemon_stop
else
    echo "note: no openssl: HTTPS not tested"
fi

# ---- plain HTTP on a non-loopback address is refused (the admin stays off) ----
pick_port APORT
daemon_start --data-dir "$TMPD/data3" --admin-listen "0.0.0.0:$APORT"
if grep -q "admin interface off: plain HTTP" "$DAEMON_LOG"; then pass "plain HTTP on 0.0.0.0 refused"; else fail "no refusal for plain HTTP on 0.0.0.0"; fi
if curl -s -o /dev/null --max-time 3 "http://127.0.0.1:$APORT/"; then fail "admin answered on 0.0.0.0 without TLS"; else pass "nothing listens on 0.0.0.0:$APORT"; fi
daemon_stop
finish

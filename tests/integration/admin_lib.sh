# admin_lib.sh: curl and JSON helpers the admin API tests share (sourced after lib.sh;
# they need $TMPD and $BASE). Every request keeps its body and headers.

# req NAME METHOD PATH [CURL ARGS...]: STATUS, $TMPD/NAME.body, $TMPD/NAME.hdr.
# --path-as-is: the traversal tests send ".." as it is.
req() {
    name=$1
    method=$2
    path=$3
    shift 3
    STATUS=$(curl -s -g --path-as-is --max-time 30 -X "$method" -o "$TMPD/$name.body" \
        -D "$TMPD/$name.hdr" -w '%{http_code}' "$@" "$BASE$path")
}

# expect LABEL WANT: one result for the last req's STATUS.
expect() {
    if [ "$STATUS" = "$2" ]; then
        pass "$1: $STATUS"
    else
        fail "$1: got $STATUS, want $2 ($(head -c 300 "$TMPD/$name.body" 2>/dev/null))"
    fi
}

# header NAME FIELD: a response header's value.
header() {
    grep -i "^$2:" "$TMPD/$1.hdr" | head -n 1 | cut -d: -f2- | tr -d '\r' | sed 's/^ //'
}

# admin_wait: until the admin interface at $BASE answers (50 tries, 0.2 s apart).
admin_wait() {
    i=0
    until curl -s -o /dev/null --max-time 2 "$BASE/api/v1/session"; do
        i=$((i + 1))
        [ $i -lt 50 ] || die "the admin interface does not answer on $BASE"
        sleep 0.2
    done
}

# jq_py NAME EXPR: a Python expression over the JSON body of req NAME, as j.
jq_py() {
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print("" if v is None else v)' \
        "$TMPD/$1.body" "$2" 2>/dev/null
}

# check LABEL NAME EXPR WANT: one result for a value in the body of req NAME.
check() {
    got=$(jq_py "$2" "$3")
    if [ "$got" = "$4" ]; then pass "$1"; else fail "$1: got '$got', want '$4' ($(head -c 300 "$TMPD/$2.body"))"; fi
}

# view_check NAME PATH LABEL EXPR WANT: GET PATH as the viewer ($VIEW, from
# viewer_login) into req NAME, then check LABEL NAME EXPR WANT.
view_check() {
    # shellcheck disable=SC2086
    req "$1" GET "$2" $VIEW
    check "$3" "$1" "$4" "$5"
}

# py NAME EXPR LABEL: one result for a Python expression over req NAME's body as j.
py() {
    if [ "$(jq_py "$1" "$2")" = True ]; then pass "$3"; else fail "$3: $(head -c 400 "$TMPD/$1.body")"; fi
}

# audit_count ACTION: how many audit rows of that action there are (as $ADMIN).
audit_count() {
    req audit GET "/api/v1/audit?limit=500&action=$1" $ADMIN
    jq_py audit "len([x for x in j['entries'] if x['action'] == '$1'])"
}

# job_wait NAME ID: polls job ID (as $ADMIN) until it is done or failed; its
# last answer is NAME. Import jobs run on nice-19 threads, so a loaded machine
# (make -j check) can take many seconds: the bound is 90 s, because the test
# checks what the job ends as, not how fast.
job_wait() {
    _deadline=$((SECONDS + 90))
    while [ $SECONDS -lt $_deadline ]; do
        req "$1" GET "/api/v1/jobs/$2" $ADMIN
        case "$(jq_py "$1" 'j["state"]')" in done | failed) return 0 ;; esac
        sleep 0.2
    done
    fail "job $2 never ended in 90 s"
}

# csv_import NAME QUERY [CURL ARGS...]: POST /api/v1/devices/import$QUERY (as
# the curl args say: cookies, CSRF, Content-Type, the body). A refused request
# leaves STATUS its HTTP code; an accepted one (202, a job) is waited for
# (job_wait), and then STATUS is the job's state (done or failed), JOB_ID its
# id and $TMPD/NAME.body its report, so `expect` and `check` read it as an
# answer.
csv_import() {
    _ci=$1
    _cq=$2
    shift 2
    req "$_ci" POST "/api/v1/devices/import$_cq" "$@"
    [ "$STATUS" = 202 ] || return 0
    JOB_ID=$(jq_py "$_ci" 'j["id"]')
    job_wait "$_ci.job" "$JOB_ID"
    STATUS=$(jq_py "$_ci.job" 'j["state"]')
    python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["report"], open(sys.argv[2], "w"))' \
        "$TMPD/$_ci.job.body" "$TMPD/$_ci.body"
    name=$_ci
}

# admin_login DATA_DIR: waits for $BASE, logs in as admin with the first
# admin's password and sets JSON, CSV, CSRF, ADMIN (the session cookie) and
# AC (cookie and CSRF header, for writes). Setup: a failure stops the test.
admin_login() {
    JSON='-H Content-Type:application/json'
    CSV='-H Content-Type:text/csv'
    admin_wait
    _pw=$(cat "$1/initial-admin-password") || die "no initial admin password in $1"
    req login POST /api/v1/session $JSON -c "$TMPD/admin.jar" -d "{\"user\":\"admin\",\"password\":\"$_pw\"}"
    [ "$STATUS" = 200 ] || die "login as admin: got $STATUS"
    CSRF=$(jq_py login 'j["csrf_token"]')
    ADMIN="-b $TMPD/admin.jar"
    AC="$ADMIN -H X-CSRF-Token:$CSRF"
}

# viewer_login: adds user viewer1 (role viewer) and sets VIEW (its cookie
# and CSRF header). Setup: a failure stops the test.
viewer_login() {
    req adduser POST /api/v1/users $AC $JSON -d '{"name":"viewer1","role":"viewer","password":"viewer-password"}'
    [ "$STATUS" = 201 ] || die "add a viewer: got $STATUS"
    req vlogin POST /api/v1/session $JSON -c "$TMPD/viewer.jar" -d '{"user":"viewer1","password":"viewer-password"}'
    [ "$STATUS" = 200 ] || die "log in as the viewer: got $STATUS"
    VIEW="-b $TMPD/viewer.jar -H X-CSRF-Token:$(jq_py vlogin 'j["csrf_token"]')"
}

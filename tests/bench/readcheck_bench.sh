#!/bin/sh
# readcheck_bench.sh: the cost of hashing a catalog blob on its first read
# (docs/PERFORMANCE.md): a SIZE_MB component imported, then ROUNDS times
# loadsd started afresh and the file fetched twice over TFTP (blksize 65464,
# page cache warm); prints each round's first and second fetch and the hash
# time loadsd logs. Run from a built tree: tests/bench/readcheck_bench.sh
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
SIZE_MB=${SIZE_MB:-100}
ROUNDS=${ROUNDS:-5}
PORT=${PORT:-39111}
W=$(mktemp -d "${TMPDIR:-/tmp}/readcheck.XXXXXX")
trap 'rm -rf "$W"' EXIT
python3 "$top/tests/tools/mkbundle.py" keys "$W/keys" >/dev/null
python3 "$top/tests/tools/mkbundle.py" bundle --keys "$W/keys" --out "$W/b.zip" --format zip \
    --components 1 --size-kb $((SIZE_MB * 1024)) >/dev/null
"$top/admin/loadsctl" --data-dir "$W/d" import "$W/b.zip" >/dev/null
blob=$(find "$W/d/blobs/sha256" -type f -size +1M)
cat "$blob" >/dev/null
fetch() {
    s=$(date +%s%N)
    curl -s --tftp-blksize 65464 -o "$W/out" "tftp://127.0.0.1:$PORT/jar41sip.9-4-2ES26.sbn"
    echo $((($(date +%s%N) - s) / 1000000))
}
for r in $(seq "$ROUNDS"); do
    "$top/server/loadsd" --foreground --tftp-listen "127.0.0.1:$PORT" --data-dir "$W/d" \
        --admin-listen none --scrub-interval 0 --log-level debug 2>"$W/log" &
    pid=$!
    sleep 1
    first=$(fetch)
    second=$(fetch)
    kill -TERM $pid
    wait $pid || true
    hash=$(grep -o 'in [0-9.]* ms' "$W/log" | head -1)
    echo "round $r: ${SIZE_MB} MiB, first fetch $first ms, second $second ms, hashed $hash"
done

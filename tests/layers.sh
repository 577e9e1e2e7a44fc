#!/bin/sh
# layers.sh: the one-way layer rule of docs/ARCHITECTURE.md: every #include and every symbol a
# layer's library needs comes from its own layer or a lower one; no SQL outside db/; every file in the doc's table.
# The table below is the layer picture, lowest first; folders of one rank (server/tftp,
# server/files, server/upstream) sit side by side.
set -eu

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}

# rank  folder           library (relative to the build directory)
LAYERS='
0 lib lib/libutil.a
1 db/model db/model/libmodel.a
2 db db/libdb.a
3 server/firmware server/firmware/libfirmware.a
4 server/cnf server/cnf/libcnf.a
5 server/resolve server/resolve/libresolve.a
6 server/tftp server/tftp/libtftp.a
6 server/files server/files/libfiles.a
6 server/upstream server/upstream/libupstream.a
7 admin admin/libadmin.a
8 admin/ctl -
9 server server/libdaemon.a
'

# The rank of a source path: the longest folder of the table it lies in
# (directly: server/x.c is "server", server/tftp/x.c is "server/tftp").
rank_of() {
    dir=${1%/*}
    echo "$LAYERS" | awk -v d="$dir" '$2 == d { print $1 }'
}

fail=0
checked=0
cd "$top_srcdir"
for f in $(echo "$LAYERS" | awk 'NF { print $2 }'); do
    for src in "$f"/*.c "$f"/*.h; do
        [ -f "$src" ] || continue
        [ "$src" = db/migrations.c ] && continue
        r=$(rank_of "$src")
        checked=$((checked + 1))
        for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$src"); do
            if [ ! -f "$inc" ]; then
                echo "layers: $src includes \"$inc\", which is not a path from the top of the tree" >&2
                fail=1
                continue
            fi
            ir=$(rank_of "$inc")
            if [ -z "$ir" ]; then
                echo "layers: $src includes $inc, which lies in no layer" >&2
                fail=1
            elif [ "$ir" -gt "$r" ]; then
                echo "layers: $src (layer ${src%/*}, rank $r) includes $inc (rank $ir): against the arrow" >&2
                fail=1
            fi
        done
    done
done
for src in $(find lib db server admin -name '*.[ch]' ! -path db/migrations.c | sort); do
    if [ -z "$(rank_of "$src")" ]; then
        echo "layers: $src lies in no layer: add its folder to the table in tests/layers.sh" >&2
        fail=1
    fi
done
# docs/ARCHITECTURE.md names every file in its table: a module by its path
# without the ending (`lib/log`), or with it (`server/loadsd.c`, a header alone).
arch="$top_srcdir/docs/ARCHITECTURE.md"
for src in $(find lib db server admin -name '*.[ch]' ! -path db/migrations.c | sort); do
    stem=${src%.[ch]}
    case $src in *.h) [ -f "$stem.c" ] && continue ;; esac
    if ! grep -q -e "\`$stem\`" -e "\`$src\`" "$arch"; then
        echo "layers: $src is not in the table of files in docs/ARCHITECTURE.md" >&2
        fail=1
    fi
done
echo "layers: $checked source files, includes checked"

# SQL: only db/ (and its db/model/) speaks to SQLite. Elsewhere the opaque
# "sqlite3 *" handle may be passed on, nothing more: no SQL text (a string
# starting with a statement's keyword; a bare "DELETE" is an HTTP method), no
# SQLite call, no prepared statement, no db/ statement helper.
SQL_RE='sqlite3_[a-z0-9_]+[[:space:]]*\(|sqlite3_stmt|\<db_(prepare|exec_stmt|column_text|check)[[:space:]]*\('
SQL_RE="$SQL_RE"'|"[[:space:]]*(SELECT|INSERT|UPDATE|DELETE|REPLACE|BEGIN|COMMIT|ROLLBACK|END|SAVEPOINT|RELEASE|PRAGMA|CREATE|DROP|ALTER|VACUUM|WITH)[[:space:]]'
SQL_RE="$SQL_RE"'|"[[:space:]]*(BEGIN|COMMIT|ROLLBACK|END|VACUUM)[[:space:];]*"'
sql_files=$(find lib server admin -name '*.[ch]' | sort)
if sql_hits=$(echo "$sql_files" | xargs grep -nE "$SQL_RE"); then
    echo "$sql_hits" | sed 's/^/layers: SQL outside db\/: /' >&2
    fail=1
fi
echo "layers: $(echo "$sql_files" | wc -l) source files outside db/, SQL checked"

# Symbols: what each layer's library leaves undefined must be defined by a
# library of its own rank or lower, or come from outside the project.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
libs=$(echo "$LAYERS" | awk 'NF && $3 != "-" { print $1 " " $3 }')
missing=0
echo "$libs" | while read -r rank lib; do
    [ -f "$top_builddir/$lib" ] || { : >"$tmp/missing"; continue; }
    nm -g --defined-only "$top_builddir/$lib" | awk -v r="$rank" 'NF == 3 { print $3 " " r }'
done | sort -u -k1,1 >"$tmp/defs"
if [ -f "$tmp/missing" ]; then
    echo "layers: libraries not built; the symbol check needs a build tree"
    exit $fail
fi
echo "$libs" | while read -r rank lib; do
    nm -g --undefined-only "$top_builddir/$lib" | awk '{ print $NF }' | sort -u |
        join - "$tmp/defs" | awk -v r="$rank" -v l="$lib" '$2 > r {
            print "layers: " l " (rank " r ") uses " $1 ", defined at rank " $2 ": against the arrow"
        }'
done >"$tmp/bad"
if [ -s "$tmp/bad" ]; then
    cat "$tmp/bad" >&2
    fail=1
fi
echo "layers: symbols of $(echo "$libs" | wc -l) libraries checked"
exit $fail

#!/bin/sh
# timed.sh: runs one test script with the given shell and ends its log with
# its wall time, so that `quickstart check` can name the slowest suites.
# Usage (SH_LOG_COMPILER): timed.sh SHELL SCRIPT [ARGS...]
shell=$1
shift
t0=$(date +%s%N)
"$shell" "$@"
rc=$?
t1=$(date +%s%N)
echo "# duration: $(((t1 - t0) / 1000000)) ms"
exit $rc

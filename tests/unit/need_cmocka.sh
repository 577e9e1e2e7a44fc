#!/bin/sh
# need_cmocka.sh: stands in for the unit tests when configure found no cmocka,
# so that `make check` fails and says which package is missing.
echo "the unit tests need cmocka: apt-get install libcmocka-dev, then run ./configure again" >&2
exit 1

#!/bin/sh
# Run one example program and check its output against an expectation file of lines "NAME LO HI":
# the program must exit 0 and print "NAME VALUE" with LO <= VALUE <= HI for every line (theory values
# with a 4-digit window, statistical ones with a stated range; provenance in the .expect file).
# Usage: sh tests/examples.sh path/to/program path/to/program.expect
set -u
PROG=${1:?usage: examples.sh program expect}
EXPECT=${2:?usage: examples.sh program expect}
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
"$PROG" >"$OUT" || { echo "FAIL: $PROG exited $?" >&2; exit 1; }
fails=0
n=0
while read -r name lo hi; do
    case $name in '' | '#'*) continue ;; esac
    n=$((n + 1))
    v=$(awk -v k="$name" '$1 == k { print $2; exit }' "$OUT")
    if [ -z "$v" ]; then
        echo "FAIL: $PROG printed no '$name'" >&2
        fails=$((fails + 1))
    elif ! awk -v v="$v" -v lo="$lo" -v hi="$hi" 'BEGIN { exit !(v + 0 >= lo + 0 && v + 0 <= hi + 0) }'; then
        echo "FAIL: $PROG: $name = $v, want [$lo, $hi]" >&2
        fails=$((fails + 1))
    fi
done <"$EXPECT"
[ "$n" -gt 0 ] || { echo "FAIL: $EXPECT has no checks" >&2; exit 1; }
cat "$OUT"
echo "examples.sh: $(basename "$PROG"): $n values, $fails failures"
[ "$fails" -eq 0 ]

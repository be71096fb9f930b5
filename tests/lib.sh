# Shared by the shell tests (sourced): a scratch directory removed on exit, failure counting, run_ok.
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
n=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
run_ok() { # run_ok CMD...: exit 0 wanted; stdout in $TMP/out, stderr in $TMP/err
    n=$((n + 1))
    "$@" >"$TMP/out" 2>"$TMP/err" || fail "$*: exit $? ($(cat "$TMP/err"))"
}

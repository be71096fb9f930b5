#!/bin/sh
# CLI behaviour of `regimes theory` and `regimes demo` against the built binary: exit statuses, the
# one-line error messages, and values in the JSON output (docs/math.md 9 digits, matched as text prefixes
# of the %.17g numbers). Usage: sh tests/cli.sh path/to/regimes
set -u
BIN=${1:?usage: cli.sh path/to/regimes}
. "$(dirname "$0")/lib.sh"

# expect_status CODE PATTERN ARGS...: exit status CODE, exactly one stderr line matching PATTERN
# (grep -E), nothing on stdout.
expect_status() {
    want=$1 pat=$2
    shift 2
    n=$((n + 1))
    "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    [ "$got" -eq "$want" ] || fail "regimes $*: exit $got, want $want ($(cat "$TMP/err"))"
    lines=$(wc -l <"$TMP/err")
    [ "$lines" -eq 1 ] || fail "regimes $*: $lines lines on stderr, want 1"
    grep -Eq -- "$pat" "$TMP/err" || fail "regimes $*: stderr '$(cat "$TMP/err")' lacks /$pat/"
    [ ! -s "$TMP/out" ] || fail "regimes $*: wrote to stdout on failure"
}

# run_ok ARGS...: exit 0, nothing on stderr; stdout in $TMP/out.
run_ok() {
    n=$((n + 1))
    "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    [ "$got" -eq 0 ] || fail "regimes $*: exit $got ($(cat "$TMP/err"))"
    [ ! -s "$TMP/err" ] || fail "regimes $*: stderr '$(cat "$TMP/err")'"
}

# has TEXT: the last stdout contains the fixed string TEXT.
has() {
    grep -Fq -- "$1" "$TMP/out" || fail "output of the last command lacks '$1'"
}

# ---- usage errors: exit 2, one line ------------------------------------------------------------
expect_status 2 "missing command" 
expect_status 2 "unknown command 'frobnicate'" frobnicate
expect_status 2 "unknown option '--bogus'" theory --bogus
expect_status 2 "unexpected argument 'extra'" theory extra
expect_status 2 "--gamma needs a value" theory --process coupled --gamma
expect_status 2 "--json takes no value" theory --json=1
expect_status 2 "--dim given twice" theory --dim 4 --dim 5
expect_status 2 "--process wants one of ou\|coupled\|nonrev\|general, got 'oo'" theory --process oo
expect_status 2 "--sigma2 wants a number in \(0, inf\), got 'nan'" theory --sigma2 nan
expect_status 2 "--sigma2 wants a number in \(0, inf\), got 'inf'" theory --sigma2 inf
expect_status 2 "--sigma2 wants a number in \(0, inf\), got '1x'" theory --sigma2 1x
expect_status 2 "--mean-norm2 wants a number in \(0, inf\), got '1e999'" theory --mean-norm2 1e999
expect_status 2 "--dim wants an integer" theory --dim -3
expect_status 2 "--dim wants an integer" theory --dim 0
expect_status 2 "--gamma does not apply to --process ou" theory --gamma 0.3
expect_status 2 "--data gmm4 needs --process coupled" theory --data gmm4
expect_status 2 "--data gmm2 is one-modality data" theory --process coupled --data gmm2
# ---- unstable couplings and schedules (docs/math.md 7.4) ---------------------------------------------
expect_status 2 "--gamma wants a number in \(-1, 1\), got '1'" theory --process coupled --gamma 1
expect_status 2 "--gamma wants a number in \(-0.5, inf\)" theory --process coupled --coupling diffusive --gamma -0.5
expect_status 2 "no stationary prior: g_xy g_yx = 1.2 >= a_x a_y = 1" theory --process coupled --gamma-xy 2 --gamma-yx 0.6
expect_status 2 "no stationary prior: tr M" theory --process coupled --rate-x -1 --rate-y 0.5
expect_status 2 "schedule segment 1 \(t < inf\) is unstable" theory --process coupled --schedule piecewise:1:0,inf:1.5
expect_status 2 "--schedule wants piecewise" theory --process coupled --schedule steps:1:0
expect_status 2 "--schedule time wants a number" theory --process coupled --schedule piecewise:-1:0.2
expect_status 2 "knot times must be finite, > 0 and increasing" theory --process coupled --schedule piecewise:2:0,1:0.1
expect_status 2 "--schedule gives gamma\(t\) itself" theory --process coupled --schedule piecewise:1:0 --gamma 0.1
# ---- non-reversible input: U SPD, Q antisymmetric, mean direction length -------------------------
printf '1 2\n2 1\n' >"$TMP/notspd"
printf '1 0.5\n0.2 1\n' >"$TMP/notsym"
printf '0 1\n1 0\n' >"$TMP/qsym"
printf '2 0\n0 1\n' >"$TMP/u2"
printf '1 2 3\n' >"$TMP/v3"
printf '1 0\n0\n' >"$TMP/ragged"
printf '1 0\n0 x\n' >"$TMP/nan"
expect_status 2 "U is not positive definite" theory --process nonrev --U "$TMP/notspd"
expect_status 2 "U is not symmetric" theory --process nonrev --U "$TMP/notsym"
expect_status 2 "Q is not antisymmetric" theory --process nonrev --U "$TMP/u2" --Q "$TMP/qsym"
expect_status 2 "--mean-dir: .*v3:1: more than 2 numbers" theory --process nonrev --U "$TMP/u2" --mean-dir "$TMP/v3"
expect_status 2 "ragged:2: 1 numbers, want 2 like the first row" theory --process nonrev --U "$TMP/ragged"
expect_status 2 "'x' is not a finite number" theory --process nonrev --U "$TMP/nan"
expect_status 2 "cannot open" theory --process nonrev --U "$TMP/missing"
expect_status 2 "--U diag LO wants a number in \(0, inf\), got '0'" theory --process nonrev --U diag:0:1
expect_status 2 "--mean-dir eigen:I wants an integer in \[0, 63\]" theory --process nonrev --mean-dir eigen:64
expect_status 2 "needs --A FILE" theory --process general
expect_status 2 "not stable" theory --process general --A "$TMP/notspd"

# ---- values (docs/math.md 9): JSON keys and digits --------------------------------------------------
# 9.3: gamma = 0.5, |m_c|^2 = |m_d|^2 = 25: t_S^c = 3.239, t_S^d = 1.437, gap 1.802.
run_ok theory --process coupled --gamma 0.5 --data gmm4 --mc2 25 --md2 25 --sigma2 1 --dim 1000 --json
for key in '"relaxation_rate": 0.5' '"t_S": 3.238' '"sync_gap": 1.801' '"name": "common", "rate": 0.5' \
    '"name": "difference", "rate": 1.5' '"t_S": 1.4369' '"t_C": '; do has "$key"; done
# 9.2: parent OU, d = 256, P = 20000: t_C = 1.2988 (Biroli et al.); t_S = 1/2 log 256 exactly.
run_ok theory --process ou --dim 256 --json
has '"t_C": 1.29878968675'
has '"t_S": 2.77258872223'
has '"sync_gap": null'
# 9.4: anisotropic 0.8 / 0.2: t_S^c = 3.018, t_S^d = 1.494.
run_ok theory --process coupled --gamma-xy 0.8 --gamma-yx 0.2 --json
has '"t_S": 3.018'
has '"sync_gap": 1.52'
# 9.5: schedule gamma = -0.4 for t >= 1: gap 0.455.
run_ok theory --process coupled --schedule piecewise:1:0,inf:-0.4 --mc2 50 --md2 10 --json
has '"sync_gap": 0.455'
# 9.6: Q = 0 and Q_opt, m along the slowest direction: t_S = 6.525 and 2.456.
run_ok theory --process nonrev --dim 64 --U diag:0.2:1.8 --Q zero --mean-dir slow --mean-norm2 64 --json
has '"t_S": 6.525'
has '"relaxation_rate": 0.2'
run_ok theory --process nonrev --dim 64 --U diag:0.2:1.8 --Q optimal --mean-dir slow --mean-norm2 64 --json
has '"t_S": 2.456'
has '"relaxation_rate": 0.99999999'
# 9.3 ordering example: gamma* = -0.290 equalises |mu_c|^2 = 100 and |mu_d|^2 = 20; 7.2: phi(t_S) = 0.7752
run_ok theory --process coupled --mc2 50 --md2 10 --json
has '"gamma_range": [-1, 1], "gamma_equal": -0.290'
has '"horizon_min": 0.5'
run_ok theory --process ou --dim 256 --phi-times 2.772588722239781 --json
has '"label": [0.7752'
expect_status 2 "--phi-times wants a number in \(0, inf\), got '-1'" theory --phi-times 1,-1
expect_status 2 "--phi-times wants a comma-separated list" theory --phi-times 1,,2
# a readable table by default, and --help documents every flag
run_ok theory --process coupled --gamma 0.25
has 'sync_gap'
run_ok theory --help
for flag in --process --gamma --coupling --gamma-xy --gamma-yx --rate-x --rate-y --schedule --dim --U \
    --Q --q-scale --A --data --labels --digits --mnist-dir --rho --mean-norm2 --mean-dir --mc2 --md2 --sigma2 --cw \
    --n-train --noise --top --phi-times --json; do
    has "  $flag "
done
run_ok demo --theory
has 'regimes theory --process coupled --gamma G'

# Real images (docs/math.md 9.2, 10.2): digits 1 and 8, first 5000 + 5000 training images, Lambda = 7.668,
# 1/2 log Lambda = 1.02, 1/2 log(1 + Lambda) = 1.08. Runs when data/mnist exists (make check fetches it).
MNIST_DIR=$(cd "$(dirname "$0")/.." && pwd)/data/mnist
if [ -s "$MNIST_DIR/train-images-idx3-ubyte" ]; then
    run_ok theory --data mnist --digits 1,8 --n-train 10000 --mnist-dir "$MNIST_DIR" --json
    grep -q '"lambda_max": 7.668' "$TMP/out" || fail "theory --data mnist: lambda_max is not 7.668: $(cat "$TMP/out")"
    grep -q '"t_S_parent": 1.018' "$TMP/out" || fail "theory --data mnist: t_S_parent is not 1.018"
    grep -q '"t_S_exact": 1.079' "$TMP/out" || fail "theory --data mnist: t_S_exact is not 1.079"
    expect_status 2 "--digits" theory --data mnist --digits 1,1 --mnist-dir "$MNIST_DIR"
else
    echo "cli.sh: data/mnist absent, MNIST checks skipped"
fi

echo "cli.sh: $n commands, $fails failures"
[ "$fails" -eq 0 ]

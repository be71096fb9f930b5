#!/bin/sh
# Your data, your noise schedule (docs/cli.md): regimes on a user's .npy data set and on MNIST, with
# DDPM step indices. NumPy (Debian python3-numpy) builds the data and computes Lambda independently.
# Usage: sh tests/cli_data.sh path/to/regimes
set -u
BIN=${1:?usage: cli_data.sh path/to/regimes}
PY=${PYTHON:-/usr/bin/python3}
. "$(dirname "$0")/lib.sh"
num() { sed -n "s/.*\"$1\": \([-0-9.e+]*\).*/\1/p" "$TMP/out" | head -1; }

# A non-Gaussian two-class set in d = 16: classes at -+m, |m|^2 = 16, each coordinate of the noise
# uniform on [-sqrt 3, sqrt 3] (unit variance, kurtosis 1.8), P = 4000 rows. The class-mean criterion
# (docs/math.md 11.2, kappa = 1) predicts t_S = 1/2 log(1 + |m|^2 - 1) = 1/2 log 16 = 1.386 under OU.
"$PY" - "$TMP" <<'PYEOF' || fail "numpy could not build the data set"
import sys, numpy as np
d, P = 16, 4000
rng = np.random.default_rng(2026)
y = np.repeat([0, 1], P // 2)
m = np.ones(d)
X = np.where(y[:, None] == 0, -m, m) + rng.uniform(-3 ** 0.5, 3 ** 0.5, size=(P, d))
np.save(sys.argv[1] + "/X.npy", X.astype(np.float32))
np.save(sys.argv[1] + "/y.npy", y.astype(np.int64))
Xc = X.astype(np.float32).astype(np.float64)
C = np.cov(Xc, rowvar=False)
open(sys.argv[1] + "/lambda", "w").write("%.17g\n" % np.linalg.eigvalsh(C)[-1])
PYEOF
run_ok "$BIN" theory --data "$TMP/X.npy" --labels "$TMP/y.npy" --json
lam=$(num lambda_max)
ref=$(cat "$TMP/lambda")
awk -v a="$lam" -v b="$ref" 'BEGIN { d = (a - b) / b; if (d < 0) d = -d; exit !(d < 1e-6) }' ||
    fail "theory --data: Lambda $lam against NumPy $ref (1e-6 relative)"
tsc=$(num t_S_class)
awk -v t="$tsc" 'BEGIN { exit !(t > 1.34 && t < 1.43) }' || fail "theory --data: t_S_class $tsc, want about 1.386"
for key in t_S_parent t_S_exact t_C horizon; do grep -q "\"$key\": " "$TMP/out" || fail "theory --data lacks $key"; done
# Cloning with the exact empirical score of the file and the nearest-class-mean labeller: the measured
# t_S within 10% of the class-mean prediction.
run_ok "$BIN" clone --data "$TMP/X.npy" --labels "$TMP/y.npy" --samples 400 --steps 40 --branch-times 0.8,1,1.2,1.4,1.6,1.8,2.1 \
    --quiet --out "$TMP/c" --json
ts=$(num t_S)
awk -v t="$ts" -v u="$tsc" 'BEGIN { exit !(t > 0.9 * u && t < 1.1 * u) }' || fail "clone --data: t_S $ts against $tsc"
for f in phi.csv summary.json meta.json; do [ -s "$TMP/c/$f" ] || fail "clone --data: no $f"; done
grep -q "\"sha256\": \"$(sha256sum "$TMP/X.npy" | cut -c1-64)\"" "$TMP/c/meta.json" || fail "clone: meta.json lacks the data's sha256"
cmp -s "$TMP/out" "$TMP/c/summary.json" || fail "clone: --json output differs from summary.json"

# Steps of a schedule: the parent's linear DDPM schedule maps t to the first k with t_k >= t.
run_ok "$BIN" theory --process ou --dim 256 --noise ddpm-linear --json
grep -q '"t_S_step": ' "$TMP/out" || fail "theory --noise: no t_S_step"

MNIST_DIR=$(cd "$(dirname "$0")/.." && pwd)/data/mnist
if [ -s "$MNIST_DIR/train-images-idx3-ubyte" ]; then
    # docs/math.md 11.1: Lambda = 7.668 (digits 1, 8, first 5000 each) puts 1/2 log Lambda at step 447.
    run_ok "$BIN" theory --data mnist --digits 1,8 --mnist-dir "$MNIST_DIR" --noise ddpm-linear --json
    grep -q '"lambda_max": 7.668' "$TMP/out" || fail "theory --data mnist: Lambda is not 7.668"
    grep -q '"t_S_parent": 1.018[0-9]*, "t_S_parent_step": 447' "$TMP/out" || fail "theory --data mnist: not step 447: $(grep -o '"t_S_parent[^,]*,[^,]*' "$TMP/out")"
    grep -q '"t_S_exact": 1.079' "$TMP/out" || fail "theory --data mnist: t_S_exact is not 1.079"
    run_ok "$BIN" clone --data mnist --digits 1,8 --n-train 400 --mnist-dir "$MNIST_DIR" --samples 20 --steps 20 \
        --branch-times 0.6,1.2 --quiet --out "$TMP/mc" --json
    for f in phi.csv summary.json meta.json; do [ -s "$TMP/mc/$f" ] || fail "clone --data mnist: no $f"; done
    grep -q '"classifier_accuracy": 0.99' "$TMP/out" || fail "clone --data mnist: classifier accuracy: $(num classifier_accuracy)"
else
    echo "cli_data.sh: data/mnist absent, MNIST checks skipped"
fi
echo "cli_data.sh: $n commands, $fails failures"
[ "$fails" -eq 0 ]

#!/bin/sh
# Crash and numerical safety of what regimes writes (issue 16 B4, B5, B7):
#  - kill -9 at chosen moments of `train` (alternating seeds into one --out) never leaves a FILE.json
#    that differs from the metadata inside FILE, nor a FILE that `sample --model` cannot use;
#  - kill -9 of `collapse` re-runs (alternating seeds into one --out) never leaves a manifest.sha256
#    that does not verify; a finished run always leaves one that does;
#  - resuming a finished checkpoint writes the checkpoint (B7);
#  - divergence stops training with one line and exit 1, and leaves --out as it was (B4);
#  - a score that overflows makes `sample` fail with one line, never write NaN samples (B4).
# Bounded: about 20 short runs (a few seconds), one thread each; kills land at fractions of a measured run. Usage: sh tests/crash.sh path/to/regimes
set -u
BIN=${1:?usage: crash.sh path/to/regimes}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
PY=${PYTHON:-/usr/bin/python3}
EDIT="$PY $(cd "$(dirname "$0")" && pwd)/ckpt_edit.py"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
fails=0
n=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
# npy FILE P N SCALE: a (P, N) float32 .npy of deterministic values in (-SCALE, SCALE).
npy() {
    "$PY" - "$@" <<'PYEOF'
import struct, sys
path, P, N, scale = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
head = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (P, N)
head = head.ljust(117) + "\n"
vals = [scale * (((i * 7919) % 101) / 50.5 - 1.0) for i in range(P * N)]
open(path, "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head.encode() + struct.pack("<%df" % (P * N), *vals))
PYEOF
}
# one_line CMD...: exit 1, one line on stderr, nothing on stdout
one_line() {
    n=$((n + 1))
    "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    [ "$got" -eq 1 ] || fail "$*: exit $got, want 1 ($(head -c 300 "$TMP/err"))"
    [ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "$*: not one line on stderr: $(head -c 300 "$TMP/err")"
    [ ! -s "$TMP/out" ] || fail "$*: wrote on stdout: $(head -c 200 "$TMP/out")"
}
npy "$TMP/x.npy" 64 4 1
npy "$TMP/huge.npy" 64 4 3e38
TR="train --task score --data $TMP/x.npy --hidden 16 --t-embed 2 --batch 8 --warmup 0"

# ---- kill -9 during train: FILE.json is absent or the copy of FILE's metadata ----------------------
D=$TMP/train
mkdir "$D"
check_ckpt() { # the pair left in $D after iteration $1
    if [ -e "$D/m.ckpt.json" ]; then
        [ -e "$D/m.ckpt" ] || fail "kill $1: m.ckpt.json without m.ckpt"
        $EDIT "$D/m.ckpt" --print-meta | cmp -s - "$D/m.ckpt.json" ||
            fail "kill $1: m.ckpt.json differs from the metadata inside m.ckpt"
    fi
    if [ -e "$D/m.ckpt" ]; then
        rm -rf "$D/s"
        "$BIN" sample --model "$D/m.ckpt" --samples 2 --steps 2 --quiet --out "$D/s" >/dev/null 2>"$TMP/err" ||
            fail "kill $1: sample --model refuses what train left: $(cat "$TMP/err")"
    fi
}
# kill_at FRACTION CMD...: run CMD in the background, kill -9 it after FRACTION of $DUR ms (the measured
# duration of a finished run, so the kills land inside the run whatever the machine's load), wait.
now_ms() { date +%s%3N; }
kill_at() {
    f=$1
    shift
    "$@" >/dev/null 2>&1 &
    pid=$!
    sleep "$(awk -v d="$DUR" -v f="$f" 'BEGIN { printf "%.3f", d * f / 1000 }')"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}
n=$((n + 1))
t0=$(now_ms)
"$BIN" $TR --epochs 200 --seed 1 --out "$D/m.ckpt" >/dev/null 2>&1 || fail "train seed 1"
DUR=$(($(now_ms) - t0))
check_ckpt "0 (a finished run)"
mid=0
for f in 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8; do
    n=$((n + 1))
    kill_at "$f" "$BIN" $TR --epochs 200 --seed "$(awk -v f="$f" 'BEGIN { print 2 + int(f * 10) % 2 }')" --out "$D/m.ckpt"
    check_ckpt "at $f of the run"
    $EDIT "$D/m.ckpt" --print-meta | grep -q '"complete": false' && mid=$((mid + 1))
done
echo "crash.sh: train ran $DUR ms; $mid of 8 kills left an unfinished checkpoint"
[ "$mid" -ge 1 ] || fail "train: no kill landed between two epochs (the loop tested nothing)"

# ---- kill -9 during collapse re-runs: the manifest verifies, or there is none ---------------------
C=$TMP/collapse
COL="collapse --dim 8 --n-train 100 --samples 40 --steps 10 --quiet --out $C"
n=$((n + 1))
t0=$(now_ms)
"$BIN" $COL --seed 1 >/dev/null 2>&1 || fail "collapse seed 1"
DUR=$(($(now_ms) - t0))
for f in 0.3 0.6 0.9; do
    n=$((n + 1))
    kill_at "$f" "$BIN" $COL --seed "$(awk -v f="$f" 'BEGIN { print int(f * 100) }')"
    if [ -e "$C/manifest.sha256" ]; then
        (cd "$C" && sha256sum --quiet -c manifest.sha256 >/dev/null 2>&1) || fail "collapse killed at $f: the manifest does not verify"
        grep -q "\"seed\": $(awk -v f="$f" 'BEGIN { print int(f * 100) }')," "$C/meta.json" ||
            fail "collapse killed at $f: a verified manifest over another seed's meta.json"
    fi
done
# A crash in the middle of writing, made deterministic: with a file-size limit of 3000 bytes the re-run
# (seed 9, 150 samples, 3 entropy times) rewrites entropy.csv, memorised.csv and switch.csv (under 2 KB
# each), then is killed by SIGXFSZ inside last_switch.csv (150 rows, about 3.5 KB). The directory then
# mixes two runs: it must carry no manifest.
n=$((n + 1))
cp "$C/entropy.csv" "$TMP/entropy.before"
prlimit --fsize=3000 --core=0 -- "$BIN" collapse --dim 8 --n-train 100 --samples 150 --steps 10 --entropy-times 0.5,1,2 \
    --quiet --seed 9 --out "$C" >/dev/null 2>&1 && fail "collapse under a 3000-byte file limit finished: the crash was not exercised"
cmp -s "$C/entropy.csv" "$TMP/entropy.before" && fail "collapse seed 9 crashed before rewriting entropy.csv: nothing exercised"
[ -e "$C/last_switch.csv.tmp" ] || fail "collapse seed 9 did not crash inside last_switch.csv"
[ ! -e "$C/manifest.sha256" ] || fail "a crashed re-run left a manifest over a directory that mixes two runs"
# and a finished re-run commits the directory again
n=$((n + 1))
"$BIN" $COL --seed 10 >/dev/null 2>&1 || fail "collapse seed 10"
(cd "$C" && sha256sum --quiet -c manifest.sha256 >/dev/null 2>&1) || fail "collapse seed 10: the manifest does not verify"

# ---- resuming a finished checkpoint writes the checkpoint (B7) -------------------------------------
n=$((n + 1))
"$BIN" $TR --epochs 2 --out "$TMP/done.ckpt" >/dev/null 2>&1 || fail "train --epochs 2 failed"
for e in 2 1; do
    rm -f "$TMP/again.ckpt" "$TMP/again.ckpt.json"
    "$BIN" $TR --epochs $e --resume "$TMP/done.ckpt" --out "$TMP/again.ckpt" >/dev/null 2>"$TMP/err" ||
        fail "resume a finished checkpoint (--epochs $e): $(cat "$TMP/err")"
    [ -s "$TMP/again.ckpt" ] && [ -s "$TMP/again.ckpt.json" ] || fail "resume a finished checkpoint (--epochs $e): not written"
    $EDIT "$TMP/again.ckpt" --print-meta | grep -q '"steps_done": 16, "complete": true' ||
        fail "resume (--epochs $e): the checkpoint's metadata lacks steps_done 16"
done

# ---- divergence: one line, exit 1, --out left as it was (B4) -------------------------------------------
RAW="--precond none --centre off"
one_line "$BIN" train --task score --data "$TMP/huge.npy" --hidden 16 --t-embed 2 --batch 8 --warmup 0 $RAW --epochs 2 --out "$TMP/d.ckpt"
grep -q "training diverged at step 0.*no checkpoint written" "$TMP/err" || fail "divergence: $(cat "$TMP/err")"
[ ! -e "$TMP/d.ckpt" ] && [ ! -e "$TMP/d.ckpt.json" ] || fail "divergence: a checkpoint was written"
"$BIN" $TR $RAW --epochs 2 --out "$TMP/g.ckpt" >/dev/null 2>&1 || fail "train the good checkpoint"
cp "$TMP/g.ckpt" "$TMP/g0.ckpt" && cp "$TMP/g.ckpt.json" "$TMP/g0.ckpt.json"
one_line "$BIN" train --task score --data "$TMP/huge.npy" --hidden 16 --t-embed 2 --batch 8 --warmup 0 $RAW --epochs 4 \
    --resume "$TMP/g.ckpt" --out "$TMP/g.ckpt"
grep -q "epoch 3: training diverged" "$TMP/err" || fail "divergence after a resume: $(cat "$TMP/err")"
cmp -s "$TMP/g.ckpt" "$TMP/g0.ckpt" && cmp -s "$TMP/g.ckpt.json" "$TMP/g0.ckpt.json" ||
    fail "divergence: the last good checkpoint and its FILE.json were not kept"

# ---- a score that overflows: no NaN samples written (B4) ----------------------------------------------
$EDIT "$TMP/g.ckpt" "$TMP/big.ckpt" --param 3 1e38
one_line "$BIN" sample --model "$TMP/big.ckpt" --samples 8 --steps 5 --quiet --out "$TMP/sb"
grep -q "ends at NaN or Inf" "$TMP/err" || fail "overflowing score: $(cat "$TMP/err")"
[ ! -e "$TMP/sb/samples.npy" ] || fail "overflowing score: samples.npy written"

echo "crash.sh: $n checks, $fails failures"
[ "$fails" -eq 0 ]

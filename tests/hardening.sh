#!/bin/sh
# Bad input for every command and every reader, as a table (tests/hardening.tsv): each row must end
# with exit status exactly 2, exactly one line on stderr containing the row's text (with its prefix
# once and each path once), nothing on stdout, and no file left anywhere under the row's own working
# directory (which holds @OUT@).
# The fixtures (.npy, IDX, checkpoints, a regular file to put --out under) are crafted here, byte
# by byte, so the test needs neither numpy nor MNIST. Tests run as root: an unwritable --out is a
# path under a regular file, never a permission bit.
# Usage: sh tests/hardening.sh path/to/regimes [path/to/hardening.tsv]
set -u
BIN=${1:?usage: hardening.sh path/to/regimes [table]}
TABLE=${2:-$(dirname "$0")/hardening.tsv}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
TMP=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
T=$TMP/fix
mkdir "$T"
fails=0
n=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# ---- byte helpers ---------------------------------------------------------------------------------
# hex B...: the bytes given as hex pairs.
hex() { for b in "$@"; do printf "\\$(printf %03o "0x$b")"; done; }
# npy PATH VERSION DICT DATA-FILE: a .npy with the given header dict text (padded with blanks and a
# newline as numpy does), then the bytes of DATA-FILE.
npy() {
    h="$3"
    while [ $(((10 + ${#h} + 1) % 16)) -ne 0 ]; do h="$h "; done
    hl=$((${#h} + 1))
    { printf '\223NUMPY'; hex "0$2" 00; hex "$(printf %02x $((hl % 256)))" "$(printf %02x $((hl / 256)))"
      [ "$2" -eq 1 ] || hex 00 00      # versions 2 and 3: a uint32 header length
      printf '%s\n' "$h"; cat "$4"; } >"$1"
}
# poke FILE OFFSET HEXBYTE: overwrite one byte in place.
poke() { hex "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
# byte FILE OFFSET: the byte there, as two hex digits.
byte() { od -An -tx1 -j "$2" -N 1 "$1" | tr -d ' \n'; }

# ---- .npy fixtures: (4, 3) float32 of 1.0, and variations ---------------------------------------
F4="{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }"
: >"$T/f4data"
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do hex 00 00 80 3f >>"$T/f4data"; done
head -c 20 "$T/f4data" >"$T/f4short"
head -c 12 "$T/f4data" >"$T/f4row"
{ head -c 8 "$T/f4data"; hex 00 00 c0 7f; tail -c 36 "$T/f4data"; } >"$T/f4nan"   # row 0 col 2 NaN
{ head -c 28 "$T/f4data"; hex 00 00 80 7f; tail -c 16 "$T/f4data"; } >"$T/f4inf"  # row 2 col 1 +Inf
{ cat "$T/f4data"; hex 00; } >"$T/f4long"
: >"$T/f8big"
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do hex 00 00 00 00 00 00 f0 7f >>"$T/f8big"; done  # +Inf f8
: >"$T/f8huge"
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do hex 9c 75 88 3c e4 37 7e 7e >>"$T/f8huge"; done # 1e300
npy "$T/ok.npy" 1 "$F4" "$T/f4data"
npy "$T/ok_v2.npy" 2 "$F4" "$T/f4data"
npy "$T/short.npy" 1 "$F4" "$T/f4short"
npy "$T/onerow.npy" 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }" "$T/f4row"
npy "$T/trailing.npy" 1 "$F4" "$T/f4long"
npy "$T/nan.npy" 1 "$F4" "$T/f4nan"
npy "$T/inf.npy" 1 "$F4" "$T/f4inf"
npy "$T/f8inf.npy" 1 "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 3), }" "$T/f8big"
npy "$T/f8huge.npy" 1 "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 3), }" "$T/f8huge"
npy "$T/be.npy" 1 "{'descr': '>f4', 'fortran_order': False, 'shape': (4, 3), }" "$T/f4data"
npy "$T/int.npy" 1 "{'descr': '<i4', 'fortran_order': False, 'shape': (4, 3), }" "$T/f4data"
npy "$T/fortran.npy" 1 "{'descr': '<f4', 'fortran_order': True, 'shape': (4, 3), }" "$T/f4data"
npy "$T/badfo.npy" 1 "{'descr': '<f4', 'fortran_order': 0, 'shape': (4, 3), }" "$T/f4data"
npy "$T/nodescr.npy" 1 "{'fortran_order': False, 'shape': (4, 3), }" "$T/f4data"
npy "$T/vec.npy" 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (12,), }" "$T/f4data"
npy "$T/cube.npy" 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 3), }" "$T/f4data"
npy "$T/zero.npy" 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }" "$T/f4data"
npy "$T/badshape.npy" 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (4, x), }" "$T/f4data"
npy "$T/negshape.npy" 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (-4, 3), }" "$T/f4data"
npy "$T/hugeshape.npy" 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000, 1000), }" "$T/f4data"
npy "$T/ovfshape.npy" 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 3), }" "$T/f4data"
npy "$T/version9.npy" 9 "$F4" "$T/f4data"
head -c 4 "$T/ok.npy" >"$T/cut_magic.npy"
head -c 9 "$T/ok.npy" >"$T/cut_prefix.npy"
head -c 40 "$T/ok.npy" >"$T/cut_header.npy"
: >"$T/empty.npy"
printf 'garbage, not numpy at all\n' >"$T/magic.npy"
{ printf '\223NUMPY'; hex 01 00 ff ff; printf "{'descr': '<f4'}\n"; } >"$T/hlen.npy"
{ printf '\223NUMPY'; hex 02 00 ff ff ff 7f; printf "{'descr': '<f4'}\n"; } >"$T/hlen2.npy"
# labels for `train --task classifier` and `--labels`: (4,) int32 0, 1, 0, 1; (3,): a row count
# mismatch; 0, 1, 0, 3; and float32 labels (refused: class indices are integers)
{ hex 00 00 00 00 01 00 00 00 00 00 00 00 01 00 00 00; } >"$T/lab4"
npy "$T/lab.npy" 1 "{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }" "$T/lab4"
head -c 12 "$T/lab4" >"$T/lab3"
{ head -c 12 "$T/lab4"; hex 03 00 00 00; } >"$T/labhi"                                   # 0, 1, 0, 3
npy "$T/labhi.npy" 1 "{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }" "$T/labhi"
npy "$T/lab3.npy" 1 "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }" "$T/lab3"
{ hex 00 00 00 00 00 00 00 3f 00 00 00 00 00 00 80 3f; } >"$T/labfrac"                 # 0.5
npy "$T/labfrac.npy" 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 1), }" "$T/labfrac"

# ---- IDX fixtures: a directory per defect, train-images + train-labels (rg_mnist_load) -----------
# A valid pair: 2 images of 28 x 28 (zeros), labels 1 and 8.
idxdir() { mkdir -p "$T/idx_$1"; }
img_ok() { hex 00 00 08 03 00 00 00 02 00 00 00 1c 00 00 00 1c; head -c 1568 /dev/zero; }
lab_ok() { hex 00 00 08 01 00 00 00 02 01 08; }
for d in ok trunc_img trunc_lab magic_img magic_lab dims big count trail label9 empty; do idxdir "$d"; done
img_ok >"$T/idx_ok/train-images-idx3-ubyte"; lab_ok >"$T/idx_ok/train-labels-idx1-ubyte"
for d in trunc_lab magic_lab count label9; do cp "$T/idx_ok/train-images-idx3-ubyte" "$T/idx_$d/"; done
for d in trunc_img magic_img dims big trail; do cp "$T/idx_ok/train-labels-idx1-ubyte" "$T/idx_$d/"; done
img_ok | head -c 1000 >"$T/idx_trunc_img/train-images-idx3-ubyte"
lab_ok | head -c 9 >"$T/idx_trunc_lab/train-labels-idx1-ubyte"
{ hex 00 00 08 01; img_ok | tail -c +5; } >"$T/idx_magic_img/train-images-idx3-ubyte"   # labels magic
{ hex 00 00 08 03; lab_ok | tail -c +5; } >"$T/idx_magic_lab/train-labels-idx1-ubyte"
{ hex 00 00 08 03 00 00 00 02 00 00 00 1c 00 00 00 00; } >"$T/idx_dims/train-images-idx3-ubyte"  # 0 cols
{ hex 00 00 08 03 ff ff ff ff 00 00 00 1c 00 00 00 1c; } >"$T/idx_big/train-images-idx3-ubyte"   # 2^32-1
hex 00 00 08 01 00 00 00 03 01 08 01 >"$T/idx_count/train-labels-idx1-ubyte"                   # 3 vs 2
{ img_ok; hex 00; } >"$T/idx_trail/train-images-idx3-ubyte"
hex 00 00 08 01 00 00 00 02 01 0c >"$T/idx_label9/train-labels-idx1-ubyte"                     # label 12
: >"$T/idx_empty/train-images-idx3-ubyte"; lab_ok >"$T/idx_empty/train-labels-idx1-ubyte"
mkdir -p "$T/idx_gzbad" "$T/idx_npy"       # a cut gzip stream; a .npy where the images should be
img_ok | gzip -c | head -c 40 >"$T/idx_gzbad/train-images-idx3-ubyte.gz"
lab_ok >"$T/idx_gzbad/train-labels-idx1-ubyte"; lab_ok >"$T/idx_npy/train-labels-idx1-ubyte"
cp "$T/ok.npy" "$T/idx_npy/train-images-idx3-ubyte"

# ---- checkpoints: a real one from `regimes train`, then damaged copies ---------------------------
TRAIN="train --task score --data $T/ok.npy --hidden 4 --t-embed 2 --epochs 1 --batch 2 --warmup 0"
(cd "$T" && OMP_NUM_THREADS=1 "$BIN" $TRAIN --out "$T/ok.ckpt" >/dev/null 2>"$T/train.err") ||
    fail "could not train the fixture checkpoint: $(cat "$T/train.err")"
sz=$(wc -c <"$T/ok.ckpt")
head -c $((sz - 9)) "$T/ok.ckpt" >"$T/trunc.ckpt"
head -c 100 "$T/ok.ckpt" >"$T/trunc_arch.ckpt"
head -c 5 "$T/ok.ckpt" >"$T/trunc_magic.ckpt"
{ printf 'RGNNCKPX'; tail -c +9 "$T/ok.ckpt"; } >"$T/magic.ckpt"
cp "$T/ok.ckpt" "$T/version.ckpt"; poke "$T/version.ckpt" 8 09
cp "$T/ok.ckpt" "$T/flip.ckpt"     # a parameter byte (offset 140: past the 132-byte head) flipped
b=$(byte "$T/flip.ckpt" 140); poke "$T/flip.ckpt" 140 "$(printf %02x $((0x$b ^ 0x10)))"
cp "$T/ok.ckpt" "$T/flipsum.ckpt"  # the checksum itself
b=$(byte "$T/flipsum.ckpt" $((sz - 1))); poke "$T/flipsum.ckpt" $((sz - 1)) "$(printf %02x $((0x$b ^ 0x01)))"
{ cat "$T/ok.ckpt"; hex 00; } >"$T/trail.ckpt"
cp "$T/ok.ckpt" "$T/task.ckpt"; poke "$T/task.ckpt" 12 07                       # task enum 7
: >"$T/empty.ckpt"
(cd "$T" && OMP_NUM_THREADS=1 "$BIN" $TRAIN --seed 2 --out "$T/seed2.ckpt" >/dev/null 2>&1) ||
    fail "could not train the seed-2 checkpoint"
(cd "$T" && OMP_NUM_THREADS=1 "$BIN" train --task score --data "$T/ok.npy" --hidden 8 --t-embed 2 --epochs 1 \
    --batch 2 --warmup 0 --out "$T/wide.ckpt" >/dev/null 2>&1) || fail "could not train the wide checkpoint"

# ---- files that are not what they should be ------------------------------------------------------
printf 'a regular file\n' >"$T/file"
printf '1 2\n2 1\n' >"$T/notspd"
printf '1 0.5\n0.2 1\n' >"$T/notsym"
printf '0 1\n1 0\n' >"$T/qsym"
printf '2 0\n0 1\n' >"$T/u2"
printf '0 1 0\n-1 0 0\n0 0 0\n' >"$T/q3"
printf '1 0\n0 nan\n' >"$T/unan"
printf '1 0\n0 inf\n' >"$T/uinf"
printf '1 0\n0 1e999\n' >"$T/ubig"
printf '' >"$T/uempty"
printf '1 0\n0 -1\n' >"$T/aneg"
# not regular files (issue 16 B1), sizes beyond the caps (B8), numbers that are not decimal, a NUL byte
mkfifo "$T/fifo"
ln -s "$T/file" "$T/link"
truncate -s 2000000 "$T/big"                           # sparse: refused from its size, never read
printf '1 0\n0 0x1p0\n' >"$T/uhex"
printf '1 0\n0 1\0000 5\n' >"$T/unul"
printf '1 0\n0 1e\n' >"$T/ue"
printf '0.9\n0x1p-1\n' >"$T/noisehex"
printf '1 1\n' >"$T/vec2"
mkdir -p "$T/idx_fifo" "$T/idx_bomb" "$T/out_fifo" "$T/out_link"
mkfifo "$T/idx_fifo/train-images-idx3-ubyte"; lab_ok >"$T/idx_fifo/train-labels-idx1-ubyte"
{ img_ok; head -c 20000000 /dev/zero; } | gzip -1 -c >"$T/idx_bomb/train-images-idx3-ubyte.gz"  # 20 MB past the header
lab_ok >"$T/idx_bomb/train-labels-idx1-ubyte"
mkfifo "$T/out_fifo/summary.json" "$T/fifo.ckpt.json"
ln -s "$T/file" "$T/out_link/meta.json"
# checkpoints that are valid files with bad contents (tests/ckpt_edit.py recomputes the checksum): a NaN
# parameter (issue 16 B4); metadata whose process_argv holds flags that are not process flags (B6)
PY=${PYTHON:-/usr/bin/python3}
EDIT="$PY $(dirname "$0")/ckpt_edit.py"
$EDIT "$T/ok.ckpt" "$T/nan.ckpt" --param 3 nan || fail "ckpt_edit.py failed (python3?)"
$EDIT "$T/ok.ckpt" --print-meta >"$T/meta.json"
for bad in '"--dim", "3", "--out", "/elsewhere"' '"--dim", "3", "--samples", "9"' '"--help"' '"--dim", "3", "--bogus"' \
           '"--dim", "3", 7'; do
    k=$((${k:-0} + 1))
    sed "s|\"process_argv\": \[[^]]*\]|\"process_argv\": [$bad]|" "$T/meta.json" >"$T/meta$k.json"
    $EDIT "$T/ok.ckpt" "$T/argv$k.ckpt" --meta "$T/meta$k.json"
done
grep -q '"--out", "/elsewhere"' "$T/meta1.json" || fail "could not craft the metadata with --out"
# metadata cut inside an array (found by make fuzz: the parsers read past the end)
printf '{"process_argv": ["--dim", "3"], "mean": [1' >"$T/cut_mean.json"
printf '{"process_argv": ["--dim"' >"$T/cut_argv.json"
$EDIT "$T/ok.ckpt" "$T/cut_mean.ckpt" --meta "$T/cut_mean.json"
$EDIT "$T/ok.ckpt" "$T/cut_argv.ckpt" --meta "$T/cut_argv.json"

# ---- controls: the good fixtures are accepted, so each bad one fails for its own defect ----------
ok() {
    n=$((n + 1))
    (cd "$T" && OMP_NUM_THREADS=1 "$BIN" "$@" >"$TMP/out" 2>"$TMP/err") || fail "control regimes $*: exit $? ($(cat "$TMP/err"))"
}
ok $TRAIN --resume "$T/ok.ckpt" --out "$T/resumed.ckpt"
ok train --task score --data "$T/ok_v2.npy" --hidden 4 --t-embed 2 --epochs 1 --batch 2 --warmup 0 --out "$T/v2.ckpt"
ok train --task classifier --data "$T/ok.npy" --labels "$T/lab.npy" --hidden 4 --epochs 1 --batch 2 --out "$T/c.ckpt"
ok collapse --process ou --dim 3 --data "$T/ok.npy" --samples 20 --steps 5 --quiet --out "$T/okcollapse"
ok theory --process nonrev --U "$T/u2"
ok theory --process general --A "$T/u2"
rm -rf "$T/okcollapse" "$T/resumed.ckpt" "$T/v2.ckpt" "$T/c.ckpt"
# theory --data mnist on a two-image IDX set: it reads the files, then needs more images than two
(cd "$T" && "$BIN" theory --data mnist --mnist-dir "$T/idx_ok" >"$TMP/out" 2>"$TMP/err")
grep -q "IDX\|magic\|truncated" "$TMP/err" && fail "control: the valid IDX pair is rejected: $(cat "$TMP/err")"

# ---- the table -------------------------------------------------------------------------------------
tab=$(printf '\t')
set -f
while IFS="$tab" read -r want args; do
    case $want in '' | '#'*) continue ;; esac
    n=$((n + 1))
    R=$TMP/row$n
    mkdir -p "$R/out"
    argv=$(printf '%s\n' "$args" | sed "s|@T@|$T|g; s|@OUT@|$R/out|g")
    want=$(printf '%s\n' "$want" | sed "s|@T@|$T|g")
    # shellcheck disable=SC2086 # word splitting of the row's arguments is intended
    (cd "$R" && OMP_NUM_THREADS=1 timeout 60 "$BIN" $argv >"$TMP/out" 2>"$TMP/err")
    got=$?
    [ "$got" -eq 2 ] || fail "regimes $args: exit $got, want 2 ($(head -c 300 "$TMP/err"))"
    lines=$(wc -l <"$TMP/err")
    [ "$lines" -eq 1 ] || fail "regimes $args: $lines lines on stderr, want 1: $(head -c 300 "$TMP/err")"
    grep -Fq -- "$want" "$TMP/err" || fail "regimes $args: stderr '$(head -c 300 "$TMP/err")' lacks '$want'"
    # one prefix, each path once (issue 16 B9: messages repeated their prefix or the path)
    grep -Eq ': regimes( [a-z]+)?: |^regimes ([a-z]+): \2:' "$TMP/err" && fail "regimes $args: the prefix twice: $(head -c 300 "$TMP/err")"
    dup=$(grep -o "$T/[^ :',)]*" "$TMP/err" | sort | uniq -d | head -1)
    [ -z "$dup" ] || fail "regimes $args: names $dup twice: $(head -c 300 "$TMP/err")"
    [ ! -s "$TMP/out" ] || fail "regimes $args: wrote to stdout: $(head -c 200 "$TMP/out")"
    left=$(cd "$R" && find . ! -type d | head -5)
    [ -z "$left" ] || fail "regimes $args: left files behind: $left"
    rm -rf "$R"
done <"$TABLE"
set +f

# --branch-times with 10 000 entries (issue 16 B9: the run took time quadratic in the count): refused at
# once, since every branch time is a grid point whose pairs run the grid below it
n=$((n + 1))
bt=$(awk 'BEGIN { for (i = 1; i <= 10000; i++) printf "%s%.5f", (i > 1 ? "," : ""), i * 3.0 / 10001 }')
(cd "$TMP" && timeout 60 "$BIN" clone --dim 2 --samples 1 --quiet --branch-times "$bt" --out "$TMP/bt" >"$TMP/out" 2>"$TMP/err")
got=$?
[ "$got" -eq 2 ] && grep -q "10000 entries for 200 steps" "$TMP/err" && [ ! -e "$TMP/bt" ] ||
    fail "clone with 10000 branch times: exit $got, $(head -c 300 "$TMP/err")"

echo "hardening.sh: $n commands, $fails failures"
[ "$fails" -eq 0 ]

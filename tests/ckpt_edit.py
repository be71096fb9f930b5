"""Edit a regimes nn checkpoint (version 3) for the tests, keeping it valid: replace its metadata and/or
set one parameter, then recompute the FNV-1a checksum (layout: docs/library-nn.md). Python's standard
library only.

usage: ckpt_edit.py IN OUT [--meta FILE] [--param INDEX VALUE]   (VALUE: a float, nan or inf)
       ckpt_edit.py IN --print-meta                               (the metadata on stdout)
"""
import struct
import sys


def fnv1a(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def split(buf):
    """(head up to the metadata length, metadata bytes) of a version 3 checkpoint."""
    assert buf[:8] == b"RGNNCKPT" and struct.unpack_from("<I", buf, 8)[0] == 3, "not a version 3 checkpoint"
    nparams = struct.unpack_from("<Q", buf, 124)[0]
    at = 132 + 4 * nparams
    has_opt = struct.unpack_from("<I", buf, at)[0]
    at += 4 + (128 + 8 * nparams if has_opt else 0)
    meta_len = struct.unpack_from("<Q", buf, at)[0]
    return buf[:at], buf[at + 8:at + 8 + meta_len]


def main(argv):
    buf = open(argv[1], "rb").read()
    head, meta = split(buf)
    if argv[2] == "--print-meta":
        sys.stdout.write(meta.decode())
        return 0
    out, args = argv[2], argv[3:]
    head = bytearray(head)
    while args:
        if args[0] == "--meta":
            meta = open(args[1], "rb").read()
            args = args[2:]
        elif args[0] == "--param":
            struct.pack_into("<f", head, 132 + 4 * int(args[1]), float(args[2]))
            args = args[3:]
        else:
            raise SystemExit("ckpt_edit.py: unknown argument " + args[0])
    body = bytes(head) + struct.pack("<Q", len(meta)) + meta
    open(out, "wb").write(body + struct.pack("<Q", fnv1a(body)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

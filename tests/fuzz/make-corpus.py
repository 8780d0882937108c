#!/usr/bin/env python3
"""Writes the fuzz seed corpus (tests/fuzz/corpus): hand-made dumps that reach
each record kind and the reader's edge cases, plus cut and damaged variants of
any real dumps given on the command line (kept small: the first chunks only;
paths of the source tree and the working directory are scrubbed out).

    make-corpus.py CORPUS_DIR [DUMP...]
"""
import os
import struct
import subprocess
import sys

MAJOR, MINOR = 1, 0
CHUNK_MAGIC = 0x4B4E4346
(HEADER, MODULE, UNLOAD, THREAD, THREAD_END, STACK, TID, SAMPLE, ALLOC, FREE,
 REALLOC, TICK, LOST, TRAILER) = range(1, 15)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def zz(v):
    return varint(((v << 1) ^ (v >> 63)) & 0xFFFFFFFFFFFFFFFF)


def string(s):
    s = s.encode() if isinstance(s, str) else s
    return varint(len(s)) + s


def rec(kind, *fields):
    body = b"".join(fields)
    return bytes([kind]) + varint(len(body)) + body


def chunk(payload, seq, flags=0, raw_len=None, bad_crc=False):
    raw_len = len(payload) if raw_len is None else raw_len
    pcrc = crc32c(payload) ^ (1 if bad_crc else 0)
    h = bytearray(struct.pack("<IBBHIIII", CHUNK_MAGIC, 1, flags, 0, seq, len(payload), raw_len, pcrc))
    h[6:8] = struct.pack("<H", crc32c(bytes(h)) & 0xFFFF)
    return bytes(h) + payload


def file_header(major=MAJOR, minor=MINOR):
    return b"FATHOMDP" + struct.pack("<HHI", major, minor, 0)


def dump(*chunks, major=MAJOR):
    return file_header(major) + b"".join(chunk(c, i) for i, c in enumerate(chunks))


def header(pid=100, hz=99, clock=0, alloc_mode=1, sample_bytes=0, gen=0, exe="/bin/prog"):
    return rec(HEADER, varint(pid), varint(1), varint(1700000000 * 10**9), varint(5 * 10**9), varint(hz),
               varint(clock), varint(alloc_mode), varint(sample_bytes), string(exe), string(b"prog\0arg"),
               varint(gen))


def module(mid=1, start=0x400000, end=0x500000, path="/bin/prog", bid=b"\x01\x02"):
    return rec(MODULE, varint(mid), varint(start), varint(start), varint(end), string(path), string(bid), varint(0))


def stack(sid, frames):
    body = varint(sid) + varint(len(frames)) + (varint(frames[0]) if frames else b"")
    for a, b in zip(frames, frames[1:]):
        body += zz(b - a)
    return rec(STACK, body)


def trailer(samples=0, allocs=0):
    return rec(TRAILER, varint(10**6), varint(samples), varint(samples), varint(0), varint(allocs), varint(0))


def typical():
    """Every record kind once or more, in one chunk."""
    return (header() + module() + rec(THREAD, varint(100), varint(0), string("main")) +
            rec(THREAD, varint(101), varint(10), string("worker")) +
            stack(1, [0x401000, 0x402000, 0x403000]) + stack(2, [0x401100, 0x402000]) +
            rec(TID, varint(100)) + rec(SAMPLE, zz(1000), varint(1), varint(1)) +
            rec(SAMPLE, zz(500), varint(2), varint(3)) +
            rec(ALLOC, zz(1), varint(1), varint(64), zz(0x10000)) +
            rec(ALLOC, zz(1), varint(2), varint(128), zz(0x100)) +
            rec(REALLOC, zz(1), varint(2), varint(256), zz(-0x100), zz(0x1000)) +
            rec(TID, varint(101)) + rec(FREE, zz(1), zz(0)) +
            rec(TICK, varint(2000), varint(4), varint(1 << 20), varint(64)) +
            rec(LOST, varint(0), varint(2)) + rec(THREAD_END, varint(101), varint(3000)) +
            rec(UNLOAD, varint(1), varint(4000)) + trailer(2, 4))


def seeds():
    s = {}
    s["minimal"] = dump(header() + trailer())
    s["typical"] = dump(typical())
    # Deltas reset at each chunk; a stack defined in one chunk used in the next.
    s["two-chunks"] = dump(header() + module() + stack(1, [0x401000]) + rec(TID, varint(100)) +
                           rec(ALLOC, zz(5), varint(1), varint(10), zz(0x5000)),
                           rec(TID, varint(100)) + rec(FREE, zz(6), zz(0x5000)) +
                           rec(SAMPLE, zz(10), varint(1), varint(1)) + trailer(1, 2))
    s["deep-stack"] = dump(header() + module() + stack(1, [0x400000 + 16 * i for i in range(128)]) +
                           rec(TID, varint(100)) + rec(SAMPLE, zz(1), varint(1), varint(1)) + trailer(1))
    s["empty-stack"] = dump(header() + stack(1, []) + rec(TID, varint(100)) +
                            rec(SAMPLE, zz(1), varint(1), varint(1)) + trailer(1))
    # Lengths and counts that claim more than there is.
    s["huge-nframes"] = dump(header() + rec(STACK, varint(1), varint(10**9), varint(0x401000)) + trailer())
    s["huge-string"] = dump(header() + rec(THREAD, varint(7), varint(0), varint(1 << 40) + b"ab") + trailer())
    s["body-past-chunk"] = dump(header() + bytes([SAMPLE]) + varint(1 << 20) + b"\x01\x01")
    s["long-varint"] = dump(header() + rec(TID, b"\xff" * 10 + b"\x01") + rec(TID, b"\xff" * 12) + trailer())
    s["unknown-kind"] = dump(header() + rec(200, b"future") + rec(0, b"") + trailer())
    s["trailing-fields"] = dump(header() + rec(TID, varint(100), b"extra") +
                                rec(SAMPLE, zz(1), varint(1), varint(1), b"more") + stack(1, [1]) + trailer(1))
    # Ids used but never defined, defined late, zero, and reused.
    s["undefined-ids"] = dump(header() + rec(TID, varint(100)) + rec(SAMPLE, zz(1), varint(77), varint(1)) +
                              rec(ALLOC, zz(1), varint(0), varint(8), zz(0x10)) +
                              rec(ALLOC, zz(1), varint(1 << 62), varint(8), zz(0x10)) +
                              stack(77, [0x1234]) + stack(77, [0x5678, 0x9abc]) + stack(0, [1]) + trailer(1, 2))
    # Heap nonsense: double free, unknown free, same address twice, seq backwards.
    s["heap-nonsense"] = dump(header() + stack(1, [0x401000]) + rec(TID, varint(100)) +
                              rec(ALLOC, zz(10), varint(1), varint(32), zz(0x7000)) +
                              rec(ALLOC, zz(1), varint(1), varint(32), zz(0)) +
                              rec(FREE, zz(1), zz(0)) + rec(FREE, zz(1), zz(0)) +
                              rec(FREE, zz(-5), zz(0x999)) +
                              rec(REALLOC, zz(1), varint(1), varint(0), zz(-0x7999), zz(0)) +
                              rec(REALLOC, zz(1), varint(1), varint(1 << 63), zz(0x50), zz(0x50)) +
                              rec(ALLOC, zz(0), varint(1), varint((1 << 64) - 1), zz(-0x50)) +
                              rec(TICK, varint(5), varint(1 << 63), varint(1 << 63), varint(1 << 63)) + trailer(0, 9))
    # Header values a careless reader divides by or indexes with.
    s["odd-header"] = dump(header(hz=0, clock=9, alloc_mode=7) + rec(TID, varint(1)) + stack(1, [1]) +
                           rec(SAMPLE, zz(-(1 << 40)), varint(1), varint(0)) +
                           rec(SAMPLE, zz(1 << 62), varint(1), varint(1 << 63)) + trailer(2))
    s["sampled-zero"] = dump(header(alloc_mode=2, sample_bytes=0) + stack(1, [1]) + rec(TID, varint(1)) +
                             rec(ALLOC, zz(1), varint(1), varint(100), zz(0x100)) + trailer(0, 1))
    s["sampled-huge"] = dump(header(alloc_mode=2, sample_bytes=(1 << 64) - 1) + stack(1, [1]) + rec(TID, varint(1)) +
                             rec(ALLOC, zz(1), varint(1), varint(100), zz(0x100)) + trailer(0, 1))
    s["no-header-record"] = dump(rec(TID, varint(1)) + header() + header(pid=5) + trailer())
    s["odd-modules"] = dump(header() + module(1, 0x500000, 0x400000) + module(2, 0x400000, 0x600000) +
                            module(1, 0x400000, 0x400000) + module(3, 0, (1 << 64) - 1, path="", bid=b"\xaa" * 200) +
                            rec(UNLOAD, varint(99), varint(0)) + rec(THREAD_END, varint(5), varint(0)) +
                            stack(1, [0x450000, 0]) + rec(TID, varint(1)) + rec(SAMPLE, zz(1), varint(1), varint(1)) +
                            trailer(1))
    s["newer-major"] = dump(header() + trailer(), major=MAJOR + 1)
    s["newer-minor"] = file_header(MAJOR, MINOR + 5) + chunk(header() + trailer(), 0)
    s["file-header-only"] = file_header()
    s["magic-only"] = b"FATHOMDP"
    s["not-a-dump"] = b"\x7fELF\x02\x01\x01" + bytes(40)
    # Chunk-level damage: a bad payload checksum between good chunks, garbage
    # between chunks, sequence numbers out of order, raw_len over the limit,
    # a zstd flag on data that is not zstd.
    good = header() + stack(1, [1]) + rec(TID, varint(1))
    s["bad-crc-middle"] = (file_header() + chunk(good, 0) + chunk(rec(SAMPLE, zz(1), varint(1), varint(1)), 1, bad_crc=True) +
                           chunk(rec(TID, varint(1)) + rec(SAMPLE, zz(1), varint(1), varint(1)) + trailer(1), 2))
    s["garbage-between"] = (file_header() + chunk(good, 0) + b"\x00garbage\xff" * 3 +
                            chunk(rec(TID, varint(1)) + trailer(), 1))
    s["seq-disorder"] = file_header() + chunk(good, 5) + chunk(trailer(), 2) + chunk(trailer(), 2)
    s["raw-too-big"] = file_header() + chunk(good, 0, raw_len=(16 << 20) + 1) + chunk(trailer(), 1)
    s["fake-zstd"] = file_header() + chunk(good, 0, flags=1, raw_len=1 << 20) + chunk(trailer(), 1)
    s["unknown-chunk-flags"] = file_header() + chunk(good, 0, flags=0x80) + chunk(trailer(), 1)
    try:
        z = subprocess.run(["zstd", "-q", "-c", "-"], input=typical(), capture_output=True, check=True).stdout
        s["zstd-chunk"] = file_header() + chunk(z, 0, flags=1, raw_len=len(typical()))
        s["zstd-raw-len-lies"] = file_header() + chunk(z, 0, flags=1, raw_len=8)
    except (OSError, subprocess.CalledProcessError):
        print("make-corpus: zstd not found; no compressed seeds", file=sys.stderr)
    # Truncations of the typical dump: inside the header, a chunk header, a payload.
    t = s["typical"]
    for cut in (12, 16 + 10, 16 + 24 + 7, len(t) - 3):
        s["typical-cut-%d" % cut] = t[:cut]
    return s


def chunks_of(data):
    """The offsets of each chunk of a dump, by walking the headers."""
    off, out = 16, []
    while off + 24 <= len(data) and struct.unpack_from("<I", data, off)[0] == CHUNK_MAGIC:
        plen = struct.unpack_from("<I", data, off + 12)[0]
        out.append((off, 24 + plen))
        off += 24 + plen
    return out


def scrub(payload, prefixes):
    """Replaces machine paths (the build tree) by a neutral path of the same
    length, so that record lengths stay right."""
    for p in prefixes:
        p = p.encode()
        neutral = (b"/srv/fathom-test-tree" + b"x" * len(p))[: len(p)]
        payload = payload.replace(p, neutral)
    return payload


def zstd(payload, decompress=False):
    args = ["zstd", "-q", "-c", "-"] + (["-d"] if decompress else [])
    return subprocess.run(args, input=payload, capture_output=True, check=True).stdout


def variants(name, data, limit, prefixes):
    """A real dump cut to its first chunks (at most `limit` bytes) with machine
    paths scrubbed: stored compressed as the agent wrote it, stored raw
    (mutations of compressed chunks die in zstd, those of raw ones reach the
    record decoder), cut, with a flipped byte, and without its first chunk
    header."""
    raw_chunks, packed = [], bytearray(data[:16])
    for off, n in chunks_of(data):
        if len(packed) + n > limit:
            break
        payload = data[off + 24: off + n]
        try:
            if data[off + 5] & 1:
                payload = scrub(zstd(payload, decompress=True), prefixes)
                packed += chunk(zstd(payload), len(raw_chunks), flags=1, raw_len=len(payload))
            else:
                payload = scrub(payload, prefixes)
                packed += chunk(payload, len(raw_chunks))
        except (OSError, subprocess.CalledProcessError):
            print("make-corpus: zstd failed on %s; skipped" % name, file=sys.stderr)
            return {}
        raw_chunks.append(payload)
    if not raw_chunks:
        return {}
    head = bytes(packed)
    end = len(head)
    out = {name: head}
    out[name + "-cut"] = head[: 16 + (end - 16) * 2 // 3]
    mid = bytearray(head)
    mid[(16 + end) // 2] ^= 0x55
    out[name + "-flip"] = bytes(mid)
    out[name + "-headless"] = head[:16] + head[16 + 24 + 5:]
    raw = data[:16] + b"".join(chunk(p, i) for i, p in enumerate(raw_chunks))
    if raw != head and len(raw) <= limit:
        out[name + "-raw"] = raw
    return out


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    out = seeds()
    # Paths of this machine that the agent wrote into the dumps: the source
    # tree (the build tree is under it) and the working directory.
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    prefixes = sorted({here, os.getcwd()} - {"/"}, key=len, reverse=True)
    for path in sys.argv[2:]:
        with open(path, "rb") as f:
            data = f.read()
        out.update(variants("real-" + os.path.basename(path).split(".")[0], data, 12000, prefixes))
    for name, data in sorted(out.items()):
        # No .fdump extension: dumps are git-ignored, the corpus is not.
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print("make-corpus: %d files, %d bytes" % (len(out), sum(len(v) for v in out.values())), file=sys.stderr)


if __name__ == "__main__":
    main()

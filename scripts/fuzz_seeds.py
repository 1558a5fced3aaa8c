#!/usr/bin/env python3
"""Writes the fuzz seed corpus, fuzz/seeds/<target>/: small valid inputs of every header
parser (standard library only). The real camera files in ../shared/data (or the folder
given as the first argument), when present, give truncated cine and cihx seeds."""
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "seeds")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def npy(descr, shape, data, fortran=False):
    dims = ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "")
    h = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
        descr, "True" if fortran else "False", dims)
    pad = 64 - (10 + len(h) + 1) % 64
    h = h + " " * pad + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + data


def tiff_page_entries(w, h, spp, bits, fmt, planar, offsets, counts, extra_at):
    """IFD entries (tag, type, count, value-or-offset) of an uncompressed page."""
    SHORT, LONG = 3, 4
    return [
        (256, LONG, 1, w), (257, LONG, 1, h), (258, SHORT, spp, extra_at[0] if spp > 1 else bits),
        (259, SHORT, 1, 1), (262, SHORT, 1, 2 if spp >= 3 else 1),
        (273, LONG, len(offsets), extra_at[1] if len(offsets) > 1 else offsets[0]),
        (277, SHORT, 1, spp), (278, LONG, 1, h),
        (279, LONG, len(counts), extra_at[2] if len(counts) > 1 else counts[0]),
        (284, SHORT, 1, 2 if planar else 1), (339, SHORT, 1, fmt),
    ]


def tiff(pages):
    """Little-endian TIFF; pages: (w, h, spp, bits, sample format, planar, sample bytes)."""
    out = bytearray(b"II*\x00\x00\x00\x00\x00")
    ifd_offsets = []
    for (w, h, spp, bits, fmt, planar, data) in pages:
        nstrips = spp if planar else 1
        per = len(data) // nstrips
        base = len(out)
        out += data
        offsets = [base + k * per for k in range(nstrips)]
        counts = [per] * nstrips
        extra = len(out)
        bits_at, offs_at, cnts_at = extra, extra + 2 * spp, extra + 2 * spp + 4 * nstrips
        out += struct.pack("<%dH" % spp, *([bits] * spp))
        out += struct.pack("<%dI" % nstrips, *offsets)
        out += struct.pack("<%dI" % nstrips, *counts)
        if len(out) % 2:
            out += b"\x00"
        entries = tiff_page_entries(w, h, spp, bits, fmt, planar, offsets, counts,
                                    (bits_at, offs_at, cnts_at))
        ifd_offsets.append(len(out))
        out += struct.pack("<H", len(entries))
        for tag, typ, count, value in entries:
            if typ == 3 and count == 1:
                out += struct.pack("<HHIHH", tag, typ, count, value, 0)
            else:
                out += struct.pack("<HHII", tag, typ, count, value)
        out += b"\x00\x00\x00\x00"
    struct.pack_into("<I", out, 4, ifd_offsets[0])
    for k in range(len(ifd_offsets) - 1):
        # the next-IFD pointer is the last 4 bytes of each IFD
        n = struct.unpack_from("<H", out, ifd_offsets[k])[0]
        struct.pack_into("<I", out, ifd_offsets[k] + 2 + 12 * n, ifd_offsets[k + 1])
    return bytes(out)


def fits(cards, data):
    h = ""
    for k, v in cards:
        h += "%-8s= %20s%50s" % (k, v, "")
    h += "%-80s" % "END"
    h += " " * (-len(h) % 2880)
    return h.encode() + data


def spe(w, h, frames, dtype, data):
    b = bytearray(4100)
    struct.pack_into("<H", b, 42, w)
    struct.pack_into("<H", b, 656, h)
    struct.pack_into("<h", b, 108, dtype)
    struct.pack_into("<i", b, 1446, frames)
    struct.pack_into("<f", b, 1992, 2.5)
    struct.pack_into("<H", b, 4098, 0x5555)
    return bytes(b) + data


def main():
    put("npy", "u8_t2.npy", npy("|u1", (2, 4, 4), bytes(range(32))))
    put("npy", "f4_3d.npy", npy("<f4", (2, 3, 2), struct.pack("<12f", *[i * 0.5 for i in range(12)])))
    put("npy", "u2_be.npy", npy(">u2", (2, 2, 3), struct.pack(">12H", *range(0, 1200, 100))))
    put("npy", "rgb_fortran.npy", npy("|u1", (2, 2, 2, 3), bytes(range(24)), fortran=True))
    put("npy", "hw3.npy", npy("|u1", (4, 5, 3), bytes(range(60))))
    put("npy", "f8_2d.npy", npy("<f8", (3, 2), struct.pack("<6d", 1, -2, 3.5, 1e300, 0, 7)))
    put("tiff", "u8_2pages.tif", tiff([(3, 2, 1, 8, 1, False, bytes(range(6))),
                                       (3, 2, 1, 8, 1, False, bytes(range(6, 12)))]))
    put("tiff", "u16_then_f32.tif", tiff([
        (2, 2, 1, 16, 1, False, struct.pack("<4H", 1, 60000, 3, 4)),
        (2, 2, 1, 32, 3, False, struct.pack("<4f", -5.5, 0.25, 1e6, 0))]))
    put("tiff", "rgb_planar.tif", tiff([(3, 2, 3, 8, 1, True, bytes(range(18)))]))
    put("tiff", "rgb_chunky.tif", tiff([(2, 2, 3, 8, 1, False, bytes(range(12)))]))
    put("ascii", "tab.asc", b"1\t2\t3\n4\t5\t6\n")
    put("ascii", "rownum.asc", b"0 1.5 2.5\n1 3.5 -4\n2 nan 5e3\n")
    put("ascii", "csv.asc", b"1,2\n3,4\n")
    put("fits", "u16.fits", fits([("SIMPLE", "T"), ("BITPIX", "16"), ("NAXIS", "2"),
                                  ("NAXIS1", "3"), ("NAXIS2", "2"), ("BZERO", "32768")],
                                 struct.pack(">6h", -32768, -1000, 0, 1, 2, 32767)))
    put("fits", "f32_cube.fits", fits([("SIMPLE", "T"), ("BITPIX", "-32"), ("NAXIS", "3"),
                                       ("NAXIS1", "2"), ("NAXIS2", "2"), ("NAXIS3", "2")],
                                      struct.pack(">8f", *range(8))))
    put("spe", "u16.spe", spe(4, 3, 2, 3, struct.pack("<24H", *range(0, 24000, 1000))))
    put("spe", "f32.spe", spe(3, 2, 1, 0, struct.pack("<6f", *[v / 4 for v in range(6)])))
    data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "data")
    cine = os.path.join(data, "cine_legacy.cine")
    if os.path.exists(cine):
        with open(cine, "rb") as f:
            b = f.read()
        # the headers, the offsets of 97 images and the first two images
        put("cine", "legacy_head.cine", b[:75000])
    else:
        print("no", cine, "- cine seed left out", file=sys.stderr)
    cihx = os.path.join(data, "beam.cihx")
    if os.path.exists(cihx):
        with open(cihx, "rb") as f:
            put("mraw", "beam.cihx", f.read())
    else:
        print("no", cihx, "- mraw seed left out", file=sys.stderr)


if __name__ == "__main__":
    main()

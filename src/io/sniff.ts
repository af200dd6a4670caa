/**
 * File-format detection from a file's first bytes: the HDF5 superblock signature (at offset 0 or
 * after a user block of 512, 1024, 2048, ... bytes) and the first record of a Gadget binary
 * snapshot (format 1: a 256-byte header record; format 2: an 8-byte "HEAD" label record), in
 * either byte order. Plain `node:fs`, no HDF5 library.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Finds the HDF5 superblock (offset 0, 512, 1024, ... after a user block) and returns its offset and
 * the end-of-file address it records (relative to the superblock base), or null without a signature.
 */
export function hdf5Superblock(path: string): { offset: number; eofAddress?: number } | null {
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(64);
    for (let off = 0; off + 8 <= size; off = off === 0 ? 512 : off * 2) {
      buf.fill(0);
      readSync(fd, buf, 0, 64, off);
      if (HDF5_SIGNATURE.every((b, i) => buf[i] === b)) {
        const version = buf[8] as number;
        let eofAt: number | undefined;
        let offsetSize: number | undefined;
        if (version === 0 || version === 1) {
          offsetSize = buf[13];
          eofAt = 24 + (version === 1 ? 4 : 0) + 2 * (offsetSize ?? 8);
        } else if (version === 2 || version === 3) {
          offsetSize = buf[9];
          eofAt = 12 + 2 * (offsetSize ?? 8);
        }
        if (eofAt !== undefined && offsetSize === 8 && eofAt + 8 <= 64) {
          const eof = Number(buf.readBigUInt64LE(eofAt));
          return { offset: off, eofAddress: eof };
        }
        return { offset: off };
      }
      if (off > 1 << 20) break;
    }
    return null;
  } finally {
    closeSync(fd);
  }
}

/** True when the file carries the HDF5 signature. */
export function hasHdf5Signature(path: string): boolean {
  return hdf5Superblock(path) !== null;
}

/** A Gadget binary layout: format 1 (plain records) or 2 (each block preceded by a 4-letter label record). */
export interface GadgetBinaryLayout {
  format: 1 | 2;
  littleEndian: boolean;
}

/**
 * Recognises a Gadget binary snapshot from its first record marker: 256 (format 1, the header
 * record) or 8 followed by the label "HEAD" (format 2), read in either byte order. Null otherwise.
 */
export function sniffGadgetBinary(first: Uint8Array): GadgetBinaryLayout | null {
  if (first.length < 4) return null;
  const b = Buffer.from(first.buffer, first.byteOffset, first.byteLength);
  for (const littleEndian of [true, false]) {
    const marker = littleEndian ? b.readInt32LE(0) : b.readInt32BE(0);
    if (marker === 256) return { format: 1, littleEndian };
    if (marker === 8 && b.length >= 8 && b.toString('latin1', 4, 8) === 'HEAD') return { format: 2, littleEndian };
  }
  return null;
}

/** Reads up to `n` bytes from the start of a file. */
export function headBytes(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { ChunkTable } from '../../src/sync/chunk-table.js';
import {
  currentFormat,
  decodeManifest,
  encodeManifest,
  MANIFEST_FORMAT,
  sealAndEncode,
  sealManifest,
} from '../../src/sync/manifest.js';

const sha = (n: number) => createHash('sha256').update(String(n)).digest('hex');

/** A format-1 manifest as the JSON text an older ckpt wrote, with `change` applied before sealing. */
function format1(change: (m: Record<string, unknown>) => void = () => {}): Buffer {
  const m: Record<string, unknown> = {
    format: 'ckpt-manifest/1',
    model: 'm',
    generation: '20261128T000000000Z-00000000',
    parent: null,
    createdAt: '2026-11-28T00:00:00.000Z',
    labels: {},
    chunking: { avgSize: 65536 },
    packs: ['0'.repeat(32)],
    chunks: [
      [0, 0, 5, sha(1)],
      [0, 5, 3, sha(2)],
    ],
    entries: [
      { path: 'd', type: 'dir', mode: 0o755, mtimeMs: 1 },
      { path: 'd/f', type: 'file', mode: 0o644, size: 12, mtimeMs: 2, extents: [0, -4, 1] },
    ],
  };
  change(m);
  m.checksum = createHash('sha256').update(JSON.stringify(m)).digest('hex');
  return Buffer.from(JSON.stringify(m));
}

const expect1 = { model: 'm', generation: '20261128T000000000Z-00000000' };

function decodeError(bytes: Buffer): string {
  try {
    decodeManifest(bytes, 'key', expect1);
  } catch (err) {
    expect(StoreError.is(err, 'Integrity')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('decoded');
}

describe('manifest formats', () => {
  it('reads format 1 and re-seals it as format 2, which reads back the same', () => {
    const old = decodeManifest(format1(), 'key', expect1);
    expect(old.chunks.count).toBe(2);
    expect(old.chunks.indexOf(sha(2))).toBe(1);
    const now = currentFormat(old);
    expect(now.format).toBe(MANIFEST_FORMAT);
    const text = encodeManifest(now);
    expect(typeof JSON.parse(text.toString()).chunks).toBe('string');
    const back = decodeManifest(text, 'key', expect1);
    expect(back.entries).toEqual(old.entries);
    expect([back.chunks.hashOf(1), back.chunks.offsetOf(1), back.chunks.lengthOf(1)]).toEqual([sha(2), 5, 3]);
    expect(currentFormat(back)).toBe(back);
  });

  it('refuses chunk rows in the other format, pointing at a missing pack, or bigger than 32 bits', () => {
    expect(
      decodeError(
        format1((m) => {
          m.format = MANIFEST_FORMAT;
        }),
      ),
    ).toMatch(/chunks: not the encoding of ckpt-manifest\/2/);
    expect(
      decodeError(
        format1((m) => {
          m.chunks = 'AAAA';
        }),
      ),
    ).toMatch(/chunks: not the encoding of ckpt-manifest\/1/);
    expect(
      decodeError(
        format1((m) => {
          m.chunks = [[1, 0, 5, sha(1)]];
          m.entries = [];
        }),
      ),
    ).toMatch(/chunk 0 points at pack 1 of 1/);
    expect(
      decodeError(
        format1((m) => {
          m.chunks = [[0, 2 ** 32, 5, sha(1)]];
          m.entries = [];
        }),
      ),
    ).toMatch(/offset .* does not fit in 32 bits/);
  });

  it('refuses a format 2 manifest whose rows are not whole, or whose checksum does not match', () => {
    const good = JSON.parse(
      encodeManifest(currentFormat(decodeManifest(format1(), 'key', expect1))).toString(),
    );
    const reseal = (m: Record<string, unknown>) => {
      const { checksum: _c, ...rest } = m;
      return Buffer.from(
        JSON.stringify({
          ...rest,
          checksum: createHash('sha256').update(JSON.stringify(rest)).digest('hex'),
        }),
      );
    };
    const cut = Buffer.from(good.chunks, 'base64').subarray(0, 50).toString('base64');
    expect(decodeError(reseal({ ...good, chunks: cut }))).toMatch(/chunks: not the encoding/);
    expect(decodeError(Buffer.from(JSON.stringify({ ...good, model: 'm', labels: { a: 'b' } })))).toMatch(
      /checksum mismatch/,
    );
  });
});

describe('sealAndEncode', () => {
  const unsealed = () => {
    const { checksum: _c, ...rest } = currentFormat(decodeManifest(format1(), 'key', expect1));
    // a label with characters of 2, 3 and 4 bytes in UTF-8, before the tail the checksum goes into
    return { ...rest, labels: { note: 'é€😀' } };
  };

  it('gives exactly the bytes and the manifest of sealManifest + encodeManifest', () => {
    const { manifest, bytes } = sealAndEncode(unsealed());
    const sealed = sealManifest(unsealed());
    expect(manifest.checksum).toBe(sealed.checksum);
    expect(bytes.equals(encodeManifest(sealed))).toBe(true);
    expect(decodeManifest(bytes, 'key', expect1).labels).toEqual({ note: 'é€😀' });
  });

  it('writes a chunk table of many slices (and of none) exactly as JSON.stringify does', () => {
    for (const count of [0, 1, 5000]) {
      const rows = ChunkTable.empty();
      for (let i = 0; i < count; i++) rows.push(sha(i), 0, i * 10, 10);
      // 5000 rows: 220,000 bytes, five slices, the last one padded
      const { bytes } = sealAndEncode({ ...unsealed(), chunks: rows });
      expect(bytes.equals(encodeManifest(sealManifest({ ...unsealed(), chunks: rows })))).toBe(true);
      expect(JSON.parse(bytes.toString()).chunks).toBe(rows.toJSON());
    }
  });

  it('is read back whatever the layout, and refuses a changed byte or checksum', () => {
    const { bytes } = sealAndEncode(unsealed());
    // another writer's whitespace: checked by serialising again, still valid
    const pretty = Buffer.from(JSON.stringify(JSON.parse(bytes.toString()), null, 2));
    expect(decodeManifest(pretty, 'key', expect1).labels).toEqual({ note: 'é€😀' });
    // one byte of the checksummed text changed (the label's "é" becomes "è"), in either layout
    const text = bytes.toString();
    expect(decodeError(Buffer.from(text.replace('é', 'è')))).toMatch(/checksum mismatch/);
    expect(decodeError(Buffer.from(pretty.toString().replace('é', 'è')))).toMatch(/checksum mismatch/);
    // the checksum itself changed
    const checksum = JSON.parse(text).checksum as string;
    const other = `${checksum[0] === 'a' ? 'b' : 'a'}${checksum.slice(1)}`;
    expect(decodeError(Buffer.from(text.replace(checksum, other)))).toMatch(/checksum mismatch/);
  });
});

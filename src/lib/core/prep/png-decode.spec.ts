import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LatheError } from '../errors';
import { seededRandom } from '../pipeline/split';
import { pngChunk, writePng, type PngWriterInput } from './fixtures/png-writer';
import { crc32, decodePng } from './png-decode';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof LatheError) return err.code;
    throw err;
  }
  return undefined;
}

/** `count` samples in [0, 2^depth) from a fixed seed: busy enough that every filter predicts badly. */
function samples(count: number, depth: number, seed = 7): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => Math.floor(random() * 2 ** depth));
}

const ALL_FILTERS = [0, 1, 2, 3, 4];

describe('decodePng', () => {
  const width = 9;
  const height = 7;

  it.each([
    { colorType: 0, channels: 1, name: 'grayscale' },
    { colorType: 4, channels: 2, name: 'gray + alpha' },
    { colorType: 2, channels: 3, name: 'RGB' },
    { colorType: 6, channels: 4, name: 'RGBA' }
  ] as const)('reads 8-bit $name with every filter type', ({ colorType, channels }) => {
    const values = samples(width * height * channels, 8);
    for (const filter of ALL_FILTERS) {
      const png = writePng({ width, height, colorType, depth: 8, samples: values, filters: [filter] });
      const image = decodePng(png);
      expect(image).toMatchObject({ width, height, channels });
      expect(Array.from(image.data)).toEqual(values);
    }
    // All five filters in one image, changing from row to row.
    const mixed = decodePng(
      writePng({ width, height, colorType, depth: 8, samples: values, filters: ALL_FILTERS })
    );
    expect(Array.from(mixed.data)).toEqual(values);
  });

  it.each([
    { colorType: 0, spp: 1 },
    { colorType: 4, spp: 2 },
    { colorType: 2, spp: 3 },
    { colorType: 6, spp: 4 }
  ] as const)('keeps the high byte of 16-bit samples (color type $colorType)', ({ colorType, spp }) => {
    const values = samples(width * height * spp, 16, 11);
    const png = writePng({ width, height, colorType, depth: 16, samples: values, filters: ALL_FILTERS });
    expect(Array.from(decodePng(png).data)).toEqual(values.map((v) => v >> 8));
  });

  it.each([1, 2, 4] as const)('scales %i-bit grayscale to 0–255, rows padded to whole bytes', (depth) => {
    const values = samples(width * height, depth, depth);
    const png = writePng({ width, height, colorType: 0, depth, samples: values, filters: ALL_FILTERS });
    const image = decodePng(png);
    expect(image.channels).toBe(1);
    expect(Array.from(image.data)).toEqual(values.map((v) => Math.round((v * 255) / (2 ** depth - 1))));
  });

  it.each([1, 2, 4, 8] as const)('looks up %i-bit palette indexes', (depth) => {
    const entries = Math.min(2 ** depth, 200);
    const palette = Array.from({ length: entries }, (_, i) => [i, (i * 7) % 256, 255 - i] as const);
    const indexes = samples(width * height, depth, 3).map((v) => v % entries);
    const png = writePng({
      width,
      height,
      colorType: 3,
      depth,
      samples: indexes,
      palette,
      filters: ALL_FILTERS
    });
    const image = decodePng(png);
    expect(image.channels).toBe(3);
    expect(Array.from(image.data)).toEqual(indexes.flatMap((i) => [...(palette[i] ?? [])]));
  });

  it('gives a palette image alpha from tRNS; entries past the table are opaque', () => {
    const palette = [
      [10, 20, 30],
      [40, 50, 60],
      [70, 80, 90]
    ] as const;
    const png = writePng({
      width: 3,
      height: 1,
      colorType: 3,
      depth: 8,
      samples: [0, 1, 2],
      palette,
      tRNS: [0, 128]
    });
    const image = decodePng(png);
    expect(image.channels).toBe(4);
    expect(Array.from(image.data)).toEqual([10, 20, 30, 0, 40, 50, 60, 128, 70, 80, 90, 255]);
  });

  it('turns a gray or RGB tRNS colour key into an alpha channel', () => {
    const gray = decodePng(
      writePng({ width: 3, height: 1, colorType: 0, depth: 8, samples: [5, 9, 5], tRNS: [0, 5] })
    );
    expect(gray.channels).toBe(2);
    expect(Array.from(gray.data)).toEqual([5, 0, 9, 255, 5, 0]);

    const rgb = decodePng(
      writePng({
        width: 2,
        height: 1,
        colorType: 2,
        depth: 8,
        samples: [1, 2, 3, 1, 2, 4],
        tRNS: [0, 1, 0, 2, 0, 3]
      })
    );
    expect(rgb.channels).toBe(4);
    expect(Array.from(rgb.data)).toEqual([1, 2, 3, 0, 1, 2, 4, 255]);
  });

  it('joins image data split over several IDAT chunks and skips unknown ancillary chunks', () => {
    const values = samples(width * height * 3, 8, 5);
    const png = writePng({
      width,
      height,
      colorType: 2,
      depth: 8,
      samples: values,
      filters: ALL_FILTERS,
      idatChunks: 4,
      extraChunks: [
        { type: 'gAMA', data: Uint8Array.from([0, 0, 0xb1, 0x8f]) },
        { type: 'teXt', data: new TextEncoder().encode('comment') }
      ]
    });
    expect(Array.from(decodePng(png).data)).toEqual(values);
  });

  it.each([
    { colorType: 2, depth: 8, spp: 3, w: 13, h: 11 },
    { colorType: 6, depth: 16, spp: 4, w: 9, h: 9 },
    { colorType: 0, depth: 1, spp: 1, w: 17, h: 10 },
    { colorType: 3, depth: 4, spp: 1, w: 5, h: 3 },
    // Smaller than the 8×8 grid, so some of the seven passes are empty.
    { colorType: 4, depth: 8, spp: 2, w: 3, h: 2 },
    { colorType: 0, depth: 8, spp: 1, w: 1, h: 1 }
  ] as const)(
    'reads Adam7-interlaced images like their plain twins ($w×$h, type $colorType, $depth-bit)',
    (c) => {
      const palette =
        c.colorType === 3 ? Array.from({ length: 16 }, (_, i) => [i * 16, 255 - i, i] as const) : undefined;
      const values = samples(c.w * c.h * c.spp, c.depth, c.w);
      const input: PngWriterInput = {
        width: c.w,
        height: c.h,
        colorType: c.colorType,
        depth: c.depth,
        samples: values,
        palette
      };
      const plain = decodePng(writePng({ ...input, filters: [0] }));
      const interlaced = decodePng(writePng({ ...input, interlaced: true, filters: ALL_FILTERS }));
      expect(interlaced).toMatchObject({ width: c.w, height: c.h, channels: plain.channels });
      expect(Array.from(interlaced.data)).toEqual(Array.from(plain.data));
    }
  );

  it('reads a PNG written by another encoder (Chromium canvas, adaptive filters)', () => {
    const fixture = new URL('./fixtures/chromium-rgba.png', import.meta.url);
    const expected = JSON.parse(
      readFileSync(new URL('./fixtures/chromium-rgba.json', import.meta.url), 'utf8')
    ) as { width: number; height: number; rgba: number[] };
    const image = decodePng(new Uint8Array(readFileSync(fixture)));
    expect(image).toMatchObject({ width: expected.width, height: expected.height, channels: 4 });
    expect(Array.from(image.data)).toEqual(expected.rgba);
  });

  describe('refuses', () => {
    const base: PngWriterInput = {
      width: 4,
      height: 3,
      colorType: 2,
      depth: 8,
      samples: samples(36, 8),
      filters: [4]
    };
    const good = writePng(base);

    /** The byte offset of the first chunk of `type`. */
    function chunkAt(png: Uint8Array, type: string): number {
      const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
      for (let at = 8; at < png.length; at += 12 + view.getUint32(at)) {
        if (String.fromCharCode(...png.subarray(at + 4, at + 8)) === type) return at;
      }
      throw new Error(`no ${type} chunk`);
    }

    /** Replaces a chunk's data, with a correct CRC, so the damage is found by the later checks. */
    function withChunkData(
      png: Uint8Array,
      type: string,
      edit: (data: Uint8Array) => Uint8Array
    ): Uint8Array {
      const at = chunkAt(png, type);
      const length = new DataView(png.buffer, png.byteOffset).getUint32(at);
      const data = edit(png.slice(at + 8, at + 8 + length));
      const chunk = pngChunk(type, data);
      const out = new Uint8Array(png.length - (12 + length) + chunk.length);
      out.set(png.subarray(0, at));
      out.set(chunk, at);
      out.set(png.subarray(at + 12 + length), at + chunk.length);
      return out;
    }

    it('a damaged chunk (CRC mismatch)', () => {
      const bad = good.slice();
      const at = chunkAt(bad, 'IDAT') + 10;
      bad[at] = (bad[at] ?? 0) ^ 0x40;
      expect(codeOf(() => decodePng(bad))).toBe('image_decode_failed');
      expect(() => decodePng(bad)).toThrow(/CRC/);
    });

    it('a truncated file, a wrong signature, a missing IHDR', () => {
      expect(codeOf(() => decodePng(good.subarray(0, good.length - 20)))).toBe('image_decode_failed');
      expect(codeOf(() => decodePng(good.subarray(0, 8)))).toBe('image_decode_failed');
      const unsigned = good.slice();
      unsigned[1] = 0x51;
      expect(codeOf(() => decodePng(unsigned))).toBe('image_decode_failed');
      expect(codeOf(() => decodePng(new Uint8Array(0)))).toBe('image_decode_failed');
    });

    it('compressed data that does not inflate, or holds too little or too much', () => {
      const garbage = withChunkData(good, 'IDAT', (d) => d.map((b, i) => (i < 2 ? b : b ^ 0xa5)));
      expect(codeOf(() => decodePng(garbage))).toBe('image_decode_failed');
      const short = writePng({ ...base, height: 2 });
      // A header that promises three rows over data for two.
      const lying = withChunkData(short, 'IHDR', (d) => {
        d[7] = 3;
        return d;
      });
      expect(() => decodePng(lying)).toThrow(/fewer bytes/);
      const long = withChunkData(writePng({ ...base, height: 5 }), 'IHDR', (d) => {
        d[7] = 3;
        return d;
      });
      expect(() => decodePng(long)).toThrow(/more bytes/);
    });

    it('an Adler-32 mismatch even when every chunk CRC is right', () => {
      const bad = withChunkData(good, 'IDAT', (d) => {
        d[d.length - 1] = (d[d.length - 1] ?? 0) ^ 1;
        return d;
      });
      expect(() => decodePng(bad)).toThrow(/checksum/);
    });

    it('an unknown filter type byte', () => {
      expect(codeOf(() => decodePng(writePng({ ...base, filters: [0, 5] })))).toBe('image_decode_failed');
    });

    it('a palette index past the palette, or a palette image without one', () => {
      const palette = [[1, 2, 3] as const, [4, 5, 6] as const];
      const png = writePng({ width: 2, height: 1, colorType: 3, depth: 8, samples: [1, 2], palette });
      expect(() => decodePng(png)).toThrow(/palette entry 2 of 2/);
      const noPalette = writePng({ width: 2, height: 1, colorType: 3, depth: 8, samples: [0, 0] });
      expect(codeOf(() => decodePng(noPalette))).toBe('image_decode_failed');
    });

    it('impossible headers', () => {
      expect(codeOf(() => decodePng(writePng({ ...base, depth: 4 })))).toBe('image_decode_failed');
      expect(codeOf(() => decodePng(writePng({ ...base, width: 0 })))).toBe('image_decode_failed');
    });

    it('unknown critical chunks as unsupported, not damaged', () => {
      const critical = writePng({ ...base, extraChunks: [{ type: 'ZZZZ', data: new Uint8Array(1) }] });
      expect(codeOf(() => decodePng(critical))).toBe('image_decode_unsupported');
    });

    it('a header too large to be decoded, before inflating anything', () => {
      const huge = withChunkData(good, 'IHDR', (d) => {
        new DataView(d.buffer).setUint32(0, 100_000);
        new DataView(d.buffer).setUint32(4, 100_000);
        return d;
      });
      expect(codeOf(() => decodePng(huge))).toBe('image_decode_unsupported');
    });
  });
});

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});

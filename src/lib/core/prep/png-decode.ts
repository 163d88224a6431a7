/**
 * A small PNG decoder for where no browser decoder exists (Node: tests, the CLI, the server), and
 * everywhere for PNG so that the same file gives the same pixels in a worker and in Node.
 *
 * Reads PNGs of every color type (grayscale, gray + alpha, RGB, RGBA, palette) and every bit depth the
 * format allows (1, 2, 4, 8, 16), with all five row filters, Adam7 interlacing and `tRNS` transparency.
 * Samples come out as 8 bits: 16-bit samples keep their high byte, 1/2/4-bit gray is scaled to 0–255,
 * palette indexes are looked up (RGB, or RGBA when the palette has transparency). Color management
 * chunks (gAMA, iCCP, sRGB, cHRM) are ignored, like a browser told `colorSpaceConversion: 'none'`.
 *
 * Corruption (bad signature, CRC or Adler-32 mismatch, truncated or oversized data, bad filter bytes,
 * palette indexes out of range) throws `image_decode_failed`; unknown critical chunks and images above
 * `MAX_IMAGE_PIXELS` throw `image_decode_unsupported`.
 */
import { inflateSync } from 'fflate';
import { LatheError } from '../errors';

export interface DecodedImage {
  width: number;
  height: number;
  /** 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA. */
  channels: 1 | 2 | 3 | 4;
  /** 8-bit samples, row-major, channels interleaved: `height * width * channels` bytes. */
  data: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Beyond this many pixels an image is refused: a PNG before anything is inflated (a decompression bomb
 * guard), any image before its full-size pixels are made into a tensor (4 bytes per sample).
 */
export const MAX_IMAGE_PIXELS = 1 << 26;

/** Bit depths the PNG specification allows per color type, with the samples per pixel. */
const COLOR_TYPES: ReadonlyMap<number, { samples: number; depths: readonly number[] }> = new Map([
  [0, { samples: 1, depths: [1, 2, 4, 8, 16] }],
  [2, { samples: 3, depths: [8, 16] }],
  [3, { samples: 1, depths: [1, 2, 4, 8] }],
  [4, { samples: 2, depths: [8, 16] }],
  [6, { samples: 4, depths: [8, 16] }]
]);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as PNG chunks use it (ISO 3309), over `bytes[start, end)`. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = (CRC_TABLE[(c ^ (bytes[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  // 5552 is the longest run before the sums can overflow 2^32 (zlib's NMAX).
  for (let i = 0; i < bytes.length;) {
    const end = Math.min(i + 5552, bytes.length);
    for (; i < end; i++) {
      a += bytes[i] ?? 0;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

function corrupt(reason: string): LatheError {
  return new LatheError('image_decode_failed', `The PNG image is damaged: ${reason}.`, { reason });
}

interface Header {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  samples: number;
  interlaced: boolean;
}

function readHeader(data: Uint8Array): Header {
  if (data.length !== 13) throw corrupt('the IHDR chunk has the wrong length');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const width = view.getUint32(0);
  const height = view.getUint32(4);
  const depth = data[8] ?? 0;
  const colorType = data[9] ?? 0;
  if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
    throw corrupt(`it claims a size of ${width}×${height}`);
  }
  const kind = COLOR_TYPES.get(colorType);
  if (!kind || !kind.depths.includes(depth)) {
    throw corrupt(`color type ${colorType} with bit depth ${depth} does not exist`);
  }
  if (data[10] !== 0 || data[11] !== 0) throw corrupt('unknown compression or filter method');
  const interlace = data[12] ?? 0;
  if (interlace > 1) throw corrupt(`unknown interlace method ${interlace}`);
  return { width, height, depth, colorType, samples: kind.samples, interlaced: interlace === 1 };
}

/** Undoes the per-row filters in place; `raw` is `height` rows of one filter byte plus `stride` bytes. */
function unfilter(raw: Uint8Array, height: number, stride: number, bpp: number): Uint8Array {
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] ?? 0;
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    const up = dst - stride;
    switch (filter) {
      case 0:
        out.set(raw.subarray(src, src + stride), dst);
        break;
      case 1: // Sub
        for (let i = 0; i < stride; i++) {
          const left = i >= bpp ? (out[dst + i - bpp] ?? 0) : 0;
          out[dst + i] = ((raw[src + i] ?? 0) + left) & 0xff;
        }
        break;
      case 2: // Up
        for (let i = 0; i < stride; i++) {
          const above = y > 0 ? (out[up + i] ?? 0) : 0;
          out[dst + i] = ((raw[src + i] ?? 0) + above) & 0xff;
        }
        break;
      case 3: // Average
        for (let i = 0; i < stride; i++) {
          const left = i >= bpp ? (out[dst + i - bpp] ?? 0) : 0;
          const above = y > 0 ? (out[up + i] ?? 0) : 0;
          out[dst + i] = ((raw[src + i] ?? 0) + ((left + above) >>> 1)) & 0xff;
        }
        break;
      case 4: // Paeth
        for (let i = 0; i < stride; i++) {
          const a = i >= bpp ? (out[dst + i - bpp] ?? 0) : 0;
          const b = y > 0 ? (out[up + i] ?? 0) : 0;
          const c = i >= bpp && y > 0 ? (out[up + i - bpp] ?? 0) : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          const predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          out[dst + i] = ((raw[src + i] ?? 0) + predictor) & 0xff;
        }
        break;
      default:
        throw corrupt(`row ${y} has the unknown filter type ${filter}`);
    }
  }
  return out;
}

/** Sample `i` of a row starting at `base`, at its full bit depth. */
function sampleAt(rows: Uint8Array, base: number, i: number, depth: number): number {
  if (depth === 8) return rows[base + i] ?? 0;
  if (depth === 16) return ((rows[base + 2 * i] ?? 0) << 8) | (rows[base + 2 * i + 1] ?? 0);
  const perByte = 8 / depth;
  const byte = rows[base + Math.floor(i / perByte)] ?? 0;
  const shift = 8 - depth * ((i % perByte) + 1);
  return (byte >> shift) & ((1 << depth) - 1);
}

function inflateImageData(zlib: Uint8Array, expected: number): Uint8Array {
  if (zlib.length < 6) throw corrupt('the image data is missing or truncated');
  const cmf = zlib[0] ?? 0;
  const flg = zlib[1] ?? 0;
  if ((cmf & 0x0f) !== 8 || ((cmf << 8) | flg) % 31 !== 0)
    throw corrupt('the image data has a bad zlib header');
  if (flg & 0x20) throw corrupt('the image data asks for a preset dictionary');
  // One byte more than needed: a longer result means the stream holds more data than the header allows,
  // and the output never grows beyond it however the stream was crafted.
  const out = new Uint8Array(expected + 1);
  let inflated: Uint8Array;
  try {
    inflated = inflateSync(zlib.subarray(2, zlib.length - 4), { out });
  } catch (err) {
    throw corrupt(
      `the compressed image data is invalid (${err instanceof Error ? err.message : 'inflate failed'})`
    );
  }
  if (inflated.length !== expected) {
    throw corrupt(
      `the image data holds ${inflated.length > expected ? 'more' : 'fewer'} bytes than its size needs`
    );
  }
  const view = new DataView(zlib.buffer, zlib.byteOffset, zlib.byteLength);
  if (view.getUint32(zlib.length - 4) !== adler32(inflated))
    throw corrupt('the image data checksum does not match');
  return inflated;
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Decodes a PNG file's bytes into 8-bit samples; see the module comment for what is supported. */
export function decodePng(bytes: Uint8Array): DecodedImage {
  if (!isPng(bytes)) throw corrupt('it does not start with the PNG signature');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Header | undefined;
  let palette: Uint8Array | undefined;
  let transparency: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let ended = false;
  for (let at = 8; !ended;) {
    if (at + 12 > bytes.length) throw corrupt('the file ends before its IEND chunk');
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const dataStart = at + 8;
    const dataEnd = dataStart + length;
    if (length > 0x7fffffff || dataEnd + 4 > bytes.length)
      throw corrupt(`the ${type} chunk runs past the end of the file`);
    if (view.getUint32(dataEnd) !== crc32(bytes, at + 4, dataEnd))
      throw corrupt(`the ${type} chunk's CRC does not match`);
    const data = bytes.subarray(dataStart, dataEnd);
    if (!header && type !== 'IHDR') throw corrupt('the first chunk is not IHDR');
    switch (type) {
      case 'IHDR':
        if (header) throw corrupt('it has two IHDR chunks');
        header = readHeader(data);
        break;
      case 'PLTE':
        if (length % 3 !== 0 || length === 0 || length > 768) throw corrupt('the palette has a bad length');
        palette = data;
        break;
      case 'tRNS':
        transparency = data;
        break;
      case 'IDAT':
        idat.push(data);
        break;
      case 'IEND':
        ended = true;
        break;
      default:
        // Bit 5 of the first letter clear (upper case) marks a chunk a decoder must understand.
        if (((bytes[at + 4] ?? 0) & 0x20) === 0) {
          throw new LatheError(
            'image_decode_unsupported',
            `This PNG uses the critical chunk "${type}", which Lathe cannot read.`,
            { format: 'png', chunk: type }
          );
        }
    }
    at = dataEnd + 4;
  }
  if (!header) throw corrupt('it has no IHDR chunk');
  const { width, height, depth, colorType, samples } = header;
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new LatheError(
      'image_decode_unsupported',
      `The PNG image is ${width}×${height}; images above ${MAX_IMAGE_PIXELS} pixels are not decoded.`,
      { format: 'png', width, height }
    );
  }
  if (colorType === 3 && !palette) throw corrupt('a palette image has no PLTE chunk');

  const bpp = Math.max(1, (samples * depth) / 8);
  let total = 0;
  for (const part of idat) total += part.length;
  const zlib = new Uint8Array(total);
  total = 0;
  for (const part of idat) {
    zlib.set(part, total);
    total += part.length;
  }
  const passes = header.interlaced
    ? adam7Passes(width, height)
    : [{ x0: 0, y0: 0, dx: 1, dy: 1, width, height }];
  const strideOf = (w: number): number => Math.ceil((w * samples * depth) / 8);
  const expected = passes.reduce((n, p) => n + p.height * (strideOf(p.width) + 1), 0);
  const raw = inflateImageData(zlib, expected);
  if (!header.interlaced) {
    return expand(
      unfilter(raw, height, strideOf(width), bpp),
      header,
      strideOf(width),
      palette,
      transparency
    );
  }
  let out: DecodedImage | undefined;
  let offset = 0;
  for (const pass of passes) {
    const stride = strideOf(pass.width);
    const size = pass.height * (stride + 1);
    const rows = unfilter(raw.subarray(offset, offset + size), pass.height, stride, bpp);
    offset += size;
    const image = expand(
      rows,
      { ...header, width: pass.width, height: pass.height },
      stride,
      palette,
      transparency
    );
    const { channels } = image;
    out ??= { width, height, channels, data: new Uint8Array(width * height * channels) };
    for (let y = 0; y < pass.height; y++) {
      for (let x = 0; x < pass.width; x++) {
        const from = (y * pass.width + x) * channels;
        const to = ((pass.y0 + y * pass.dy) * width + pass.x0 + x * pass.dx) * channels;
        out.data.set(image.data.subarray(from, from + channels), to);
      }
    }
  }
  if (!out) throw corrupt('the image has no pixels');
  return out;
}

interface Pass {
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  width: number;
  height: number;
}

/** The seven reduced images of Adam7 interlacing (start, step), without the empty ones. */
function adam7Passes(width: number, height: number): Pass[] {
  const grid = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2]
  ] as const;
  return grid
    .map(([x0, y0, dx, dy]) => ({
      x0,
      y0,
      dx,
      dy,
      width: Math.ceil((width - x0) / dx),
      height: Math.ceil((height - y0) / dy)
    }))
    .filter((p) => p.width > 0 && p.height > 0);
}

/** Turns unfiltered rows into 8-bit interleaved samples, resolving palettes, depths and tRNS keys. */
function expand(
  rows: Uint8Array,
  { width, height, depth, colorType, samples }: Header,
  stride: number,
  palette: Uint8Array | undefined,
  transparency: Uint8Array | undefined
): DecodedImage {
  const pixels = width * height;
  if (colorType === 3 && palette) {
    const entries = palette.length / 3;
    const channels = transparency ? 4 : 3;
    const data = new Uint8Array(pixels * channels);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const index = sampleAt(rows, y * stride, x, depth);
        if (index >= entries) throw corrupt(`a pixel uses palette entry ${index} of ${entries}`);
        const o = (y * width + x) * channels;
        data[o] = palette[3 * index] ?? 0;
        data[o + 1] = palette[3 * index + 1] ?? 0;
        data[o + 2] = palette[3 * index + 2] ?? 0;
        // Entries beyond the tRNS table are opaque.
        if (transparency) data[o + 3] = transparency[index] ?? 255;
      }
    }
    return { width, height, channels, data };
  }

  // A tRNS chunk on gray or RGB names one color (at full depth) that is fully transparent.
  let key: number[] | undefined;
  if (transparency && (colorType === 0 || colorType === 2) && transparency.length === samples * 2) {
    key = Array.from(
      { length: samples },
      (_, i) => ((transparency[2 * i] ?? 0) << 8) | (transparency[2 * i + 1] ?? 0)
    );
  }
  const channels = (samples + (key ? 1 : 0)) as 1 | 2 | 3 | 4;
  const data = new Uint8Array(pixels * channels);
  const maxSample = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    const base = y * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      let isKey = key !== undefined;
      for (let s = 0; s < samples; s++) {
        const value = sampleAt(rows, base, x * samples + s, depth);
        if (key && value !== key[s]) isKey = false;
        data[o + s] = depth === 16 ? value >> 8 : depth < 8 ? Math.round((value * 255) / maxSample) : value;
      }
      if (key) data[o + samples] = isKey ? 0 : 255;
    }
  }
  return { width, height, channels, data };
}

// Draws the app icons (PNG) without any image library: a turned profile on a dark tile.
// Run once: node scripts/make-icons.mjs; the PNGs are committed under static/icons.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

function crc32(buf) {
  let c,
    crc = 0xffffffff;
  for (let n = 0; n < buf.length; n++) {
    c = (crc ^ buf[n]) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

function png(size, pixel) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel(x / size, y / size);
      const o = y * (size * 4 + 1) + 1 + x * 4;
      raw[o] = r;
      raw[o + 1] = g;
      raw[o + 2] = b;
      raw[o + 3] = a;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  ihdr[10] = 0;
  ihdr[11] = 0;
  ihdr[12] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0))
  ]);
}

// A vase-like turned profile: the radius varies with height, as a piece on a lathe.
function pixel(u, v) {
  const bg = [15, 23, 42, 255];
  const inTile = true;
  if (!inTile) return [0, 0, 0, 0];
  const cx = 0.5;
  const t = (v - 0.18) / 0.64;
  if (t < 0 || t > 1) return bg;
  const radius = 0.12 + 0.1 * Math.sin(Math.PI * t * 1.6 + 0.4) ** 2 + 0.05 * t;
  const d = Math.abs(u - cx);
  if (d > radius) return bg;
  const shade = 0.55 + 0.45 * Math.cos((d / radius) * Math.PI * 0.5);
  const band = Math.floor(t * 8) % 2 === 0 ? 1 : 0.85;
  return [Math.round(59 * shade * band), Math.round(130 * shade * band), Math.round(246 * shade * band), 255];
}

for (const size of [192, 512]) writeFileSync(`static/icons/icon-${size}.png`, png(size, pixel));
writeFileSync('static/favicon.png', png(64, pixel));

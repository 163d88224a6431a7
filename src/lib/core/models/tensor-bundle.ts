/**
 * Named float32 arrays and a JSON header in one binary blob: the format of checkpoints and stored
 * models. Binary rather than JSON because a model's weights are megabytes of floats; one blob because
 * it is content-addressed and synced as a unit.
 *
 * Layout: 8-byte magic, uint32 (little-endian) header length, the header as UTF-8 JSON, zero padding to
 * a multiple of 4, then each array's float32 bytes in header order.
 */
import { LatheError } from '../errors';

const MAGIC = 'LATHETB1';

interface BundleHeader {
  meta: unknown;
  tensors: Array<{ name: string; length: number }>;
}

export function encodeBundle(meta: unknown, tensors: ReadonlyMap<string, Float32Array>): ArrayBuffer {
  const header: BundleHeader = {
    meta,
    tensors: [...tensors].map(([name, values]) => ({ name, length: values.length }))
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerEnd = 12 + json.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const floats = header.tensors.reduce((sum, t) => sum + t.length, 0);
  const buffer = new ArrayBuffer(dataStart + floats * 4);
  const bytes = new Uint8Array(buffer);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(buffer).setUint32(8, json.length, true);
  bytes.set(json, 12);
  let at = dataStart / 4;
  const data = new Float32Array(buffer);
  for (const values of tensors.values()) {
    data.set(values, at);
    at += values.length;
  }
  return buffer;
}

export function decodeBundle(buffer: ArrayBuffer): { meta: unknown; tensors: Map<string, Float32Array> } {
  const damaged = (why: string) =>
    new LatheError('bundle_invalid', `The stored model or checkpoint is damaged (${why}).`);
  if (buffer.byteLength < 12) throw damaged('too short');
  const magic = new TextDecoder().decode(new Uint8Array(buffer, 0, 8));
  if (magic !== MAGIC) throw damaged('not a Lathe tensor bundle');
  const headerLength = new DataView(buffer).getUint32(8, true);
  if (12 + headerLength > buffer.byteLength) throw damaged('header past the end');
  let header: BundleHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 12, headerLength))) as BundleHeader;
  } catch {
    throw damaged('unreadable header');
  }
  if (!Array.isArray(header.tensors)) throw damaged('no tensor list');
  let at = Math.ceil((12 + headerLength) / 4) * 4;
  const tensors = new Map<string, Float32Array>();
  for (const t of header.tensors) {
    if (typeof t.name !== 'string' || !Number.isInteger(t.length) || t.length < 0) throw damaged('bad entry');
    if (at + t.length * 4 > buffer.byteLength) throw damaged(`"${t.name}" runs past the end`);
    tensors.set(t.name, new Float32Array(buffer.slice(at, at + t.length * 4)));
    at += t.length * 4;
  }
  return { meta: header.meta, tensors };
}

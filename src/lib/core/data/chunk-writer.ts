/**
 * The second half of writing a table chunk: a chunk's typed column buffers in, its Arrow IPC bytes
 * and SHA-256 out. `TableEncoder` parses rows into those buffers, adds them to each column's distinct
 * count (`ColumnDistinctCounts` in `./distinct-counter`) and hands each full chunk to a `ChunkWriter`.
 *
 * The work here (Arrow serialization into fresh memory, hashing, which WebCrypto starts with a copy)
 * needs nothing but the buffers, so the data worker runs it on a worker of its own while the next
 * chunk is parsed (`workers/chunk.worker.ts`); `LocalChunkWriter` does it in place (Node, one core,
 * small files). Either way the chunks come out byte for byte the same.
 */
import {
  Bool,
  DateMillisecond,
  Dictionary,
  Field,
  Float64,
  Int32,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  Utf8,
  makeData,
  tableToIPC,
  vectorFromArray,
  type Data,
  type DataType,
  type Vector
} from 'apache-arrow';
import { sha256Hex } from '../hash';
import type { ColumnType } from '../records';

/** The Arrow field metadata key that holds a column's Lathe type (`ColumnType`). */
export const LATHE_TYPE_KEY = 'lathe.type';

/** How a column's values are held while a chunk fills, and the Arrow type they are written as. */
export type Storage = 'int32' | 'float64' | 'bool' | 'date' | 'timestamp' | 'dict' | 'utf8';

/**
 * One column of a full chunk: plain buffers holding at least the chunk's rows (the writer reads the
 * first `length`), handed to the writer, which gives them back in `WrittenChunk.spent` for the next
 * chunk.
 */
export interface ColumnBuffers {
  name: string;
  type: ColumnType;
  storage: Storage;
  /** 1 where the row has a value. */
  valid: Uint8Array;
  /** Numbers, booleans (0/1), dates (ms) and dictionary codes (every storage but utf8). */
  nums?: Float64Array;
  /** UTF-8 of the rows (utf8 storage): row i is `bytes[offsets[i], offsets[i + 1])`. */
  utf8?: { bytes: Uint8Array; offsets: Int32Array };
  /** Every category so far (dict storage); a code indexes it. */
  dictionary?: string[];
}

/** A written chunk: its Arrow IPC stream (a buffer of its own, to transfer) and its SHA-256 in hex. */
export interface WrittenChunk {
  data: ArrayBuffer;
  hash: string;
  /** The buffers of the columns written, done with: the encoder fills them again. */
  spent?: ArrayBuffer[];
}

/** Writes a table's chunks in the order given. */
export interface ChunkWriter {
  write(columns: ColumnBuffers[], length: number): Promise<WrittenChunk>;
  /** Frees what the writer holds; it is not used again. */
  close(): void;
}

/** Every buffer of a chunk's columns, to transfer them to a worker rather than copy them. */
export function buffersOf(columns: readonly ColumnBuffers[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const column of columns) {
    buffers.add(column.valid.buffer as ArrayBuffer);
    if (column.nums) buffers.add(column.nums.buffer as ArrayBuffer);
    if (column.utf8) {
      buffers.add(column.utf8.bytes.buffer as ArrayBuffer);
      buffers.add(column.utf8.offsets.buffer as ArrayBuffer);
    }
  }
  return [...buffers];
}

/** The writer that works on the calling thread. */
export class LocalChunkWriter implements ChunkWriter {
  async write(columns: ColumnBuffers[], length: number): Promise<WrittenChunk> {
    const fields: Field[] = [];
    const children: Data[] = [];
    columns.forEach((column, index) => {
      const field = fieldOf(column.name, column.type, column.storage, index);
      fields.push(field);
      children.push(chunkData(column, field.type, length));
    });
    const data = serialize(new Schema(fields), children, length);
    return { data, hash: await sha256Hex(data), spent: buffersOf(columns) };
  }

  close(): void {}
}

/** A column's Arrow field: its storage's type, its Lathe type in the metadata. */
export function fieldOf(name: string, type: ColumnType, storage: Storage, index: number): Field {
  return new Field(name, arrowTypeOf(storage, index), true, new Map([[LATHE_TYPE_KEY, type]]));
}

function arrowTypeOf(storage: Storage, index: number): DataType {
  switch (storage) {
    case 'int32':
      return new Int32();
    case 'float64':
      return new Float64();
    case 'bool':
      return new Bool();
    case 'date':
      return new DateMillisecond();
    case 'timestamp':
      return new TimestampMillisecond('UTC');
    case 'dict':
      return new Dictionary(new Utf8(), new Int32(), index, false);
    case 'utf8':
      return new Utf8();
  }
}

/**
 * The last batch serialized. V8 throws away code compiled for a class of objects once no object of
 * that class is left, which an idle worker's garbage collection finds within seconds; kept, Arrow's
 * classes keep the code the warm-up compiled for the next import.
 */
let lastBatch: RecordBatch | undefined;

/** One record batch as an Arrow IPC stream. */
export function serialize(schema: Schema, children: Data[], length: number): ArrayBuffer {
  const struct = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children });
  lastBatch = new RecordBatch(schema, struct);
  return ipcStream(lastBatch);
}

/**
 * A record batch as an Arrow IPC stream in an ArrayBuffer of its own: a view of a larger buffer would,
 * when transferred or stored, take the rest along.
 */
export function ipcStream(batch: RecordBatch): ArrayBuffer {
  const bytes = tableToIPC(new Table([batch]), 'stream');
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? (bytes.buffer as ArrayBuffer)
    : (bytes.slice().buffer as ArrayBuffer);
}

/** `valid` (0/1 per row) as an Arrow validity bitmap, eight rows a byte. */
export function bitmapOf(valid: Uint8Array, length: number): { nullBitmap: Uint8Array; nullCount: number } {
  const nullBitmap = new Uint8Array((length + 7) >> 3);
  return { nullBitmap, nullCount: length - packBits(valid, length, nullBitmap) };
}

/**
 * Packs `valid` into `bits` and returns how many rows are valid. One loop for every byte, the last
 * one too (rows past `length` read as 0), and nothing after it but the return: code that runs once a
 * chunk, after a long loop V8 compiled on the fly, had no type feedback and deoptimised the function
 * again and again (`--trace-deopt`).
 */
function packBits(valid: Uint8Array, length: number, bits: Uint8Array): number {
  let present = 0;
  for (let b = 0; b < bits.length; b++) {
    const i = b << 3;
    const rows = length - i;
    let byte =
      (valid[i] ?? 0) |
      ((valid[i + 1] ?? 0) << 1) |
      ((valid[i + 2] ?? 0) << 2) |
      ((valid[i + 3] ?? 0) << 3) |
      ((valid[i + 4] ?? 0) << 4) |
      ((valid[i + 5] ?? 0) << 5) |
      ((valid[i + 6] ?? 0) << 6) |
      ((valid[i + 7] ?? 0) << 7);
    if (rows < 8) byte &= (1 << rows) - 1;
    bits[b] = byte;
    present += BIT_COUNT[byte] ?? 0;
  }
  return present;
}

/** Set bits of each byte value. */
const BIT_COUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let v = b; v; v >>= 1) n += v & 1;
  return n;
});

function chunkData(column: ColumnBuffers, type: DataType, length: number): Data {
  const { nullBitmap, nullCount } = bitmapOf(column.valid, length);
  const nums = column.nums ?? new Float64Array(length);
  switch (column.storage) {
    case 'int32':
      return makeData({ type: type as Int32, length, nullCount, nullBitmap, data: int32Of(nums, length) });
    case 'float64':
      return makeData({
        type: type as Float64,
        length,
        nullCount,
        nullBitmap,
        data: nums.subarray(0, length)
      });
    case 'bool': {
      const bits = new Uint8Array((length + 7) >> 3);
      for (let i = 0; i < length; i++) if (nums[i]) bits[i >> 3] = (bits[i >> 3] ?? 0) | (1 << (i & 7));
      return makeData({ type: type as Bool, length, nullCount, nullBitmap, data: bits });
    }
    case 'date':
    case 'timestamp': {
      const data = new BigInt64Array(length);
      for (let i = 0; i < length; i++) if (column.valid[i]) data[i] = BigInt(Math.round(nums[i] ?? 0));
      if (column.storage === 'date')
        return makeData({ type: type as DateMillisecond, length, nullCount, nullBitmap, data });
      return makeData({ type: type as TimestampMillisecond, length, nullCount, nullBitmap, data });
    }
    case 'dict': {
      const dictionary = vectorFromArray(column.dictionary ?? [], new Utf8()) as Vector<Utf8>;
      return makeData({
        type: type as Dictionary<Utf8, Int32>,
        length,
        nullCount,
        nullBitmap,
        data: int32Of(nums, length),
        dictionary
      });
    }
    case 'utf8': {
      const utf8 = column.utf8 ?? { bytes: new Uint8Array(0), offsets: new Int32Array(length + 1) };
      return makeData({
        type: new Utf8(),
        length,
        nullCount,
        nullBitmap,
        valueOffsets: utf8.offsets.subarray(0, length + 1),
        data: utf8.bytes.subarray(0, utf8.offsets[length] ?? 0)
      });
    }
  }
}

/** The first `length` numbers as Int32 (they are integers in range: checked values or codes). */
function int32Of(nums: Float64Array, length: number): Int32Array<ArrayBuffer> {
  const data = new Int32Array(length);
  // A loop: `set` from a Float64Array converts element by element in the runtime, twice as slow.
  for (let i = 0; i < length; i++) data[i] = nums[i] ?? 0;
  return data;
}

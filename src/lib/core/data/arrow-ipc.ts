/**
 * Arrow IPC files and streams, read batch by batch and re-typed into Lathe's column types: integers,
 * floats, booleans, dates and timestamps keep their type from the schema; dictionary columns are
 * categorical; strings are inferred among identifier, categorical and text; anything nested becomes
 * JSON text. A stream is read as it arrives; a file (the `ARROW1` format, whose index is in its
 * footer) is read whole first, as binary, and its batches are then converted one at a time.
 */
import { RecordBatchReader, Type, type DataType, type Field } from 'apache-arrow';
import type { ColumnHint, RawCell } from './table-encoder';
import { columnTypeOfArrowType } from './arrow';
import { IngestError } from './formats';
import { peek, type IngestContext, type IngestResult } from './ingest';

/** The Lathe type an Arrow field maps to; plain strings are left to inference ('string'). */
export function hintOfArrowType(type: DataType): ColumnHint {
  if (type.typeId === Type.Utf8 || type.typeId === Type.LargeUtf8) return 'string';
  return columnTypeOfArrowType(type) ?? 'text';
}

/** A value as JSON text, with big integers and bytes kept readable. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return `<${v.byteLength} bytes>`;
    if (v && typeof v === 'object' && 'toJSON' in v && typeof v.toJSON === 'function')
      return (v.toJSON as () => unknown)();
    return v;
  });
}

function cellOf(value: unknown, hint: ColumnHint): RawCell {
  if (value === null || value === undefined) return null;
  if (hint === 'text' && typeof value === 'object' && !(value instanceof Date)) return jsonText(value);
  if (
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    typeof value === 'bigint' ||
    value instanceof Date
  ) {
    return value;
  }
  return jsonText(value);
}

/** Reads an Arrow IPC file or stream into the encoder. Throws `IngestError` (`invalid_arrow`) for a broken file. */
export async function readArrowIpc(
  ctx: IngestContext,
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>
): Promise<IngestResult> {
  const { head, rest } = await peek(ctx.pieces(stream), 8);
  const isFile = head[0] === 0x41 && head[1] === 0x52 && head[2] === 0x52 && head[5] === 0x31;
  async function wholeFile(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let length = 0;
    for await (const piece of rest) {
      parts.push(piece);
      length += piece.byteLength;
    }
    const bytes = new Uint8Array(length);
    let offset = 0;
    for (const part of parts) {
      bytes.set(part, offset);
      offset += part.byteLength;
    }
    return bytes;
  }
  const fail = (err: unknown): never => {
    if (err instanceof IngestError || (err instanceof Error && err.name === 'IngestCancelledError'))
      throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new IngestError(
      'invalid_arrow',
      `${ctx.fileName} could not be read as Arrow IPC (after ${ctx.bytesRead} bytes): ${reason}`,
      { fileName: ctx.fileName, offset: ctx.bytesRead }
    );
  };
  const reader = isFile
    ? RecordBatchReader.from(await wholeFile())
    : await RecordBatchReader.from(rest).catch(fail);
  try {
    await reader.open();
  } catch (err) {
    fail(err);
  }
  const fields: Field[] = reader.schema?.fields ?? [];
  const hints = new Map(fields.map((f) => [f.name, hintOfArrowType(f.type)] as const));
  const fieldHints = fields.map((f) => hints.get(f.name) ?? 'text');
  const encoder = ctx.newEncoder(
    fields.map((f) => f.name),
    hints,
    false
  );
  let line = 0;
  try {
    for await (const batch of reader) {
      const vectors = fields.map((_, c) => batch.getChildAt(c));
      const cells: RawCell[] = new Array<RawCell>(fields.length);
      for (let r = 0; r < batch.numRows; r++) {
        for (let c = 0; c < fields.length; c++)
          cells[c] = cellOf(vectors[c]?.get(r), fieldHints[c] ?? 'text');
        encoder.push(cells, ++line);
      }
      ctx.progress();
    }
  } catch (err) {
    fail(err);
  }
  if (fields.length === 0) {
    throw new IngestError('invalid_arrow', `${ctx.fileName} is an Arrow IPC file without columns.`, {
      fileName: ctx.fileName
    });
  }
  return ctx.finish(encoder, 'arrow', {
    warnings: line === 0 ? [`${ctx.fileName} has a schema but no rows.`] : []
  });
}

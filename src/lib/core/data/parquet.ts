/**
 * Parquet through hyparquet, one row group at a time (hyparquet-compressors adds snappy, gzip, zstd,
 * brotli, lz4). Column types come from the Parquet schema: integers, floats, booleans, dates and
 * timestamps keep their type; strings are inferred among identifier, categorical and text; nested
 * columns become JSON text. Memory holds one row group's rows, not the file.
 */
import type { AsyncBuffer, FileMetaData, SchemaElement } from 'hyparquet';
import { IngestError } from './formats';
import type { IngestContext, IngestResult, IngestSource } from './ingest';
import { jsonText } from './arrow-ipc';
import type { ColumnHint, RawCell } from './table-encoder';

/** The Lathe type a top-level Parquet column maps to. */
export function hintOfParquetColumn(element: SchemaElement): ColumnHint {
  if (element.num_children) return 'text';
  const logical = element.logical_type?.type;
  const converted = element.converted_type;
  if (logical === 'STRING' || converted === 'UTF8' || logical === 'ENUM' || converted === 'ENUM')
    return 'string';
  if (logical === 'DATE' || converted === 'DATE') return 'date';
  if (logical === 'TIMESTAMP' || converted === 'TIMESTAMP_MILLIS' || converted === 'TIMESTAMP_MICROS')
    return 'datetime';
  if (logical === 'DECIMAL' || converted === 'DECIMAL') return 'float';
  if (logical === 'JSON' || converted === 'JSON') return 'text';
  switch (element.type) {
    case 'BOOLEAN':
      return 'boolean';
    case 'INT32':
    case 'INT64':
      return 'integer';
    case 'FLOAT':
    case 'DOUBLE':
      return 'float';
    case 'BYTE_ARRAY':
      return 'string';
    default:
      return 'text';
  }
}

function cellOf(value: unknown, hint: ColumnHint): RawCell {
  if (value === null || value === undefined) return null;
  if (
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    typeof value === 'bigint'
  ) {
    return hint === 'text' ? String(value) : value;
  }
  if (value instanceof Date) return value;
  return jsonText(value);
}

/** Reads a Parquet file (which needs random access) into the encoder. */
export async function readParquet(ctx: IngestContext, source: IngestSource): Promise<IngestResult> {
  const read = source.read;
  if (!read) {
    throw new IngestError(
      'invalid_parquet',
      `${ctx.fileName} must be read from a file to be imported as Parquet.`,
      {
        fileName: ctx.fileName
      }
    );
  }
  const [{ parquetMetadataAsync, parquetRead, parquetSchema }, { compressors }] = await Promise.all([
    import('hyparquet'),
    import('hyparquet-compressors')
  ]);
  const file: AsyncBuffer = {
    byteLength: source.size,
    slice: async (start, end) => {
      ctx.checkCancelled();
      const bytes = await read(start, end ?? source.size);
      ctx.bytesRead = Math.min(source.size, ctx.bytesRead + bytes.byteLength);
      return bytes;
    }
  };
  const fail = (err: unknown, where: string): never => {
    if (err instanceof Error && err.name === 'IngestCancelledError') throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new IngestError(
      'invalid_parquet',
      `${ctx.fileName} could not be read as Parquet (${where}): ${reason}`,
      {
        fileName: ctx.fileName
      }
    );
  };
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (err) {
    return fail(err, 'its footer, at the end of the file');
  }
  const top = parquetSchema(metadata).children;
  const names = top.map((c) => c.element.name);
  const hints = new Map(top.map((c) => [c.element.name, hintOfParquetColumn(c.element)] as const));
  const columnHints = names.map((n) => hints.get(n) ?? 'text');
  const encoder = ctx.newEncoder(names, hints, false);
  let rowStart = 0;
  let line = 0;
  for (const [g, group] of metadata.row_groups.entries()) {
    ctx.checkCancelled();
    const rowEnd = rowStart + Number(group.num_rows);
    let rows: unknown[][] = [];
    try {
      await parquetRead({
        file,
        metadata,
        compressors,
        rowStart,
        rowEnd,
        rowFormat: 'array',
        onComplete: (r) => {
          rows = r as unknown[][];
        }
      });
    } catch (err) {
      fail(err, `row group ${g + 1} of ${metadata.row_groups.length}, rows ${rowStart + 1}–${rowEnd}`);
    }
    const cells: RawCell[] = new Array<RawCell>(names.length);
    for (const row of rows) {
      for (let c = 0; c < names.length; c++) cells[c] = cellOf(row[c], columnHints[c] ?? 'text');
      encoder.push(cells, ++line);
    }
    rows = [];
    rowStart = rowEnd;
    ctx.progress();
    await ctx.keepUp();
  }
  ctx.bytesRead = source.size;
  return ctx.finish(encoder, 'parquet');
}

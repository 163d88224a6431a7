import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expose, wrap } from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { LatheError } from '../src/lib/core/errors';
import type { ChunkWriter } from '../src/lib/core/data/chunk-writer';
import { ingestSource, type IngestResult } from '../src/lib/core/data/ingest';
import { MAX_PENDING_CHUNKS, TableEncoder } from '../src/lib/core/data/table-encoder';
import { RemoteChunkWriter, chunkWriterFor } from './chunk-writers';
import { chunkWorkerApi, type ChunkWorkerApi } from './chunk.worker';

const channels: MessageChannel[] = [];
const NEVER = new Promise<never>(() => undefined);

afterEach(() => {
  for (const { port1, port2 } of channels.splice(0)) {
    port1.close();
    port2.close();
  }
});

/** The chunk worker's API over a real MessageChannel (structured clone and transfers, as between workers). */
function remoteWriters(lost: Promise<never> = NEVER): () => ChunkWriter {
  const channel = new MessageChannel();
  channels.push(channel);
  expose(chunkWorkerApi, channel.port2);
  const api = wrap<ChunkWorkerApi>(channel.port1);
  return () => new RemoteChunkWriter({ api, ready: Promise.resolve(true), started: true }, lost);
}

/** A CSV whose columns change as it goes: ints that become floats, categories that become text, an id that repeats. */
function changingCsv(rows: number): string {
  const lines = ['n,x,cat,id,when,flag,note'];
  for (let r = 0; r < rows; r++) {
    const x = r < rows / 2 ? String(r % 97) : `${r % 97}.5`;
    const cat = r < rows / 3 ? `c${r % 7}` : `c${r}`;
    const id = r === rows - 1 ? 'id0' : `id${r}`;
    const when = r < rows / 2 ? `2024-01-${String((r % 28) + 1).padStart(2, '0')}` : '2024-02-01T10:00:00Z';
    const note = r % 11 === 0 ? '' : `"note, ${r % 13}"`;
    lines.push([r, x, cat, id, when, r % 2 === 0 ? 'true' : 'false', note].join(','));
  }
  return lines.join('\n') + '\n';
}

function source(text: string, name = 'changing.csv') {
  const bytes = new TextEncoder().encode(text);
  return {
    name,
    size: bytes.length,
    stream: () => new Blob([bytes]).stream()
  };
}

function summary(result: IngestResult) {
  return {
    contentHash: result.contentHash,
    chunks: result.chunks.map((c) => [c.hash, c.rows, c.bytes]),
    columns: result.columns,
    rowCount: result.rowCount,
    warnings: result.report.warnings
  };
}

describe('chunk writers on the chunk worker', () => {
  it('write the same chunks, hashes and distinct counts as writing in place, through widening and relabelling', async () => {
    for (const [text, name] of [
      [changingCsv(5000), 'changing.csv'],
      [
        await readFile(
          fileURLToPath(new URL('../src/lib/core/data/fixtures/messy.csv', import.meta.url)),
          'utf8'
        ),
        'messy.csv'
      ]
    ] as const) {
      const local = await ingestSource(source(text, name), { chunkRows: 300, sampleRows: 200 });
      const remote = await ingestSource(source(text, name), {
        chunkRows: 300,
        sampleRows: 200,
        chunkWriter: remoteWriters()
      });
      expect(summary(remote)).toEqual(summary(local));
      expect(local.chunks.length).toBeGreaterThan(name === 'messy.csv' ? 0 : 10);
    }
    const changed = await ingestSource(source(changingCsv(5000)), {
      chunkRows: 300,
      sampleRows: 200,
      chunkWriter: remoteWriters()
    });
    // The columns really did change after chunks were written: the test covers the rewrite at the end.
    expect(changed.columns.map((c) => c.type)).toEqual([
      'integer',
      'float',
      'text',
      'text',
      'datetime',
      'boolean',
      'categorical'
    ]);
    expect(changed.columns.find((c) => c.name === 'id')?.distinct).toBe(4999);
  });

  it('fail the import with a clear error when the chunk worker dies', async () => {
    let kill: (err: Error) => void = () => undefined;
    const lost = new Promise<never>((_, reject) => (kill = reject));
    lost.catch(() => undefined);
    const writers = remoteWriters(lost);
    kill(new LatheError('worker_crashed', "The import's chunk writer (a helper worker) stopped."));
    await expect(
      ingestSource(source(changingCsv(3000)), { chunkRows: 300, sampleRows: 200, chunkWriter: writers })
    ).rejects.toMatchObject({ code: 'worker_crashed' });
  });

  it('are closed when the import is cancelled part way', async () => {
    const open = remoteWriters();
    let closed = 0;
    const writers = (): ChunkWriter => {
      const writer = open();
      return {
        write: (columns, length) => writer.write(columns, length),
        close: () => {
          closed++;
          writer.close();
        }
      };
    };
    const controller = new AbortController();
    const text = changingCsv(20_000);
    const importing = ingestSource(
      { ...source(text), stream: () => new Blob([text]).slice(0).stream() },
      {
        chunkRows: 300,
        sampleRows: 200,
        chunkWriter: writers,
        signal: controller.signal,
        progressIntervalMs: 0,
        onProgress: (p) => {
          if (p.rowsEncoded > 1000) controller.abort();
        }
      }
    );
    await expect(importing).rejects.toMatchObject({ code: 'cancelled' });
    expect(closed).toBe(1);
  });

  it('are not used where workers cannot start, nor when turned off', () => {
    // Node has no Worker global: imports write in place.
    expect(chunkWriterFor(1 << 30)).toBeUndefined();
    expect(chunkWriterFor(1 << 30, false)).toBeUndefined();
  });
});

describe('TableEncoder.settle', () => {
  it('holds the parser while more than MAX_PENDING_CHUNKS chunks are being written', async () => {
    const release: Array<() => void> = [];
    const writer: ChunkWriter = {
      write: () =>
        new Promise((resolve) => release.push(() => resolve({ data: new ArrayBuffer(8), hash: 'h' }))),
      close: () => undefined
    };
    const encoder = new TableEncoder(['a'], { fileName: 'x.csv', writer, sampleRows: 1, maxChunkRows: 1 });
    for (let r = 0; r < MAX_PENDING_CHUNKS + 3; r++) encoder.push([String(r)], r + 2);
    expect(encoder.pending).toBe(MAX_PENDING_CHUNKS + 3);
    let settled = false;
    const settling = encoder.settle().then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    for (const done of release.splice(0, 3)) done();
    await settling;
    expect(encoder.pending).toBe(MAX_PENDING_CHUNKS);
  });
});

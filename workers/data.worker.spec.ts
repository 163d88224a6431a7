import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { proxy, wrap } from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import type { DataWorkerApi, IngestProgress, IngestResult } from './data-api';
import { createDataWorkerApi } from './data.worker';
import { warmUpIngest } from '../src/lib/core/data/ingest';
import { installErrorSerializer } from './error-serializer';
import { expose } from 'comlink';

const IRIS = fileURLToPath(new URL('../static/samples/iris.csv', import.meta.url));
const channels: MessageChannel[] = [];

/** The worker's API behind Comlink over a real MessageChannel, as the page sees it. */
function connect(api: DataWorkerApi): ReturnType<typeof wrap<DataWorkerApi>> {
  const channel = new MessageChannel();
  channels.push(channel);
  expose(api, channel.port2);
  return wrap<DataWorkerApi>(channel.port1);
}

afterEach(() => {
  for (const { port1, port2 } of channels.splice(0)) {
    port1.close();
    port2.close();
  }
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('data worker API', () => {
  it('answers ping', async () => {
    expect(await connect(createDataWorkerApi()).ping()).toBe('pong');
  });

  it('warms up when asked, not on ping, and not once an import has begun', async () => {
    let warmUps = 0;
    let finish: () => void = () => undefined;
    const api = connect(
      createDataWorkerApi(() => {
        warmUps++;
        return new Promise<void>((resolve) => (finish = resolve));
      })
    );
    // A warm-up still running does not hold ping, which tells a live worker from a hung one.
    const warming = api.warmUp();
    expect(await api.ping()).toBe('pong');
    expect(warmUps).toBe(1);
    finish();
    await warming;
    const busy = connect(createDataWorkerApi(async () => void warmUps++));
    await busy.ingestFile(
      new Blob(['a\n1\n']) as File,
      proxy(() => undefined)
    );
    await busy.warmUp();
    expect(warmUps).toBe(1);
  });

  it('stops a warm-up in progress when an import begins', async () => {
    let warmUpSignal: AbortSignal | undefined;
    const api = connect(
      createDataWorkerApi(async (signal) => {
        warmUpSignal = signal;
        await warmUpIngest(undefined, { signal });
      })
    );
    const warming = api.warmUp().then(
      () => 'finished',
      (err: unknown) => err
    );
    await expect.poll(() => warmUpSignal).toBeDefined();
    const result = await api.ingestFile(
      new Blob(['a\n1\n']) as File,
      proxy(() => undefined)
    );
    expect(result.rowCount).toBe(1);
    expect(warmUpSignal?.aborted).toBe(true);
    expect(await warming).toMatchObject({ name: 'IngestCancelledError' });
  });

  it('ingests a file, reports progress through a proxy and transfers the chunk buffers', async () => {
    const real = createDataWorkerApi();
    let returned: IngestResult | undefined;
    const remote = connect({
      ...real,
      ingestFile: async (file, onProgress) => (returned = await real.ingestFile(file, onProgress))
    });
    const progress: IngestProgress[] = [];
    const blob = new Blob([await readFile(IRIS)], { type: 'text/csv' });
    const result = await remote.ingestFile(
      blob as File,
      proxy((p: IngestProgress) => {
        progress.push(p);
      })
    );
    expect(result.rowCount).toBe(150);
    expect(result.columns.map((c) => c.type)).toEqual(['float', 'float', 'float', 'float', 'categorical']);
    expect(result.chunks[0]?.data).toBeInstanceOf(ArrayBuffer);
    expect(result.chunks[0]?.data.byteLength).toBe(result.chunks[0]?.bytes);
    // Transferred, not copied: the worker's own buffers are detached once sent.
    expect(returned?.chunks[0]?.data.byteLength).toBe(0);
    expect(progress.length).toBeGreaterThan(0);
  });

  it("sends a CsvError's code across the boundary", async () => {
    installErrorSerializer();
    const remote = connect(createDataWorkerApi());
    const err = await rejection(
      remote.ingestFile(
        new File(['a,b\n'], 'h.csv') as File,
        proxy(() => undefined)
      )
    );
    expect(err).toMatchObject({ name: 'CsvError', code: 'header_only' });
    expect((err as Error).message).toContain('has a header row but no data rows');
  });

  it('imports other formats by their bytes and sends IngestError codes across the boundary', async () => {
    installErrorSerializer();
    const remote = connect(createDataWorkerApi());
    const ndjson = new File(['{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n'], 'rows.ndjson');
    const result = await remote.ingestFile(
      ndjson,
      proxy(() => undefined)
    );
    expect(result.format).toBe('ndjson');
    expect(result.rowCount).toBe(2);

    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]);
    const err = await rejection(
      remote.ingestFile(
        new File([png], 'table.csv'),
        proxy(() => undefined)
      )
    );
    expect(err).toMatchObject({ name: 'IngestError', code: 'wrong_format' });
    expect((err as Error).message).toContain('cannot be imported: its first bytes show a PNG image');
  });

  it('imports a dropped folder of images, labelled by sub-folder, with the images as blobs', async () => {
    const png = (seed: number): File => {
      const bytes = new Uint8Array(32);
      bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);
      bytes[31] = seed;
      return new File([bytes], `${seed}.png`);
    };
    const files = [png(1), png(2)];
    Object.defineProperty(files[0], 'webkitRelativePath', { value: 'pets/cat/1.png' });
    Object.defineProperty(files[1], 'webkitRelativePath', { value: 'pets/dog/2.png' });
    const result = await createDataWorkerApi().ingestFolder(files, () => undefined);
    expect(result.format).toBe('images');
    expect(result.preview.map((r) => [r.path, r.label])).toEqual([
      ['cat/1.png', 'cat'],
      ['dog/2.png', 'dog']
    ]);
    expect(result.blobs?.map((b) => b.mime)).toEqual(['image/png', 'image/png']);
  });

  it('cancel() stops an import that is waiting on a slow file', async () => {
    const api = createDataWorkerApi();
    const start = new TextEncoder().encode('a,b\n1,2\n');
    const stalled = {
      name: 'slow.csv',
      size: 1_000_000,
      // Its format is told from its first bytes, which are there; the rest never comes.
      slice: () => new Blob([start]),
      stream: () =>
        new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(start);
            // Never closes: the import waits for more bytes until it is cancelled.
          }
        })
    } as unknown as File;
    const pending = rejection(api.ingestFile(stalled, () => undefined));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await api.cancel();
    expect(await pending).toMatchObject({
      code: 'cancelled',
      message: 'The import of slow.csv was cancelled.'
    });
  });
});

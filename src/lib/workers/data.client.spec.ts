import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { expose } from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { createDataWorkerApi } from '../../../workers/data.worker';
import { installErrorSerializer } from '../../../workers/error-serializer';
import { LatheError } from '../core/errors';
import { createDataWorkerClient } from './data.client';
import { WorkerCallAbortedError, createWorkerClient } from './worker-client';
import type { DataWorkerApi, IngestProgress } from '../../../workers/data-api';

const IRIS = fileURLToPath(new URL('../../../static/samples/iris.csv', import.meta.url));
const ports: MessagePort[] = [];

/** A Worker stand-in running the real data worker API in-process over a MessageChannel. */
function spawn(api: DataWorkerApi): Worker {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  expose(api, port2);
  const worker = Object.assign(new EventTarget(), {
    postMessage: (message: unknown, transfer: Transferable[] = []) => port1.postMessage(message, transfer),
    terminate: () => port1.close()
  });
  port1.addEventListener('message', (event) =>
    worker.dispatchEvent(Object.assign(new Event('message'), { data: (event as MessageEvent).data }))
  );
  port1.start();
  return worker as unknown as Worker;
}

afterEach(() => {
  for (const port of ports.splice(0)) port.close();
});

describe('data worker client', () => {
  it('imports a file through the worker', async () => {
    const client = createDataWorkerClient(
      createWorkerClient<DataWorkerApi>(() => spawn(createDataWorkerApi()), { name: 'data worker' })
    );
    expect(await client.ping()).toBe('pong');
    const progress: IngestProgress[] = [];
    const file = new Blob([await readFile(IRIS)]) as File;
    const result = await client.ingestFile(file, (p) => progress.push(p));
    expect(result.rowCount).toBe(150);
    expect(progress.length).toBeGreaterThan(0);
    client.terminate();
  });

  it('returns CSV errors as LatheErrors with their code', async () => {
    installErrorSerializer();
    const client = createDataWorkerClient(
      createWorkerClient<DataWorkerApi>(() => spawn(createDataWorkerApi()), { name: 'data worker' })
    );
    const err: unknown = await client
      .ingestFile(new Blob(['']) as File, () => undefined)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LatheError);
    expect((err as LatheError).code).toBe('empty_file');
  });

  it('on abort rejects at once and asks the worker to cancel', async () => {
    let cancelled = false;
    const real = createDataWorkerApi();
    const api: DataWorkerApi = {
      ...real,
      ingestFile: () => new Promise(() => undefined),
      cancel: async () => {
        cancelled = true;
      }
    };
    const client = createDataWorkerClient(
      createWorkerClient<DataWorkerApi>(() => spawn(api), { name: 'data worker' })
    );
    const controller = new AbortController();
    const pending = client.ingestFile(new Blob(['a\n1\n']) as File, () => undefined, controller.signal);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(WorkerCallAbortedError);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(cancelled).toBe(true);
  });
});

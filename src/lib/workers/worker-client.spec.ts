import { expose } from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { installErrorSerializer } from '../../../workers/error-serializer';
import { LatheError } from '../core/errors';
import {
  WorkerCallAbortedError,
  WorkerCrashedError,
  WorkerTimeoutError,
  createWorkerClient,
  rehydrateError
} from './worker-client';

interface TestApi {
  echo(value: string): Promise<string>;
  hang(): Promise<never>;
  fail(): Promise<never>;
  slowWithTicks(ticks: number, onTick: () => void): Promise<string>;
}

const api: TestApi = {
  async echo(value) {
    return value;
  },
  hang: () => new Promise<never>(() => undefined),
  async fail() {
    const error = new LatheError('ragged_row', 'bad input', { line: 3 });
    error.name = 'CsvError';
    throw error;
  },
  async slowWithTicks(ticks, onTick) {
    for (let i = 0; i < ticks; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      onTick();
    }
    return 'done';
  }
};

/** An in-process stand-in for a Worker: Comlink talks to `api` over a real MessageChannel. */
class FakeWorker extends EventTarget {
  private readonly channel = new MessageChannel();
  terminated = false;

  constructor() {
    super();
    expose(api, this.channel.port2);
    this.channel.port1.addEventListener('message', (event) => {
      this.dispatchEvent(Object.assign(new Event('message'), { data: (event as MessageEvent).data }));
    });
    this.channel.port1.start();
  }

  postMessage(message: unknown, transfer: Transferable[] = []): void {
    if (!this.terminated) this.channel.port1.postMessage(message, transfer);
  }

  terminate(): void {
    this.terminated = true;
    this.channel.port1.close();
    this.channel.port2.close();
  }

  crash(message: string): void {
    this.dispatchEvent(Object.assign(new Event('error'), { message, filename: 'test.worker.js', lineno: 7 }));
  }
}

const spawned: FakeWorker[] = [];
function factory(): Worker {
  const worker = new FakeWorker();
  spawned.push(worker);
  return worker as unknown as Worker;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

afterEach(() => {
  for (const worker of spawned.splice(0)) worker.terminate();
});

describe('createWorkerClient', () => {
  it('spawns lazily and reuses the worker', async () => {
    const client = createWorkerClient<TestApi>(factory, { name: 'test worker' });
    expect(spawned).toHaveLength(0);
    expect(client.running).toBe(false);
    expect(await client.call((w) => w.echo('a'))).toBe('a');
    expect(await client.call((w) => w.echo('b'))).toBe('b');
    expect(spawned).toHaveLength(1);
    expect(client.running).toBe(true);
  });

  it('rejects every pending call with the crash reason and respawns on the next call', async () => {
    const client = createWorkerClient<TestApi>(factory, { name: 'test worker' });
    const first = rejection(client.call((w) => w.hang()));
    const second = rejection(client.call((w) => w.hang()));
    await client.call((w) => w.echo('alive'));
    spawned[0]?.crash('out of memory');
    for (const err of [await first, await second]) {
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect((err as WorkerCrashedError).code).toBe('worker_crashed');
      expect((err as WorkerCrashedError).reason).toBe('out of memory (test.worker.js:7)');
    }
    expect(spawned[0]?.terminated).toBe(true);
    expect(client.running).toBe(false);
    expect(await client.call((w) => w.echo('again'))).toBe('again');
    expect(spawned).toHaveLength(2);
  });

  it('times out a hung call, terminates the worker and respawns it', async () => {
    const client = createWorkerClient<TestApi>(factory, { name: 'test worker', callTimeoutMs: 50 });
    const other = rejection(client.call((w) => w.hang(), { timeoutMs: 0 }));
    const err = await rejection(client.call((w) => w.hang()));
    expect(err).toBeInstanceOf(WorkerTimeoutError);
    expect((err as WorkerTimeoutError).timeoutMs).toBe(50);
    expect(await other).toBeInstanceOf(WorkerCrashedError);
    expect(spawned[0]?.terminated).toBe(true);
    expect(await client.call((w) => w.echo('fresh'))).toBe('fresh');
    expect(spawned).toHaveLength(2);
    expect(client.consecutiveCrashes).toBe(0);
  });

  it('keeps a call alive while it reports progress', async () => {
    const client = createWorkerClient<TestApi>(factory, { name: 'test worker', callTimeoutMs: 60 });
    const { proxy } = await import('comlink');
    let ticks = 0;
    const result = await client.call((w, ctx) =>
      w.slowWithTicks(
        8,
        proxy(() => {
          ticks++;
          ctx.keepAlive();
        })
      )
    );
    expect(result).toBe('done');
    // The last tick may still be in flight when the result lands: progress is fire-and-forget.
    expect(ticks).toBeGreaterThanOrEqual(7);
  });

  it('rejects at once when the signal aborts, and before spawning when already aborted', async () => {
    const client = createWorkerClient<TestApi>(factory, { name: 'test worker' });
    const aborted = AbortSignal.abort();
    expect(await rejection(client.call((w) => w.echo('x'), { signal: aborted }))).toBeInstanceOf(
      WorkerCallAbortedError
    );
    expect(spawned).toHaveLength(0);
    const controller = new AbortController();
    const pending = rejection(client.call((w) => w.hang(), { signal: controller.signal }));
    controller.abort();
    expect(await pending).toBeInstanceOf(WorkerCallAbortedError);
    expect(client.running).toBe(true);
  });

  it("turns a worker error's code back into a LatheError", async () => {
    // The serializer every worker entry installs (here both ends share one realm).
    installErrorSerializer();
    const client = createWorkerClient<TestApi>(factory, { name: 'test worker' });
    const err = await rejection(client.call((w) => w.fail()));
    expect(err).toBeInstanceOf(LatheError);
    expect(err).toMatchObject({
      code: 'ragged_row',
      name: 'CsvError',
      message: 'bad input',
      details: { line: 3 }
    });
  });

  it('stops respawning a worker that keeps crashing, until terminate()', async () => {
    const client = createWorkerClient<TestApi>(factory, { name: 'test worker', maxConsecutiveCrashes: 2 });
    for (let i = 0; i < 2; i++) {
      const pending = rejection(client.call((w) => w.hang()));
      spawned.at(-1)?.crash('boom');
      await pending;
    }
    const refused = await rejection(client.call((w) => w.echo('x')));
    expect(refused).toBeInstanceOf(WorkerCrashedError);
    expect(spawned).toHaveLength(2);
    client.terminate();
    expect(await client.call((w) => w.echo('reset'))).toBe('reset');
  });

  it('terminate() fails pending calls and frees the worker', async () => {
    const client = createWorkerClient<TestApi>(factory, { name: 'test worker' });
    const pending = rejection(client.call((w) => w.hang()));
    await client.call((w) => w.echo('up'));
    client.terminate();
    expect(await pending).toBeInstanceOf(WorkerCrashedError);
    expect(spawned[0]?.terminated).toBe(true);
  });
});

describe('rehydrateError', () => {
  it('leaves errors without a code alone', () => {
    const plain = new Error('x');
    expect(rehydrateError(plain)).toBe(plain);
    expect(rehydrateError('text')).toBe('text');
  });
});

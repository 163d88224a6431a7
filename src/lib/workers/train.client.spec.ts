import { expose } from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import type { TrainEvent, TrainRequest, TrainResult, TrainWorkerApi } from '../../../workers/train-api';
import type { RunEnvironment, RunSpec } from '../core/records';
import { TrainCancelledError, createTrainWorkerClient } from './train.client';
import { WorkerCrashedError, WorkerTimeoutError, createWorkerClient } from './worker-client';

const environment: RunEnvironment = {
  backend: 'cpu',
  backendReason: 'cpu: test',
  adapter: null,
  userAgent: 'test',
  libraries: {},
  seed: 1
};

type Behaviour = 'complete' | 'obey-cancel' | 'ignore-cancel' | 'silent' | 'crash';

const result: TrainResult = {
  status: 'completed',
  metrics: {},
  series: {},
  environment,
  artifacts: {},
  epochsCompleted: 0,
  rows: { train: 0, validation: 0, test: 0 },
  warnings: []
};

/** A scripted train worker: emits a backend event and epochs, and reacts to cancel as told. */
function scriptedApi(behaviour: Behaviour, worker: { crash(): void }): TrainWorkerApi {
  let cancelled = false;
  return {
    ping: async () => 'pong',
    probeBackends: async () => {
      throw new Error('not used');
    },
    setPreferredBackend: async () => undefined,
    setPaused: async () => undefined,
    async cancel() {
      cancelled = behaviour === 'obey-cancel';
    },
    async train(_req: TrainRequest, onEvent: (e: TrainEvent) => void): Promise<TrainResult> {
      if (behaviour === 'silent') return new Promise<never>(() => undefined);
      await onEvent({ type: 'backend', env: environment });
      for (let epoch = 1; epoch <= 1000; epoch++) {
        if (behaviour === 'crash' && epoch === 2) worker.crash();
        if (cancelled) return { ...result, status: 'cancelled', series: { loss: [] } };
        await onEvent({
          type: 'epoch',
          epoch,
          epochs: 1000,
          loss: 1 / epoch,
          valLoss: 2 / epoch,
          metrics: {},
          learningRate: 0.1,
          durationMs: 1
        });
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (behaviour === 'complete' && epoch === 3)
          return { ...result, status: 'completed', metrics: { accuracy: 1 } };
      }
      throw new Error('unreachable');
    }
  };
}

class FakeWorker extends EventTarget {
  private readonly channel = new MessageChannel();
  constructor(behaviour: Behaviour) {
    super();
    expose(scriptedApi(behaviour, this), this.channel.port2);
    this.channel.port1.addEventListener('message', (event) => {
      this.dispatchEvent(Object.assign(new Event('message'), { data: (event as MessageEvent).data }));
    });
    this.channel.port1.start();
  }
  postMessage(message: unknown, transfer: Transferable[] = []): void {
    this.channel.port1.postMessage(message, transfer);
  }
  terminate(): void {
    this.channel.port1.close();
    this.channel.port2.close();
  }
  crash(): void {
    this.dispatchEvent(
      Object.assign(new Event('error'), { message: 'out of memory', filename: 'train.worker.js', lineno: 1 })
    );
  }
}

const clients: Array<{ terminate(): void }> = [];
function clientFor(behaviour: Behaviour, timing: { idleTimeoutMs?: number; cancelGraceMs?: number } = {}) {
  const inner = createWorkerClient<TrainWorkerApi>(() => new FakeWorker(behaviour) as unknown as Worker, {
    name: 'training worker'
  });
  const client = createTrainWorkerClient(inner, timing);
  clients.push(client);
  return client;
}
afterEach(() => {
  for (const c of clients.splice(0)) c.terminate();
});

const req: TrainRequest = { runId: 'r1', spec: {} as RunSpec };

describe('train client', () => {
  it('forwards progress events and returns the result', async () => {
    const events: TrainEvent['type'][] = [];
    const result = await clientFor('complete').train(req, (e) => events.push(e.type));
    expect(result.status).toBe('completed');
    expect(events).toEqual(['backend', 'epoch', 'epoch', 'epoch']);
  });

  it('on abort, asks the worker to cancel and returns its cancelled result', async () => {
    const controller = new AbortController();
    const result = await clientFor('obey-cancel').train(
      req,
      (e) => {
        if (e.type === 'epoch' && e.epoch === 2) controller.abort();
      },
      controller.signal
    );
    expect(result.status).toBe('cancelled');
  });

  it('terminates a worker that ignores the cancel, keeping the epochs it reported', async () => {
    const controller = new AbortController();
    const result = await clientFor('ignore-cancel', { cancelGraceMs: 50 }).train(
      req,
      (e) => {
        if (e.type === 'epoch' && e.epoch === 3) controller.abort();
      },
      controller.signal
    );
    expect(result.status).toBe('cancelled');
    expect(result.environment).toEqual(environment);
    expect(result.series.loss?.map((p) => p.step).slice(0, 3)).toEqual([1, 2, 3]);
  });

  it('fails a run whose worker goes silent, with a readable timeout', async () => {
    const err = await clientFor('silent', { idleTimeoutMs: 100 })
      .train(req, () => undefined)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerTimeoutError);
    expect((err as Error).message).toMatch(/training worker did not answer/);
  });

  it('rejects with the crash reason when the worker dies', async () => {
    const err = await clientFor('crash')
      .train(req, () => undefined)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerCrashedError);
    expect((err as Error).message).toMatch(/The training worker stopped unexpectedly: out of memory/);
  });

  it('does not start a run whose signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(clientFor('complete').train(req, () => undefined, controller.signal)).rejects.toBeInstanceOf(
      TrainCancelledError
    );
  });
});

/**
 * A reusable main-thread client for any Comlink worker, so that a worker always answers.
 *
 * - The worker is spawned lazily on the first call, and again after it died or was stopped.
 * - If it dies (an `error` or `messageerror` event), every pending call rejects with a
 *   `WorkerCrashedError` carrying the reason, instead of waiting forever.
 * - Each call has an inactivity timeout (`callTimeoutMs`, or `timeoutMs` per call; `ctx.keepAlive()`,
 *   e.g. from a progress callback, restarts it). A call that times out rejects with a
 *   `WorkerTimeoutError`; the worker is presumed hung, terminated, and respawned by the next call.
 * - A call's `signal` rejects it at once with `WorkerCallAbortedError`. The worker itself is not
 *   stopped: send it your API's own cancel message if the work should stop too.
 * - Errors thrown in the worker that carry a string `code` come back as `LatheError`s (see the worker's
 *   `installErrorSerializer`), so callers branch on `err.code`.
 *
 * ```ts
 * const client = createWorkerClient<TrainWorkerApi>(
 *   () => new Worker(new URL('../../../workers/train.worker.ts', import.meta.url), { type: 'module' }),
 *   { name: 'training worker', callTimeoutMs: 60_000 }
 * );
 * const result = await client.call((api, ctx) =>
 *   api.train(spec, proxy((event) => { ctx.keepAlive(); onEvent(event); })), { signal });
 * ```
 */
import { wrap, type Remote } from 'comlink';
import { LatheError } from '../core/errors';

export class WorkerCrashedError extends LatheError<'worker_crashed'> {
  readonly worker: string;
  readonly reason: string;
  constructor(worker: string, reason: string) {
    super('worker_crashed', `The ${worker} stopped unexpectedly: ${reason}`, { worker, reason });
    this.name = 'WorkerCrashedError';
    this.worker = worker;
    this.reason = reason;
  }
}

export class WorkerTimeoutError extends LatheError<'worker_timeout'> {
  readonly worker: string;
  readonly timeoutMs: number;
  constructor(worker: string, timeoutMs: number) {
    super(
      'worker_timeout',
      `The ${worker} did not answer within ${Math.round(timeoutMs / 1000)} s; it was restarted.`,
      { worker, timeoutMs }
    );
    this.name = 'WorkerTimeoutError';
    this.worker = worker;
    this.timeoutMs = timeoutMs;
  }
}

export class WorkerCallAbortedError extends LatheError<'worker_call_aborted'> {
  constructor(worker: string) {
    super('worker_call_aborted', `The request to the ${worker} was cancelled.`, { worker });
    this.name = 'WorkerCallAbortedError';
  }
}

export interface WorkerClientOptions {
  /** Used in error messages, e.g. "data worker". */
  name: string;
  /** Default inactivity timeout of a call, in ms; 0 or absent means none. */
  callTimeoutMs?: number;
  /**
   * After this many crashes or timeouts in a row (no call succeeding in between), calls reject at
   * once instead of respawning, so a worker that cannot start does not loop. Default 3.
   */
  maxConsecutiveCrashes?: number;
}

export interface CallOptions {
  /** Overrides `callTimeoutMs` for this call; 0 means none. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface CallContext {
  /** Restarts this call's inactivity timeout; call it whenever the worker shows signs of life. */
  keepAlive(): void;
  /** Aborted when the call ends early: timeout, crash, caller's signal, or `terminate()`. */
  readonly signal: AbortSignal;
}

export interface WorkerClient<Api> {
  /** Runs `fn` against the worker's API; see the module comment for timeouts, crashes and abort. */
  call<R>(fn: (api: Remote<Api>, ctx: CallContext) => Promise<R>, options?: CallOptions): Promise<R>;
  /** Stops the worker now; pending calls reject with `WorkerCrashedError`. The next call spawns a fresh one. */
  terminate(): void;
  /** Whether a worker is currently spawned. */
  readonly running: boolean;
  /** Crashes and timeouts since the last successful call. */
  readonly consecutiveCrashes: number;
}

interface PendingCall {
  fail(error: Error): void;
}

interface Instance<Api> {
  worker: Worker;
  remote: Remote<Api>;
  pending: Set<PendingCall>;
  removeListeners(): void;
}

export function createWorkerClient<Api>(
  factory: () => Worker,
  options: WorkerClientOptions
): WorkerClient<Api> {
  const { name } = options;
  const maxCrashes = options.maxConsecutiveCrashes ?? 3;
  let current: Instance<Api> | undefined;
  let crashes = 0;

  function spawn(): Instance<Api> {
    const worker = factory();
    const instance: Instance<Api> = {
      worker,
      remote: wrap<Api>(worker),
      pending: new Set(),
      removeListeners: () => {
        worker.removeEventListener('error', onError);
        worker.removeEventListener('messageerror', onMessageError);
      }
    };
    function onError(event: Event): void {
      crashes++;
      stop(instance, new WorkerCrashedError(name, describeError(event)));
    }
    function onMessageError(): void {
      crashes++;
      stop(instance, new WorkerCrashedError(name, 'a message from it could not be read.'));
    }
    worker.addEventListener('error', onError);
    worker.addEventListener('messageerror', onMessageError);
    return instance;
  }

  /** Terminates an instance and fails what was waiting on it; later calls get a fresh worker. */
  function stop(instance: Instance<Api>, error: Error): void {
    if (current === instance) current = undefined;
    instance.removeListeners();
    instance.worker.terminate();
    for (const call of [...instance.pending]) call.fail(error);
    instance.pending.clear();
  }

  function call<R>(
    fn: (api: Remote<Api>, ctx: CallContext) => Promise<R>,
    callOptions: CallOptions = {}
  ): Promise<R> {
    const { signal } = callOptions;
    if (signal?.aborted) return Promise.reject(new WorkerCallAbortedError(name));
    if (crashes >= maxCrashes) {
      return Promise.reject(
        new WorkerCrashedError(name, `it failed ${crashes} times in a row, so it is not restarted again.`)
      );
    }
    const instance = (current ??= spawn());
    const timeoutMs = callOptions.timeoutMs ?? options.callTimeoutMs ?? 0;
    const controller = new AbortController();

    return new Promise<R>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let settled = false;
      const finish = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        instance.pending.delete(pending);
        return true;
      };
      const pending: PendingCall = {
        fail(error) {
          if (!finish()) return;
          controller.abort(error);
          reject(error);
        }
      };
      const onAbort = (): void => pending.fail(new WorkerCallAbortedError(name));
      const arm = (): void => {
        if (settled || timeoutMs <= 0) return;
        clearTimeout(timer);
        timer = setTimeout(() => {
          crashes++;
          const error = new WorkerTimeoutError(name, timeoutMs);
          pending.fail(error);
          // The worker is presumed hung: whatever else was waiting on it will not be answered either.
          stop(
            instance,
            new WorkerCrashedError(name, `it was restarted after a call timed out (${timeoutMs} ms).`)
          );
        }, timeoutMs);
      };

      instance.pending.add(pending);
      signal?.addEventListener('abort', onAbort, { once: true });
      arm();
      const ctx: CallContext = { keepAlive: arm, signal: controller.signal };
      let result: Promise<R>;
      try {
        result = fn(instance.remote, ctx);
      } catch (err) {
        result = Promise.reject(err);
      }
      Promise.resolve(result).then(
        (value) => {
          if (!finish()) return;
          crashes = 0;
          resolve(value);
        },
        (err: unknown) => {
          if (!finish()) return;
          // The worker answered, so it is alive; the error is the call's own.
          crashes = 0;
          reject(rehydrateError(err));
        }
      );
    });
  }

  return {
    call,
    terminate() {
      crashes = 0;
      if (current) stop(current, new WorkerCrashedError(name, 'it was stopped.'));
    },
    get running() {
      return current !== undefined;
    },
    get consecutiveCrashes() {
      return crashes;
    }
  };
}

/** The reason in a worker's `error` event: the uncaught error's message and where it was thrown. */
function describeError(event: Event): string {
  const { message, filename, lineno } = event as Partial<ErrorEvent>;
  if (!message) return 'it failed to start or threw an uncaught error (no details were given).';
  return filename ? `${message} (${filename}:${lineno ?? 0})` : message;
}

/**
 * Comlink rebuilds a worker's thrown Error as a plain Error with the sent fields copied on; one with
 * a string `code` was a `LatheError` in the worker and becomes one again here.
 */
export function rehydrateError(err: unknown): unknown {
  if (!(err instanceof Error) || err instanceof LatheError) return err;
  const { code, details } = err as Error & { code?: unknown; details?: unknown };
  if (typeof code !== 'string') return err;
  const rebuilt = new LatheError(
    code,
    err.message,
    details !== null && typeof details === 'object' ? (details as Record<string, unknown>) : undefined
  );
  rebuilt.name = err.name;
  if (err.stack) rebuilt.stack = err.stack;
  return rebuilt;
}

/** Start-up of the studio in a tab: offline support, storage, sync, stale runs, the compute backend. */
import { registerSW } from 'virtual:pwa-register';
import { appStatus } from '../state/app-status.svelte';
import { notices } from '../state/notices.svelte';
import { getDataWorker } from '../workers/data.client';
import { getTrainWorker } from '../workers/train.client';
import type { ProbeOptions } from '../../../workers/train-api';
import { describeError } from './errors';
import { requestPersistence } from './storage.service';
import { startSync } from './sync.service';
import { markInterruptedRuns } from './training.service';

let booted = false;

export function bootStudio(): () => void {
  const onOnline = () => appStatus.setOnline(true);
  const onOffline = () => appStatus.setOnline(false);
  window.addEventListener('online', onOnline);
  window.addEventListener('offline', onOffline);
  const teardown = () => {
    window.removeEventListener('online', onOnline);
    window.removeEventListener('offline', onOffline);
  };
  if (booted) return teardown;
  booted = true;

  // Browsers (or policies) without service workers still get the studio; only offline use is lost.
  if (import.meta.env.PROD && 'serviceWorker' in navigator) {
    void registerSW({
      immediate: true,
      onRegisterError: (err: unknown) => console.warn('Offline support is unavailable:', err)
    });
  }
  void requestPersistence().catch(() => null);
  startSync();
  markInterruptedRuns()
    .then((n) => {
      if (n > 0)
        notices.push(
          'info',
          `${n} run${n > 1 ? 's were' : ' was'} interrupted when the tab closed; resume ${n > 1 ? 'them' : 'it'} from Runs.`
        );
    })
    .catch((err: unknown) => notices.push('error', describeError(err, 'Checking interrupted runs')));
  // Let the first page render before the worker loads TensorFlow.js to probe the backends; then load
  // the data worker, so that a first import starts at once rather than after its ~1 MB of code.
  setTimeout(() => void refreshBackend().then(startDataWorker), 500);
  return teardown;
}

/** Probe (and calibrate when needed) the compute backends; the status bar shows the choice and why. */
export async function refreshBackend(options: ProbeOptions = {}) {
  try {
    const report = await getTrainWorker().probeBackends(options);
    appStatus.setBackend({ backend: report.choice.backend, reason: report.choice.reason });
    return report;
  } catch (err) {
    appStatus.setBackend(null, describeError(err, 'Checking the compute backends'));
    return null;
  }
}

/** Spawns the data worker and waits until it has warmed up; a failure shows up again at its first real use. */
export async function startDataWorker(): Promise<void> {
  await getDataWorker()
    .warmUp()
    .catch(() => undefined);
}

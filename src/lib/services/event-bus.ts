/** Typed events for effects that cross features, so components never reach into each other. */
import type { Dataset, DatasetVersion, Run } from '../core/records';

export interface LatheEvents {
  DatasetImported: { dataset: Dataset; version: DatasetVersion };
  RunStarted: { run: Run };
  RunFinished: { run: Run };
  LocalChange: { entity: string };
  SyncCompleted: { pushed: number; pulled: number };
}

type Listener<T> = (payload: T) => void;

class EventBus {
  readonly #listeners = new Map<keyof LatheEvents, Set<Listener<never>>>();

  on<K extends keyof LatheEvents>(name: K, listener: Listener<LatheEvents[K]>): () => void {
    let set = this.#listeners.get(name);
    if (!set) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  emit<K extends keyof LatheEvents>(name: K, payload: LatheEvents[K]): void {
    for (const listener of this.#listeners.get(name) ?? []) (listener as Listener<LatheEvents[K]>)(payload);
  }
}

export const events = new EventBus();

/** The browser's storage for this site: ask to keep it, and show how much is used. */
export interface StorageReport {
  usage: number | null;
  quota: number | null;
  persisted: boolean | null;
}

export async function requestPersistence(): Promise<boolean | null> {
  if (!navigator.storage?.persist) return null;
  if (await navigator.storage.persisted()) return true;
  return navigator.storage.persist();
}

export async function storageReport(): Promise<StorageReport> {
  if (!navigator.storage?.estimate) return { usage: null, quota: null, persisted: null };
  const [estimate, persisted] = await Promise.all([
    navigator.storage.estimate(),
    navigator.storage.persisted()
  ]);
  return { usage: estimate.usage ?? null, quota: estimate.quota ?? null, persisted };
}

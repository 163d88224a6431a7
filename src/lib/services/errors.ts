/** Turn any failure into a sentence for a person; details stay in the console. */
import { LatheError } from '../core/errors';
import { isQuotaError } from '../db/db';

export function describeError(err: unknown, doing: string): string {
  if (isQuotaError(err)) {
    return `${doing} failed: the browser's storage for this site is full. Free space in Settings → Storage (nothing already stored was changed).`;
  }
  if (err instanceof LatheError) return err.message;
  if (err instanceof Error && err.message) {
    console.error(`${doing} failed`, err);
    return `${doing} failed: ${err.message}`;
  }
  console.error(`${doing} failed`, err);
  return `${doing} failed for an unknown reason.`;
}

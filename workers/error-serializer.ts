/**
 * Comlink sends only `name`, `message` and `stack` of a thrown Error; this also sends an error's string
 * `code` (and a `LatheError`'s `details`), so the page can branch on `ragged_row`, `cancelled` or
 * `loss_not_finite`. Comlink's own deserializer copies the extra fields onto the Error it rebuilds,
 * and the worker client turns it back into a `LatheError`. Every worker installs it before `expose`.
 */
import { transferHandlers, type TransferHandler } from 'comlink';
import { LatheError } from '../src/lib/core/errors';

export function installErrorSerializer(): void {
  const fallback = transferHandlers.get('throw');
  if (!fallback) return;
  const handler: TransferHandler<unknown, unknown> = {
    canHandle: (input): input is unknown => fallback.canHandle(input),
    serialize(input) {
      // Comlink wraps what was thrown as `{ value }`.
      const { value } = input as { value: unknown };
      const code: unknown = value instanceof Error ? (value as Error & { code?: unknown }).code : undefined;
      if (!(value instanceof Error) || typeof code !== 'string') return fallback.serialize({ value });
      const { message, name, stack } = value;
      const details = value instanceof LatheError ? cloneable(value.details) : undefined;
      return [{ isError: true, value: { message, name, stack, code, details } }, []];
    },
    deserialize: (serialized) => fallback.deserialize(serialized)
  };
  transferHandlers.set('throw', handler);
}

function cloneable(details: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  try {
    return details === undefined ? undefined : structuredClone(details);
  } catch {
    return undefined;
  }
}

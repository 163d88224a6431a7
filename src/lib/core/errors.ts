/** Domain errors carry a string-literal code so callers can branch without parsing messages. */
export class LatheError<C extends string = string> extends Error {
  readonly code: C;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: C, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'LatheError';
    this.code = code;
    this.details = details;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  return 'Unknown error';
}

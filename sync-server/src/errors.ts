/**
 * Domain errors: a string-literal code the client can branch on, the HTTP status it maps to, and a
 * short message safe to show a person. Anything else that escapes a handler is a bug and becomes a 500.
 */
const STATUS = {
  bad_request: 400,
  hash_mismatch: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413
} as const;

export type DomainErrorCode = keyof typeof STATUS;
export type DomainErrorStatus = (typeof STATUS)[DomainErrorCode];

export class DomainError<C extends DomainErrorCode = DomainErrorCode> extends Error {
  readonly code: C;
  readonly status: DomainErrorStatus;
  /** The request field at fault, for validation errors. */
  readonly field: string | undefined;

  constructor(code: C, message: string, field?: string) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.status = STATUS[code];
    this.field = field;
  }
}

/** zod validation for request parts; a failure is a 400 naming the field. */
import { zValidator } from '@hono/zod-validator';
import type { ValidationTargets } from 'hono';
import type { z } from 'zod';
import { DomainError } from '../errors';

export function validate<T extends z.ZodType, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T
) {
  return zValidator(target, schema, (result) => {
    if (result.success) return;
    const issue = result.error.issues[0];
    const field = issue?.path.map(String).join('.') || target;
    throw new DomainError('bad_request', `Invalid ${field}: ${issue?.message ?? 'invalid value'}`, field);
  });
}

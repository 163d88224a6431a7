/**
 * The one error handler: domain errors answer with their status and message; anything else is logged
 * with the request id and answered with a short message and that id, never a stack trace.
 */
import type { ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorBody } from '../../../src/lib/core/sync/contract';
import { DomainError } from '../errors';
import type { Logger } from '../logger';
import type { AppEnv } from './app-env';

export function errorHandler(logger: Logger): ErrorHandler<AppEnv> {
  return (err, c) => {
    const requestId = c.get('requestId');
    if (err instanceof DomainError) {
      const body: ErrorBody = { error: err.message, requestId, ...(err.field ? { field: err.field } : {}) };
      return c.json(body, err.status);
    }
    if (err instanceof HTTPException && err.status < 500) {
      // Hono's own client errors, e.g. a malformed JSON body.
      const body: ErrorBody = { error: err.message || 'Bad request', requestId };
      return c.json(body, err.status as ContentfulStatusCode);
    }
    logger.error({ err, requestId, method: c.req.method, path: c.req.path }, 'request failed');
    const body: ErrorBody = { error: 'Something went wrong on the server.', requestId };
    return c.json(body, 500);
  };
}

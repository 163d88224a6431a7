import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { pullQuery, pushRequest } from '../../../src/lib/core/sync/contract';
import { MiB } from '../config';
import { DomainError } from '../errors';
import { requireAuth } from '../http/auth.middleware';
import type { AppEnv } from '../http/app-env';
import { validate } from '../http/validate';
import type { AuthService } from '../services/auth.service';
import type { SyncService } from '../services/sync.service';

export function syncRoutes(auth: AuthService, sync: SyncService) {
  return new Hono<AppEnv>()
    .use('/sync/*', requireAuth(auth))
    .post(
      '/sync/push',
      bodyLimit({
        maxSize: 64 * MiB,
        onError: () => {
          throw new DomainError(
            'payload_too_large',
            'That push is too large; send fewer mutations per batch.'
          );
        }
      }),
      validate('json', pushRequest),
      async (c) => c.json({ results: await sync.push(c.get('user'), c.req.valid('json').mutations) })
    )
    .get('/sync/pull', validate('query', pullQuery), async (c) =>
      c.json(await sync.pull(c.get('user'), c.req.valid('query')))
    );
}

import { Hono } from 'hono';
import { z } from 'zod';
import { id } from '../../../src/lib/core/records';
import { requireAuth } from '../http/auth.middleware';
import type { AppEnv } from '../http/app-env';
import { validate } from '../http/validate';
import type { AuthService } from '../services/auth.service';
import type { ShareService } from '../services/share.service';

const tokenParams = z.object({ token: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, 'a share token') });

export function shareRoutes(auth: AuthService, shares: ShareService) {
  return (
    new Hono<AppEnv>()
      .post('/runs/:runId/share', requireAuth(auth), validate('param', z.object({ runId: id })), async (c) =>
        c.json(await shares.create(c.get('user'), c.req.valid('param').runId), 201)
      )
      // Reading a shared run needs no account: holding the token is the permission.
      .get('/share/:token', validate('param', tokenParams), async (c) =>
        c.json(await shares.read(c.req.valid('param').token))
      )
      .delete('/share/:token', requireAuth(auth), validate('param', tokenParams), async (c) => {
        await shares.revoke(c.get('user'), c.req.valid('param').token);
        return c.body(null, 204);
      })
  );
}

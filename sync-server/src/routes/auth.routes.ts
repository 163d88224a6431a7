import { Hono } from 'hono';
import { loginRequest, setupRequest } from '../../../src/lib/core/sync/contract';
import { requireAuth } from '../http/auth.middleware';
import type { AppEnv } from '../http/app-env';
import { validate } from '../http/validate';
import type { AuthService } from '../services/auth.service';

export function authRoutes(auth: AuthService) {
  return new Hono<AppEnv>()
    .get('/setup', async (c) => c.json({ needed: await auth.setupNeeded() }))
    .post('/setup', validate('json', setupRequest), async (c) =>
      c.json(await auth.completeSetup(c.req.valid('json')), 201)
    )
    .post('/auth/login', validate('json', loginRequest), async (c) =>
      c.json(await auth.login(c.req.valid('json')))
    )
    .post('/auth/logout', requireAuth(auth), async (c) => {
      await auth.logout(c.get('sessionToken'));
      return c.body(null, 204);
    })
    .get('/me', requireAuth(auth), (c) => c.json({ user: c.get('user') }));
}

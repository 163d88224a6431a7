import { createMiddleware } from 'hono/factory';
import { DomainError } from '../errors';
import type { AuthService } from '../services/auth.service';
import type { AppEnv } from './app-env';

/** `Authorization: Bearer <token>`; routes that need a user put this in front of their handler. */
export function requireAuth(auth: AuthService) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const user = match?.[1] ? await auth.authenticate(match[1]) : undefined;
    if (!match?.[1] || !user) throw new DomainError('unauthorized', 'Sign in to use this.');
    c.set('user', user);
    c.set('sessionToken', match[1]);
    await next();
  });
}

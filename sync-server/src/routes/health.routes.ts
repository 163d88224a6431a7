import { Hono } from 'hono';
import type { AppEnv } from '../http/app-env';

export function healthRoutes() {
  return new Hono<AppEnv>().get('/healthz', (c) => c.json({ status: 'ok' as const }));
}

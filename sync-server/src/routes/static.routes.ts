import { Hono, type Context } from 'hono';
import { DomainError } from '../errors';
import type { AppEnv } from '../http/app-env';
import type { StaticFilesService } from '../services/static-files.service';

/** Paths that belong to the server, never to the SPA fallback. */
function isServerPath(p: string): boolean {
  return p === '/api' || p.startsWith('/api/') || p === '/healthz' || p === '/metrics';
}

export function staticRoutes(files: StaticFilesService) {
  const serve = async (c: Context<AppEnv>) => {
    if (isServerPath(c.req.path)) throw new DomainError('not_found', 'No such endpoint.');
    const file = await files.resolve(c.req.path);
    if (!file) throw new DomainError('not_found', 'Not found. Is the studio built (npm run build)?');
    const headers = {
      'Content-Type': file.contentType,
      'Content-Length': String(file.size),
      'Cache-Control': file.cacheControl
    };
    if (c.req.method === 'HEAD') {
      await file.body.cancel();
      return c.body(null, 200, headers);
    }
    return c.body(file.body, 200, headers);
  };
  return new Hono<AppEnv>().on(['GET', 'HEAD'], '*', serve);
}

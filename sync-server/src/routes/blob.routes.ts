import { Hono } from 'hono';
import { z } from 'zod';
import { sha256 } from '../../../src/lib/core/records';
import { requireAuth } from '../http/auth.middleware';
import type { AppEnv } from '../http/app-env';
import { validate } from '../http/validate';
import type { AuthService } from '../services/auth.service';
import type { BlobService } from '../services/blob.service';

const blobParams = z.object({ sha256 });

export function blobRoutes(auth: AuthService, blobs: BlobService) {
  return new Hono<AppEnv>()
    .use('/blobs/*', requireAuth(auth))
    .put('/blobs/:sha256', validate('param', blobParams), async (c) => {
      const hash = c.req.valid('param').sha256;
      const outcome = await blobs.upload(hash, c.req.raw.body);
      return c.json({ sha256: hash, ...outcome }, outcome.created ? 201 : 200);
    })
    .get('/blobs/:sha256', validate('param', blobParams), async (c) => {
      // Hono routes HEAD to the GET handler. HEAD only asks "do you have it?" (before uploading), so
      // it answers any signed-in user; reading the bytes needs a record that names the blob.
      if (c.req.method === 'HEAD')
        return c.body(null, (await blobs.has(c.req.valid('param').sha256)) ? 200 : 404);
      const blob = await blobs.download(c.get('user'), c.req.valid('param').sha256);
      return c.body(blob.body, 200, {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(blob.size),
        'Cache-Control': 'private, max-age=31536000, immutable'
      });
    });
}

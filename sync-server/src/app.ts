/**
 * The registry server as a Hono app. `createApp` only wires: routes validate and call one service,
 * services use the stores. Tests call `app.request(...)`; `main.ts` serves it over HTTP.
 */
import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { DomainError } from './errors';
import type { AppEnv } from './http/app-env';
import { errorHandler } from './http/error-handler';
import type { Logger } from './logger';
import type { BlobStore } from './repositories/blob-store';
import type { MetadataStore } from './repositories/metadata-store';
import { authRoutes } from './routes/auth.routes';
import { blobRoutes } from './routes/blob.routes';
import { healthRoutes } from './routes/health.routes';
import { shareRoutes } from './routes/share.routes';
import { staticRoutes } from './routes/static.routes';
import { syncRoutes } from './routes/sync.routes';
import { AuthService } from './services/auth.service';
import { BlobService } from './services/blob.service';
import { ShareService } from './services/share.service';
import { StaticFilesService } from './services/static-files.service';
import { SyncService } from './services/sync.service';
import { API_PREFIX } from '../../src/lib/core/sync/contract';
import { MiB } from './config';

export interface AppDeps {
  store: MetadataStore;
  blobs: BlobStore;
  logger: Logger;
  staticDir: string;
  /** The one-time owner setup token, when no account exists yet (see `issueSetupToken`). */
  setupToken: string | undefined;
  maxBlobBytes?: number;
}

export function createApp(deps: AppDeps) {
  const auth = new AuthService(deps.store, deps.setupToken);
  const blobs = new BlobService(deps.store, deps.blobs, deps.maxBlobBytes ?? 256 * MiB);
  const sync = new SyncService(deps.store, deps.blobs);
  const shares = new ShareService(deps.store);
  const files = new StaticFilesService(deps.staticDir);

  const app = new Hono<AppEnv>();
  app.use(requestId());
  // Cross-origin isolation (COOP + COEP) lets the studio use SharedArrayBuffer for wasm threads.
  app.use(
    secureHeaders({
      crossOriginOpenerPolicy: 'same-origin',
      crossOriginEmbedderPolicy: 'require-corp',
      crossOriginResourcePolicy: 'same-origin',
      // HSTS belongs to the TLS-terminating proxy; sent over plain HTTP on a LAN it only confuses.
      strictTransportSecurity: false
    })
  );
  app.onError(errorHandler(deps.logger));
  app.notFound(() => {
    throw new DomainError('not_found', 'No such endpoint.');
  });

  app.route('/', healthRoutes());
  app.route(API_PREFIX, authRoutes(auth));
  app.route(API_PREFIX, blobRoutes(auth, blobs));
  app.route(API_PREFIX, syncRoutes(auth, sync));
  app.route(API_PREFIX, shareRoutes(auth, shares));
  app.route('/', staticRoutes(files));
  return app;
}

export type LatheApp = ReturnType<typeof createApp>;

/** Start the registry server: read the environment, open the stores, listen, and close cleanly on signals. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { createApp } from './app';
import { loadConfig } from './config';
import { createLogger } from './logger';
import { FolderBlobStore } from './repositories/folder-blob-store';
import { SqliteMetadataStore } from './repositories/sqlite-metadata-store';
import { issueSetupToken } from './services/auth.service';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  await mkdir(config.dataDir, { recursive: true });
  const store = new SqliteMetadataStore(path.join(config.dataDir, 'lathe.sqlite'));
  const blobs = new FolderBlobStore(path.join(config.dataDir, 'blobs'));
  await blobs.init();

  const setupToken = await issueSetupToken(store, config.setupToken);
  const app = createApp({
    store,
    blobs,
    logger,
    staticDir: config.staticDir,
    setupToken,
    maxBlobBytes: config.maxBlobBytes
  });

  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
    // Plain stdout lines (not JSON logs): people and the e2e harness read these.
    console.log(`Lathe registry listening on http://localhost:${info.port}`);
    if (setupToken) {
      console.log(
        `Lathe setup: open http://localhost:${info.port}/setup#token=${setupToken} to create the owner account`
      );
    }
  });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    server.close(() => {
      store.close().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'closing the database failed');
          process.exit(1);
        }
      );
    });
    // Keep-alive connections can hold close() open; do not hang a deploy on them.
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

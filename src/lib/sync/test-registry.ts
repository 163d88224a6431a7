/**
 * Test harness: a real registry server (the sync-server app on a temporary SQLite file and blob folder)
 * listening on a local port, and browsers of their own (an IndexedDB and a sync engine each) that talk
 * to it and record every request they make.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { createApp, type LatheApp } from '../../../sync-server/src/app';
import { createLogger } from '../../../sync-server/src/logger';
import { FolderBlobStore } from '../../../sync-server/src/repositories/folder-blob-store';
import { SqliteMetadataStore } from '../../../sync-server/src/repositories/sqlite-metadata-store';
import { uuidv7 } from '../core/ids';
import { LatheDB } from '../db/db';
import { SyncEngine } from './sync-engine';

export class TestRegistry {
  dir = '';
  store!: SqliteMetadataStore;
  app!: LatheApp;
  url = '';
  /** Every request the clients made, as `METHOD /path`, to check what went up in which order. */
  readonly requests: string[] = [];
  #server: Server | undefined;
  #port = 0;

  constructor(readonly setupToken: string) {}

  async start(): Promise<void> {
    this.dir = await mkdtemp(path.join(tmpdir(), 'lathe-registry-'));
    this.store = new SqliteMetadataStore(path.join(this.dir, 'lathe.sqlite'));
    const blobs = new FolderBlobStore(path.join(this.dir, 'blobs'));
    await blobs.init();
    this.app = createApp({
      store: this.store,
      blobs,
      logger: createLogger('silent'),
      staticDir: path.join(this.dir, 'static'),
      setupToken: this.setupToken
    });
    await this.listen();
  }

  /** Listens (again, after `stopServer`, on the same port). */
  listen(): Promise<void> {
    return new Promise((resolve) => {
      this.#server = serve(
        { fetch: this.app.fetch, port: this.#port, hostname: '127.0.0.1' },
        (info: AddressInfo) => {
          this.#port = info.port;
          this.url = `http://127.0.0.1:${info.port}`;
          resolve();
        }
      ) as Server;
    });
  }

  /** Takes the server off the network, as an outage would; `listen` brings it back. */
  stopServer(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = this.#server;
      if (!server) return resolve();
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    });
  }

  async close(): Promise<void> {
    await this.stopServer();
    await this.store.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  readonly fetch: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    this.requests.push(`${init?.method ?? 'GET'} ${url.pathname}`);
    return fetch(input, init);
  };

  /** A browser of its own: its IndexedDB and its sync engine. */
  newClient(): { db: LatheDB; engine: SyncEngine } {
    return {
      db: new LatheDB(`test-${uuidv7()}`),
      engine: new SyncEngine({ fetch: this.fetch, isOnline: () => true })
    };
  }
}

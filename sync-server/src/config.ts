/** The server's settings, read once from the environment and validated: a bad value stops the start. */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { z } from 'zod';

/** The repository root, so the default static folder works from any working directory. */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const MiB = 1024 * 1024;

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8787),
  HOST: z.string().min(1).default('0.0.0.0'),
  LATHE_DATA_DIR: z.string().min(1).default('./data'),
  LATHE_STATIC_DIR: z.string().min(1).default(path.join(repoRoot, 'build')),
  /** Fixed one-time setup token (end-to-end tests); a random one is made when unset. */
  LATHE_SETUP_TOKEN: z.string().min(16, 'LATHE_SETUP_TOKEN must be at least 16 characters').optional(),
  LATHE_MAX_BLOB_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(256 * MiB),
  LATHE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
});

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  staticDir: string;
  setupToken: string | undefined;
  maxBlobBytes: number;
  logLevel: z.infer<typeof envSchema>['LATHE_LOG_LEVEL'];
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid server configuration: ${details}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.LATHE_DATA_DIR),
    staticDir: path.resolve(e.LATHE_STATIC_DIR),
    setupToken: e.LATHE_SETUP_TOKEN,
    maxBlobBytes: e.LATHE_MAX_BLOB_BYTES,
    logLevel: e.LATHE_LOG_LEVEL
  };
}

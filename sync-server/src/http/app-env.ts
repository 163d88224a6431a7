import type { RequestIdVariables } from 'hono/request-id';
import type { UserProfile } from '../../../src/lib/core/sync/contract';

/** Per-request values: the request id for logs, and the signed-in user behind `requireAuth`. */
export interface AppEnv {
  Variables: RequestIdVariables & { user: UserProfile; sessionToken: string };
}

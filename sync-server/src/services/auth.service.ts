/** Accounts and sessions: owner setup, login, logout and bearer-token checks. */
import { uuidv7 } from '../../../src/lib/core/ids';
import type {
  LoginRequest,
  SessionResponse,
  SetupRequest,
  UserProfile
} from '../../../src/lib/core/sync/contract';
import { DomainError } from '../errors';
import type { MetadataStore, MetadataTx, UserRow } from '../repositories/metadata-store';
import {
  decoyPasswordHash,
  hashPassword,
  hashToken,
  randomToken,
  secretsEqual,
  verifyPassword
} from './credentials';

const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

function profile(user: UserRow): UserProfile {
  return { id: user.id, name: user.name, email: user.email };
}

export class AuthService {
  readonly #store: MetadataStore;
  /** The one-time setup token; null when setup is not open (users exist, or none was issued). */
  #setupToken: string | null;

  constructor(store: MetadataStore, setupToken: string | undefined) {
    this.#store = store;
    this.#setupToken = setupToken ?? null;
  }

  async setupNeeded(): Promise<boolean> {
    return (await this.#store.transaction((tx) => tx.countUsers())) === 0;
  }

  async completeSetup(input: SetupRequest): Promise<SessionResponse> {
    const expected = this.#setupToken;
    if (expected === null || !secretsEqual(input.token, expected)) {
      throw new DomainError(
        'forbidden',
        'That setup link is not valid. Use the link the server printed when it started.'
      );
    }
    const passwordHash = await hashPassword(input.password);
    const session = await this.#store.transaction(async (tx) => {
      if ((await tx.countUsers()) > 0)
        throw new DomainError('conflict', 'This server is already set up. Sign in instead.');
      const user: UserRow = {
        id: uuidv7(),
        email: input.email.toLowerCase(),
        name: input.name,
        passwordHash,
        createdAt: Date.now()
      };
      await tx.insertUser(user);
      return { token: await this.#createSession(tx, user.id), user: profile(user) };
    });
    this.#setupToken = null;
    return session;
  }

  async login(input: LoginRequest): Promise<SessionResponse> {
    const user = await this.#store.transaction((tx) => tx.findUserByEmail(input.email.toLowerCase()));
    const ok = await verifyPassword(input.password, user?.passwordHash ?? (await decoyPasswordHash()));
    if (!user || !ok) throw new DomainError('unauthorized', 'Wrong email or password.');
    const token = await this.#store.transaction((tx) => this.#createSession(tx, user.id));
    return { token, user: profile(user) };
  }

  async logout(token: string): Promise<void> {
    await this.#store.transaction((tx) => tx.deleteSession(hashToken(token)));
  }

  /** The user a bearer token belongs to, or undefined for unknown and expired tokens. */
  async authenticate(token: string): Promise<UserProfile | undefined> {
    const tokenHash = hashToken(token);
    return this.#store.transaction(async (tx) => {
      const session = await tx.findSession(tokenHash);
      if (!session) return undefined;
      if (session.expiresAt <= Date.now()) {
        await tx.deleteSession(tokenHash);
        return undefined;
      }
      const user = await tx.findUserById(session.userId);
      return user && profile(user);
    });
  }

  async #createSession(tx: MetadataTx, userId: string): Promise<string> {
    const token = randomToken();
    const now = Date.now();
    await tx.insertSession({
      tokenHash: hashToken(token),
      userId,
      createdAt: now,
      expiresAt: now + SESSION_TTL_MS
    });
    return token;
  }
}

/** The setup token to print at start: only while no account exists; a configured one wins. */
export async function issueSetupToken(
  store: MetadataStore,
  configured: string | undefined
): Promise<string | undefined> {
  const users = await store.transaction((tx) => tx.countUsers());
  if (users > 0) return undefined;
  return configured ?? randomToken();
}

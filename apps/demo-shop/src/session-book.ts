/**
 * The shop's sign-in sessions, in memory like the orders: a session is what the shop learnt from the
 * wallet when the user signed in with Billetera (their `customerId`, the shop's pseudonym for them, and
 * their nickname when they shared it). The mini program keeps the session id in page memory (its
 * sandboxed iframe has no cookies or storage) and sends it with each order. The wallet's tokens are not
 * kept: the shop reads the user once, at sign-in, and needs nothing more from them.
 */
import { randomBytes } from 'node:crypto';

export interface ShopSession {
  sessionId: string;
  /** The user as this shop sees them: stable across sign-ins, never the wallet's own user id. */
  customerId: string;
  /** Present when the user shared it (scope `auth_user`). */
  nickName: string | undefined;
  createdAt: number;
}

/** `ses_` and 24 random base64url characters: unguessable, and checked by shape before any lookup. */
export const SESSION_ID_PATTERN = /^ses_[A-Za-z0-9_-]{24}$/;

export function newSessionId(): string {
  return `ses_${randomBytes(18).toString('base64url')}`;
}

export class SessionBook {
  readonly #sessions = new Map<string, ShopSession>();

  /** @param limit the most sessions kept; the oldest is forgotten first (a demo must not grow forever). */
  constructor(private readonly limit: number) {}

  add(session: ShopSession): void {
    while (this.#sessions.size >= this.limit) {
      const oldest = this.#sessions.keys().next();
      if (oldest.done) break;
      this.#sessions.delete(oldest.value);
    }
    this.#sessions.set(session.sessionId, session);
  }

  get(sessionId: string): ShopSession | undefined {
    return this.#sessions.get(sessionId);
  }
}

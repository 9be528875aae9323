import { randomBytes } from 'node:crypto';
import type { Clock, IdGenerator, IdPrefix } from '@billetera/domain';

export const systemClock: Clock = { now: () => Date.now() };

/** Ids with 128 random bits, base64url, behind a type prefix: `pay_Q2x...` (26 characters). */
export const randomIds: IdGenerator = {
  next: (prefix: IdPrefix) => `${prefix}_${randomBytes(16).toString('base64url')}`,
};

/**
 * PINs are stored as HMAC-SHA256(pinKey, userId || pin) and compared in constant time (decisions.md):
 * a database leak alone reveals nothing, and a check costs microseconds, not the tens of milliseconds
 * of a slow password hash that would protect a six-digit space poorly anyway.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function hashPin(pinKey: Buffer, userId: string, pin: string): string {
  return createHmac('sha256', pinKey).update(userId).update('\u0000').update(pin).digest('base64');
}

export function pinMatches(pinKey: Buffer, userId: string, pin: string, stored: string): boolean {
  const expected = Buffer.from(stored, 'base64');
  const actual = Buffer.from(hashPin(pinKey, userId, pin), 'base64');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** PIN policy (decisions.md): six digits, 5 wrong in a row lock payments for 15 minutes. */
export const PIN_PATTERN = /^[0-9]{6}$/;
export const MAX_PIN_ATTEMPTS = 5;
export const PIN_LOCK_MS = 15 * 60_000;

export interface PinState {
  failedAttempts: number;
  lockedUntil: number | null;
}

export type PinCheck =
  | { ok: true; next: PinState }
  | { ok: false; code: 'PIN_LOCKED'; lockedUntil: number; next: PinState }
  | { ok: false; code: 'INVALID_PIN'; attemptsLeft: number; next: PinState };

/** Applies one PIN attempt whose correctness the caller computed in constant time. */
export function decidePin(state: PinState, correct: boolean, now: number): PinCheck {
  if (state.lockedUntil !== null && now < state.lockedUntil) {
    return { ok: false, code: 'PIN_LOCKED', lockedUntil: state.lockedUntil, next: state };
  }
  if (correct) return { ok: true, next: { failedAttempts: 0, lockedUntil: null } };
  // A lock that has run out starts a fresh count.
  const failed = (state.lockedUntil !== null ? 0 : state.failedAttempts) + 1;
  if (failed >= MAX_PIN_ATTEMPTS) {
    const lockedUntil = now + PIN_LOCK_MS;
    return { ok: false, code: 'PIN_LOCKED', lockedUntil, next: { failedAttempts: failed, lockedUntil } };
  }
  return {
    ok: false,
    code: 'INVALID_PIN',
    attemptsLeft: MAX_PIN_ATTEMPTS - failed,
    next: { failedAttempts: failed, lockedUntil: null },
  };
}

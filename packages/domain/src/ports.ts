/** Time and ids are injected so tests drive expiry and the retry ladder without sleeping. */
export interface Clock {
  now(): number;
}

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  constructor(private current = Date.UTC(2026, 10, 25, 12, 0, 0)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  set(epochMs: number): void {
    this.current = epochMs;
  }
}

export type IdPrefix =
  | 'pay'
  | 'mch'
  | 'usr'
  | 'acc'
  | 'jnl'
  | 'ntf'
  | 'att'
  | 'rfd'
  | 'app'
  | 'grt'
  | 'fam'
  | 'macc'
  | 'op'
  | 'lic'
  | 'mev'
  | 'ver';

export interface IdGenerator {
  /** A type-prefixed id with at least 128 random bits, e.g. `pay_3kT...`. */
  next(prefix: IdPrefix): string;
}

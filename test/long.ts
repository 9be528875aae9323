/**
 * Short and long versions of the fault, race and fuzz suites (issue 8). `npm test` runs the short
 * versions; `npm run test:faults` sets BILLETERA_LONG=1 and runs only those suites, at full size.
 */
export const LONG = process.env['BILLETERA_LONG'] === '1';

/** `short` inside `npm test`, `long` under `npm run test:faults`. */
export function scale<T>(short: T, long: T): T {
  return LONG ? long : short;
}

/** A test timeout that grows with the long version. */
export function timeoutMs(shortMs: number, longMs: number): number {
  return LONG ? longMs : shortMs;
}

/**
 * Wire times. Incoming `Request-Time` values come in several forms (decisions.md): ISO 8601 with `Z`,
 * `+hh:mm` or `+hhmm`, with or without fractional seconds, and epoch milliseconds as digits.
 * Outgoing times are ISO 8601 with an explicit `+00:00` offset and whole seconds, as in the docs' samples.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;
const EPOCH_MS = /^\d{10,16}$/;

/** Epoch milliseconds of a wire time, or undefined when it is not one of the accepted forms. */
export function parseWireTime(text: string): number | undefined {
  const value = text.trim();
  if (EPOCH_MS.test(value)) return Number(value);
  const m = ISO.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = frac ? Number((frac + '00').slice(0, 3)) : 0;
  let offsetMin = 0;
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2, 4));
    if (oh > 23 || om > 59) return undefined;
    offsetMin = sign * (oh * 60 + om);
  }
  const parts = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const [year, month, day, hour, minute, second] = parts;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return undefined;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Reject dates that roll over (Feb 30th).
  if (new Date(Date.UTC(year, month - 1, day)).getUTCDate() !== day) return undefined;
  return utc - offsetMin * 60_000;
}

/** `2026-11-25T19:35:54+00:00`: ISO 8601, whole seconds, explicit offset. */
export function formatWireTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

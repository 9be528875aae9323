import { describe, expect, it } from 'vitest';
import { formatWireTime, parseWireTime } from './time.ts';

describe('parseWireTime accepts every Request-Time form of decisions.md', () => {
  const cases: Array<[string, number]> = [
    ['2019-04-04T12:08:56.253+05:30', Date.UTC(2019, 3, 4, 6, 38, 56, 253)],
    ['2026-11-25T19:35:54+0000', Date.UTC(2026, 10, 25, 19, 35, 54)],
    ['2026-11-25T19:35:54Z', Date.UTC(2026, 10, 25, 19, 35, 54)],
    ['2026-11-25T19:35:54.000Z', Date.UTC(2026, 10, 25, 19, 35, 54)],
    ['2026-11-25T19:35:54+00:00', Date.UTC(2026, 10, 25, 19, 35, 54)],
    ['2019-05-28T12:12:12+08:00', Date.UTC(2019, 4, 28, 4, 12, 12)], // the docs' example: no millis
    ['2026-11-25T14:35:54-0500', Date.UTC(2026, 10, 25, 19, 35, 54)],
    ['2026-11-25T14:35:54.5-05:00', Date.UTC(2026, 10, 25, 19, 35, 54, 500)],
    ['2026-11-25T19:35:54.123456789Z', Date.UTC(2026, 10, 25, 19, 35, 54, 123)], // beyond millis: cut
    ['2026-01-01T00:30:00+01:00', Date.UTC(2025, 11, 31, 23, 30, 0)], // crosses a year
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)], // leap day
    ['1795635333060', 1795635333060], // epoch ms, as the official Java and Go SDKs send it
    [' 2026-11-25T19:35:54Z ', Date.UTC(2026, 10, 25, 19, 35, 54)],
  ];
  it.each(cases)('%s', (text, epochMs) => {
    expect(parseWireTime(text)).toBe(epochMs);
  });
});

describe('parseWireTime refuses', () => {
  it.each([
    '2026-02-30T12:00:00Z', // Feb 30
    '2025-02-29T12:00:00Z', // not a leap year
    '2026-04-31T12:00:00Z',
    '2026-13-01T12:00:00Z',
    '2026-00-10T12:00:00Z',
    '2026-11-00T12:00:00Z',
    '2026-11-25T24:00:00Z',
    '2026-11-25T19:60:00Z',
    '2026-11-25T19:35:54+24:00', // offset hours out of range
    '2026-11-25T19:35:54+05:60', // offset minutes out of range
    '2026-11-25T19:35:54+5:30', // offset without two-digit hours
    '2026-11-25T19:35:54+05', // offset without minutes
    '2026-11-25T19:35:54', // no zone at all
    '2026-11-25 19:35:54Z', // space instead of T
    '2026-11-25T19:35Z', // no seconds
    '2026-11-25T19:35:54.Z',
    '2026-11-25',
    'yesterday at noon',
    'Wed, 25 Nov 2026 19:35:54 GMT',
    '',
    '12345', // too few digits for epoch ms
    '17956353330601234', // too many
    '-1795635333060',
  ])('%j', (text) => {
    expect(parseWireTime(text)).toBeUndefined();
  });
});

describe('formatWireTime', () => {
  it('writes ISO 8601 with whole seconds and an explicit +00:00 offset', () => {
    expect(formatWireTime(Date.UTC(2026, 10, 25, 19, 35, 54))).toBe('2026-11-25T19:35:54+00:00');
    expect(formatWireTime(Date.UTC(2026, 10, 25, 19, 35, 54, 999))).toBe('2026-11-25T19:35:54+00:00');
    expect(formatWireTime(0)).toBe('1970-01-01T00:00:00+00:00');
  });

  it('round-trips through parseWireTime to the whole second', () => {
    const now = 1795635333060;
    expect(parseWireTime(formatWireTime(now))).toBe(now - (now % 1000));
  });
});

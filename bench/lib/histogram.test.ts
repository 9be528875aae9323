import { describe, expect, it } from 'vitest';
import { Histogram } from './histogram.ts';

describe('bench histogram', () => {
  it('is exact below 128 µs', () => {
    const h = new Histogram();
    for (let v = 1; v <= 100; v++) h.record(v);
    expect(h.quantile(0.5)).toBe(50);
    expect(h.quantile(0.99)).toBe(99);
    expect(h.quantile(1)).toBe(100);
    expect(h.min).toBe(1);
    expect(h.mean()).toBeCloseTo(50.5);
  });

  it('keeps quantiles within 2 % over a wide range', () => {
    const h = new Histogram();
    for (let v = 1; v <= 1_000_000; v += 1) h.record(v);
    for (const q of [0.5, 0.9, 0.99, 0.999]) {
      const want = q * 1_000_000;
      expect(Math.abs(h.quantile(q) - want) / want).toBeLessThan(0.02);
    }
    expect(h.max).toBe(1_000_000);
  });

  it('merges what workers recorded apart, through their plain data', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 0; i < 990; i++) a.record(1_000);
    for (let i = 0; i < 10; i++) b.record(50_000);
    const all = Histogram.from(a.toData()).merge(b.toData());
    expect(all.total).toBe(1_000);
    expect(Math.abs(all.quantile(0.5) - 1_000) / 1_000).toBeLessThan(0.02);
    expect(Math.abs(all.quantile(0.995) - 50_000) / 50_000).toBeLessThan(0.02);
    expect(all.max).toBe(50_000);
    expect(all.min).toBe(1_000);
  });

  it('answers NaN when empty and clamps what it cannot hold', () => {
    const h = new Histogram();
    expect(h.quantile(0.5)).toBeNaN();
    h.record(-5);
    h.record(1e12);
    expect(h.min).toBe(0);
    expect(h.total).toBe(2);
  });
});

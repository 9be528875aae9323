/** The bench's figures: one table on stdout, the same rows (and the run's facts) in a JSON file. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Row {
  section: string;
  figure: string;
  value: number;
  unit: string;
  /** The ceiling that bounds this figure, measured in the same run. */
  ceiling?: number | undefined;
  /** Which ceiling that is (e.g. "min(bare HTTP, RSA sign+verify x cores)"). */
  bound?: string | undefined;
  /** Short extra facts: latency percentiles, CPU of the generator and the wallet. */
  note?: string | undefined;
  detail?: Record<string, unknown> | undefined;
}

export class Report {
  readonly rows: Row[] = [];

  add(row: Row): Row {
    this.rows.push(row);
    const ratio = ratioOf(row);
    process.stderr.write(
      `  ${row.section} | ${row.figure}: ${fmt(row.value)} ${row.unit}` +
        (ratio === undefined ? '' : ` (${pct(ratio)} of ${fmt(row.ceiling!)})`) +
        (row.note ? `  [${row.note}]` : '') +
        '\n',
    );
    return row;
  }

  table(): string {
    const head = ['section', 'figure', 'value', 'unit', 'ceiling', 'ratio', 'bound / notes'];
    const body = this.rows.map((r) => {
      const ratio = ratioOf(r);
      return [
        r.section,
        r.figure,
        fmt(r.value),
        r.unit,
        r.ceiling === undefined ? '' : fmt(r.ceiling),
        ratio === undefined ? '' : pct(ratio),
        [r.bound, r.note].filter(Boolean).join('; '),
      ];
    });
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
    const right = new Set([2, 4, 5]);
    const line = (cells: string[]) =>
      cells
        .map((c, i) =>
          i === cells.length - 1 ? c : right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!),
        )
        .join('  ')
        .trimEnd();
    return [
      line(head),
      line(widths.map((w, i) => (i === widths.length - 1 ? '-'.repeat(13) : '-'.repeat(w)))),
      ...body.map(line),
    ].join('\n');
  }

  write(dir: string, meta: Record<string, unknown>): string {
    mkdirSync(dir, { recursive: true });
    const stamp = new Date()
      .toISOString()
      .replace(/:/g, '-')
      .replace(/\.\d+Z$/, 'Z');
    const file = join(dir, `${stamp}.json`);
    const rows = this.rows.map((r) => ({ ...r, ratio: ratioOf(r) }));
    writeFileSync(file, JSON.stringify({ ...meta, rows }, null, 2) + '\n');
    return file;
  }
}

export function ratioOf(r: Row): number | undefined {
  return r.ceiling === undefined || !(r.ceiling > 0) || !Number.isFinite(r.value)
    ? undefined
    : r.value / r.ceiling;
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  if (a >= 100) return Math.round(v).toLocaleString('en-US');
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

export const pct = (r: number): string => `${(r * 100).toFixed(r < 0.1 ? 1 : 0)} %`;

/** Milliseconds from microseconds, for notes. */
export const ms = (us: number): string =>
  Number.isFinite(us) ? `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)}` : 'n/a';

/**
 * `npx tsx bench/profile-summary.ts <file.cpuprofile> [--top N]`: where a wallet process spent its CPU.
 * Prints self time by function and by area (node internals, RSA, SQLite, Fastify, pino, Kysely, our code),
 * from a V8 CPU profile such as `npm run bench -- --cpu-prof DIR` writes.
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const file = process.argv[2];
if (!file) throw new Error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [--top N]');
const topIndex = process.argv.indexOf('--top');
const top = topIndex > 0 ? Number(process.argv[topIndex + 1]) : 30;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

function area(n: Node): string {
  const { url, functionName } = n.callFrame;
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(garbage collector)') return 'gc';
  if (functionName === '(program)') return 'program (native, unattributed)';
  if (url.includes('/better-sqlite3/')) return 'better-sqlite3';
  if (url.includes('/kysely/')) return 'kysely';
  if (url.includes('/pino') || url.includes('/sonic-boom/') || url.includes('/fast-redact/')) return 'pino';
  if (
    url.includes('/fastify') ||
    url.includes('/find-my-way/') ||
    url.includes('/avvio/') ||
    url.includes('/light-my-request/')
  )
    return 'fastify';
  if (url.includes('/@sinclair/typebox/')) return 'typebox';
  if (url.includes('/pg') && url.includes('node_modules')) return 'pg';
  if (url.includes('/tsx/') || url.includes('/esbuild/')) return 'tsx';
  if (url.includes('node_modules')) return 'other npm: ' + url.split('node_modules/')[1]?.split('/')[0];
  if (url.startsWith('node:')) return 'node: ' + url.slice(5).split('/')[0];
  if (url.includes('/packages/') || url.includes('/apps/'))
    return 'billetera: ' + url.split(/\/(?:packages|apps)\//)[1]?.split('/')[0];
  if (url === '') return 'native: ' + (functionName || '(anonymous)');
  return url;
}

/** Self time of a native frame is charged to the nearest JS caller's area, so `sign` shows up as crypto. */
function areaOf(id: number): string {
  let n = byId.get(id)!;
  let a = area(n);
  while (a.startsWith('native: ') && parent.has(n.id)) {
    n = byId.get(parent.get(n.id)!)!;
    const up = area(n);
    if (!up.startsWith('native: ')) return `${up} (native ${a.slice(8)})`;
    a = up;
  }
  return a;
}

const areas = new Map<string, number>();
const fns = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const a = areaOf(id);
  areas.set(a, (areas.get(a) ?? 0) + us);
  const f = `${n.callFrame.functionName || '(anonymous)'}  ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(packages|apps)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
  fns.set(f, (fns.get(f) ?? 0) + us);
}
const busy = total - (areas.get('idle') ?? 0);
const pct = (us: number): string => ((100 * us) / busy).toFixed(1).padStart(5) + ' %';
process.stdout.write(
  `${file}: ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy (main thread; % of busy)\n\nby area\n`,
);
for (const [a, us] of [...areas]
  .filter(([a]) => a !== 'idle')
  .sort((x, y) => y[1] - x[1])
  .slice(0, top))
  process.stdout.write(`${pct(us)}  ${a}\n`);
process.stdout.write('\nby function (self)\n');
for (const [f, us] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, top)) {
  if (f.startsWith('(idle)')) continue;
  process.stdout.write(`${pct(us)}  ${f}\n`);
}

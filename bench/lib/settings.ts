/** Command-line flags of `npm run bench`. */
export const SECTIONS = ['ceilings', 'sqlite', 'postgres', 'growth', 'scaleout'] as const;
export type Section = (typeof SECTIONS)[number];

export interface Settings {
  quick: boolean;
  only: Set<Section>;
  /** Measured window of each run, after the warmup. */
  durationMs: number;
  warmupMs: number;
  /** Connections of the closed-loop runs. */
  concurrency: number;
  /** Load-generator worker threads. */
  threads: number;
  /** Payments stored before the growth runs. */
  growthSizes: number[];
  /** Wallet processes on one PostgreSQL. */
  processes: number[];
  logLevel: string;
  outDir: string;
  /** Directory for the wallet processes' V8 CPU profiles (`--cpu-prof DIR`), if any. */
  cpuProfDir?: string | undefined;
}

const USAGE = `npm run bench -- [--quick] [--only ${SECTIONS.join('|')}[,...]] [--duration S] [--concurrency N]
                     [--threads N] [--log-level L] [--out DIR] [--cpu-prof DIR]`;

export function parseArgs(argv: string[]): Settings {
  const quick = argv.includes('--quick');
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value\n${USAGE}`);
    return v;
  };
  const known = new Set([
    '--quick',
    '--only',
    '--duration',
    '--concurrency',
    '--threads',
    '--log-level',
    '--out',
    '--cpu-prof',
    '--help',
  ]);
  for (const a of argv)
    if (a.startsWith('--') && !known.has(a)) throw new Error(`unknown flag ${a}\n${USAGE}`);
  if (argv.includes('--help')) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const only = new Set<Section>();
  for (const s of (value('--only') ?? SECTIONS.join(',')).split(',')) {
    if (!(SECTIONS as readonly string[]).includes(s))
      throw new Error(`--only: unknown section ${s}\n${USAGE}`);
    only.add(s as Section);
  }
  const seconds = value('--duration');
  return {
    quick,
    only,
    durationMs: seconds ? Number(seconds) * 1000 : quick ? 2_000 : 10_000,
    warmupMs: quick ? 500 : 2_000,
    concurrency: Number(value('--concurrency') ?? 16),
    threads: Number(value('--threads') ?? 2),
    growthSizes: quick ? [1_000, 10_000] : [1_000, 100_000, 1_000_000],
    processes: quick ? [1, 2] : [1, 2, 4],
    logLevel: value('--log-level') ?? 'info',
    outDir: value('--out') ?? 'bench/results',
    cpuProfDir: value('--cpu-prof'),
  };
}

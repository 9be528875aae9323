/**
 * CPU time and memory of other processes, read from /proc (Linux): the wallet under test, PostgreSQL's
 * backends. pidusage is not a dependency; /proc/<pid>/stat has all we need.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';

/** Clock ticks per second for utime/stime (USER_HZ, 100 on Linux everywhere that matters). */
const TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

export interface ProcSample {
  /** user + system CPU time in ms. */
  cpuMs: number;
  /** resident set size in bytes. */
  rss: number;
}

function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: the fields after it start after the last ')'.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU time and RSS of one process; undefined when it is gone (or /proc is not there). */
export function sampleProcess(pid: number): ProcSample | undefined {
  const f = statFields(pid);
  if (!f) return undefined;
  // After ')': state(0) ppid(1) ... utime(11) stime(12) ... rss(21)
  const cpuMs = ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_SECOND;
  return { cpuMs, rss: Number(f[21]) * PAGE_BYTES };
}

/** The process and all its direct children (PostgreSQL: the postmaster and its backends). */
export function sampleTree(rootPid: number): ProcSample | undefined {
  const root = sampleProcess(rootPid);
  const rootFields = statFields(rootPid);
  if (!root || !rootFields) return undefined;
  // Children that exited (PostgreSQL backends closing) are counted in the root's cutime + cstime once
  // reaped, so the sum stays monotonic instead of dropping when a busy backend goes away.
  let cpuMs = root.cpuMs + ((Number(rootFields[13]) + Number(rootFields[14])) * 1000) / TICKS_PER_SECOND;
  let rss = root.rss;
  for (const entry of safeReaddir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === rootPid) continue;
    const f = statFields(pid);
    if (!f || Number(f[1]) !== rootPid) continue;
    cpuMs += ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_SECOND;
    rss += Number(f[21]) * PAGE_BYTES;
  }
  return { cpuMs, rss };
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** CPU used between two samples as a share of one core (1.0 = one core busy all the time). */
export function coresUsed(before: ProcSample | undefined, after: ProcSample | undefined, ms: number): number {
  if (!before || !after || ms <= 0) return NaN;
  return (after.cpuMs - before.cpuMs) / ms;
}

export interface Machine {
  cpuModel: string;
  cpus: number;
  memoryTotalMiB: number;
  memoryFreeMiB: number;
  node: string;
  platform: string;
  loadAverage: number[];
}

export function machineFacts(): Machine {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpus: list.length,
    memoryTotalMiB: Math.round(totalmem() / 2 ** 20),
    memoryFreeMiB: Math.round(freemem() / 2 ** 20),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** Samples a process's RSS every `everyMs` until stopped: memory over a sustained run. */
export class RssSampler {
  readonly samples: { atMs: number; rss: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly t0 = Date.now();
  constructor(
    private readonly pids: () => number[],
    private readonly everyMs = 250,
  ) {}

  start(): this {
    this.take();
    this.timer = setInterval(() => this.take(), this.everyMs);
    this.timer.unref();
    return this;
  }

  private take(): void {
    let rss = 0;
    for (const pid of this.pids()) rss += sampleProcess(pid)?.rss ?? 0;
    if (rss > 0) this.samples.push({ atMs: Date.now() - this.t0, rss });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.take();
  }
}

/**
 * The load generator: worker threads in the bench process (never in the wallet's), each with its own
 * keep-alive connections. Requests are signed in the workers before a run starts, so during the
 * measured window the generator only does HTTP; its CPU use is reported beside every figure.
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { Histogram } from './histogram.ts';
import type {
  FromWorker,
  RequestSpec,
  SignerSpec,
  Target,
  ToWorker,
  WorkerResult,
  WorkerRun,
} from './loadgen-protocol.ts';
import { coresUsed, sampleProcess, sampleTree, type ProcSample } from './proc.ts';

export type { RequestSpec, SignerSpec, Target } from './loadgen-protocol.ts';

export interface RunOptions {
  targets: Target[];
  mode: 'closed' | 'open';
  /** closed: total connections (split over the workers). */
  concurrency?: number;
  /** open: total requests per second. */
  rate?: number;
  durationMs: number;
  warmupMs: number;
  cycle?: boolean;
  /** Processes whose CPU is measured over the window: the wallet(s) and, as a tree, PostgreSQL. */
  observe?: { name: string; pid: number; tree?: boolean }[];
}

export interface RunResult {
  ok: number;
  errors: number;
  errorSamples: string[];
  /** Good replies per second over the measured window. */
  rate: number;
  windowMs: number;
  hist: Histogram;
  exhausted: boolean;
  /** CPU of this process (load-generator threads + the orchestrator) over the window, in cores. */
  benchCores: number;
  /** The busiest worker thread's event-loop utilisation (near 1: the generator would be the limit). */
  workerEluMax: number;
  /** CPU in cores of each observed process over the window. */
  cores: Record<string, number>;
  captured: string[];
}

const WORKER_URL = new URL('./loadgen-worker.ts', import.meta.url).href;
const TSX_API = import.meta.resolve('tsx/esm/api');
/** Worker threads do not inherit tsx's loader on Node 20: each registers it before importing the worker. */
const BOOT = `import(${JSON.stringify(TSX_API)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL)}); })`;

class WorkerHandle {
  private readonly waiting: ((m: FromWorker) => void)[] = [];
  readonly worker: Worker;
  private failure: Error | undefined;

  constructor() {
    this.worker = new Worker(BOOT, { eval: true });
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'error') this.fail(new Error(`load generator worker: ${m.message}`));
      else this.waiting.shift()?.(m);
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => {
      if (code !== 0) this.fail(new Error(`load generator worker exited with ${code}`));
    });
  }

  private rejecters: ((err: Error) => void)[] = [];
  private fail(err: Error): void {
    this.failure = err;
    for (const reject of this.rejecters.splice(0)) reject(err);
  }

  next<T extends FromWorker['type']>(type: T): Promise<Extract<FromWorker, { type: T }>> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.rejecters.push(reject);
      this.waiting.push((m) => {
        this.rejecters = this.rejecters.filter((r) => r !== reject);
        if (m.type === type) resolve(m as Extract<FromWorker, { type: T }>);
        else reject(new Error(`load generator worker: expected ${type}, got ${m.type}`));
      });
    });
  }

  send(m: ToWorker): void {
    this.worker.postMessage(m);
  }
}

export class LoadGenerator {
  private constructor(private readonly workers: WorkerHandle[]) {}

  static async start(threads: number): Promise<LoadGenerator> {
    const workers = Array.from({ length: Math.max(1, threads) }, () => new WorkerHandle());
    const gen = new LoadGenerator(workers);
    try {
      await Promise.all(workers.map((w) => w.next('ready')));
    } catch (err) {
      await gen.close();
      throw err;
    }
    return gen;
  }

  get size(): number {
    return this.workers.length;
  }

  setSigner(signer: SignerSpec | undefined): void {
    for (const w of this.workers) w.send({ type: 'signer', signer });
  }

  /** Hands the requests out round-robin and has every worker sign its share; resolves with the wall time. */
  async prepare(requests: RequestSpec[]): Promise<{ ms: number }> {
    const t0 = performance.now();
    const shares: RequestSpec[][] = this.workers.map(() => []);
    requests.forEach((r, i) => shares[i % shares.length]!.push(r));
    const done = this.workers.map((w) => w.next('prepared'));
    this.workers.forEach((w, i) => w.send({ type: 'prepare', requests: shares[i]! }));
    await Promise.all(done);
    return { ms: performance.now() - t0 };
  }

  async run(o: RunOptions): Promise<RunResult> {
    const n = this.workers.length;
    const split = (total: number, i: number) => Math.floor(total / n) + (i < total % n ? 1 : 0);
    const runs: WorkerRun[] = this.workers.map((_, i) => ({
      targets: o.targets,
      mode: o.mode,
      concurrency: split(o.concurrency ?? 1, i),
      rate: (o.rate ?? 1) / n,
      maxOutstanding: 512,
      durationMs: o.durationMs,
      warmupMs: o.warmupMs,
      cycle: o.cycle ?? false,
    }));
    const done = this.workers.map((w) => w.next('done'));
    this.workers.forEach((w, i) => w.send({ type: 'run', run: runs[i]! }));

    // CPU is sampled over the measured window: from the end of the warmup to the deadline.
    const sample = () => ({
      bench: process.cpuUsage(),
      procs: (o.observe ?? []).map((p) => (p.tree ? sampleTree(p.pid) : sampleProcess(p.pid))),
      at: performance.now(),
    });
    let before: ReturnType<typeof sample> | undefined;
    let after: ReturnType<typeof sample> | undefined;
    const t1 = setTimeout(() => (before = sample()), o.warmupMs);
    const t2 = setTimeout(() => (after = sample()), o.durationMs);
    let results: WorkerResult[];
    try {
      results = (await Promise.all(done)).map((m) => m.result);
    } finally {
      clearTimeout(t1);
      clearTimeout(t2);
    }
    const b = before ?? sample();
    const a = after ?? sample();
    const ms = a.at - b.at;
    const benchUs = a.bench.user + a.bench.system - b.bench.user - b.bench.system;
    const cores: Record<string, number> = {};
    (o.observe ?? []).forEach((p, i) => {
      cores[p.name] = coresUsed(b.procs[i] as ProcSample, a.procs[i] as ProcSample, ms);
    });
    const hist = new Histogram();
    for (const r of results) hist.merge(r.hist);
    const ok = results.reduce((a, r) => a + r.ok, 0);
    const windowMs = Math.max(...results.map((r) => r.windowMs));
    return {
      ok,
      errors: results.reduce((a, r) => a + r.errors, 0),
      errorSamples: results.flatMap((r) => r.errorSamples).slice(0, 5),
      rate: (ok * 1000) / windowMs,
      windowMs,
      hist,
      exhausted: results.some((r) => r.exhausted),
      benchCores: ms > 0 ? benchUs / 1000 / ms : NaN,
      workerEluMax: Math.max(...results.map((r) => r.elu)),
      cores,
      captured: results.flatMap((r) => r.captured),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate().catch(() => 0)));
  }
}

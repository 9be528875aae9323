/** Messages between the load generator (main thread) and its worker threads. */
import type { HistogramData } from './histogram.ts';

export interface RequestSpec {
  method?: 'POST' | 'GET';
  path: string;
  body: string;
  /** Sign as a merchant (Client-Id, Request-Time, Signature) with the worker's signer, before the run. */
  sign?: boolean;
  headers?: Record<string, string>;
  /** Expected HTTP status (default 200). */
  status?: number;
  /** Expected `result.resultStatus` in a JSON reply (S, A ...); absent: not checked. */
  resultStatus?: string;
  /** Return the value of this string field of each good reply (e.g. paymentId). */
  capture?: string;
}

export interface SignerSpec {
  clientId: string;
  privateKeyPem: string;
  keyVersion: number;
}

export interface Target {
  host: string;
  port: number;
}

export interface WorkerRun {
  targets: Target[];
  mode: 'closed' | 'open';
  /** closed: connections kept busy by this worker. */
  concurrency: number;
  /** open: requests per second sent by this worker, on schedule whatever the replies do. */
  rate: number;
  /** open: the most requests outstanding at once (then they queue, and the wait counts as latency). */
  maxOutstanding: number;
  durationMs: number;
  /** Replies in the first warmupMs are not recorded. */
  warmupMs: number;
  /** Reuse the prepared requests round-robin (reads), instead of each at most once. */
  cycle: boolean;
}

export type ToWorker =
  | { type: 'signer'; signer: SignerSpec | undefined }
  | { type: 'prepare'; requests: RequestSpec[] }
  | { type: 'run'; run: WorkerRun };

export interface WorkerResult {
  hist: HistogramData;
  ok: number;
  errors: number;
  errorSamples: string[];
  /** Requests sent in the measured window (open loop: those scheduled in it). */
  sent: number;
  /** Measured window: from the end of the warmup to the last recorded reply (or the deadline). */
  windowMs: number;
  /** The prepared requests ran out before the deadline. */
  exhausted: boolean;
  /** Event-loop utilisation of this worker thread during the run (1 = saturated). */
  elu: number;
  captured: string[];
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'prepared'; ms: number; count: number }
  | { type: 'done'; result: WorkerResult }
  | { type: 'error'; message: string };

/**
 * Delivers notifications from the outbox (decisions.md): signed POST to the merchant's notify URL, 10 s
 * timeout, acknowledged only by HTTP 200 with result.resultStatus "S", retried on the ladder 0 s, 2 min,
 * 10 min, 10 min, 1 h, 2 h, 6 h, 15 h, then marked FAILED. Every attempt is recorded.
 *
 * Rows are claimed with a lease longer than the timeout, so a process that dies mid-send leaves a lease
 * that runs out and the row is sent again, without that attempt counted. Sends run concurrently, up to a
 * named limit, so one slow merchant never holds up the others.
 */
import { performance } from 'node:perf_hooks';
import { DELIVERY_TIMEOUT_MS, MAX_ATTEMPTS, isAcknowledged, nextAttemptAt } from '@billetera/domain';
import { formatWireTime } from '@billetera/protocol';
import { signMessage } from '@billetera/protocol/signing';
import {
  claimNotification,
  findDueNotifications,
  findMerchantById,
  nextDueAt,
  recordAttempt,
  type AttemptOutcome,
  type Notification,
} from '@billetera/store';
import type { WalletContext } from '../context.ts';

export interface NotifierOptions {
  /** Identifies this worker's leases; unique per process. */
  owner: string;
  /** The most deliveries in flight at once. */
  maxInFlight?: number;
  /** How long a claimed row stays reserved: longer than the delivery timeout. */
  leaseMs?: number;
  /** The longest the loop sleeps before looking at the outbox again. */
  pollMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** How much of a merchant's reply is kept with the attempt. */
const REPLY_EXCERPT_CHARS = 500;
/** How much of a merchant's reply is read at all. */
const MAX_REPLY_BYTES = 64 * 1024;

export class Notifier {
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly maxInFlight: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(
    private readonly ctx: WalletContext,
    private readonly options: NotifierOptions,
  ) {
    this.maxInFlight = options.maxInFlight ?? 32;
    this.timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS;
    this.leaseMs = options.leaseMs ?? this.timeoutMs + 5_000;
    this.pollMs = options.pollMs ?? 1_000;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** Starts sending whatever is due now (up to the in-flight limit); resolves when those sends are done. */
  async runOnce(): Promise<number> {
    const started = await this.pump();
    await Promise.all([...this.inFlight]);
    return started;
  }

  /** Sends until every due notification is done (tests with a fake clock). */
  async drain(): Promise<number> {
    let total = 0;
    for (let n = await this.runOnce(); n > 0; n = await this.runOnce()) total += n;
    return total;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Something was just written to the outbox: look now instead of at the next poll. */
  wake(): void {
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    await Promise.all([...this.inFlight]);
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.pump();
      } catch (err) {
        this.ctx.logger.error({ err }, 'notifier: could not read the outbox; retrying');
      }
      await this.sleep(await this.sleepMs());
    }
  }

  private async sleepMs(): Promise<number> {
    if (this.inFlight.size >= this.maxInFlight) return this.pollMs;
    try {
      const due = await nextDueAt(this.ctx.store.db);
      return due === null ? this.pollMs : Math.max(0, Math.min(this.pollMs, due - this.ctx.clock.now()));
    } catch {
      return this.pollMs;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private async pump(): Promise<number> {
    const room = this.maxInFlight - this.inFlight.size;
    if (room <= 0) return 0;
    const now = this.ctx.clock.now();
    const due = await findDueNotifications(this.ctx.store.db, now, room);
    let started = 0;
    for (const n of due) {
      if (!(await claimNotification(this.ctx.store.db, n.id, this.options.owner, now, this.leaseMs)))
        continue;
      started++;
      const task = this.deliver(n)
        .catch((err: unknown) =>
          this.ctx.logger.error({ err, notificationId: n.id }, 'notifier: delivery bookkeeping failed'),
        )
        .finally(() => {
          this.inFlight.delete(task);
          if (this.running) this.wake();
        });
      this.inFlight.add(task);
    }
    return started;
  }

  private async deliver(n: Notification): Promise<void> {
    const merchant = await findMerchantById(this.ctx.store.db, n.merchantId);
    if (!merchant) throw new Error(`invariant: notification ${n.id} has no merchant`);
    const startedAt = this.ctx.clock.now();
    const t0 = performance.now();
    const attempt = await this.send(n, merchant.clientId, startedAt);
    const latencyMs = performance.now() - t0;
    const attemptsMade = n.attempts + 1;
    // A redelivered row runs a new round of the ladder: count only this round's attempts.
    const attemptsInRound = attemptsMade - n.ladderBase;
    const next =
      attempt.outcome === 'ACKNOWLEDGED'
        ? ({ status: 'DELIVERED', at: this.ctx.clock.now() } as const)
        : attemptsInRound >= MAX_ATTEMPTS
          ? ({ status: 'FAILED' } as const)
          : ({
              status: 'PENDING',
              nextAttemptAt: nextAttemptAt(attemptsInRound, startedAt) ?? startedAt,
            } as const);
    await this.ctx.store.transaction((tx) =>
      recordAttempt(
        tx,
        {
          notificationId: n.id,
          owner: this.options.owner,
          attempt: { ...attempt, startedAt, latencyMs },
          next,
        },
        this.ctx.ids,
      ),
    );
    this.ctx.logger.info(
      {
        notificationId: n.id,
        paymentId: n.paymentId,
        attempt: attemptsMade,
        outcome: attempt.outcome,
        httpStatus: attempt.httpStatus,
        next: next.status,
      },
      'notification attempt',
    );
  }

  private async send(
    n: Notification,
    clientId: string,
    startedAt: number,
  ): Promise<{
    outcome: AttemptOutcome;
    httpStatus: number | null;
    replyExcerpt: string | null;
    error: string | null;
  }> {
    const url = new URL(n.url);
    const time = formatWireTime(startedAt);
    const signature = await signMessage({
      path: url.pathname + url.search,
      clientId,
      time,
      body: n.body,
      privateKey: this.ctx.secrets.walletPrivateKey,
      keyVersion: this.ctx.secrets.walletKeyVersion,
    });
    try {
      const response = await this.fetchImpl(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=UTF-8',
          'client-id': clientId,
          'request-time': time,
          signature,
        },
        body: n.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await readLimited(response);
      const excerpt = text.slice(0, REPLY_EXCERPT_CHARS);
      if (isAcknowledged(response.status, text))
        return { outcome: 'ACKNOWLEDGED', httpStatus: response.status, replyExcerpt: excerpt, error: null };
      const outcome: AttemptOutcome = response.status === 200 ? 'NOT_ACKNOWLEDGED' : 'HTTP_ERROR';
      return {
        outcome,
        httpStatus: response.status,
        replyExcerpt: excerpt,
        error: outcome === 'HTTP_ERROR' ? `HTTP ${response.status}` : 'reply is not resultStatus S',
      };
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      return {
        outcome: timedOut ? 'TIMEOUT' : 'NETWORK_ERROR',
        httpStatus: null,
        replyExcerpt: null,
        error: timedOut ? `no reply within ${this.timeoutMs} ms` : describeError(err),
      };
    }
  }
}

async function readLimited(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size >= MAX_REPLY_BYTES) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ? `${cause.code}: ${cause.message ?? ''}`.trim() : err.message;
}

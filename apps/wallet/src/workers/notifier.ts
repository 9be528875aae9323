/**
 * Delivers notifications from the outbox (decisions.md): signed POST to the merchant's notify URL, 10 s
 * timeout, acknowledged only by HTTP 200 with result.resultStatus "S", retried on the ladder 0 s, 2 min,
 * 10 min, 10 min, 1 h, 2 h, 6 h, 15 h, then marked FAILED. Every attempt is recorded.
 *
 * Rows are claimed with a lease longer than the timeout, so a process that dies mid-send leaves a lease
 * that runs out and the row is sent again, without that attempt counted. Sends run concurrently, up to a
 * named limit, and at most a quarter of that to any one merchant, so a merchant whose endpoint hangs
 * (with any backlog) never holds up the others.
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
  /** The most deliveries in flight to one merchant (default a quarter of maxInFlight). */
  maxInFlightPerMerchant?: number;
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
  /** Deliveries in flight per merchant id. */
  private readonly perMerchant = new Map<string, number>();
  private running = false;
  private wakeUp: (() => void) | undefined;
  /** A wake() came while the loop was not asleep (pumping, or working out how long to sleep). */
  private wakeRequested = false;
  private loop: Promise<void> | undefined;
  private readonly maxInFlight: number;
  private readonly maxPerMerchant: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(
    private readonly ctx: WalletContext,
    private readonly options: NotifierOptions,
  ) {
    this.maxInFlight = options.maxInFlight ?? 64;
    this.maxPerMerchant = options.maxInFlightPerMerchant ?? Math.max(1, Math.floor(this.maxInFlight / 4));
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
    this.wakeRequested = true;
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
      // Cleared before looking, so a wake() during this pump (a new outbox row, a finished delivery)
      // makes the next sleep return at once instead of being lost until the next poll.
      this.wakeRequested = false;
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
      const now = this.ctx.clock.now();
      const due = await nextDueAt(this.ctx.store.db, { now, skipMerchants: this.saturated() });
      return due === null ? this.pollMs : Math.max(0, Math.min(this.pollMs, due - now));
    } catch {
      return this.pollMs;
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.wakeRequested) return Promise.resolve();
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
    const due = await findDueNotifications(this.ctx.store.db, now, room, this.saturated());
    if (due.length === 0) return 0;
    // All the leases of one pump in one transaction (one durable commit, not one per row).
    const claimed = await this.ctx.store.transaction(async (tx) => {
      const mine: Notification[] = [];
      const planned = new Map<string, number>();
      for (const n of due) {
        const busy = (this.perMerchant.get(n.merchantId) ?? 0) + (planned.get(n.merchantId) ?? 0);
        if (busy >= this.maxPerMerchant) continue;
        if (!(await claimNotification(tx, n.id, this.options.owner, now, this.leaseMs))) continue;
        planned.set(n.merchantId, (planned.get(n.merchantId) ?? 0) + 1);
        mine.push(n);
      }
      return mine;
    });
    let started = 0;
    for (const n of claimed) {
      started++;
      this.perMerchant.set(n.merchantId, (this.perMerchant.get(n.merchantId) ?? 0) + 1);
      const task = this.deliver(n)
        .catch((err: unknown) =>
          this.ctx.logger.error({ err, notificationId: n.id }, 'notifier: delivery bookkeeping failed'),
        )
        .finally(() => {
          this.inFlight.delete(task);
          const left = (this.perMerchant.get(n.merchantId) ?? 1) - 1;
          if (left > 0) this.perMerchant.set(n.merchantId, left);
          else this.perMerchant.delete(n.merchantId);
          if (this.running) this.wake();
        });
      this.inFlight.add(task);
    }
    return started;
  }

  /** Merchants with every one of their delivery slots in use. */
  private saturated(): string[] {
    return [...this.perMerchant].filter(([, busy]) => busy >= this.maxPerMerchant).map(([id]) => id);
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

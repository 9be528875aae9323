/**
 * One load-generator thread: signs its share of the requests before the run (so no RSA work happens
 * while the wallet is measured), then drives HTTP/1.1 keep-alive connections, closed loop (fixed
 * concurrency) or open loop (fixed rate, latency counted from the intended send time so a stall is
 * not hidden: no coordinated omission).
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { Histogram } from './histogram.ts';
import type { FromWorker, RequestSpec, SignerSpec, ToWorker, WorkerRun } from './loadgen-protocol.ts';

interface Prepared {
  method: 'POST' | 'GET';
  path: string;
  body: Buffer;
  headers: Record<string, string | number>;
  status: number;
  resultNeedle: string | undefined;
  capture: RegExp | undefined;
}

const port = parentPort;
if (!port) throw new Error('loadgen-worker runs in a worker thread');
const post = (m: FromWorker) => port.postMessage(m);

let signer: { clientId: string; key: KeyObject; keyVersion: number } | undefined;
let prepared: Prepared[] = [];

port.on('message', (m: ToWorker) => {
  try {
    if (m.type === 'signer') setSigner(m.signer);
    else if (m.type === 'prepare') prepare(m.requests);
    else
      void run(m.run).catch((err: unknown) =>
        post({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});
post({ type: 'ready' });

function setSigner(s: SignerSpec | undefined): void {
  signer = s && { clientId: s.clientId, key: createPrivateKey(s.privateKeyPem), keyVersion: s.keyVersion };
}

function prepare(requests: RequestSpec[]): void {
  const t0 = performance.now();
  prepared = requests.map((r) => {
    const body = Buffer.from(r.body, 'utf8');
    const headers: Record<string, string | number> = {
      'content-type': 'application/json; charset=UTF-8',
      ...r.headers,
      'content-length': body.length,
    };
    if (r.sign) {
      if (!signer) throw new Error('a signed request needs a signer');
      const time = new Date().toISOString().replace('Z', '+00:00');
      const content = Buffer.concat([
        Buffer.from(`POST ${r.path}\n${signer.clientId}.${time}.`, 'utf8'),
        body,
      ]);
      const signature = encodeURIComponent(sign('sha256', content, signer.key).toString('base64'));
      headers['client-id'] = signer.clientId;
      headers['request-time'] = time;
      headers['signature'] = `algorithm=RSA256,keyVersion=${signer.keyVersion},signature=${signature}`;
    }
    return {
      method: r.method ?? 'POST',
      path: r.path,
      body,
      headers,
      status: r.status ?? 200,
      resultNeedle: r.resultStatus === undefined ? undefined : `"resultStatus":"${r.resultStatus}"`,
      capture: r.capture === undefined ? undefined : new RegExp(`"${r.capture}":"([^"]+)"`),
    };
  });
  post({ type: 'prepared', ms: performance.now() - t0, count: prepared.length });
}

async function run(o: WorkerRun): Promise<void> {
  const hist = new Histogram();
  const errorSamples: string[] = [];
  const captured: string[] = [];
  let ok = 0;
  let errors = 0;
  let sent = 0;
  let next = 0;
  let lastReply = 0;
  let rr = 0;
  const agent = new http.Agent({
    keepAlive: true,
    maxSockets: o.mode === 'closed' ? Math.max(1, o.concurrency) : Math.max(1, o.maxOutstanding),
  });
  const elu0 = performance.eventLoopUtilization();
  const start = performance.now();
  const measureFrom = start + o.warmupMs;
  const deadline = start + o.durationMs;
  let exhausted = false;

  const take = (): Prepared | undefined => {
    if (prepared.length === 0) return undefined;
    if (o.cycle) return prepared[next++ % prepared.length];
    if (next >= prepared.length) {
      exhausted = true;
      return undefined;
    }
    return prepared[next++];
  };

  const fire = (req: Prepared, intended: number): Promise<void> =>
    new Promise((resolve) => {
      const target = o.targets[rr++ % o.targets.length]!;
      const clientReq = http.request(
        {
          host: target.host,
          port: target.port,
          method: req.method,
          path: req.path,
          headers: req.headers,
          agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const end = performance.now();
            const text = Buffer.concat(chunks).toString('utf8');
            const good =
              res.statusCode === req.status && (!req.resultNeedle || text.includes(req.resultNeedle));
            // Closed loop: a reply after the deadline is outside the window. Open loop: every request
            // scheduled in the window counts, however late its reply (that lateness is the finding).
            const inWindow = intended >= measureFrom && (o.mode === 'open' || end <= deadline);
            if (inWindow) {
              lastReply = Math.max(lastReply, end);
              if (good) {
                ok++;
                hist.record((end - intended) * 1000);
                if (req.capture) {
                  const m = req.capture.exec(text);
                  if (m?.[1]) captured.push(m[1]);
                }
              } else {
                errors++;
                if (errorSamples.length < 5)
                  errorSamples.push(`HTTP ${res.statusCode} ${req.path}: ${text.slice(0, 300)}`);
              }
            } else if (good && req.capture) {
              const m = req.capture.exec(text);
              if (m?.[1]) captured.push(m[1]);
            }
            resolve();
          });
          res.on('error', () => resolve());
        },
      );
      clientReq.on('error', (err) => {
        if (intended >= measureFrom) {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(`${req.path}: ${err.message}`);
        }
        resolve();
      });
      clientReq.end(req.body);
    });

  if (o.mode === 'closed') {
    const lane = async () => {
      for (;;) {
        const now = performance.now();
        if (now >= deadline) return;
        const req = take();
        if (!req) return;
        if (now >= measureFrom) sent++;
        await fire(req, now);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, lane));
  } else {
    const interval = 1000 / o.rate;
    const inFlight = new Set<Promise<void>>();
    let i = 0;
    const waiting: { req: Prepared; intended: number }[] = [];
    await new Promise<void>((done) => {
      const tick = () => {
        const now = performance.now();
        while (start + i * interval <= now && start + i * interval < deadline) {
          const req = take();
          if (!req) break;
          waiting.push({ req, intended: start + i * interval });
          i++;
        }
        while (waiting.length > 0 && inFlight.size < o.maxOutstanding) {
          const w = waiting.shift()!;
          if (w.intended >= measureFrom) sent++;
          const p = fire(w.req, w.intended).finally(() => inFlight.delete(p));
          inFlight.add(p);
        }
        const over = start + i * interval >= deadline || exhausted;
        if (over && waiting.length === 0) {
          void Promise.all([...inFlight]).then(() => done());
          return;
        }
        setTimeout(tick, Math.max(0, Math.min(interval, start + i * interval - performance.now())));
      };
      tick();
    });
  }
  agent.destroy();
  const elu = performance.eventLoopUtilization(elu0).utilization;
  const end =
    o.mode === 'open'
      ? Math.max(lastReply, exhausted ? 0 : deadline)
      : exhausted && lastReply > 0
        ? Math.min(lastReply, deadline)
        : deadline;
  post({
    type: 'done',
    result: {
      hist: hist.toData(),
      ok,
      errors,
      errorSamples,
      sent,
      windowMs: Math.max(1, end - measureFrom),
      exhausted,
      elu,
      captured,
    },
  });
}

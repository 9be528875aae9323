/**
 * A merchant's notify endpoint on 127.0.0.1 that misbehaves on demand (issue 8, merchant endpoint
 * faults): down (the port refuses connections), hanging, slow, a stalled body, a reset connection, HTTP
 * 500, a redirect, and every kind of garbage reply. Switch its behaviour between attempts with
 * `setMode`; it records every request it gets and closes every connection when closed.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export const ACK_BODY = '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}';

export type EndpointMode =
  /** The documented acknowledgement (with a signature header that verifies nothing: it is optional). */
  | 'ack'
  /** Nothing listens on the port: connection refused. */
  | 'down'
  /** Accepts the request and never answers. */
  | 'hang'
  /** Answers the acknowledgement, but only after `slowMs`. */
  | 'slow'
  /** Sends the headers of a 200 and the start of the body, then nothing. */
  | 'stall-body'
  /** Closes the connection as soon as the request arrives. */
  | 'reset'
  | 'http-500'
  /** 302 to an endpoint that would acknowledge: a notification must not follow it. */
  | 'redirect'
  | 'not-json'
  | 'empty-200'
  /** JSON without a `result` object (the status at the top level). */
  | 'no-result'
  /** `result` without `resultStatus`. */
  | 'no-status'
  | 'result-f'
  | 'result-u'
  /** `"s"`: close, but not the documented value. */
  | 'lowercase-s'
  /** `resultStatus` of the wrong type. */
  | 'wrong-type'
  /** A JSON array, then 1 MiB of junk. */
  | 'huge'
  /** resultStatus F with a well-formed (but meaningless) signature header. */
  | 'signed-f';

export interface RecordedRequest {
  rawBody: string;
  headers: http.IncomingHttpHeaders;
  at: number;
}

export interface FaultEndpoint {
  url: string;
  port: number;
  mode: EndpointMode;
  received: RecordedRequest[];
  setMode(mode: EndpointMode): Promise<void>;
  close(): Promise<void>;
}

const FAKE_SIGNATURE = `algorithm=RSA256,keyVersion=1,signature=${encodeURIComponent(Buffer.alloc(256, 7).toString('base64'))}`;
const json = { 'content-type': 'application/json' };
/** 1 MiB of junk after a JSON array's opening bracket: far more than the notifier reads (64 KiB). */
const HUGE_REPLY = Buffer.from('[' + 'x'.repeat(1024 * 1024));

export async function startFaultEndpoint(
  mode: EndpointMode,
  opts: { slowMs?: number; redirectTo?: string } = {},
): Promise<FaultEndpoint> {
  const received: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const slowMs = opts.slowMs ?? 2_000;
  const timers = new Set<NodeJS.Timeout>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        rawBody: Buffer.concat(chunks).toString('utf8'),
        headers: req.headers,
        at: Date.now(),
      });
      respond(endpoint.mode, res);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  function respond(m: EndpointMode, res: http.ServerResponse): void {
    switch (m) {
      case 'ack':
      case 'down': // a request that slipped in as the port closed
        res.writeHead(200, { ...json, signature: FAKE_SIGNATURE }).end(ACK_BODY);
        return;
      case 'hang':
        return;
      case 'slow': {
        const t = setTimeout(() => {
          timers.delete(t);
          if (!res.destroyed) res.writeHead(200, json).end(ACK_BODY);
        }, slowMs);
        timers.add(t);
        return;
      }
      case 'stall-body':
        res.writeHead(200, json);
        res.write('{"result":{"resultStatus":');
        return;
      case 'reset':
        res.socket?.destroy();
        return;
      case 'http-500':
        res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
        return;
      case 'redirect':
        res.writeHead(302, { location: opts.redirectTo ?? '/elsewhere' }).end();
        return;
      case 'not-json':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>OK</body></html>');
        return;
      case 'empty-200':
        res.writeHead(200).end();
        return;
      case 'no-result':
        res.writeHead(200, json).end('{"resultStatus":"S","resultCode":"SUCCESS"}');
        return;
      case 'no-status':
        res.writeHead(200, json).end('{"result":{"resultCode":"SUCCESS","resultMessage":"success"}}');
        return;
      case 'result-f':
        res
          .writeHead(200, json)
          .end('{"result":{"resultStatus":"F","resultCode":"PROCESS_FAIL","resultMessage":"no"}}');
        return;
      case 'result-u':
        res
          .writeHead(200, json)
          .end('{"result":{"resultStatus":"U","resultCode":"UNKNOWN_EXCEPTION","resultMessage":"later"}}');
        return;
      case 'lowercase-s':
        res.writeHead(200, json).end('{"result":{"resultStatus":"s","resultCode":"SUCCESS"}}');
        return;
      case 'wrong-type':
        res.writeHead(200, json).end('{"result":{"resultStatus":["S"],"resultCode":"SUCCESS"}}');
        return;
      case 'huge':
        res.writeHead(200, json).end(HUGE_REPLY);
        return;
      case 'signed-f':
        res
          .writeHead(200, { ...json, signature: FAKE_SIGNATURE, 'response-time': new Date().toISOString() })
          .end('{"result":{"resultStatus":"F","resultCode":"INVALID_SIGNATURE","resultMessage":"no"}}');
        return;
    }
  }

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });

  await listen(0);
  const port = (server.address() as AddressInfo).port;
  const endpoint: FaultEndpoint = {
    url: `http://127.0.0.1:${port}/notify/payment`,
    port,
    mode,
    received,
    async setMode(next) {
      if (next === 'down' && server.listening) await stopListening();
      if (next !== 'down' && !server.listening) await listen(port);
      endpoint.mode = next;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      await stopListening();
    },
  };
  if (mode === 'down') await stopListening();
  return endpoint;
}

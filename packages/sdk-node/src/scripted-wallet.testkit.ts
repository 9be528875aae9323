/**
 * Test helper (not exported): a real `node:http` server on 127.0.0.1 that plays the wallet from a
 * script, one step per incoming request, signing its replies with a fixture signer. It records every
 * request as received (headers, path, exact body bytes) so tests can check what went over the socket.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FixtureSigner } from './fixture-signer.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type Step =
  /**
   * A signed reply (an object is JSON-serialised): `signer` replaces the wallet's key, `asClientId` the
   * echoed Client-Id, `tamper` changes the body after signing, `omit` drops reply headers.
   */
  | {
      reply: object | string;
      signer?: FixtureSigner;
      asClientId?: string;
      tamper?: (body: string) => string;
      omit?: string[];
    }
  /** An unsigned answer with any status, as a proxy would give. */
  | { status: number; body: string }
  /** Close the socket without answering. */
  | 'drop'
  /** Never answer (until the server closes). */
  | 'hang';

export interface ScriptedWallet {
  baseUrl: string;
  requests: RecordedRequest[];
  /** Appends steps; a request with no step left gets HTTP 500 and fails the test that caused it. */
  script(...steps: Step[]): void;
  close(): Promise<void>;
}

export async function startScriptedWallet(signer: FixtureSigner): Promise<ScriptedWallet> {
  const requests: RecordedRequest[] = [];
  const steps: Step[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(recorded);
      play(steps.shift(), recorded, res, signer).catch((err: unknown) => {
        res.destroy(err instanceof Error ? err : new Error(String(err)));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    script: (...more) => void steps.push(...more),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function play(
  step: Step | undefined,
  req: RecordedRequest,
  res: ServerResponse,
  signer: FixtureSigner,
): Promise<void> {
  if (step === undefined) return void res.writeHead(500).end('no scripted step left');
  if (step === 'drop') return void res.socket?.destroy();
  if (step === 'hang') return;
  if ('status' in step)
    return void res.writeHead(step.status, { 'content-type': 'text/html' }).end(step.body);
  const echoed = typeof req.headers['client-id'] === 'string' ? req.headers['client-id'] : '';
  const clientId = step.asClientId ?? echoed;
  const signed = await (step.signer ?? signer).signReply({ reply: step.reply, path: req.path, clientId });
  const headers = { ...signed.headers };
  for (const name of step.omit ?? []) delete headers[name];
  res.writeHead(200, headers).end(step.tamper ? step.tamper(signed.body) : signed.body);
}

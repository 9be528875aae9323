/**
 * Child processes the bench starts (wallets, the bare server), each with an IPC channel. All of them are
 * killed when the bench exits, whatever the reason; each also exits by itself when the channel closes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface Child {
  pid: number;
  url: string;
  info: Record<string, unknown>;
  /** The last lines the child wrote to stderr (for error messages). */
  stderrTail(): string;
  /** Asks the child for its counters (the wallet: transactions and durable commits), if it has any. */
  stats(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

const TSX_IMPORT = import.meta.resolve('tsx');

export async function startChild(
  entry: URL,
  env: Record<string, string> = {},
  readyTimeoutMs = 60_000,
): Promise<Child> {
  // `npm run bench -- --cpu-prof DIR`: every wallet child writes a V8 CPU profile into DIR when it exits.
  const profileDir = process.env['BENCH_CPU_PROF_DIR'];
  const profile =
    profileDir && entry.href === WALLET_ENTRY.href ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const child = spawn(process.execPath, [...profile, '--import', TSX_IMPORT, fileURLToPath(entry)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  live.add(child);
  const tail: string[] = [];
  child.stderr?.on('data', (c: Buffer) => {
    tail.push(...c.toString('utf8').split('\n'));
    if (tail.length > 60) tail.splice(0, tail.length - 60);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => (live.delete(child), resolve())));
  const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${entry.pathname} did not start in time`)),
      readyTimeoutMs,
    );
    child.once('message', (m: Record<string, unknown>) => {
      clearTimeout(timer);
      resolve(m);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry.pathname} exited with ${code} before it was ready:\n${tail.join('\n')}`));
    });
  }).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    pid: child.pid!,
    url: String(info['url']),
    info,
    stderrTail: () => tail.join('\n'),
    stats: () =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve({}), 5_000);
        const onMessage = (m: Record<string, unknown>) => {
          if (m['type'] !== 'stats') return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(m);
        };
        child.on('message', onMessage);
        child.send({ type: 'stats' });
      }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export const WALLET_ENTRY = new URL('../wallet-entry.ts', import.meta.url);
export const BARE_ENTRY = new URL('../bare-server.ts', import.meta.url);

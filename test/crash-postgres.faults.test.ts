/**
 * Issue 8, crash tests: PostgreSQL restarted under load, on a server of this test's own (never the run's
 * shared one). The wallet process (HTTP server, notifier, sweeper) is NOT restarted: while the database
 * is down, calls fail fast with a catalogued answer (signed `U / UNKNOWN_EXCEPTION`, /health 503, a 5xx
 * page), nothing hangs; once it is back the same process answers again by itself, the notifier resumes,
 * and nothing acknowledged is lost. Shutdowns alternate between fast (SIGINT: sessions cut off) and
 * immediate (SIGQUIT: no checkpoint, crash recovery at the next start).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '@billetera/store';
import {
  CrashLoad,
  checkAfterCrashes,
  fmt,
  pause,
  randomMs,
  setUpCrashFixture,
  startCrashChild,
  startNotifyEndpoint,
  startOwnPostgres,
  waitForDrain,
  waitUntil,
  type CrashProcess,
  type NotifyEndpoint,
  type OwnPostgres,
} from './crash-load.ts';
import { scale, timeoutMs } from './long.ts';
import { specCall } from './spec-merchant.ts';

const RESTARTS = scale(1, 6);
const USERS = 3;
const DOWN_MS: [number, number] = scale([1_000, 1_500], [1_000, 6_000]);
const RUN_MS: [number, number] = scale([500, 1_000], [500, 3_000]);
/** The longest the wallet may take to answer again once the database accepts connections. */
const RECOVERY_LIMIT_MS = 15_000;
/** A call while the database is down must be answered (refused) within this. */
const REFUSAL_LIMIT_MS = 5_000;
const DRAIN_MS = 30_000;

describe('PostgreSQL restarted under load', () => {
  let postgres: OwnPostgres | undefined;
  let dataDir: string | undefined;
  let wallet: CrashProcess | undefined;
  let endpoint: NotifyEndpoint | undefined;
  let store: Store | undefined;
  afterAll(async () => {
    await wallet?.stop();
    await store?.close();
    await endpoint?.close();
    await postgres?.destroy();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    `the wallet recovers by itself from ${RESTARTS} database restart(s), and loses nothing`,
    async () => {
      const pg = await startOwnPostgres();
      postgres = pg;
      const dir = mkdtempSync(join(tmpdir(), 'billetera-crash-'));
      dataDir = dir;
      endpoint = await startNotifyEndpoint();
      const ep = endpoint;
      const fixture = await setUpCrashFixture({
        dataDir: dir,
        databaseUrl: pg.url,
        notifyUrl: ep.url,
        userCount: USERS,
      });
      ep.walletPublicKeyPem = fixture.walletPublicKeyPem;
      const w = await startCrashChild({ role: 'wallet', dataDir: dir, databaseUrl: pg.url });
      wallet = w;
      const load = new CrashLoad(fixture, () => w.url, ep.url);
      load.start();
      const inquiry = () =>
        specCall(
          w.url,
          '/api/open/v1/payments/inquiryPayment',
          JSON.stringify({ partnerId: fixture.partnerId, paymentRequestId: 'no-such-order' }),
          { clientId: fixture.clientId, privateKey: fixture.keys.privateKey },
        );

      const recoveries: number[] = [];
      const modes = { fast: 0, immediate: 0 };
      let slowestRefusal = 0;
      for (let restart = 1; restart <= RESTARTS; restart++) {
        await pause(randomMs(...RUN_MS));
        const mode = restart % 2 === 1 ? 'fast' : 'immediate';
        modes[mode]++;
        await pg.shutdown(mode);
        const downUntil = Date.now() + randomMs(...DOWN_MS);

        // Down: a clear, quick refusal, not a hang and not a crash.
        const t0 = Date.now();
        const health = await fetch(`${w.url}/health`, {
          signal: AbortSignal.timeout(REFUSAL_LIMIT_MS),
        }).catch((err: unknown) => {
          throw new Error(`the wallet did not answer while PostgreSQL was down:\n${w.tail()}`, {
            cause: err,
          });
        });
        expect(health.status).toBe(503);
        const refused = await inquiry();
        slowestRefusal = Math.max(slowestRefusal, Date.now() - t0);
        expect(slowestRefusal).toBeLessThan(REFUSAL_LIMIT_MS);
        expect(refused.status).toBe(200);
        expect(refused.body.result).toMatchObject({ resultStatus: 'U', resultCode: 'UNKNOWN_EXCEPTION' });
        expect(refused.raw).not.toMatch(/ECONNREFUSED|password|postgres:\/\//i); // no internals on the wire
        await pause(Math.max(0, downUntil - Date.now()));

        const answeredBefore = load.figures.answered;
        await pg.start();
        const up = Date.now();
        const recovered = await waitUntil(() => load.figures.answered > answeredBefore, RECOVERY_LIMIT_MS);
        expect(recovered, `no answer ${RECOVERY_LIMIT_MS} ms after PostgreSQL came back:\n${w.tail()}`).toBe(
          true,
        );
        recoveries.push(load.lastAnswerAt - up);
        const healthy = await fetch(`${w.url}/health`);
        expect(healthy.status).toBe(200);
        expect((await inquiry()).body.result.resultCode).toBe('ORDER_NOT_EXIST');
      }
      await pause(randomMs(...RUN_MS));
      await load.stop();

      store = await openStore({ databaseUrl: pg.url });
      await waitForDrain(store, DRAIN_MS);
      const checked = await checkAfterCrashes(store, load, fixture, ep);
      expect(w.alive()).toBe(true); // the same process throughout
      expect(load.figures.hung).toBe(0);
      expect(load.refusals.size).toBeGreaterThan(0); // the load really met the outage

      let refusedWhileDown = 0;
      for (const n of load.refusals.values()) refusedWhileDown += n;
      console.log(
        `faults: crash postgres restart: ${RESTARTS} restart(s) under load survived (${modes.fast} fast, ` +
          `${modes.immediate} immediate) ` +
          `without restarting the wallet, answering again ${fmt(Math.max(...recoveries))} ms at most after ` +
          `the database was back, ${fmt(refusedWhileDown)} calls refused while down (slowest refusal ` +
          `${fmt(slowestRefusal)} ms: ${[...load.refusals.keys()].join(', ')}), ${fmt(load.figures.answered)} ` +
          `requests answered, ${fmt(checked.payments)} payments checked, ` +
          `${fmt(checked.notificationsDelivered)} notifications delivered, 0 lost`,
      );
    },
    timeoutMs(60_000, 20 * 60_000),
  );
});

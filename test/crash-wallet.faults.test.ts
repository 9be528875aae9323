/**
 * Issue 8, crash tests: the wallet process (HTTP server, notifier and expiry sweeper, as `billetera start`
 * runs them) is killed with SIGKILL at random moments under a steady load of signed pays, cashier confirms
 * and signed refunds, and restarted on the same data each time, on a real SQLite file and on a real
 * PostgreSQL. Afterwards every answered request is durable, requests cut off by a kill were retried with
 * the same ids and answered consistently (an acknowledged pay sent again replays its paymentId), nobody
 * was debited twice, and every owed notification reached the merchant.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '@billetera/store';
import { BACKENDS, type BackendEnv } from './backends.ts';
import {
  CrashLoad,
  checkAfterCrashes,
  fmt,
  pause,
  randomMs,
  setUpCrashFixture,
  Restartable,
  startNotifyEndpoint,
  waitForDrain,
  type NotifyEndpoint,
} from './crash-load.ts';
import { scale, timeoutMs } from './long.ts';

const KILLS = scale(3, 25);
const USERS = scale(3, 6);
/** How long the load runs between a restart and the next kill. */
const RUN_MS: [number, number] = scale([300, 1_200], [300, 2_500]);
/** Acknowledged pays sent again after each restart. */
const REPLAYS_PER_RESTART = scale(2, 3);
const DRAIN_MS = 30_000;

for (const backend of BACKENDS) {
  describe(`kill -9 of the wallet under load, on ${backend.name}`, () => {
    let env: BackendEnv | undefined;
    let wallet: Restartable | undefined;
    let endpoint: NotifyEndpoint | undefined;
    let store: Store | undefined;
    afterAll(async () => {
      await wallet?.stop();
      await store?.close();
      await endpoint?.close();
      await env?.cleanup();
    });

    it(
      `survives ${KILLS} kills: answers kept, one debit per payment, every notification delivered`,
      async () => {
        env = await backend.create();
        const dataDir = env.dataDir;
        const databaseUrl = env.databaseUrl;
        endpoint = await startNotifyEndpoint();
        const fixture = await setUpCrashFixture({
          dataDir,
          databaseUrl,
          notifyUrl: endpoint.url,
          userCount: USERS,
        });
        endpoint.walletPublicKeyPem = fixture.walletPublicKeyPem;
        const w = await Restartable.start({ role: 'wallet', dataDir, databaseUrl });
        wallet = w;
        const load = new CrashLoad(fixture, () => w.current.url, endpoint.url);
        load.start();

        let cutOff = 0;
        for (let kill = 1; kill <= KILLS; kill++) {
          await w.standbyReady();
          await pause(randomMs(...RUN_MS));
          cutOff += load.inFlight();
          await w.killAndRestart();
          await load.checkReplays(REPLAYS_PER_RESTART);
        }
        await pause(randomMs(...RUN_MS));
        await load.stop();

        store = await env.openStore();
        await waitForDrain(store, DRAIN_MS);
        const checked = await checkAfterCrashes(store, load, fixture, endpoint);

        const f = load.figures;
        expect(f.hung).toBe(0);
        expect(f.confirmsAcked).toBeGreaterThan(KILLS); // the load really ran between the kills
        expect(f.refundsAcked).toBeGreaterThan(0);
        expect(f.replaysChecked).toBeGreaterThan(0);
        expect(cutOff).toBeGreaterThan(0); // and the kills really cut requests off
        const line =
          `faults: crash ${backend.name}: ${KILLS} kills of the wallet survived, ${fmt(f.answered)} requests ` +
          `answered (${fmt(f.paysAcked)} pays, ${fmt(f.confirmsAcked)} confirms, ${fmt(f.refundsAcked)} refunds), ` +
          `${fmt(cutOff)} cut off by kills and retried, ${fmt(f.replaysChecked)} replays after a crash kept ` +
          `their paymentId, ${fmt(checked.payments)} payments checked (${fmt(checked.paid)} paid), ` +
          `${fmt(checked.notificationsDelivered)} notifications delivered (${fmt(checked.duplicateDeliveries)} ` +
          `twice), 0 lost, 0 debited twice; slowest restart ${fmt(w.slowestRestartMs)} ms`;
        console.log(line);
      },
      timeoutMs(60_000, 20 * 60_000),
    );
  });
}

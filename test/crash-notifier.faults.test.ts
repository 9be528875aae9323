/**
 * Issue 8, crash tests: the notifier alone is killed with SIGKILL in the middle of deliveries. The HTTP
 * server runs in one process (`workers: false`) under a steady load of pays, confirms and refunds; the
 * notifier and the expiry sweeper run in another, which is killed each time the merchant's endpoint holds
 * a delivery it has not acknowledged yet, and restarted. The cut deliveries' leases run out and the new
 * process sends them again (counted as first attempts: an attempt whose outcome was never recorded was not
 * made); nothing is lost, on a real SQLite file and on a real PostgreSQL.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '@billetera/store';
import { BACKENDS, type BackendEnv } from './backends.ts';
import {
  CrashLoad,
  Restartable,
  checkAfterCrashes,
  fmt,
  pause,
  randomMs,
  setUpCrashFixture,
  startCrashChild,
  startNotifyEndpoint,
  waitForDrain,
  waitUntil,
  type CrashProcess,
  type NotifyEndpoint,
} from './crash-load.ts';
import { scale, timeoutMs } from './long.ts';

const KILLS = scale(1, 20);
const USERS = 3;
/** The merchant acknowledges after this long, so there is always a delivery in flight to cut. */
const ACK_DELAY_MS = 300;
const RUN_MS: [number, number] = scale([200, 800], [200, 2_000]);
const DRAIN_MS = 30_000;
/**
 * Lease (5 s, crash-load.ts) + a poll (1 s) + the backlog (8 deliveries at a time to one merchant, each
 * acked after ACK_DELAY_MS) + a machine busy with other tests: seconds, where the ladder's next step after
 * a counted failure would be 2 minutes.
 */
const REDELIVERY_LIMIT_MS = 30_000;

for (const backend of BACKENDS) {
  describe(`kill -9 of the notifier mid-delivery, on ${backend.name}`, () => {
    let env: BackendEnv | undefined;
    let api: CrashProcess | undefined;
    let workers: Restartable | undefined;
    let endpoint: NotifyEndpoint | undefined;
    let store: Store | undefined;
    afterAll(async () => {
      await workers?.stop();
      await api?.stop();
      await store?.close();
      await endpoint?.close();
      await env?.cleanup();
    });

    it(
      `resumes after ${KILLS} kill(s) mid-delivery and loses nothing`,
      async () => {
        env = await backend.create();
        const dataDir = env.dataDir;
        const databaseUrl = env.databaseUrl;
        endpoint = await startNotifyEndpoint(ACK_DELAY_MS);
        const ep = endpoint;
        const fixture = await setUpCrashFixture({
          dataDir,
          databaseUrl,
          notifyUrl: ep.url,
          userCount: USERS,
        });
        ep.walletPublicKeyPem = fixture.walletPublicKeyPem;
        const [server, w] = await Promise.all([
          startCrashChild({ role: 'api', dataDir, databaseUrl }),
          Restartable.start({ role: 'workers', dataDir, databaseUrl }),
        ]);
        api = server;
        workers = w;
        const load = new CrashLoad(fixture, () => server.url, ep.url);
        load.start();

        const cut: { ids: string[]; killedAt: number }[] = [];
        for (let kill = 1; kill <= KILLS; kill++) {
          await w.standbyReady();
          await pause(randomMs(...RUN_MS));
          const midDelivery = await waitUntil(() => ep.inFlight.size > 0, 10_000);
          expect(midDelivery, 'a delivery in flight to cut').toBe(true);
          const ids = [...ep.inFlight];
          const killedAt = Date.now();
          await w.killAndRestart();
          cut.push({ ids, killedAt });
        }
        await pause(randomMs(...RUN_MS));
        await load.stop();

        store = await env.openStore();
        await waitForDrain(store, DRAIN_MS);
        const checked = await checkAfterCrashes(store, load, fixture, ep);
        expect(server.alive()).toBe(true); // the API never stopped: only the notifier was killed

        // Every delivery a kill cut off was made again by a later process, within the lease and a poll of
        // the LAST kill that cut it before its first ack: kills come every second or two, so a row whose
        // lease ran out can be cut again by the next kill (its clock starts again then).
        const lastCut = new Map<string, number>();
        for (const { ids, killedAt } of cut) {
          for (const id of ids) {
            const acked = ep.ackedAt.get(id);
            expect(acked, `${id} was cut off and never delivered again`).toBeDefined();
            if (acked! > killedAt) lastCut.set(id, killedAt);
          }
        }
        let slowest = 0;
        for (const [id, killedAt] of lastCut) slowest = Math.max(slowest, ep.ackedAt.get(id)! - killedAt);
        expect(slowest).toBeLessThan(REDELIVERY_LIMIT_MS);
        const cutCount = cut.reduce((n, c) => n + c.ids.length, 0);
        console.log(
          `faults: crash notifier ${backend.name}: ${KILLS} kill(s) mid-delivery survived, ${fmt(cutCount)} ` +
            `deliveries cut off and all made again (slowest ${fmt(slowest)} ms after the kill, lease 5 s), ` +
            `${fmt(load.figures.answered)} requests answered, ${fmt(checked.payments)} payments checked, ` +
            `${fmt(checked.notificationsDelivered)} notifications delivered (${fmt(checked.duplicateDeliveries)} ` +
            `twice), 0 lost`,
        );
      },
      timeoutMs(60_000, 20 * 60_000),
    );
  });
}

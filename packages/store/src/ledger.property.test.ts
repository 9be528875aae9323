/**
 * Property test of the ledger on both databases: any sequence of top-ups and transfers between users and
 * merchants, in several currencies, leaves every entry balanced, every balance equal to its postings,
 * no user or merchant below zero, and the stored balances equal to a model kept in memory.
 * The seed is printed by fast-check on failure (rerun with it to reproduce).
 */
import {
  FakeClock,
  fundingAccount,
  merchantAccount,
  transfer,
  userAccount,
  type AccountRef,
} from '@billetera/domain';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, sequentialIds, type BackendEnv } from '../../../test/backends.ts';
import { InsufficientFundsError, balanceOf, checkLedger, postEntry, type Store } from './index.ts';

const OWNERS: AccountRef['ownerType'][] = ['USER', 'MERCHANT'];
const op = fc.record({
  kind: fc.constantFrom('topup', 'transfer'),
  from: fc.record({ ownerType: fc.constantFrom(...OWNERS), ownerId: fc.constantFrom('a', 'b', 'c') }),
  to: fc.record({ ownerType: fc.constantFrom(...OWNERS), ownerId: fc.constantFrom('a', 'b', 'c') }),
  currency: fc.constantFrom('USD', 'JPY'),
  amount: fc.bigInt({ min: 1n, max: 5_000n }),
});

for (const backend of BACKENDS) {
  describe(`ledger properties on ${backend.name}`, () => {
    let env: BackendEnv;
    let store: Store;
    beforeAll(async () => {
      env = await backend.create();
      store = await env.openStore();
    });
    afterAll(async () => {
      await store?.close();
      await env?.cleanup();
    });

    it('stays balanced, never negative, and equal to an in-memory model', async () => {
      const ids = sequentialIds();
      const clock = new FakeClock();
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
          run++;
          const model = new Map<string, bigint>();
          const key = (r: AccountRef) => `${r.ownerType}:${r.ownerId}:${r.currency}`;
          const ref = (
            o: { ownerType: AccountRef['ownerType']; ownerId: string },
            currency: string,
          ): AccountRef =>
            o.ownerType === 'USER'
              ? userAccount(`r${run}-${o.ownerId}`, currency)
              : merchantAccount(`r${run}-${o.ownerId}`, currency);
          for (const o of ops) {
            const to = ref(o.to, o.currency);
            const from = o.kind === 'topup' ? fundingAccount(o.currency) : ref(o.from, o.currency);
            if (key(from) === key(to)) continue;
            const have = model.get(key(from)) ?? 0n;
            try {
              await store.transaction((tx) =>
                postEntry(tx, transfer('PAYMENT', `r${run}`, from, to, o.amount), ids, clock.now()),
              );
              expect(from.ownerType === 'PLATFORM' || have >= o.amount).toBe(true);
              model.set(key(from), have - o.amount);
              model.set(key(to), (model.get(key(to)) ?? 0n) + o.amount);
            } catch (err) {
              expect(err).toBeInstanceOf(InsufficientFundsError);
              expect(have < o.amount).toBe(true);
            }
          }
          for (const [k, value] of model) {
            const [ownerType, ownerId, currency] = k.split(':') as [AccountRef['ownerType'], string, string];
            if (ownerType === 'PLATFORM') continue;
            expect(await balanceOf(store.db, { ownerType, ownerId, currency })).toBe(value);
          }
          expect(await checkLedger(store.db)).toEqual([]);
        }),
        { numRuns: 25 },
      );
    });
  });
}

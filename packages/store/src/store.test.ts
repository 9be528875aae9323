import { describe } from 'vitest';
import { BACKENDS } from '../../../test/backends.ts';
import { storeContract } from './store.contract.ts';

for (const backend of BACKENDS) {
  describe(`store contract on ${backend.name}`, () => storeContract(() => backend.create()));
}

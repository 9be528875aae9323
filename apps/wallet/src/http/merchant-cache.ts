/**
 * Merchants and their public keys, parsed once into KeyObjects and kept for a short time. Parsing a PEM
 * on every call costs several times the verification itself; the TTL bounds how long a retired key or a
 * frozen merchant is still honoured by this process.
 */
import { activeMerchantKeys, findMerchantByClientId, type Merchant, type Store } from '@billetera/store';
import { loadPublicKey, type KeyObject } from '@billetera/protocol/signing';
import type { Clock } from '@billetera/domain';

export interface CachedMerchant {
  merchant: Merchant;
  /** Active keys by version, newest first in `newest`. */
  keys: Map<number, KeyObject>;
  newest: number | undefined;
}

const TTL_MS = 30_000;
/** The most merchants kept at once; the oldest entry goes first beyond it. */
const MAX_ENTRIES = 10_000;

export class MerchantCache {
  private readonly entries = new Map<string, { value: CachedMerchant | undefined; loadedAt: number }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async get(clientId: string): Promise<CachedMerchant | undefined> {
    const now = this.clock.now();
    const hit = this.entries.get(clientId);
    if (hit && now - hit.loadedAt < TTL_MS) return hit.value;
    const value = await this.load(clientId);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(clientId, { value, loadedAt: now });
    return value;
  }

  invalidate(clientId: string): void {
    this.entries.delete(clientId);
  }

  private async load(clientId: string): Promise<CachedMerchant | undefined> {
    const merchant = await findMerchantByClientId(this.store.db, clientId);
    if (!merchant) return undefined;
    const rows = await activeMerchantKeys(this.store.db, merchant.id);
    const keys = new Map<number, KeyObject>();
    for (const row of rows) {
      try {
        keys.set(row.keyVersion, loadPublicKey(row.publicKeyPem));
      } catch {
        // An unparseable stored key is as good as no key: KEY_NOT_FOUND for that version.
      }
    }
    return { merchant, keys, newest: rows[0]?.keyVersion };
  }
}

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
/** A key version the cache does not know makes it reload, at most this often per merchant. */
const RELOAD_MIN_INTERVAL_MS = 1_000;
/** The most merchants kept at once; the oldest entry goes first beyond it. */
const MAX_ENTRIES = 10_000;

export class MerchantCache {
  private readonly entries = new Map<string, { value: CachedMerchant; loadedAt: number }>();
  /** Bumped by every invalidation: a load that started before one is answered but not kept. */
  private epoch = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /**
   * The merchant for a Client-Id. Unknown ids are not remembered (a merchant created a moment ago by the
   * CLI is found at once), and a key version the cached entry lacks triggers a reload (a key added by
   * rotation works at once).
   */
  async get(clientId: string, keyVersion?: number): Promise<CachedMerchant | undefined> {
    const now = this.clock.now();
    const hit = this.entries.get(clientId);
    const fresh = hit && now - hit.loadedAt < TTL_MS;
    const missingKey =
      hit &&
      keyVersion !== undefined &&
      !hit.value.keys.has(keyVersion) &&
      now - hit.loadedAt >= RELOAD_MIN_INTERVAL_MS;
    if (hit && fresh && !missingKey) return hit.value;
    const epoch = this.epoch;
    const value = await this.load(clientId);
    if (!value) {
      this.entries.delete(clientId);
      return undefined;
    }
    if (epoch !== this.epoch) return value;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(clientId, { value, loadedAt: now });
    return value;
  }

  invalidate(clientId: string): void {
    this.epoch++;
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

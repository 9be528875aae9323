/**
 * `my` for mini programs running inside the Billetera wallet. In a browser, `my` talks to the wallet
 * through the parent window; elsewhere (no `window`) every call fails with error 1001, no host.
 */
import { createMy } from './create-my.ts';
import type { My } from './types.ts';

export * from './bridge-protocol.ts';
export type * from './types.ts';
export {
  createMy,
  NON_INTERACTIVE_TIMEOUT_MS,
  type BridgeMessageEvent,
  type CreateMyOptions,
  type HostWindowLike,
  type SelfWindowLike,
} from './create-my.ts';
export { AUTH_SCOPES_MAX_COUNT, DEFAULT_AUTH_SCOPES, TRADE_NO_MAX_LENGTH } from './validate-params.ts';

/** Side-effect free until first used: the message listener is added by the first call. */
export const my: My = /* @__PURE__ */ createMy();

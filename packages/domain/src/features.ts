/**
 * Mini program features (decisions.md "Platform"): the unit that gates which JSAPIs and OpenAPIs a mini
 * program may use. PAYMENT is on by default. USER_INFO is added by the merchant; while PENDING (not yet
 * approved by an operator) it allows only the silent scopes (auth_base, USER_ID), once ACTIVE every
 * scope Billetera supports.
 */
export const FEATURES = {
  PAYMENT: {
    title: 'Payment',
    description: 'Take payments with my.tradePay and the payment OpenAPIs.',
    jsapis: ['tradePay'],
    byDefault: true,
  },
  USER_INFO: {
    title: 'User information',
    description:
      'Ask users for their id (silent) and, once approved, for profile details with their consent (my.getAuthCode).',
    jsapis: ['getAuthCode'],
    byDefault: false,
  },
} as const;

export type Feature = keyof typeof FEATURES;
export const DEFAULT_FEATURES: readonly Feature[] = (Object.keys(FEATURES) as Feature[]).filter(
  (f) => FEATURES[f].byDefault,
);

export function isFeature(value: string): value is Feature {
  return Object.prototype.hasOwnProperty.call(FEATURES, value);
}

/** The feature a JSAPI needs, if any (getSiteInfo, alert... need none). */
export function featureForJsapi(method: string): Feature | undefined {
  for (const [feature, info] of Object.entries(FEATURES) as [Feature, (typeof FEATURES)[Feature]][])
    if ((info.jsapis as readonly string[]).includes(method)) return feature;
  return undefined;
}

/** What USER_INFO in a given state allows: nothing, the silent scopes only, or every scope. */
export type UserInfoAccess = 'NONE' | 'SILENT_ONLY' | 'ALL';
export function userInfoAccess(status: string | undefined): UserInfoAccess {
  if (status === 'ACTIVE') return 'ALL';
  if (status === 'PENDING') return 'SILENT_ONLY';
  return 'NONE';
}

/**
 * Merchant onboarding (decisions.md "Platform"): the business licence, the website check, the
 * operator's review, freezing.
 *
 *   DRAFT ──submit──> SUBMITTED ──check──> CHECK_FAILED ──submit again──> SUBMITTED ...
 *                                   └────> IN_REVIEW ──approve──> VERIFIED
 *                                               └─────reject───> REJECTED ──submit again──> SUBMITTED ...
 *   CHECK_FAILED ──approve with "override check"──> VERIFIED;  CHECK_FAILED ──reject──> REJECTED
 *   any state ──freeze──> FROZEN ──unfreeze──> the state it was frozen from
 *
 * Only VERIFIED merchants may call payment APIs (create-payment, cancel-payment refuse the others with
 * PARTNER_STATUS_ABNORMAL). Every transition is a conditional update in a transaction (the state must
 * still be one it may leave from), so two operators deciding at once cannot both win, and each writes a
 * merchant_events row. The website check is a network call: it never runs inside a transaction; its
 * result is recorded afterwards, only on a submission still PENDING. A submission left PENDING by a crash
 * is checked again by the website-recheck worker.
 */
import {
  findMerchantByClientId,
  findMerchantById,
  findSubmission,
  insertLicenceSubmission,
  insertMerchantEvent,
  latestSubmission,
  merchantEvents,
  merchantFrozenFrom,
  pendingChecksBefore,
  recordLicenceDecision,
  recordWebsiteCheck,
  replaceFrozenFrom,
  transitionMerchant,
  type LicenceFields,
  type LicenceSubmission,
  type Merchant,
  type MerchantEvent,
  type MerchantStatus,
} from '@billetera/store';
import type { Transaction } from 'kysely';
import type { Database } from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { emailProblem, merchantEventId, type FieldErrors } from './staff-accounts.ts';
import {
  checkWebsite,
  findingsJson,
  parseStoredCheck,
  type StoredCheck,
  type WebsiteCheckOptions,
  type WebsiteCheckResult,
} from './website-check.ts';

/** Who did it, as merchant_events.actor: `merchant:<accountId>`, `operator:<id>`, `system`, `cli`. */
export type Actor = `merchant:${string}` | `operator:${string}` | 'system' | 'cli';

/** The states a licence may be submitted from (a first submission, or a resubmission). */
export const SUBMITTABLE: readonly MerchantStatus[] = ['DRAFT', 'CHECK_FAILED', 'REJECTED'];
/** The states an operator may reject from. */
export const REJECTABLE: readonly MerchantStatus[] = ['IN_REVIEW', 'CHECK_FAILED'];
/** The states `billetera merchant verify` may verify from. */
export const CLI_VERIFIABLE: readonly MerchantStatus[] = [
  'DRAFT',
  'SUBMITTED',
  'CHECK_FAILED',
  'IN_REVIEW',
  'REJECTED',
];
/** A submission whose check is still PENDING this long after it was made is checked again. */
export const STALE_CHECK_MS = 60_000;

export const REASON_MAX = 1000;

export type Outcome<T = Merchant> = { ok: true; value: T } | { ok: false; message: string };

/** Thrown inside a transaction to roll it back with a message for the person who asked. */
class Refused extends Error {}

async function run<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, message: err.message };
    throw err;
  }
}

type Tx = Transaction<Database>;

async function event(
  ctx: WalletContext,
  tx: Tx,
  merchantId: string,
  actor: Actor,
  action: string,
  detail: Record<string, unknown>,
): Promise<void> {
  const at = ctx.clock.now();
  await insertMerchantEvent(tx, {
    id: merchantEventId(at),
    merchantId,
    at,
    actor,
    action,
    detail: JSON.stringify(detail),
  });
}

async function mustFind(tx: Tx, merchantId: string): Promise<Merchant> {
  const m = await findMerchantById(tx, merchantId);
  if (!m) throw new Refused('No such merchant.');
  return m;
}

/** Moves the merchant or throws (rolling back) when another change got there first. */
async function move(
  tx: Tx,
  m: Merchant,
  from: readonly MerchantStatus[],
  to: MerchantStatus,
  extra: Parameters<typeof transitionMerchant>[4] = {},
): Promise<void> {
  if (!from.includes(m.status) || !(await transitionMerchant(tx, m.id, from, to, extra)))
    throw new Refused(`Not done: the merchant is ${m.status}, and ${to} cannot be reached from there.`);
}

// ---------------------------------------------------------------------------------------------------------
// The licence form.

export type LicenceInput = Record<keyof LicenceFields, string>;

const LICENCE_NUMBER = /^[A-Za-z0-9\-/ .]{3,64}$/;
const PHONE = /^\+?[0-9][0-9 ()\-.]{4,22}$/;
export const WEBSITE_URL_MAX = 1024;

/** Validates and normalizes a licence form; per-field messages on error. */
export function validateLicence(
  raw: Partial<Record<keyof LicenceFields, unknown>>,
): { ok: true; fields: LicenceFields } | { ok: false; errors: FieldErrors; values: LicenceInput } {
  const text = (k: keyof LicenceFields) => {
    const v = raw[k];
    return typeof v === 'string' ? v.replace(/[\s\p{Cc}]+/gu, ' ').trim() : '';
  };
  const values: LicenceInput = {
    legalName: text('legalName'),
    licenceNumber: text('licenceNumber'),
    country: text('country').toUpperCase(),
    address: text('address'),
    websiteUrl: text('websiteUrl'),
    contactName: text('contactName'),
    contactEmail: text('contactEmail').toLowerCase(),
    contactPhone: text('contactPhone'),
  };
  const errors: FieldErrors = {};
  const v = values;
  if (v.legalName.length < 2 || v.legalName.length > 200)
    errors['legalName'] = 'Enter the legal name as on the licence (2 to 200 characters).';
  if (!LICENCE_NUMBER.test(v.licenceNumber))
    errors['licenceNumber'] =
      'Enter the licence number: 3 to 64 letters, digits, spaces and the signs - / . only.';
  if (!COUNTRY_CODES.has(v.country))
    errors['country'] = 'Choose the country where the business is registered.';
  if (v.address.length < 5 || v.address.length > 300)
    errors['address'] = 'Enter the registered address (5 to 300 characters).';
  if (!isHttpUrl(v.websiteUrl) || v.websiteUrl.length > WEBSITE_URL_MAX)
    errors['websiteUrl'] =
      `Enter the website's full address, starting with https:// or http:// (at most ${WEBSITE_URL_MAX} characters).`;
  if (v.contactName.length < 2 || v.contactName.length > 100)
    errors['contactName'] = 'Enter the name of the person we can contact (2 to 100 characters).';
  const badEmail = emailProblem(v.contactEmail);
  if (badEmail) errors['contactEmail'] = badEmail;
  if (v.contactPhone && !PHONE.test(v.contactPhone))
    errors['contactPhone'] = 'Enter a phone number with digits (and + ( ) - .), or leave it empty.';
  if (Object.keys(errors).length > 0) return { ok: false, errors, values };
  return { ok: true, fields: { ...v, contactPhone: v.contactPhone || null } };
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return (
      (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' && !u.username && !u.password
    );
  } catch {
    return false;
  }
}

/** ISO 3166-1 alpha-2 codes with their English names (from ICU), current ones only. */
export const COUNTRIES: readonly { code: string; name: string }[] = (() => {
  const names = new Intl.DisplayNames(['en'], { type: 'region' });
  // ICU also knows withdrawn codes, exceptional reservations and groupings: not countries to register in.
  const notCountries = new Set(
    'AC AN BU CP CQ CS DD DG DY EA EU EZ FX HV IC NH QO RH SU TA TP UK UN VD XA XB YD YU ZR ZZ'.split(' '),
  );
  const out: { code: string; name: string }[] = [];
  for (let a = 65; a <= 90; a++) {
    for (let b = 65; b <= 90; b++) {
      const code = String.fromCharCode(a, b);
      if (notCountries.has(code)) continue;
      let name: string | undefined;
      try {
        name = names.of(code);
      } catch {
        continue;
      }
      if (name && name !== code && name !== 'Unknown Region') out.push({ code, name });
    }
  }
  return out.sort((x, y) => x.name.localeCompare(y.name, 'en'));
})();
const COUNTRY_CODES: ReadonlySet<string> = new Set(COUNTRIES.map((c) => c.code));

export type SubmitOutcome =
  | { ok: true; submission: LicenceSubmission }
  | { ok: false; errors: FieldErrors; values: LicenceInput }
  | { ok: false; message: string };

/**
 * The merchant submits (or resubmits) its licence: from DRAFT, CHECK_FAILED or REJECTED to SUBMITTED,
 * with the submission stored PENDING its website check. Nothing is stored when a field is wrong.
 */
export async function submitLicence(
  ctx: WalletContext,
  merchantId: string,
  actor: Actor,
  raw: Partial<Record<keyof LicenceFields, unknown>>,
): Promise<SubmitOutcome> {
  const valid = validateLicence(raw);
  if (!valid.ok) return valid;
  const out = await run(() =>
    ctx.store.transaction(async (tx) => {
      const m = await mustFind(tx, merchantId);
      if (!SUBMITTABLE.includes(m.status))
        throw new Refused(
          m.status === 'FROZEN'
            ? 'This merchant is frozen: the licence cannot be changed now.'
            : `The licence cannot be submitted while the merchant is ${m.status}.`,
        );
      await move(tx, m, SUBMITTABLE, 'SUBMITTED');
      const submission: LicenceSubmission = {
        id: ctx.ids.next('lic'),
        merchantId,
        submittedAt: ctx.clock.now(),
        ...valid.fields,
        checkStatus: 'PENDING',
        checkFindings: null,
        checkedAt: null,
        decision: null,
        decisionReason: null,
        decidedBy: null,
        decidedAt: null,
      };
      await insertLicenceSubmission(tx, {
        id: submission.id,
        merchantId,
        submittedAt: submission.submittedAt,
        fields: valid.fields,
      });
      await event(ctx, tx, merchantId, actor, 'SUBMITTED', {
        from: m.status,
        to: 'SUBMITTED',
        submissionId: submission.id,
        websiteUrl: valid.fields.websiteUrl,
      });
      return { submission, clientId: m.clientId };
    }),
  );
  if (!out.ok) return out;
  ctx.merchantChanged(out.value.clientId);
  return { ok: true, submission: out.value.submission };
}

export interface CheckRun {
  result: WebsiteCheckResult;
  /** False when another process recorded a result for this submission first. */
  recorded: boolean;
  /** The merchant's status afterwards. */
  status: MerchantStatus | undefined;
}

/** The website check options this wallet uses (the SSRF guard follows allowPrivateWebsites). */
export function walletCheckOptions(ctx: WalletContext, extra: WebsiteCheckOptions = {}): WebsiteCheckOptions {
  return { allowPrivate: ctx.allowPrivateWebsites, ...extra };
}

/**
 * Runs the website check of a PENDING submission (outside any transaction), then records it and moves
 * the merchant SUBMITTED -> IN_REVIEW (passed) or CHECK_FAILED. Undefined when the submission is not
 * PENDING (already checked).
 */
export async function runSubmissionCheck(
  ctx: WalletContext,
  submissionId: string,
  options: WebsiteCheckOptions = {},
): Promise<CheckRun | undefined> {
  const submission = await findSubmission(ctx.store.db, submissionId);
  if (!submission || submission.checkStatus !== 'PENDING') return undefined;
  const result = await checkWebsite(submission.websiteUrl, walletCheckOptions(ctx, options));
  const to: MerchantStatus = result.passed ? 'IN_REVIEW' : 'CHECK_FAILED';
  const recorded = await ctx.store.transaction(async (tx) => {
    const at = ctx.clock.now();
    if (
      !(await recordWebsiteCheck(
        tx,
        submissionId,
        result.passed ? 'PASSED' : 'FAILED',
        findingsJson(result),
        at,
      ))
    )
      return undefined;
    const m = await findMerchantById(tx, submission.merchantId);
    if (!m) return undefined;
    const moved =
      (await transitionMerchant(tx, m.id, ['SUBMITTED'], to)) ||
      // Frozen while the check ran: an unfreeze returns to the check's outcome.
      (await replaceFrozenFrom(tx, m.id, 'SUBMITTED', to));
    await event(ctx, tx, m.id, 'system', result.passed ? 'CHECK_PASSED' : 'CHECK_FAILED', {
      submissionId,
      ...(moved ? { from: 'SUBMITTED', to } : {}),
      failed: result.findings.filter((f) => !f.ok).map((f) => f.check),
    });
    return m;
  });
  if (recorded) ctx.merchantChanged(recorded.clientId);
  const after = await findMerchantById(ctx.store.db, submission.merchantId);
  return { result, recorded: recorded !== undefined, status: after?.status };
}

/** Submits, then runs the check at once (the console waits for it: at most the check's time limit). */
export async function submitLicenceAndCheck(
  ctx: WalletContext,
  merchantId: string,
  actor: Actor,
  raw: Partial<Record<keyof LicenceFields, unknown>>,
  options: WebsiteCheckOptions = {},
): Promise<SubmitOutcome & { check?: CheckRun | undefined }> {
  const submitted = await submitLicence(ctx, merchantId, actor, raw);
  if (!submitted.ok) return submitted;
  try {
    return { ...submitted, check: await runSubmissionCheck(ctx, submitted.submission.id, options) };
  } catch (err) {
    // Left PENDING: the website-recheck worker runs it again.
    ctx.logger.error({ err, submissionId: submitted.submission.id }, 'website check failed to run');
    return submitted;
  }
}

/** Checks again every submission left PENDING for longer than STALE_CHECK_MS (a crash in between). */
export async function recheckStaleSubmissions(
  ctx: WalletContext,
  options: WebsiteCheckOptions = {},
): Promise<number> {
  const stale = await pendingChecksBefore(ctx.store.db, ctx.clock.now() - STALE_CHECK_MS);
  let n = 0;
  for (const s of stale) {
    if ((await runSubmissionCheck(ctx, s.id, options))?.recorded) n++;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------------
// Operators' decisions.

/**
 * Approves a merchant IN_REVIEW (or CHECK_FAILED with `overrideCheck`): VERIFIED, its latest submission
 * APPROVED, its website taken from the submission.
 */
export async function approveMerchant(
  ctx: WalletContext,
  input: { merchantId: string; actor: Actor; overrideCheck?: boolean },
): Promise<Outcome> {
  const from: MerchantStatus[] = input.overrideCheck ? ['IN_REVIEW', 'CHECK_FAILED'] : ['IN_REVIEW'];
  return decide(ctx, input.merchantId, async (tx, m) => {
    if (m.status === 'CHECK_FAILED' && !input.overrideCheck)
      throw new Refused('The website check failed: tick “override the website check” to approve anyway.');
    const latest = await latestSubmission(tx, m.id);
    if (!latest) throw new Refused('This merchant has not submitted a licence.');
    await move(tx, m, from, 'VERIFIED', { website: latest.websiteUrl });
    if (
      !(await recordLicenceDecision(tx, latest.id, {
        decision: 'APPROVED',
        reason: null,
        by: input.actor,
        at: ctx.clock.now(),
      }))
    )
      throw new Refused('This submission has already been decided.');
    await event(ctx, tx, m.id, input.actor, 'APPROVED', {
      from: m.status,
      to: 'VERIFIED',
      submissionId: latest.id,
      ...(m.status === 'CHECK_FAILED' ? { overrideCheck: true } : {}),
    });
  });
}

/** Rejects a merchant IN_REVIEW or CHECK_FAILED with a reason the merchant sees. */
export async function rejectMerchant(
  ctx: WalletContext,
  input: { merchantId: string; actor: Actor; reason: string },
): Promise<Outcome> {
  const reason = input.reason.trim();
  if (reason.length < 3 || reason.length > REASON_MAX)
    return { ok: false, message: `Give the merchant a reason (3 to ${REASON_MAX} characters).` };
  return decide(ctx, input.merchantId, async (tx, m) => {
    const latest = await latestSubmission(tx, m.id);
    if (!latest) throw new Refused('This merchant has not submitted a licence.');
    await move(tx, m, REJECTABLE, 'REJECTED');
    if (
      !(await recordLicenceDecision(tx, latest.id, {
        decision: 'REJECTED',
        reason,
        by: input.actor,
        at: ctx.clock.now(),
      }))
    )
      throw new Refused('This submission has already been decided.');
    await event(ctx, tx, m.id, input.actor, 'REJECTED', {
      from: m.status,
      to: 'REJECTED',
      submissionId: latest.id,
      reason,
    });
  });
}

/** Freezes a merchant in any state: its payment calls are refused until it is unfrozen. */
export async function freezeMerchant(
  ctx: WalletContext,
  input: { merchantId: string; actor: Actor; reason?: string | undefined },
): Promise<Outcome> {
  const reason = input.reason?.trim() ?? '';
  if (reason.length > REASON_MAX)
    return { ok: false, message: `The reason is too long (${REASON_MAX} at most).` };
  return decide(ctx, input.merchantId, async (tx, m) => {
    if (m.status === 'FROZEN') throw new Refused('The merchant is already frozen.');
    await move(tx, m, [m.status], 'FROZEN', { frozenFrom: m.status });
    await event(ctx, tx, m.id, input.actor, 'FROZEN', {
      from: m.status,
      to: 'FROZEN',
      ...(reason ? { reason } : {}),
    });
  });
}

/** Unfreezes a merchant: back to the state it was frozen from (DRAFT when unknown). */
export async function unfreezeMerchant(
  ctx: WalletContext,
  input: { merchantId: string; actor: Actor },
): Promise<Outcome> {
  return decide(ctx, input.merchantId, async (tx, m) => {
    if (m.status !== 'FROZEN') throw new Refused(`The merchant is not frozen (it is ${m.status}).`);
    const stored = await merchantFrozenFrom(tx, m.id);
    const back: MerchantStatus = stored === null || stored === 'FROZEN' ? 'DRAFT' : stored;
    await move(tx, m, ['FROZEN'], back, { frozenFrom: null });
    await event(ctx, tx, m.id, input.actor, 'UNFROZEN', { from: 'FROZEN', to: back });
  });
}

/** One decision in one transaction, then the OpenAPI's cache told; the merchant as it is afterwards. */
async function decide(
  ctx: WalletContext,
  merchantId: string,
  fn: (tx: Tx, m: Merchant) => Promise<void>,
): Promise<Outcome> {
  const out = await run(() =>
    ctx.store.transaction(async (tx) => {
      const m = await mustFind(tx, merchantId);
      await fn(tx, m);
      return mustFind(tx, merchantId);
    }),
  );
  if (out.ok) ctx.merchantChanged(out.value.clientId);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The CLI's verify.

export type CliVerifyOutcome =
  | { ok: true; merchant: Merchant; alreadyVerified: boolean; check?: WebsiteCheckResult | undefined }
  | { ok: false; message: string; merchant?: Merchant | undefined; check?: WebsiteCheckResult | undefined };

/**
 * `billetera merchant verify`: runs the website check on the latest submission (unless skipped) and,
 * when it passes, verifies the merchant from any state but FROZEN. A failed check is recorded (the
 * merchant moves to CHECK_FAILED if it was SUBMITTED) and nothing is verified.
 */
export async function verifyMerchantByCli(
  ctx: WalletContext,
  input: { clientId: string; skipWebsiteCheck: boolean; checkOptions?: WebsiteCheckOptions },
): Promise<CliVerifyOutcome> {
  const merchant = await findMerchantByClientId(ctx.store.db, input.clientId);
  if (!merchant) return { ok: false, message: `no merchant with Client-Id ${input.clientId}` };
  if (merchant.status === 'VERIFIED') return { ok: true, merchant, alreadyVerified: true };
  if (merchant.status === 'FROZEN')
    return {
      ok: false,
      merchant,
      message: 'the merchant is frozen: unfreeze it first (billetera merchant unfreeze)',
    };
  const latest = await latestSubmission(ctx.store.db, merchant.id);
  let check: WebsiteCheckResult | undefined;
  if (!input.skipWebsiteCheck) {
    if (!latest)
      return {
        ok: false,
        merchant,
        message:
          'the merchant has not submitted a licence, so there is no website to check (use --skip-website-check)',
      };
    check = await checkWebsite(latest.websiteUrl, walletCheckOptions(ctx, input.checkOptions));
    const passed = check.passed;
    const json = findingsJson(check);
    await ctx.store.transaction(async (tx) => {
      await recordWebsiteCheck(tx, latest.id, passed ? 'PASSED' : 'FAILED', json, ctx.clock.now(), {
        overwrite: true,
      });
      const moved = !passed && (await transitionMerchant(tx, merchant.id, ['SUBMITTED'], 'CHECK_FAILED'));
      await event(ctx, tx, merchant.id, 'cli', passed ? 'CHECK_PASSED' : 'CHECK_FAILED', {
        submissionId: latest.id,
        ...(moved ? { from: 'SUBMITTED', to: 'CHECK_FAILED' } : {}),
        failed: check?.findings.filter((f) => !f.ok).map((f) => f.check) ?? [],
      });
    });
    if (!passed) {
      ctx.merchantChanged(merchant.clientId);
      return {
        ok: false,
        merchant,
        check,
        message: 'the website check failed: the merchant was not verified',
      };
    }
  }
  const out = await decide(ctx, merchant.id, async (tx, m) => {
    if (m.status === 'VERIFIED') return;
    if (latest?.checkStatus === 'PENDING' && input.skipWebsiteCheck)
      await recordWebsiteCheck(tx, latest.id, 'SKIPPED', null, ctx.clock.now());
    await move(tx, m, CLI_VERIFIABLE, 'VERIFIED', latest ? { website: latest.websiteUrl } : {});
    if (latest)
      await recordLicenceDecision(tx, latest.id, {
        decision: 'APPROVED',
        reason: null,
        by: 'cli',
        at: ctx.clock.now(),
      });
    await event(ctx, tx, m.id, 'cli', 'APPROVED', {
      from: m.status,
      to: 'VERIFIED',
      ...(latest ? { submissionId: latest.id } : {}),
      ...(input.skipWebsiteCheck ? { skippedWebsiteCheck: true } : {}),
    });
  });
  if (!out.ok) return { ok: false, merchant, check, message: out.message };
  return { ok: true, merchant: out.value, alreadyVerified: false, check };
}

// ---------------------------------------------------------------------------------------------------------
// What the console and ops show.

export interface OnboardingView {
  merchant: Merchant;
  latest: LicenceSubmission | undefined;
  check: StoredCheck | undefined;
  events: MerchantEvent[];
  /** While FROZEN: the state an unfreeze returns to. */
  frozenFrom: MerchantStatus | null;
}

/** A merchant's onboarding as one view (scoped by the merchant id the caller is allowed to see). */
export async function onboardingView(
  ctx: WalletContext,
  merchantId: string,
): Promise<OnboardingView | undefined> {
  const db = ctx.store.db;
  const merchant = await findMerchantById(db, merchantId);
  if (!merchant) return undefined;
  const latest = await latestSubmission(db, merchantId);
  return {
    merchant,
    latest,
    check: parseStoredCheck(latest?.checkFindings ?? null),
    events: await merchantEvents(db, merchantId),
    frozenFrom: merchant.status === 'FROZEN' ? await merchantFrozenFrom(db, merchantId) : null,
  };
}

/** The details of a merchant_events row (JSON written by this file), tolerant of anything else. */
export function eventDetail(e: MerchantEvent): {
  from?: string;
  to?: string;
  reason?: string;
  overrideCheck?: boolean;
  skippedWebsiteCheck?: boolean;
  failed?: string[];
  websiteUrl?: string;
} {
  if (!e.detail) return {};
  try {
    const v = JSON.parse(e.detail) as Record<string, unknown>;
    const str = (k: string) => (typeof v[k] === 'string' ? { [k]: v[k] } : {});
    return {
      ...str('from'),
      ...str('to'),
      ...str('reason'),
      ...str('websiteUrl'),
      ...(v['overrideCheck'] === true ? { overrideCheck: true } : {}),
      ...(v['skippedWebsiteCheck'] === true ? { skippedWebsiteCheck: true } : {}),
      ...(Array.isArray(v['failed'])
        ? { failed: v['failed'].filter((x): x is string => typeof x === 'string') }
        : {}),
    };
  } catch {
    return {};
  }
}

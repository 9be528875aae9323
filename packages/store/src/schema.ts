/**
 * The database schema as Kysely sees it. Every integer column is BIGINT (INTEGER in SQLite) and is read
 * back as a JavaScript bigint on both databases (better-sqlite3 safe integers; a pg int8 parser), so money
 * never passes through a float. Times are epoch milliseconds.
 */
import type { Generated } from 'kysely';

export interface MerchantsTable {
  id: string;
  client_id: string;
  partner_id: string;
  name: string;
  website: string | null;
  notify_url: string | null;
  /** DRAFT | SUBMITTED | CHECK_FAILED | IN_REVIEW | VERIFIED | REJECTED | FROZEN */
  status: string;
  created_at: bigint;
  /** While FROZEN: the state an unfreeze returns to. */
  frozen_from: string | null;
}

export interface MerchantKeysTable {
  merchant_id: string;
  key_version: bigint;
  public_key_pem: string;
  status: string;
  created_at: bigint;
}

export interface UsersTable {
  id: string;
  phone: string;
  pin_hash: string;
  pin_failed_attempts: bigint;
  pin_locked_until: bigint | null;
  status: string;
  display_name: string | null;
  created_at: bigint;
  full_name: string | null;
  avatar_url: string | null;
  /** F or M. */
  gender: string | null;
  /** YYYY-MM-DD. */
  birth_date: string | null;
  /** ISO 3166 alpha-2. */
  nationality: string | null;
}

export interface AccountsTable {
  id: string;
  owner_type: string;
  owner_id: string;
  currency: string;
  balance: bigint;
  created_at: bigint;
}

export interface JournalEntriesTable {
  id: string;
  kind: string;
  reference_id: string;
  created_at: bigint;
}

export interface PostingsTable {
  entry_id: string;
  line: bigint;
  account_id: string;
  currency: string;
  amount: bigint;
}

export interface PaymentsTable {
  id: string;
  merchant_id: string;
  payment_request_id: string;
  request_hash: string;
  api_version: string;
  status: string;
  currency: string;
  amount: bigint;
  order_title: string;
  app_id: string | null;
  notify_url: string | null;
  return_url: string | null;
  extend_info: string | null;
  order_json: string | null;
  reply_json: string;
  expires_at: bigint;
  created_at: bigint;
  paid_at: bigint | null;
  user_id: string | null;
  fail_reason: string | null;
  /** The last notification sequence number given for this payment. */
  notify_seq: Generated<bigint>;
  /** The total of this payment's successful refunds (0003_lifecycle); never above `amount`. */
  refunded_amount: Generated<bigint>;
  /** When a merchant cancelled the unpaid order (0003_lifecycle). */
  cancelled_at: bigint | null;
}

export interface NotificationsTable {
  id: string;
  merchant_id: string;
  payment_id: string;
  seq: bigint;
  kind: string;
  url: string;
  body: string;
  status: string;
  attempts: bigint;
  next_attempt_at: bigint;
  lease_until: bigint | null;
  lease_owner: string | null;
  created_at: bigint;
  delivered_at: bigint | null;
  last_error: string | null;
  /** Attempts made before the current round of the retry ladder (a redelivery starts a new round). */
  ladder_base: Generated<bigint>;
  /** How many times an operator redelivered this notification. */
  redeliveries: Generated<bigint>;
  /** The refund a REFUND notification is about. */
  refund_id: string | null;
}

export interface NotificationAttemptsTable {
  id: string;
  notification_id: string;
  attempt_no: bigint;
  started_at: bigint;
  latency_ms: bigint;
  http_status: bigint | null;
  outcome: string;
  reply_excerpt: string | null;
  error: string | null;
}

export interface MiniProgramsTable {
  app_id: string;
  merchant_id: string;
  name: string;
  description: string;
  logo_url: string | null;
  /** Where the mini program's index page is served (the merchant's server, or the wallet's hosting). */
  entry_url: string;
  /** PUBLISHED mini programs are listed in the host app for everyone. */
  status: string;
  created_at: bigint;
  /** EXTERNAL (entry_url on the merchant's server) or UPLOADED (versions served by the wallet). */
  hosting: Generated<string>;
  published_version: bigint | null;
  logo_type: string | null;
  logo_data: string | null;
  /** UPLOADED only: space-separated origins its files may call (CSP connect-src, img-src). */
  server_origins: string | null;
}

export interface SessionsTable {
  /** SHA-256 of the session cookie value: a database leak reveals no usable session. */
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: bigint;
  expires_at: bigint;
}

export interface RefundsTable {
  id: string;
  merchant_id: string;
  payment_id: string;
  refund_request_id: string;
  request_hash: string;
  api_version: string;
  /** SUCCESS: refunds settle synchronously and a refused one stores nothing. */
  status: string;
  currency: string;
  amount: bigint;
  reason: string | null;
  notify_url: string | null;
  extend_info: string | null;
  created_at: bigint;
  refunded_at: bigint | null;
  fail_reason: string | null;
}

export interface MiniProgramFeaturesTable {
  app_id: string;
  /** PAYMENT | USER_INFO */
  feature: string;
  /** ACTIVE | PENDING | REJECTED */
  status: string;
  created_at: bigint;
  updated_at: bigint;
  /** The operator who approved or rejected a PENDING request, and why (shown to the merchant). */
  decided_by: string | null;
  decision_reason: string | null;
}

export interface CustomerIdsTable {
  merchant_id: string;
  user_id: string;
  customer_id: string;
  created_at: bigint;
}

export interface UserGrantsTable {
  id: string;
  user_id: string;
  merchant_id: string;
  /** '' for a grant to the merchant itself (no mini program). */
  app_id: string;
  /** Space-separated scopes. */
  scopes: string;
  created_at: bigint;
  updated_at: bigint;
  revoked_at: bigint | null;
}

export interface AuthCodesTable {
  code_hash: string;
  grant_id: string;
  scopes: string;
  created_at: bigint;
  expires_at: bigint;
  used_at: bigint | null;
  family_id: string | null;
}

export interface AuthTokensTable {
  token_hash: string;
  /** ACCESS | REFRESH */
  kind: string;
  family_id: string;
  grant_id: string;
  scopes: string;
  created_at: bigint;
  expires_at: bigint;
  used_at: bigint | null;
  revoked_at: bigint | null;
}

export interface MerchantAccountsTable {
  id: string;
  merchant_id: string;
  email: string;
  password_hash: string;
  failed_attempts: Generated<bigint>;
  locked_until: bigint | null;
  created_at: bigint;
}

export interface OperatorsTable {
  id: string;
  email: string;
  password_hash: string;
  failed_attempts: Generated<bigint>;
  locked_until: bigint | null;
  created_at: bigint;
}

export interface StaffSessionsTable {
  id_hash: string;
  /** MERCHANT (console) | OPERATOR (ops) */
  kind: string;
  subject_id: string;
  csrf_token: string;
  created_at: bigint;
  expires_at: bigint;
}

export interface LicenceSubmissionsTable {
  id: string;
  merchant_id: string;
  legal_name: string;
  licence_number: string;
  country: string;
  address: string;
  website_url: string;
  contact_name: string;
  contact_email: string;
  contact_phone: string | null;
  submitted_at: bigint;
  /** PENDING | PASSED | FAILED | SKIPPED */
  check_status: string;
  /** JSON: the website check's findings. */
  check_findings: string | null;
  checked_at: bigint | null;
  /** APPROVED | REJECTED */
  decision: string | null;
  decision_reason: string | null;
  decided_by: string | null;
  decided_at: bigint | null;
}

export interface MerchantEventsTable {
  id: string;
  merchant_id: string;
  at: bigint;
  /** `merchant:<accountId>`, `operator:<id>`, `system`, `cli` */
  actor: string;
  action: string;
  detail: string | null;
}

export interface MiniProgramVersionsTable {
  id: string;
  app_id: string;
  version: bigint;
  /** UPLOADED | IN_REVIEW | APPROVED | REJECTED */
  status: string;
  note: string | null;
  size_bytes: bigint;
  file_count: bigint;
  uploaded_at: bigint;
  submitted_at: bigint | null;
  reviewed_at: bigint | null;
  reviewed_by: string | null;
  review_reason: string | null;
  published_at: bigint | null;
}

export interface MiniProgramFilesTable {
  version_id: string;
  path: string;
  content_type: string;
  size_bytes: bigint;
  data_base64: string;
}

export interface Database {
  merchants: MerchantsTable;
  merchant_keys: MerchantKeysTable;
  users: UsersTable;
  accounts: AccountsTable;
  journal_entries: JournalEntriesTable;
  postings: PostingsTable;
  payments: PaymentsTable;
  notifications: NotificationsTable;
  notification_attempts: NotificationAttemptsTable;
  mini_programs: MiniProgramsTable;
  sessions: SessionsTable;
  refunds: RefundsTable;
  mini_program_features: MiniProgramFeaturesTable;
  customer_ids: CustomerIdsTable;
  user_grants: UserGrantsTable;
  auth_codes: AuthCodesTable;
  auth_tokens: AuthTokensTable;
  merchant_accounts: MerchantAccountsTable;
  operators: OperatorsTable;
  staff_sessions: StaffSessionsTable;
  licence_submissions: LicenceSubmissionsTable;
  merchant_events: MerchantEventsTable;
  mini_program_versions: MiniProgramVersionsTable;
  mini_program_files: MiniProgramFilesTable;
}

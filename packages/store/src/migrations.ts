import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Migrations, in order. Each is written once and never edited after it lands: a change is a new entry.
 * Column types are portable: `text` and `bigint` (SQLite stores bigint with INTEGER affinity).
 */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_payment_core': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('merchants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('client_id', 'text', (c) => c.notNull().unique())
        .addColumn('partner_id', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('website', 'text')
        .addColumn('notify_url', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('merchant_keys')
        .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
        .addColumn('key_version', 'bigint', (c) => c.notNull())
        .addColumn('public_key_pem', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('merchant_keys_pk', ['merchant_id', 'key_version'])
        .execute();

      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('phone', 'text', (c) => c.notNull().unique())
        .addColumn('pin_hash', 'text', (c) => c.notNull())
        .addColumn('pin_failed_attempts', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('pin_locked_until', 'bigint')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('owner_type', 'text', (c) => c.notNull())
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('balance', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('accounts_owner_currency', ['owner_type', 'owner_id', 'currency'])
        // The last line of defence: only the platform's funding account may go below zero.
        .addCheckConstraint('accounts_balance_non_negative', sql`owner_type = 'PLATFORM' OR balance >= 0`)
        .execute();

      await db.schema
        .createTable('journal_entries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('reference_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('journal_entries_reference')
        .on('journal_entries')
        .column('reference_id')
        .execute();

      await db.schema
        .createTable('postings')
        .addColumn('entry_id', 'text', (c) => c.notNull().references('journal_entries.id'))
        .addColumn('line', 'bigint', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('amount', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('postings_pk', ['entry_id', 'line'])
        .execute();
      await db.schema.createIndex('postings_account').on('postings').column('account_id').execute();

      await db.schema
        .createTable('payments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
        .addColumn('payment_request_id', 'text', (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('api_version', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('amount', 'bigint', (c) => c.notNull())
        .addColumn('order_title', 'text', (c) => c.notNull())
        .addColumn('app_id', 'text')
        .addColumn('notify_url', 'text')
        .addColumn('return_url', 'text')
        .addColumn('extend_info', 'text')
        .addColumn('order_json', 'text')
        .addColumn('reply_json', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('paid_at', 'bigint')
        .addColumn('user_id', 'text')
        .addColumn('fail_reason', 'text')
        .addColumn('notify_seq', 'bigint', (c) => c.notNull().defaultTo(0))
        .addUniqueConstraint('payments_merchant_request', ['merchant_id', 'payment_request_id'])
        .execute();
      await db.schema
        .createIndex('payments_status_expiry')
        .on('payments')
        .columns(['status', 'expires_at'])
        .execute();
      await db.schema
        .createIndex('payments_merchant_created')
        .on('payments')
        .columns(['merchant_id', 'created_at'])
        .execute();

      await db.schema
        .createTable('notifications')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('merchant_id', 'text', (c) => c.notNull())
        .addColumn('payment_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'bigint', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_until', 'bigint')
        .addColumn('lease_owner', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('delivered_at', 'bigint')
        .addColumn('last_error', 'text')
        .addUniqueConstraint('notifications_payment_seq', ['payment_id', 'seq'])
        .execute();
      await db.schema
        .createIndex('notifications_due')
        .on('notifications')
        .columns(['status', 'next_attempt_at'])
        .execute();
      await db.schema
        .createIndex('notifications_merchant')
        .on('notifications')
        .columns(['merchant_id', 'created_at'])
        .execute();

      await db.schema
        .createTable('notification_attempts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('notification_id', 'text', (c) => c.notNull().references('notifications.id'))
        .addColumn('attempt_no', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('latency_ms', 'bigint', (c) => c.notNull())
        .addColumn('http_status', 'bigint')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('reply_excerpt', 'text')
        .addColumn('error', 'text')
        .execute();
      await db.schema
        .createIndex('notification_attempts_notification')
        .on('notification_attempts')
        .column('notification_id')
        .execute();
    },
  },
  '0002_mini_programs_and_sessions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('mini_programs')
        .addColumn('app_id', 'text', (c) => c.primaryKey())
        .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('logo_url', 'text')
        .addColumn('entry_url', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('mini_programs_merchant')
        .on('mini_programs')
        .column('merchant_id')
        .execute();

      await db.schema
        .createTable('sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
    },
  },
  '0003_lifecycle': {
    async up(db: Kysely<unknown>) {
      // Refunds claim the payment row first: `refunded_amount + x <= amount` in the UPDATE's WHERE, so
      // racing refunds can never exceed the paid amount; the CHECK is the last line of defence.
      await db.schema
        .alterTable('payments')
        .addColumn('refunded_amount', 'bigint', (c) =>
          c
            .notNull()
            .defaultTo(0)
            .check(sql`refunded_amount >= 0 AND refunded_amount <= amount`),
        )
        .execute();
      await db.schema.alterTable('payments').addColumn('cancelled_at', 'bigint').execute();

      await db.schema
        .createTable('refunds')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
        .addColumn('payment_id', 'text', (c) => c.notNull().references('payments.id'))
        .addColumn('refund_request_id', 'text', (c) => c.notNull())
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('api_version', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('currency', 'text', (c) => c.notNull())
        .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount > 0`))
        .addColumn('reason', 'text')
        .addColumn('notify_url', 'text')
        .addColumn('extend_info', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('refunded_at', 'bigint')
        .addColumn('fail_reason', 'text')
        .addUniqueConstraint('refunds_merchant_request', ['merchant_id', 'refund_request_id'])
        .execute();
      await db.schema.createIndex('refunds_payment').on('refunds').column('payment_id').execute();

      // Redelivery starts a new round of the retry ladder without losing the attempt history:
      // `ladder_base` is the number of attempts made before the current round.
      await db.schema
        .alterTable('notifications')
        .addColumn('ladder_base', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('notifications')
        .addColumn('redeliveries', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('notifications').addColumn('refund_id', 'text').execute();
      await db.schema
        .createIndex('notifications_merchant_status')
        .on('notifications')
        .columns(['merchant_id', 'status'])
        .execute();
    },
  },
  '0004_user_authorization': {
    async up(db: Kysely<unknown>) {
      // The profile OpenUserInfo can release, scope by scope (display_name is the nickname).
      for (const column of ['full_name', 'avatar_url', 'gender', 'birth_date', 'nationality']) {
        await db.schema.alterTable('users').addColumn(column, 'text').execute();
      }

      // Features gate what a mini program may do (decisions.md "Platform"). PAYMENT is on by default;
      // USER_INFO while PENDING allows only the silent scopes, once ACTIVE every supported scope.
      await db.schema
        .createTable('mini_program_features')
        .addColumn('app_id', 'text', (c) => c.notNull().references('mini_programs.app_id'))
        .addColumn('feature', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('mini_program_features_pk', ['app_id', 'feature'])
        .execute();
      await sql`INSERT INTO mini_program_features (app_id, feature, status, created_at, updated_at)
                SELECT app_id, 'PAYMENT', 'ACTIVE', created_at, created_at FROM mini_programs`.execute(db);

      // The user as each merchant sees them: a random pseudonym, never the wallet's own user id.
      await db.schema
        .createTable('customer_ids')
        .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('customer_id', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('customer_ids_pk', ['merchant_id', 'user_id'])
        .execute();

      // What a user has let a mini program (or a merchant, app_id '') learn: the union of the scopes of
      // every consent. Revoking it stops every token issued under it.
      await db.schema
        .createTable('user_grants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
        .addColumn('app_id', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .addUniqueConstraint('user_grants_subject', ['user_id', 'merchant_id', 'app_id'])
        .execute();

      // Codes and tokens are stored as SHA-256 hashes only: a leaked table grants nothing.
      await db.schema
        .createTable('auth_codes')
        .addColumn('code_hash', 'text', (c) => c.primaryKey())
        .addColumn('grant_id', 'text', (c) => c.notNull().references('user_grants.id'))
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .addColumn('family_id', 'text')
        .execute();

      // A family is every token descending from one redeemed code: refresh rotation adds to it, and
      // cancelToken, a reused refresh token or a reused code revoke all of it.
      await db.schema
        .createTable('auth_tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('family_id', 'text', (c) => c.notNull())
        .addColumn('grant_id', 'text', (c) => c.notNull().references('user_grants.id'))
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('auth_tokens_family').on('auth_tokens').column('family_id').execute();
      await db.schema.createIndex('auth_tokens_grant').on('auth_tokens').column('grant_id').execute();
      await db.schema.createIndex('auth_codes_grant').on('auth_codes').column('grant_id').execute();
    },
  },
  '0005_platform': {
    async up(db: Kysely<unknown>) {
      // Onboarding states (decisions.md "Platform"): DRAFT -> SUBMITTED -> (CHECK_FAILED | IN_REVIEW) ->
      // VERIFIED | REJECTED, FROZEN at any time (frozen_from remembers the state to return to).
      await sql`UPDATE merchants SET status = 'DRAFT' WHERE status = 'UNVERIFIED'`.execute(db);
      await db.schema.alterTable('merchants').addColumn('frozen_from', 'text').execute();

      // Console accounts: one per merchant for now (the owner). Passwords are scrypt hashes.
      await db.schema
        .createTable('merchant_accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('merchant_id', 'text', (c) => c.notNull().unique().references('merchants.id'))
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('failed_attempts', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('locked_until', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('operators')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('failed_attempts', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('locked_until', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      // Console (MERCHANT) and ops (OPERATOR) sessions, apart from wallet users' sessions.
      await db.schema
        .createTable('staff_sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();

      // Every licence submission is kept: the console shows the last one, ops see the history.
      await db.schema
        .createTable('licence_submissions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
        .addColumn('legal_name', 'text', (c) => c.notNull())
        .addColumn('licence_number', 'text', (c) => c.notNull())
        .addColumn('country', 'text', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('website_url', 'text', (c) => c.notNull())
        .addColumn('contact_name', 'text', (c) => c.notNull())
        .addColumn('contact_email', 'text', (c) => c.notNull())
        .addColumn('contact_phone', 'text')
        .addColumn('submitted_at', 'bigint', (c) => c.notNull())
        // PENDING | PASSED | FAILED | SKIPPED, with the findings as JSON.
        .addColumn('check_status', 'text', (c) => c.notNull())
        .addColumn('check_findings', 'text')
        .addColumn('checked_at', 'bigint')
        // APPROVED | REJECTED by an operator, with the reason shown to the merchant.
        .addColumn('decision', 'text')
        .addColumn('decision_reason', 'text')
        .addColumn('decided_by', 'text')
        .addColumn('decided_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('licence_submissions_merchant')
        .on('licence_submissions')
        .columns(['merchant_id', 'submitted_at'])
        .execute();

      // What happened to a merchant and who did it: the console's status history and the ops audit trail.
      await db.schema
        .createTable('merchant_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('merchant_id', 'text', (c) => c.notNull().references('merchants.id'))
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .execute();
      await db.schema
        .createIndex('merchant_events_merchant')
        .on('merchant_events')
        .columns(['merchant_id', 'at'])
        .execute();

      // The workspace: a mini program is EXTERNAL (served by the merchant, registered by the CLI) or
      // UPLOADED (versions uploaded as zips, served by the wallet); published_version is live in the host.
      await db.schema
        .alterTable('mini_programs')
        .addColumn('hosting', 'text', (c) => c.notNull().defaultTo('EXTERNAL'))
        .execute();
      await db.schema.alterTable('mini_programs').addColumn('published_version', 'bigint').execute();
      await db.schema.alterTable('mini_programs').addColumn('logo_type', 'text').execute();
      await db.schema.alterTable('mini_programs').addColumn('logo_data', 'text').execute();

      await db.schema
        .createTable('mini_program_versions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('app_id', 'text', (c) => c.notNull().references('mini_programs.app_id'))
        .addColumn('version', 'bigint', (c) => c.notNull())
        // UPLOADED -> IN_REVIEW -> APPROVED | REJECTED; only APPROVED versions can be published.
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('note', 'text')
        .addColumn('size_bytes', 'bigint', (c) => c.notNull())
        .addColumn('file_count', 'bigint', (c) => c.notNull())
        .addColumn('uploaded_at', 'bigint', (c) => c.notNull())
        .addColumn('submitted_at', 'bigint')
        .addColumn('reviewed_at', 'bigint')
        .addColumn('reviewed_by', 'text')
        .addColumn('review_reason', 'text')
        .addColumn('published_at', 'bigint')
        .addUniqueConstraint('mini_program_versions_app_version', ['app_id', 'version'])
        .execute();

      // Files as base64 text: portable across SQLite and PostgreSQL, and versions are small (limits in
      // the workspace service).
      await db.schema
        .createTable('mini_program_files')
        .addColumn('version_id', 'text', (c) => c.notNull().references('mini_program_versions.id'))
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('size_bytes', 'bigint', (c) => c.notNull())
        .addColumn('data_base64', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('mini_program_files_pk', ['version_id', 'path'])
        .execute();
    },
  },
  '0006_onboarding': {
    async up(db: Kysely<unknown>) {
      // Servers look for merchant changes made by other processes (the CLI) by time, once a second.
      await db.schema.createIndex('merchant_events_at').on('merchant_events').column('at').execute();
    },
  },
  '0007_workspace': {
    async up(db: Kysely<unknown>) {
      // The origins an uploaded mini program may call (its merchant's API servers): the CSP of its files
      // allows them in connect-src and img-src. Space-separated, like Alipay's server domain whitelist.
      await db.schema.alterTable('mini_programs').addColumn('server_origins', 'text').execute();
      // An operator's decision on a feature that needs activation (USER_INFO), with the reason shown.
      await db.schema.alterTable('mini_program_features').addColumn('decided_by', 'text').execute();
      await db.schema.alterTable('mini_program_features').addColumn('decision_reason', 'text').execute();
    },
  },
};

/**
 * `billetera notifications list|redeliver`: the outbox for operators. `list` shows deliveries with every
 * recorded attempt; `redeliver` puts a FAILED notification (or a DELIVERED one, with --force) back in the
 * outbox, due now, as a new round of the retry ladder with its history kept, or all of a merchant's
 * FAILED ones. A running server's notifier sends them within its poll interval (about a second).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { MAX_ATTEMPTS } from '@billetera/domain';
import { formatWireTime } from '@billetera/protocol';
import type { NotificationStatus } from '@billetera/store';
import { MAX_LIST_LIMIT, listDeliveries, redeliver, redeliverFailed, type Delivery } from '@billetera/wallet';
import { parseIntStrict, print, withStoreOptions, withWallet, type StoreOptions } from './options.ts';

const STATUSES: NotificationStatus[] = ['PENDING', 'DELIVERED', 'FAILED'];

function parseStatus(value: string): NotificationStatus {
  const upper = value.toUpperCase();
  if (!(STATUSES as string[]).includes(upper))
    throw new InvalidArgumentError(`the status must be one of ${STATUSES.join(', ')}`);
  return upper as NotificationStatus;
}

/** A delivery as JSON: times as wire times, the body parsed. */
export function deliveryJson(d: Delivery) {
  const n = d.notification;
  return {
    notificationId: n.id,
    kind: n.kind,
    clientId: d.clientId,
    paymentId: n.paymentId,
    ...(n.refundId !== null ? { refundId: n.refundId } : {}),
    sequence: n.seq,
    url: n.url,
    status: n.status,
    attempts: n.attempts,
    attemptsInRound: n.attempts - n.ladderBase,
    redeliveries: n.redeliveries,
    createdAt: formatWireTime(n.createdAt),
    ...(n.status === 'PENDING' ? { nextAttemptAt: formatWireTime(n.nextAttemptAt) } : {}),
    ...(n.deliveredAt !== null ? { deliveredAt: formatWireTime(n.deliveredAt) } : {}),
    ...(n.lastError !== null ? { lastError: n.lastError } : {}),
    body: JSON.parse(n.body) as unknown,
    attemptLog: d.attempts.map((a) => ({
      attemptNo: a.attemptNo,
      startedAt: formatWireTime(a.startedAt),
      latencyMs: a.latencyMs,
      httpStatus: a.httpStatus,
      outcome: a.outcome,
      ...(a.error !== null ? { error: a.error } : {}),
      ...(a.replyExcerpt !== null ? { replyExcerpt: a.replyExcerpt } : {}),
    })),
  };
}

function deliveryText(d: Delivery): string {
  const n = d.notification;
  const head =
    `${n.id}  ${n.kind} #${n.seq} of ${n.paymentId}  ${n.status}  ` +
    `attempts ${n.attempts} (this round ${n.attempts - n.ladderBase}/${MAX_ATTEMPTS})` +
    (n.status === 'PENDING' ? `  next ${formatWireTime(n.nextAttemptAt)}` : '') +
    `\n  -> ${n.url} (Client-Id ${d.clientId})`;
  const lines = d.attempts.map(
    (a) =>
      `  ${String(a.attemptNo).padStart(3)}  ${formatWireTime(a.startedAt)}  ${a.httpStatus === null ? '---' : a.httpStatus}  ${a.outcome}  ${a.latencyMs} ms${a.error !== null ? `  ${a.error}` : ''}`,
  );
  return [head, ...lines].join('\n');
}

export function notificationsCommand(): Command {
  const cmd = new Command('notifications').description('inspect and redeliver merchant notifications');
  withStoreOptions(
    cmd
      .command('list')
      .description('list notifications, newest first, with every recorded attempt')
      .option('--client-id <clientId>', "only this merchant's")
      .option('--payment <paymentId>', "only this payment's (its notifyPayment and notifyRefund)")
      .option('--status <status>', 'PENDING, DELIVERED or FAILED', parseStatus)
      .addOption(
        new Option('--limit <n>', `at most this many (1-${MAX_LIST_LIMIT})`)
          .argParser(parseIntStrict('--limit', 1, MAX_LIST_LIMIT))
          .default(50),
      )
      .option('--json', 'print JSON'),
  ).action(
    async (
      o: StoreOptions & {
        clientId?: string;
        payment?: string;
        status?: NotificationStatus;
        limit: number;
        json?: boolean;
      },
    ) => {
      const deliveries = await withWallet(o, (ctx) =>
        listDeliveries(ctx, { clientId: o.clientId, paymentId: o.payment, status: o.status, limit: o.limit }),
      );
      print(
        o.json === true,
        { notifications: deliveries.map(deliveryJson) },
        deliveries.length === 0 ? 'no notifications' : deliveries.map(deliveryText).join('\n\n'),
      );
    },
  );
  withStoreOptions(
    cmd
      .command('redeliver')
      .description(
        'send a FAILED notification again (a new round of the retry ladder, history kept), or all FAILED ones of a merchant',
      )
      .argument('[notificationId]', 'the ntf_... id (see `notifications list`)')
      .option('--force', 'also redeliver a DELIVERED notification', false)
      .option('--client-id <clientId>', 'with --all-failed: the merchant')
      .option('--all-failed', "redeliver every FAILED notification of --client-id's merchant", false)
      .option('--json', 'print JSON'),
  ).action(
    async (
      notificationId: string | undefined,
      o: StoreOptions & { force: boolean; clientId?: string; allFailed: boolean; json?: boolean },
    ) => {
      if (o.allFailed) {
        if (o.clientId === undefined) throw new Error('--all-failed needs --client-id');
        if (notificationId !== undefined) throw new Error('give a notification id or --all-failed, not both');
        const clientId = o.clientId;
        const count = await withWallet(o, (ctx) => redeliverFailed(ctx, { clientId }));
        print(
          o.json === true,
          { redelivered: count },
          `${count} failed notification(s) of ${clientId} queued again`,
        );
        return;
      }
      if (notificationId === undefined)
        throw new Error('give a notification id, or --client-id with --all-failed');
      const n = await withWallet(o, (ctx) => redeliver(ctx, { notificationId, force: o.force }));
      print(
        o.json === true,
        { redelivered: 1, notificationId: n.id, status: n.status, attempts: n.attempts },
        `${n.id} queued again (attempts so far ${n.attempts}; a new round of ${MAX_ATTEMPTS})`,
      );
    },
  );
  return cmd;
}

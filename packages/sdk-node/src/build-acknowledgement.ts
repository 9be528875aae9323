/**
 * What a merchant answers to a notification it has handled. The wallet counts a notification as
 * delivered only on HTTP 200 with `result.resultStatus == "S"` (decisions.md) and accepts an unsigned
 * ack (ANTOM); ES/AMP say every response is signed, so the ack is signed when the path is known.
 */
import { NOTIFY_ACK_BODY, formatWireTime } from '@billetera/protocol';
import { loadPrivateKey, type KeyObject } from '@billetera/protocol/signing';
import { merchantSignature } from './sign-headers.ts';
import { requestPath } from './verify-message.ts';

export interface Acknowledgement {
  statusCode: 200;
  headers: Record<string, string>;
  body: string;
}

export interface AcknowledgementSigning {
  /** The notification's path, as given to verifyNotification: the ack signs the same request line. */
  path: string;
  clientId: string;
  privateKey: string | KeyObject;
  /** Absent: the header carries none, and the wallet uses the merchant's newest active key. */
  keyVersion?: number | undefined;
  now?: () => number;
}

export async function acknowledgement(signing?: AcknowledgementSigning): Promise<Acknowledgement> {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=UTF-8' };
  if (signing === undefined) return { statusCode: 200, headers, body: NOTIFY_ACK_BODY };
  const time = formatWireTime((signing.now ?? Date.now)());
  const signer = {
    clientId: signing.clientId,
    privateKey: loadPrivateKey(signing.privateKey),
    keyVersion: signing.keyVersion,
  };
  const signature = await merchantSignature(signer, {
    path: requestPath(signing.path),
    time,
    body: NOTIFY_ACK_BODY,
  });
  // Lower case, as the wallet writes its own reply headers (official SDKs look them up that way).
  Object.assign(headers, { 'client-id': signing.clientId, 'response-time': time, signature });
  return { statusCode: 200, headers, body: NOTIFY_ACK_BODY };
}

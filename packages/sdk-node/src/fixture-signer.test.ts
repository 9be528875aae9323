import { parseSignatureHeader } from '@billetera/protocol';
import { generateRsaKeyPair, loadPublicKey } from '@billetera/protocol/signing';
import { describe, expect, it } from 'vitest';
import { createFixtureSigner } from './fixture-signer.ts';
import { verifyNotification } from './verify-notification.ts';

describe('createFixtureSigner', () => {
  it('uses a given wallet key and key version, and publishes the matching public key', async () => {
    const pair = await generateRsaKeyPair();
    const signer = await createFixtureSigner({ walletPrivateKey: pair.privateKeyPem, keyVersion: 4 });
    expect(loadPublicKey(signer.walletPublicKeyPem).equals(loadPublicKey(pair.publicKeyPem))).toBe(true);

    const reply = await signer.signReply({ reply: { result: {} }, path: '/x', clientId: 'C' });
    const parsed = parseSignatureHeader(reply.headers['signature']);
    expect(parsed.ok && parsed.value.keyVersion).toBe(4);
    expect(Object.keys(reply.headers).sort()).toEqual([
      'client-id',
      'content-type',
      'response-time',
      'signature',
      'trace-id',
    ]);
  });

  it('generates a fresh key pair per signer', async () => {
    const [a, b] = await Promise.all([createFixtureSigner(), createFixtureSigner()]);
    expect(a.walletPublicKey.equals(b.walletPublicKey)).toBe(false);
  });

  it('signs notifications a merchant handler accepts with the published key', async () => {
    const signer = await createFixtureSigner();
    const notification = {
      partnerId: 'P1',
      paymentId: 'pay_1',
      paymentRequestId: 'r1',
      paymentAmount: { currency: 'JPY', value: '1200' },
      paymentStatus: 'FAIL' as const,
      paymentFailReason: 'ORDER_EXPIRED',
    };
    const { body, headers } = await signer.signNotification({ notification, path: '/n', clientId: 'C' });
    expect(Object.keys(headers).sort()).toEqual(['client-id', 'content-type', 'request-time', 'signature']);
    const options = { path: '/n', clientId: 'C', walletPublicKey: signer.walletPublicKeyPem };
    expect(verifyNotification(body, headers, options)).toEqual(notification);
  });
});

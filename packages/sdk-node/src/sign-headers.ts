/**
 * The merchant's `Signature` header for a request or an acknowledgement. Without a configured
 * keyVersion the header carries none, which the wallet reads as "the newest active key" (decisions.md):
 * a merchant that rotates keys then needs no code change, only the new private key.
 */
import { contentBytes, signAsync, signMessage, type KeyObject } from '@billetera/protocol/signing';

export interface MerchantSigner {
  clientId: string;
  privateKey: KeyObject;
  keyVersion: number | undefined;
}

export async function merchantSignature(
  signer: MerchantSigner,
  message: { path: string; time: string; body: string },
): Promise<string> {
  const { clientId, privateKey, keyVersion } = signer;
  if (keyVersion !== undefined) return signMessage({ ...message, clientId, privateKey, keyVersion });
  const content = contentBytes('POST', message.path, clientId, message.time, Buffer.from(message.body));
  const signature = await signAsync(content, privateKey);
  // The wallet's own spelling (formatSignatureHeader) minus the keyVersion pair.
  return `algorithm=RSA256,signature=${encodeURIComponent(signature)}`;
}

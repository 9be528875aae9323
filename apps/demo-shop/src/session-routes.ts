/**
 * "Sign in with Billetera": the mini program gets an `authCode` from `my.getAuthCode` (the user agreed
 * to share what the scopes say) and posts it here. The shop exchanges it with the signed `applyToken`,
 * reads the user with `inquiryUserInfo`, and keeps a session in memory: the user's `customerId` (this
 * shop's pseudonym for them) and nickname. The code is single use: a second post of it is refused.
 */
import type { ApplyTokenRequest } from '@billetera/protocol';
import type { FastifyInstance } from 'fastify';
import { newSessionId, type ShopSession } from './session-book.ts';
import type { ShopContext } from './shop-context.ts';
import { signInFailure } from './wallet-errors.ts';

/** The wallet's codes are far shorter; anything longer is not one. */
const AUTH_CODE_MAX_CHARS = 128;

export function registerSessionRoutes(app: FastifyInstance, shop: ShopContext): void {
  app.post('/api/session', async (req, reply) => {
    const authCode = readAuthCode(req.body);
    if (authCode === undefined) {
      return reply.code(400).send({
        error: 'INVALID_REQUEST',
        message: `authCode must be a string of 1 to ${AUTH_CODE_MAX_CHARS} characters`,
      });
    }
    let session: ShopSession;
    try {
      const token = await shop.client.applyToken(applyTokenRequest(shop, authCode));
      if (token.accessToken === undefined || token.customerId === undefined) {
        req.log.error({ result: token.result }, 'applyToken succeeded without an accessToken or customerId');
        return reply
          .code(502)
          .send({ error: 'WALLET_UNEXPECTED_REPLY', message: 'the wallet gave no access token' });
      }
      const { userInfo } = await shop.client.inquiryUserInfo({ accessToken: token.accessToken });
      if (userInfo !== undefined && userInfo.userId !== token.customerId) {
        req.log.error('inquiryUserInfo answered for another user than applyToken');
        return reply
          .code(502)
          .send({ error: 'WALLET_UNEXPECTED_REPLY', message: 'the wallet answered for another user' });
      }
      session = {
        sessionId: newSessionId(),
        customerId: token.customerId,
        nickName: userInfo?.nickName || undefined,
        createdAt: Date.now(),
      };
    } catch (err) {
      const failure = signInFailure(err);
      if (!failure) throw err;
      req.log.warn({ err }, 'sign-in refused or failed');
      return reply.code(failure.statusCode).send(failure.body);
    }
    shop.sessions.add(session);
    req.log.info({ customerId: session.customerId }, 'signed in with Billetera');
    return reply
      .code(201)
      .header('cache-control', 'no-store')
      .send({
        sessionId: session.sessionId,
        customerId: session.customerId,
        ...(session.nickName !== undefined ? { nickName: session.nickName } : {}),
      });
  });
}

function readAuthCode(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { authCode } = body as Record<string, unknown>;
  return typeof authCode === 'string' && authCode.length > 0 && authCode.length <= AUTH_CODE_MAX_CHARS
    ? authCode
    : undefined;
}

/** With the shop's appId, the wallet also checks the code was issued in the shop's own mini program. */
function applyTokenRequest(shop: ShopContext, authCode: string): ApplyTokenRequest {
  return {
    grantType: 'AUTHORIZATION_CODE',
    authCode,
    ...(shop.appId !== undefined ? { referenceClientId: shop.appId } : {}),
  };
}

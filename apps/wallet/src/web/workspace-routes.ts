/** Routes for the mini program workspace: create, upload, review, publish, features; wallet-hosted files under /mp. */
import type { FastifyInstance } from 'fastify';
import type { WalletContext } from '../context.ts';

export function registerWorkspace(_app: FastifyInstance, _ctx: WalletContext): void {}

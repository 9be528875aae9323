/** Routes for the console's credentials, payments, timelines and notifications. */
import type { FastifyInstance } from 'fastify';
import type { WalletContext } from '../context.ts';

export function registerConsoleViews(_app: FastifyInstance, _ctx: WalletContext): void {}

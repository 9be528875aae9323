/** Routes for merchant sign-up, licence, status (/console) and the operators' back office (/ops): owned by the onboarding work. */
import type { FastifyInstance } from 'fastify';
import type { WalletContext } from '../context.ts';

export function registerOnboarding(_app: FastifyInstance, _ctx: WalletContext): void {}

/**
 * The HTTP ceiling: a bare Fastify route with a reply the size of a pay reply, no logging, no database,
 * no signature. Run as a child process like the wallet, driven by the same load generator.
 */
import Fastify from 'fastify';

const REPLY = JSON.stringify({
  result: { resultStatus: 'A', resultCode: 'ACCEPT', resultMessage: 'accept' },
  paymentId: 'pay_' + 'x'.repeat(22),
  paymentRequestId: 'bench-' + 'y'.repeat(20),
  actionForm: {
    actionFormType: 'REDIRECTION',
    redirectionUrl: 'http://127.0.0.1:1/cashier/pay_' + 'x'.repeat(22),
  },
  paymentExpiryTime: '2026-01-01T00:00:00+00:00',
});

if (!process.send) throw new Error('bare-server runs as a child of the bench (with an IPC channel)');
const app = Fastify({ logger: false });
app.post('/echo', async (_req, reply) => reply.header('content-type', 'application/json').send(REPLY));
const url = await app.listen({ port: 0, host: '127.0.0.1' });
const stop = () => void app.close().finally(() => process.exit(0));
process.on('disconnect', stop);
process.on('SIGTERM', stop);
setTimeout(stop, 60 * 60_000).unref();
process.send({ type: 'ready', url });

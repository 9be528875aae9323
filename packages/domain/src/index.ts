export * from './ports.ts';
export * from './ledger.ts';
export * from './payment.ts';
export * from './pin.ts';
export * from './notification.ts';
export * from './refund.ts';
export * from './features.ts';

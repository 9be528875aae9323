export * from './schema.ts';
export * from './migrations.ts';
export * from './open-store.ts';
export * from './ledger.ts';
export * from './merchants.ts';
export * from './users.ts';
export * from './payments.ts';
export * from './notifications.ts';

export * from './result-codes.ts';
export * from './amount.ts';
export * from './time.ts';
export * from './signature.ts';
export * from './schemas.ts';
export * from './validate.ts';
export * from './paths.ts';

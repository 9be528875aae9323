import type { ResultCode } from '@billetera/protocol';

/** A catalogued refusal thrown inside a transaction so that it rolls back; caught at the service edge. */
export class Refusal extends Error {
  constructor(
    readonly code: ResultCode,
    message?: string,
  ) {
    super(message ?? code);
  }
}

import type { ResultCode } from '@billetera/protocol';

/** A catalogued refusal thrown inside a transaction so that it rolls back; caught at the service edge. */
export class Refusal extends Error {
  /** The message for the wire, when there is more to say than the catalogue's message. */
  readonly detail: string | undefined;

  constructor(
    readonly code: ResultCode,
    message?: string,
  ) {
    super(message ?? code);
    this.detail = message;
  }
}

/** The ways the distributed mode can fail; stable, for tests and exit codes. */
export type QueueErrorCode =
  | 'EXO_REDIS_MISSING'
  | 'EXO_REDIS_URL'
  | 'EXO_REDIS_UNREACHABLE'
  | 'EXO_SCAN_ID'
  | 'EXO_SCAN_NOT_FOUND'
  | 'EXO_SCAN_MISMATCH'
  | 'EXO_SCAN_INCOMPLETE'
  | 'EXO_SCAN_FAILED';

/** An error of the queue layer: exit code 1 with a one-line message. */
export class QueueError extends Error {
  override readonly name = 'QueueError';
  constructor(
    readonly code: QueueErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

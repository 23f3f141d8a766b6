/** The ways the distributed mode can fail; stable, for tests and exit codes. */
export type QueueErrorCode =
  | 'EXO_REDIS_MISSING'
  | 'EXO_REDIS_URL'
  | 'EXO_REDIS_UNREACHABLE'
  | 'EXO_REDIS_OOM'
  | 'EXO_SCAN_ID'
  | 'EXO_SCAN_NOT_FOUND'
  | 'EXO_SCAN_MISMATCH'
  | 'EXO_SCAN_INCOMPLETE'
  | 'EXO_SCAN_LOST'
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

/**
 * A scan whose keys were there and are gone: Redis restarted without
 * persistence (or the keys were deleted). Says what happened and what to do.
 */
export function scanLost(scanId: string): QueueError {
  return new QueueError(
    'EXO_SCAN_LOST',
    `scan ${scanId}: its keys disappeared from Redis (Redis restarted without persistence, or they were deleted); re-run \`exoscope enqueue\` on the same input with --scan ${scanId}, or run Redis with appendonly yes`,
  );
}

/**
 * BullMQ's codes for a job whose own keys (the job hash or its lock) are not
 * in Redis when the worker finishes or moves it: ErrorCode.JobNotExist and
 * JobLockNotExist ("Missing key for job ...", "Missing lock for job ...").
 */
const JOB_KEYS_GONE: ReadonlySet<unknown> = new Set([-1, -2]);

/**
 * Whether `err` is BullMQ saying a job's keys are gone from Redis: every job
 * a worker holds gets one when Redis restarts without persistence, so it
 * says once that the scan is lost rather than once a job.
 */
export function isJobKeyGone(err: unknown): boolean {
  return (
    err instanceof Error &&
    JOB_KEYS_GONE.has((err as { code?: unknown }).code) &&
    /^Missing (key|lock) for job /.test(err.message)
  );
}

/** What to do when Redis is full: one sentence, for errors and worker logs. */
export const OOM_ADVICE =
  "raise Redis's maxmemory, or free memory by collecting finished scans (collect --keep 0 deletes their keys)";

/**
 * Whether Redis refused a write because it reached `maxmemory` (with the
 * `noeviction` policy): an `OOM command not allowed ...` reply.
 */
export function isRedisOom(err: unknown): boolean {
  return err instanceof Error && /^OOM\b/.test(err.message);
}

/**
 * A Redis OOM reply as a one-line error that says what to do; other errors
 * unchanged. `where` is the redacted URL.
 */
export function explainRedisError(err: unknown, where: string): unknown {
  if (!isRedisOom(err)) return err;
  return new QueueError(
    'EXO_REDIS_OOM',
    `Redis at ${where} is out of memory (OOM: maxmemory reached): ${OOM_ADVICE}`,
    { cause: err },
  );
}

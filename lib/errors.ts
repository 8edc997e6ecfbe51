/** Every failure rewardkit reports is a RewardkitError with one of these codes. */
export type ErrorCode =
  | 'E_SHAPE' // lengths or shapes that do not fit together
  | 'E_DTYPE' // wrong array type
  | 'E_VALUE' // a value that is not allowed (NaN score, non-integer size, unknown option)
  | 'E_RANGE' // an index or size outside its range (group id, offsets)
  | 'E_BACKEND_UNAVAILABLE' // the requested backend cannot run here
  | 'E_DEVICE_LOST' // the GPU device was lost or the context disposed
  | 'E_OOM' // the GPU ran out of memory
  | 'E_GPU' // a GPU validation or internal error
  | 'E_NATIVE' // the native addon failed
  | 'E_WORKER'; // a worker thread failed or exited (rule rewards)

export class RewardkitError extends Error {
  override readonly name = 'RewardkitError';
  readonly code: ErrorCode;
  /** The argument at fault, when there is one (e.g. `scores`, `groups[12]`). */
  readonly argument: string | undefined;
  constructor(code: ErrorCode, message: string, argument?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.argument = argument;
  }
}

/** A short description of what a caller passed, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<unknown>).length ?? value.byteLength})`;
  if (Array.isArray(value)) return `Array(${value.length})`;
  if (typeof value === 'number') return `number ${value}`;
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'object') return `object ${(value as object).constructor?.name ?? 'Object'}`;
  return `${typeof value} ${String(value)}`;
}

/** Throws E_<code> with "Expected <expected> for <argument> but received <what>" (sharp's wording). */
export function fail(code: ErrorCode, argument: string, expected: string, received: string): never {
  throw new RewardkitError(code, `Expected ${expected} for ${argument} but received ${received}`, argument);
}

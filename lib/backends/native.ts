/**
 * The native (C++ N-API) addon loader. The addon is loaded lazily, once, from `REWARDKIT_NATIVE`
 * (a path to a .node file) when set, else `<package root>/build/Release/rewardkit.node` (built by
 * `npm install` / `npm run build:native`). Loading never throws: `nativeStatus()` says whether the
 * addon is available and why not; `loadNative()` throws E_BACKEND_UNAVAILABLE with that reason.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { RewardkitError } from '../errors.js';
import { packageRoot } from '../paths.js';

/** What `buildInfo()` reports about the compiled addon. */
export interface BuildInfo {
  buildSystem: 'cmake-js' | 'node-gyp';
  /** The compiler's `__VERSION__`. */
  compiler: string;
  /** The Node-API version the addon was built against (8). */
  napiVersion: number;
  /** std::thread::hardware_concurrency(): the threads the kernels split work over. */
  threads: number;
  version: string;
}

/** The validated, normalised GRPO problem as the addon reads it (see native/addon.cc). */
export interface NativeGrpoArgs {
  rows: number;
  /** T (padded) or 0 (packed). */
  cols: number;
  /** rows*cols (padded) or offsets[rows] (packed); < 2^32. */
  tokens: number;
  /** Padded layout: [rows*cols]; null when packed. */
  mask: Uint8Array | Float32Array | null;
  /** Packed layout: CSR offsets [rows+1], non-decreasing, offsets[rows] = tokens; null when padded. */
  offsets: Uint32Array | null;
  /** [rows], or [tokens] when tokenScores. */
  scores: Float32Array;
  tokenScores: boolean;
  sumMasked: boolean;
  /** [rows], dense ids in [0, numGroups). */
  groupIds: Uint32Array;
  /** 1 <= numGroups <= rows. */
  numGroups: number;
  trl: boolean;
  /** 0 = group, 1 = batch, 2 = none. */
  scale: 0 | 1 | 2;
  epsilon: number;
  /** Written: [tokens]. */
  outTokens: Float32Array;
  /** Written: [rows]. */
  outRows: Float32Array;
}

/**
 * The addon's exports. Argument errors (wrong type or length, an index out of range) throw a
 * TypeError or RangeError synchronously; the promises reject only when the work itself fails.
 */
export interface NativeAddon {
  /** GRPO advantages into outTokens/outRows, off the main thread. badRow = -1 when every row sum is allowed. */
  grpoAdvantages(args: NativeGrpoArgs): Promise<{ badRow: number; badValue: number }>;
  /** Multi-threaded copy of src's bytes into dst (same byte length), off the main thread; a bench reference. */
  copy(dst: ArrayBufferView, src: ArrayBufferView): Promise<void>;
  buildInfo(): BuildInfo;
}

export interface NativeStatus {
  available: boolean;
  /** Why not, when unavailable (how to build it, the build's error, or the load error); '' when available. */
  reason: string;
  /** The path the addon is (or would be) loaded from. */
  path: string;
  info?: BuildInfo;
}

let cached: { status: NativeStatus; addon?: NativeAddon } | undefined;

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function load(): { status: NativeStatus; addon?: NativeAddon } {
  const override = process.env['REWARDKIT_NATIVE'];
  let root: string | undefined;
  let path: string;
  try {
    root = packageRoot();
  } catch (err) {
    if (!override) return { status: { available: false, reason: messageOf(err), path: '' } };
  }
  if (override) path = isAbsolute(override) ? override : resolve(override);
  else path = join(root!, 'build', 'Release', 'rewardkit.node');

  if (!existsSync(path)) {
    let reason: string;
    if (override) {
      reason = `REWARDKIT_NATIVE points to ${path}, which does not exist`;
    } else {
      const errorFile = join(root!, 'build', 'native-error.txt');
      let buildError = '';
      try {
        if (existsSync(errorFile)) {
          // The summary and cause lines come first; the full output tail stays in the file.
          buildError = readFileSync(errorFile, 'utf8').split('\n--- output (tail) ---')[0]!.trim();
          if (buildError.length > 2000) buildError = `${buildError.slice(0, 2000)}…`;
        }
      } catch {
        // Fall back to the generic reason.
      }
      reason = buildError
        ? `the addon build failed (${errorFile}): ${buildError}\nRetry with \`npm run build:native\` in the rewardkit package (needs CMake >= 3.19 and a C++17 compiler).`
        : `the addon is not built (${path} is missing): run \`npm run build:native\` in the rewardkit package (needs CMake >= 3.19 and a C++17 compiler)`;
    }
    return { status: { available: false, reason, path } };
  }

  const threads = process.env['REWARDKIT_THREADS'];
  if (threads !== undefined && !/^[1-9][0-9]{0,3}$/.test(threads)) {
    return { status: { available: false, reason: `REWARDKIT_THREADS must be a whole number from 1 to 9999 (the threads the native kernels use), got '${threads}'`, path } };
  }
  try {
    const require = createRequire(import.meta.url);
    const addon = require(path) as NativeAddon;
    if (typeof addon?.grpoAdvantages !== 'function' || typeof addon.buildInfo !== 'function') {
      return { status: { available: false, reason: `${path} is not the rewardkit addon (no grpoAdvantages/buildInfo exports)`, path } };
    }
    const info = addon.buildInfo();
    return { status: { available: true, reason: '', path, info }, addon };
  } catch (err) {
    return { status: { available: false, reason: `loading ${path} failed: ${messageOf(err)}`, path } };
  }
}

/** Whether the native addon can run here, and why not. Loads it on first call; never throws. */
export function nativeStatus(): NativeStatus {
  cached ??= load();
  return cached.status;
}

/** The loaded addon; throws RewardkitError E_BACKEND_UNAVAILABLE with the reason when it cannot load. */
export function loadNative(): NativeAddon {
  cached ??= load();
  if (!cached.addon) {
    throw new RewardkitError('E_BACKEND_UNAVAILABLE', `The native backend is unavailable: ${cached.status.reason}`, 'backend');
  }
  return cached.addon;
}

/**
 * Call an op the addon registered with REWARDKIT_OP (native/common/op.h) with its validated,
 * normalised arguments. Resolves with the numbers the op returns; any failure (a defence-in-depth
 * argument check in C++, or the work itself) becomes E_NATIVE, and an addon built before the op
 * existed gives E_BACKEND_UNAVAILABLE.
 */
export async function callNative<R = Record<string, number>>(op: string, args: object): Promise<R> {
  const addon = loadNative() as unknown as Record<string, unknown>;
  const fn = addon[op];
  if (typeof fn !== 'function') {
    throw new RewardkitError('E_BACKEND_UNAVAILABLE', `The native backend is unavailable: the addon has no '${op}' (it was built from older sources; run \`npm run build:native\`)`, 'backend');
  }
  try {
    return (await (fn as (a: object) => Promise<R>)(args)) as R;
  } catch (err) {
    throw new RewardkitError('E_NATIVE', `The native ${op} failed: ${messageOf(err)}`, undefined, { cause: err });
  }
}

/** 16-bit float storage (Node 20 has no Float16Array: f16 and bf16 travel as Uint16Array bits). */

/** One f16 bit pattern → its exact value (every f16 is exactly an f32). */
export function f16Value(h: number): number {
  const e = (h >>> 10) & 0x1f, m = h & 0x3ff, s = h & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24; // subnormal (or zero)
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1024 + m) * 2 ** (e - 25);
}

const F16_TABLE = (() => {
  const t = new Float32Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = f16Value(i);
  return t;
})();

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);
/** One bf16 bit pattern → its exact value (the top half of an f32). */
export function bf16Value(b: number): number {
  scratchBits[0] = b << 16;
  return scratch[0]!;
}

/** Widen Uint16Array bits (f16 or bf16) to f32 values, exactly. */
export function widen16(bits: Uint16Array, dtype: 'f16' | 'bf16', out = new Float32Array(bits.length)): Float32Array {
  if (dtype === 'f16') {
    for (let i = 0; i < bits.length; i++) out[i] = F16_TABLE[bits[i]!]!;
  } else {
    const u = new Uint32Array(out.buffer, out.byteOffset, out.length);
    for (let i = 0; i < bits.length; i++) u[i] = bits[i]! << 16;
  }
  return out;
}

/** A reader of element i as a number for any storage dtype. */
export function elementReader(data: Float32Array | Uint16Array, dtype: 'f32' | 'f16' | 'bf16'): (i: number) => number {
  if (dtype === 'f32') return (i) => (data as Float32Array)[i]!;
  if (dtype === 'f16') return (i) => F16_TABLE[data[i]!]!;
  return (i) => bf16Value(data[i]!);
}

/** Every GpuContext.upload() path moves exactly the bytes given, and the selected one is what ops use. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createContext, gpuStatus, grpoAdvantages, type GpuContext } from '../lib/index.js';
import { defaultUpload, stagingMinBytes, uploadMethods, type UploadMethod } from '../lib/backends/webgpu/context.js';
import { formatUpload, measureUpload } from '../lib/bench/upload.js';
import { agree } from './agreement.js';
import { isCI, makeCase, rng } from './helpers.js';

const status = await gpuStatus();

function bytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => 1 + Math.floor(r() * 255)); // never 0: padding stays visible
}

/** Upload `data`, read back its length rounded up to whole words: the data, then zero padding. */
async function roundTrip(ctx: GpuContext, data: ArrayBufferView): Promise<Uint8Array> {
  const buffer = ctx.upload(data, GPUBufferUsage.COPY_SRC);
  try {
    const back = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
    await ctx.read([[buffer, back]]);
    return back;
  } finally { ctx.release(buffer); }
}

function assertRoundTrip(back: Uint8Array, data: ArrayBufferView, what: string): void {
  const want = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const got = back.subarray(0, want.length);
  const first = got.findIndex((v, i) => v !== want[i]);
  assert.is(first, -1, `${what}: byte ${first} is ${got[first]}, expected ${want[first]}`);
  assert.equal([...back.subarray(want.length)], new Array(back.length - want.length).fill(0), `${what}: u8 padding is zero`);
}

if (status.available) {
  const contexts: GpuContext[] = [];
  const context = async (upload: UploadMethod, uploadChunkBytes?: number) => {
    const c = await createContext({ upload, ...(uploadChunkBytes ? { uploadChunkBytes } : {}) });
    contexts.push(c);
    return c;
  };

  // Chunks of 4 KiB make a 1 MiB + 3 byte upload take 257 pieces and a partial word.
  const paths: Array<[UploadMethod, number | undefined]> = [
    ['write-buffer', undefined], ['write-buffer', 4096], ['mapped', undefined], ['staging', undefined], ['staging', 4096],
  ];
  for (const [method, chunk] of paths) {
    const name = chunk ? `${method} in ${chunk}-byte chunks` : method;
    test(`${name}: uploads exactly the bytes (0, odd lengths, u8 tails, views, more than a chunk)`, async () => {
      const c = await context(method, chunk);
      const big = stagingMinBytes + 3; // large enough for 'staging' to use staging buffers
      for (const [i, n] of [0, 1, 2, 3, 5, 7, 1001, 4096, 4099, 3 * 4096 + 1, big].entries()) {
        const data = bytes(n, 10 + i);
        assertRoundTrip(await roundTrip(c, data), data, `${n} bytes`);
      }
      const f = new Float32Array(bytes(big * 4 - 3, 3).buffer.slice(0, (big - 1) * 4));
      assertRoundTrip(await roundTrip(c, f), f, 'Float32Array');
      const base = bytes(big + 64, 4);
      const view = base.subarray(5, 5 + big - 6); // byteOffset 5: not word-aligned on the host side
      assertRoundTrip(await roundTrip(c, view), view, 'a view at byte offset 5');
      if (method === 'staging') assert.ok(c.uploaded.staging >= 3 * big - 10, `staging buffers carried the large uploads (${c.uploaded.staging} bytes)`);
      else assert.is(c.uploaded.staging, 0);
    });

    test(`${name}: the data is copied before upload() returns`, async () => {
      const c = await context(method, chunk);
      const data = bytes(stagingMinBytes + 1, 20);
      const keep = data.slice();
      const buffer = c.upload(data, GPUBufferUsage.COPY_SRC);
      data.fill(0);
      const back = new Uint8Array(Math.ceil(keep.length / 4) * 4);
      await c.read([[buffer, back]]);
      c.release(buffer);
      assertRoundTrip(back, keep, 'after the caller overwrote its array');
    });
  }

  test('staging: reused staging buffers hold old bytes, yet u8 padding and later uploads come out exact', async () => {
    const c = await context('staging', 4096);
    for (let round = 0; round < 3; round++) {
      for (const n of [stagingMinBytes + 4096 * 3, stagingMinBytes + 1, stagingMinBytes + 4094]) {
        const data = bytes(n, 100 * round + n);
        assertRoundTrip(await roundTrip(c, data), data, `round ${round}, ${n} bytes`);
      }
      await c.settle();
    }
  });

  test('staging: stagingBytes 0 keeps nothing and still uploads exactly; a disposed context settles', async () => {
    const c = await createContext({ upload: 'staging', uploadChunkBytes: 65536, stagingBytes: 0 });
    const data = bytes(stagingMinBytes * 2 + 7, 30);
    assertRoundTrip(await roundTrip(c, data), data, 'no staging kept');
    await c.settle();
    c.upload(data); // staging buffers in flight when the device goes away
    c.dispose();
    await c.settle();
  });

  test('options: an unknown method or a tiny chunk is E_VALUE; the default follows the adapter', async () => {
    for (const bad of [{ upload: 'dma' as UploadMethod }, { uploadChunkBytes: 100 }, { stagingBytes: -1 }]) {
      try { await createContext(bad); assert.unreachable(); } catch (e: any) { assert.is(e.code, 'E_VALUE', JSON.stringify(bad)); }
    }
    const c = await context(undefined as unknown as UploadMethod);
    assert.is(c.uploadMethod, defaultUpload(status.adapter!));
    assert.is(defaultUpload({ software: false }), 'staging');
    assert.is(defaultUpload({ software: true }), 'write-buffer');
  });

  test('each method is what a webgpu op uses, and the op agrees with js', async () => {
    // 1,100 × 300 f32 token scores: 1.3 MiB, over stagingMinBytes.
    const options = makeCase({ rows: 1100, cols: 300, tokenScores: true, groups: 'labels' }, 41);
    assert.ok((options.scores as Float32Array).byteLength >= stagingMinBytes);
    for (const method of [...uploadMethods, undefined]) {
      const c = await createContext(method ? { upload: method, uploadChunkBytes: 65536 } : {});
      contexts.push(c);
      await agree(options, 'webgpu', { context: c });
      const used = method ?? defaultUpload(status.adapter!);
      assert.ok(c.uploaded[used] >= (options.scores as Float32Array).byteLength, `${used} carried the scores`);
      for (const other of uploadMethods) if (other !== used && other !== 'write-buffer') assert.is(c.uploaded[other], 0, `${other} unused`);
    }
  });

  test('measureUpload reports every variant and size, and the tiny op', async () => {
    const c = await context('write-buffer');
    const r = await measureUpload(c, [4096, stagingMinBytes + 4], { runs: 1, overheadRuns: 2, variants: [{ method: 'write-buffer' }, { method: 'staging', chunkBytes: 65536 }] });
    assert.is(r.uploads.length, 4);
    for (const u of r.uploads) assert.ok(u.medianMs > 0 && u.gbps > 0 && u.samplesMs.length === 1, JSON.stringify(u));
    assert.equal(r.overhead.map((o) => o.method), ['write-buffer', 'staging']);
    assert.is(c.uploadMethod, 'write-buffer', 'the method is restored');
    assert.ok(formatUpload(r).includes('| staging 64 KiB chunks |'));
  });

  test.after(() => { for (const c of contexts) c.dispose(); });
} else if (isCI) {
  test('a WebGPU adapter is available in CI', () => assert.unreachable(`WebGPU unavailable: ${status.reason}`));
} else {
  test.skip(`upload paths (no WebGPU adapter: ${status.reason})`, () => {});
}

test.run();

import { backendStatus } from '../status.js';
import { disposeDefaultContext } from '../backends/webgpu/context.js';
import { thresholds, thresholdsSource } from '../backends/thresholds.js';

const shownLimits = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupsPerDimension',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupStorageSize', 'minStorageBufferOffsetAlignment'];

export async function doctor(json: boolean): Promise<void> {
  const s = await backendStatus();
  disposeDefaultContext();
  if (json) { console.log(JSON.stringify({ ...s, thresholds, thresholdsSource }, null, 2)); return; }
  const mark = (ok: boolean) => (ok ? 'available' : 'UNAVAILABLE');
  console.log(`rewardkit doctor — node ${process.version}, ${process.platform}-${process.arch}\n`);
  console.log(`js      available (the reference)`);
  console.log(`native  ${mark(s.native.available)}${s.native.available ? '' : `: ${s.native.reason}`}`);
  if (s.native.info) for (const [k, v] of Object.entries(s.native.info as object)) console.log(`          ${k}: ${v}`);
  console.log(`webgpu  ${mark(s.webgpu.available)}${s.webgpu.available ? '' : `: ${s.webgpu.reason}`}`);
  const a = s.webgpu.adapter;
  if (a) {
    console.log(`          adapter: ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ')}${a.software ? ' (software: auto never picks it)' : ''}`);
    console.log(`          features: ${a.features.join(', ')}`);
    for (const k of shownLimits) console.log(`          ${k}: ${a.limits[k]}`);
  }
  console.log(`\nauto thresholds (elements per call; from ${thresholdsSource}): ${Object.entries(thresholds).map(([op, t]) => `${op}: native ≥ ${t.native}, webgpu ≥ ${t.webgpu}`).join('; ')}`);
}

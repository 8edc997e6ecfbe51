/**
 * `rewardkit/bench`: the benchmark harness as a library, for pipelines that want the figures
 * `rewardkit bench` prints (run a subset, render the report, derive `auto` thresholds).
 */
export { allOps } from './ops/index.js';
export { allPeers } from './peers/index.js';
export { runBench, selectOps, type RunOptions } from './runner.js';
export { renderHtml } from './report/html.js';
export { renderMarkdown } from './report/markdown.js';
export { deriveThresholds, saveThresholds } from './thresholds.js';
export { measureUpload, formatUpload, type UploadReport } from './upload.js';
export { presets, type BenchCase, type BenchReport, type BenchResult, type OpBench, type Peer, type PeerCall, type Preset } from './types.js';

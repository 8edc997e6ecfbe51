"""GRPO outcome advantages in Python, the peers of bench/python.ts: verl's loop over groups
(compute_grpo_outcome_advantage, numpy in place of torch) and a vectorised numpy version.

Reads the inputs rewardkit got (raw little-endian files: token rewards f32 [B*T], mask u8 [B*T],
group ids i32 [B]), times each version (median of --runs after one warm-up), writes the advantages
of the vectorised version for the caller to compare, and prints one JSON line of timings."""
import json
import sys
import time
from collections import defaultdict

import numpy as np


def grpo_loop(token_level_rewards, response_mask, index, epsilon=1e-6):
    # verl/trainer/ppo/core_algos.py compute_grpo_outcome_advantage, line for line.
    scores = token_level_rewards.sum(axis=-1)
    id2score = defaultdict(list)
    id2mean, id2std = {}, {}
    bsz = scores.shape[0]
    for i in range(bsz):
        id2score[index[i]].append(scores[i])
    for idx in id2score:
        if len(id2score[idx]) == 1:
            id2mean[idx], id2std[idx] = np.float32(0.0), np.float32(1.0)
        else:
            s = np.array(id2score[idx], dtype=np.float32)
            id2mean[idx], id2std[idx] = s.mean(), s.std(ddof=1)
    for i in range(bsz):
        scores[i] = (scores[i] - id2mean[index[i]]) / (id2std[index[i]] + epsilon)
    return scores[:, None] * response_mask


def grpo_numpy(token_level_rewards, response_mask, index, out, epsilon=1e-6):
    scores = token_level_rewards.sum(axis=-1, dtype=np.float32)
    groups = int(index.max()) + 1
    count = np.bincount(index, minlength=groups)
    mean = (np.bincount(index, weights=scores, minlength=groups) / count).astype(np.float32)
    centred = scores - mean[index]
    var = np.bincount(index, weights=centred * centred, minlength=groups) / np.maximum(count - 1, 1)
    single = count == 1
    mean = np.where(single, 0, mean).astype(np.float32)
    std = np.where(single, 1, np.sqrt(var)).astype(np.float32)
    adv = (scores - mean[index]) / (std[index] + np.float32(epsilon))
    np.multiply(adv[:, None], response_mask, out=out)
    return out


def median_ms(fn, runs):
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(times))


def main():
    rows, cols, runs, folder = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    rewards = np.fromfile(f"{folder}/rewards.f32", dtype=np.float32).reshape(rows, cols)
    mask = np.fromfile(f"{folder}/mask.u8", dtype=np.uint8).reshape(rows, cols).astype(bool)
    index = np.fromfile(f"{folder}/groups.i32", dtype=np.int32)
    out = np.empty((rows, cols), dtype=np.float32)
    loop = median_ms(lambda: grpo_loop(rewards, mask, index), max(1, runs // 2))
    vec = median_ms(lambda: grpo_numpy(rewards, mask, index, out), runs)
    grpo_numpy(rewards, mask, index, out).tofile(f"{folder}/numpy.f32")
    print(json.dumps({"loopMs": loop, "numpyMs": vec, "numpy": np.__version__, "python": sys.version.split()[0]}))


main()

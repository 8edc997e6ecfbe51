"""PyTorch peers for the accelerator run (bench/gpu.sh): the same math rewardkit runs, written the way
verl / Flow-GRPO write it, timed with CUDA events (or wall time on the CPU), medians of --runs.

  python3 bench/py/torch_peers.py --device cuda --scale big --out result.json

Ops: GRPO advantages (verl's vectorised form), log-softmax + gather + entropy from bf16 logits,
vanilla PPO loss with token-mean, a Flow-GRPO SDE step with log-prob, an f32 matmul with TF32 off,
and a device-to-device copy (the bandwidth roofline)."""
import argparse
import json
import math
import time

import torch


def timer(device, runs, fn):
    fn()
    if device == "cuda":
        torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        if device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return times[len(times) // 2]


def grpo_vectorized(rewards, mask, index, groups, eps=1e-6):
    # verl compute_grpo_vectorized_outcome_advantage: scatter-add group sums, one-pass variance.
    scores = rewards.sum(dim=-1)
    n = torch.zeros(groups, device=scores.device).scatter_add_(0, index, torch.ones_like(scores))
    s1 = torch.zeros(groups, device=scores.device).scatter_add_(0, index, scores)
    s2 = torch.zeros(groups, device=scores.device).scatter_add_(0, index, scores * scores)
    mean = s1 / n
    var = (s2 - s1 * s1 / n) / torch.clamp(n - 1, min=1)
    std = torch.sqrt(torch.clamp(var, min=eps))
    adv = (scores - mean[index]) / (std[index] + eps)
    return adv.unsqueeze(-1) * mask


def logprobs_entropy(logits, labels):
    # verl logprobs_from_logits (log_softmax + gather) and entropy_from_logits, f32 math.
    z = logits.float()
    logp = torch.log_softmax(z, dim=-1).gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    p = torch.softmax(z, dim=-1)
    entropy = torch.logsumexp(z, dim=-1) - (p * z).sum(dim=-1)
    return logp, entropy


def ppo_loss(logp, old, adv, mask, lo=0.2, hi=0.2, c=3.0):
    # verl compute_policy_loss_vanilla with token-mean aggregation.
    lr = torch.clamp(logp - old, -20.0, 20.0)
    ratio = torch.exp(lr)
    l1 = -adv * ratio
    l2 = -adv * torch.clamp(ratio, 1 - lo, 1 + hi)
    c1 = torch.maximum(l1, l2)
    c2 = torch.min(-adv * c, c1)
    pg = torch.where(adv < 0, c2, c1)
    return (pg * mask).sum() / mask.sum()


def sde_step(x, v, eps, sigma, sigma_next, sigma_max, noise_level=0.7):
    # Flow-GRPO sde_step_with_logprob ('sde'), per-sample log-prob as a mean over non-batch dims.
    dt = sigma_next - sigma
    std = torch.sqrt(sigma / (1 - torch.where(sigma == 1, sigma_max, sigma))) * noise_level
    mean = x + (v + std * std / (2 * sigma) * (x + (1 - sigma) * v)) * dt
    scale = std * torch.sqrt(-dt)
    prev = mean + scale * eps
    logp = -((prev - mean) ** 2) / (2 * scale * scale) - torch.log(scale) - math.log(math.sqrt(2 * math.pi))
    return prev, logp.mean(dim=tuple(range(1, x.ndim)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--scale", choices=["small", "big"], default="big")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--out")
    a = ap.parse_args()
    dev, big = a.device, a.scale == "big"
    torch.manual_seed(0)
    res = {"device": torch.cuda.get_device_name() if dev == "cuda" else "cpu", "torch": torch.__version__, "scale": a.scale, "ms": {}}

    B, T, G = (65536, 2048, 16) if big else (256, 64, 4)
    rewards = torch.zeros(B, T, device=dev)
    rewards[:, -1] = (torch.rand(B, device=dev) < 0.5).float()
    mask = (torch.rand(B, T, device=dev) < 0.8).float()
    index = torch.arange(B, device=dev) // G
    res["ms"][f"grpo_vectorized {B}x{T}"] = timer(dev, a.runs, lambda: grpo_vectorized(rewards, mask, index, B // G))
    del rewards

    N, V = (4096, 151936) if big else (64, 1000)
    logits = torch.randn(N, V, device=dev).to(torch.bfloat16)
    labels = torch.randint(0, V, (N,), device=dev)
    res["ms"][f"logprobs+entropy {N}x{V} bf16"] = timer(dev, a.runs, lambda: logprobs_entropy(logits, labels))
    del logits

    B2, T2 = (8192, 4096) if big else (64, 64)
    logp, old, adv = (torch.randn(B2, T2, device=dev) * 0.1 for _ in range(3))
    m2 = (torch.rand(B2, T2, device=dev) < 0.8).float()
    res["ms"][f"ppo_loss token-mean {B2}x{T2}"] = timer(dev, a.runs, lambda: ppo_loss(logp, old, adv, m2))
    del logp, old, adv, m2

    shape = (24, 16, 128, 128) if big else (2, 4, 8, 8)
    x, v, eps = (torch.randn(shape, device=dev) for _ in range(3))
    sig = torch.full((shape[0],) + (1,) * (len(shape) - 1), 0.9, device=dev)
    res["ms"][f"sde_step {list(shape)}"] = timer(dev, a.runs, lambda: sde_step(x, v, eps, sig, sig - 0.05, torch.tensor(0.96, device=dev)))

    torch.backends.cuda.matmul.allow_tf32 = False
    M, K, Nn = (4096, 4096, 1024) if big else (128, 128, 64)
    A, Bm = torch.randn(M, K, device=dev), torch.randn(K, Nn, device=dev)
    ms = timer(dev, a.runs, lambda: A @ Bm)
    res["ms"][f"matmul f32 {M}x{K}x{Nn}"] = ms
    res["matmul_tflops"] = 2 * M * K * Nn / (ms * 1e-3) / 1e12

    n = (1 << 28) if big else (1 << 20)
    src, dst = torch.empty(n, device=dev), torch.empty(n, device=dev)
    ms = timer(dev, a.runs, lambda: dst.copy_(src))
    res["ms"][f"copy {n * 4 >> 20} MiB"] = ms
    res["copy_gbps"] = 2 * n * 4 / (ms * 1e-3) / 1e9  # read + write

    text = json.dumps(res, indent=2)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


main()

"""The Python peers of `rewardkit bench`: numpy and PyTorch (CPU and CUDA) running the peer op keys
of lib/bench/peers/keys.ts on the very inputs rewardkit gets, written the way a user of each library
writes the math (vectorised; verl's own torch code where SPEC.md names it).

A persistent worker (lib/bench/peers/python.ts starts one): one JSON request per line on stdin, one
JSON answer per line on stdout; an error is answered {"error": ...}, never fatal.

  {"cmd": "probe"}  ->  {"python", "numpy", "torch", "cuda", "device", "threads", "errors": {lib: why}}
  {"cmd": "time", "lib": "numpy" | "torch-cpu" | "torch-cuda", "op": key,
   "inputs": {name: {"path", "dtype", "shape"}}, "params": {...}, "minTimeMs", "minIterations"}
                    ->  {"samplesMs": [...]}
  {"cmd": "run", ...same as time, "limit": n}  ->  {"outputs": {name: [first n values]}} (tests)

Inputs are raw little-endian files. They are loaded and put on the device once per request; the
storage conversions a user's data already has in that library (a bool mask, int64 indices, bf16
logits as a real bf16 tensor) happen there too, outside the timed calls.
"""
import json
import math
import os
import sys
import time

np = None
torch = None
errors = {}


def cores():
    """The cores this process may run on (the affinity mask where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def load_numpy():
    global np
    if np is None and "numpy" not in errors:
        try:
            import numpy

            numpy.seterr(all="ignore")  # exp overflow in silu/logsigmoid is expected and harmless
            np = numpy
        except Exception as e:  # noqa: BLE001 - any import failure means "not installed"
            errors["numpy"] = str(e)
    return np


def load_torch():
    global torch
    if torch is None and "torch" not in errors:
        try:
            import torch as t

            t.set_num_threads(cores())
            t.backends.cuda.matmul.allow_tf32 = False  # f32 GEMMs, as rewardkit computes them
            t.backends.cudnn.allow_tf32 = False
            torch = t
        except Exception as e:  # noqa: BLE001
            errors["torch"] = str(e)
    return torch


# ---------------------------------------------------------------------------------------------
# numpy: each op takes the prepared arrays and the params, returns its outputs by name.


def np_masked_mean(v, m):
    return np.where(m, v, 0).sum(dtype=np.float32) / (np.float32(m.sum()) + np.float32(1e-8))


def np_masked_whiten(v, m):
    # verl masked_whiten: masked mean, Bessel-corrected masked variance, (v - mean)·rsqrt(var + 1e-8).
    mean = np_masked_mean(v, m)
    c = v - mean
    n = np.float32(m.sum())
    var = np_masked_mean(c * c, m) * (n / (n - 1))
    return c * (np.float32(1) / np.sqrt(var + np.float32(1e-8)))


def np_grpo(a, p):
    # verl compute_grpo_vectorized_outcome_advantage / group_mean_std: one-pass group sums.
    s, g, m = a["scores"], a["groups"], a["mask"]
    eps = np.float32(p.get("epsilon", 1e-6))
    n = np.bincount(g)
    s1 = np.bincount(g, weights=s)
    s2 = np.bincount(g, weights=s * s)
    mean = s1 / n
    var = (s2 - s1 * s1 / n) / np.maximum(n - 1, 1)
    std = np.sqrt(np.maximum(var, eps))
    single = n == 1
    mean = np.where(single, 0, mean).astype(np.float32)
    std = np.where(single, 1, std).astype(np.float32)
    adv = (s - mean[g]) / (std[g] + eps)
    return {"advantages": adv[:, None] * m}


def np_rloo(a, p):
    s, g, m = a["scores"], a["groups"], a["mask"]
    n = np.bincount(g)[g]
    total = np.bincount(g, weights=s).astype(np.float32)[g]
    adv = np.where(n > 1, s - (total - s) / np.maximum(n - 1, 1).astype(np.float32), s)
    return {"advantages": adv[:, None] * m}


def np_masked_whiten_op(a, p):
    return {"whitened": np_masked_whiten(a["values"], a["mask"])}


def np_gae(a, p):
    # verl compute_gae_advantage_return: a reverse loop over columns, vectorised over rows.
    r, v, m = a["rewards"], a["values"], a["maskf"]
    gamma, lam = np.float32(p.get("gamma", 1.0)), np.float32(p.get("lam", 1.0))
    rows, cols = r.shape
    nextvalues = np.zeros(rows, np.float32)
    lastgaelam = np.zeros(rows, np.float32)
    reversed_adv = []
    for t in reversed(range(cols)):
        delta = r[:, t] + gamma * nextvalues - v[:, t]
        new = delta + gamma * lam * lastgaelam
        mt = m[:, t]
        nextvalues = v[:, t] * mt + (1 - mt) * nextvalues
        lastgaelam = new * mt + (1 - mt) * lastgaelam
        reversed_adv.append(lastgaelam)
    adv = np.stack(reversed_adv[::-1], axis=1)
    returns = adv + v
    return {"advantages": np_masked_whiten(adv, a["mask"]), "returns": returns}


def np_policy_loss(a, p):
    # verl compute_policy_loss_vanilla (dual-clip c = 3) with token-mean aggregation and its metrics.
    lp, old, A, m = a["logProbs"], a["oldLogProbs"], a["advantages"], a["mask"]
    lo, hi, c = np.float32(p.get("clipLow", 0.2)), np.float32(p.get("clipHigh", 0.2)), np.float32(p.get("clipC", 3.0))
    neg_kl = np.clip(lp - old, -20, 20)
    ratio = np.exp(neg_kl)
    l1 = -A * ratio
    l2 = -A * np.clip(ratio, 1 - lo, 1 + hi)
    c1 = np.maximum(l1, l2)
    c2 = np.minimum(-A * c, c1)
    pg = np.where(A < 0, c2, c1)
    return {
        "loss": np_masked_mean(pg, m),
        "clipfrac": np_masked_mean((l2 > l1).astype(np.float32), m),
        "ppoKl": np_masked_mean(-neg_kl, m),
    }


def np_kl_k3(a, p):
    # verl kl_penalty "low_var_kl".
    kl = np.clip(a["refLogProbs"] - a["logProbs"], -20, 20)
    return {"kl": np.clip(np.exp(kl) - kl - 1, -10, 10)}


def np_logprobs_entropy(a, p):
    z, y = a["logits"], a["labels"]
    mx = z.max(axis=1, keepdims=True)
    e = np.exp(z - mx)
    s = e.sum(axis=1)
    lse = mx[:, 0] + np.log(s)
    logp = z[np.arange(z.shape[0]), y] - lse
    entropy = lse - (e * z).sum(axis=1) / s
    return {"logProbs": logp, "entropy": entropy}


def np_mlp_heads(a, p):
    # K heads as one GEMM: [B, H] × [H, K·width], SiLU, then each head's dot with its w2.
    B, K, width = int(p["B"]), int(p["K"]), int(p["width"])
    x = a["hidden"] @ a["w1"].T + a["b1"]
    act = x / (1 + np.exp(-x))
    return {"scores": (act * a["w2"]).reshape(B, K, width).sum(axis=2).T}


def np_ensemble(a, p):
    x = a["scores"]
    reduce = p.get("reduce", "mean")
    if reduce == "mean":
        out = x.mean(axis=0)
    elif reduce == "min":
        out = x.min(axis=0)
    elif reduce == "median":
        out = np.median(x, axis=0)
    elif reduce == "uwo":
        out = x.mean(axis=0) - np.float32(p.get("coef", 1.0)) * x.var(axis=0, ddof=int(p.get("ddof", 0)))
    else:
        raise ValueError("unknown reduce " + str(reduce))
    return {"scores": out}


def np_bradley_terry(a, p):
    d = a["chosen"] - a["rejected"]
    return {"loss": np.logaddexp(np.float32(0), -d).mean(), "accuracy": (d > 0).mean()}


def np_sde_step(a, p):
    # Flow-GRPO sde_step_with_logprob, per-row sigmas broadcast over the latent.
    x, v, eps = a["sample"], a["modelOutput"], a["noise"]
    sigma, sigma_prev = a["sigma"][:, None], a["sigmaPrev"][:, None]
    dt = sigma_prev - sigma
    std = np.sqrt(sigma / (1 - sigma)) * np.float32(p.get("noiseLevel", 0.7))
    mean = x * (1 + std * std / (2 * sigma) * dt) + v * (1 + std * std * (1 - sigma) / (2 * sigma)) * dt
    scale = std * np.sqrt(-dt)
    prev = mean + scale * eps
    logp = -((prev - mean) ** 2) / (2 * scale * scale) - np.log(scale) - np.float32(math.log(math.sqrt(2 * math.pi)))
    return {"prevSample": prev, "logProb": logp.mean(axis=1)}


NUMPY_OPS = {
    "grpo": np_grpo,
    "rloo": np_rloo,
    "maskedWhiten": np_masked_whiten_op,
    "gae": np_gae,
    "policyLoss": np_policy_loss,
    "klK3": np_kl_k3,
    "logprobsEntropy": np_logprobs_entropy,
    "mlpHeads": np_mlp_heads,
    "ensemble": np_ensemble,
    "bradleyTerry": np_bradley_terry,
    "sdeStep": np_sde_step,
}


# ---------------------------------------------------------------------------------------------
# torch: the same ops; run under torch.inference_mode().


def t_masked_mean(v, m):
    return torch.where(m, v, 0).sum() / (m.sum() + 1e-8)


def t_masked_whiten(v, m):
    mean = t_masked_mean(v, m)
    c = v - mean
    n = m.sum()
    var = t_masked_mean(c * c, m) * (n / (n - 1))
    return c * torch.rsqrt(var + 1e-8)


def t_grpo(a, p):
    # verl group_mean_std (scatter-add sums, one-pass variance floored at eps), then the broadcast.
    s, g, m, G = a["scores"], a["groups"], a["mask"], a["numGroups"]
    eps = p.get("epsilon", 1e-6)
    zeros = torch.zeros(G, device=s.device, dtype=s.dtype)
    n = zeros.scatter_add(0, g, torch.ones_like(s))
    s1 = zeros.scatter_add(0, g, s)
    s2 = zeros.scatter_add(0, g, s * s)
    mean = s1 / n
    var = (s2 - s1 * s1 / n) / torch.clamp(n - 1, min=1)
    std = torch.sqrt(torch.clamp(var, min=eps))
    single = n == 1
    mean = torch.where(single, 0, mean)
    std = torch.where(single, 1, std)
    adv = (s - mean[g]) / (std[g] + eps)
    return {"advantages": adv.unsqueeze(-1) * m}


def t_rloo(a, p):
    s, g, m, G = a["scores"], a["groups"], a["mask"], a["numGroups"]
    zeros = torch.zeros(G, device=s.device, dtype=s.dtype)
    n = zeros.scatter_add(0, g, torch.ones_like(s))[g]
    total = zeros.scatter_add(0, g, s)[g]
    adv = torch.where(n > 1, s - (total - s) / torch.clamp(n - 1, min=1), s)
    return {"advantages": adv.unsqueeze(-1) * m}


def t_masked_whiten_op(a, p):
    return {"whitened": t_masked_whiten(a["values"], a["mask"])}


def t_gae(a, p):
    # verl compute_gae_advantage_return, line for line.
    token_level_rewards, values, response_mask = a["rewards"], a["values"], a["maskf"]
    gamma, lam = p.get("gamma", 1.0), p.get("lam", 1.0)
    nextvalues = 0
    lastgaelam = 0
    advantages_reversed = []
    gen_len = token_level_rewards.shape[-1]
    for t in reversed(range(gen_len)):
        delta = token_level_rewards[:, t] + gamma * nextvalues - values[:, t]
        lastgaelam_ = delta + gamma * lam * lastgaelam
        nextvalues = values[:, t] * response_mask[:, t] + (1 - response_mask[:, t]) * nextvalues
        lastgaelam = lastgaelam_ * response_mask[:, t] + (1 - response_mask[:, t]) * lastgaelam
        advantages_reversed.append(lastgaelam)
    advantages = torch.stack(advantages_reversed[::-1], dim=1)
    returns = advantages + values
    return {"advantages": t_masked_whiten(advantages, a["mask"]), "returns": returns}


def t_policy_loss(a, p):
    # verl compute_policy_loss_vanilla with agg_loss "token-mean".
    log_prob, old_log_prob, advantages, mask = a["logProbs"], a["oldLogProbs"], a["advantages"], a["mask"]
    lo, hi, c = p.get("clipLow", 0.2), p.get("clipHigh", 0.2), p.get("clipC", 3.0)
    negative_approx_kl = torch.clamp(log_prob - old_log_prob, min=-20.0, max=20.0)
    ratio = torch.exp(negative_approx_kl)
    pg_losses1 = -advantages * ratio
    pg_losses2 = -advantages * torch.clamp(ratio, 1 - lo, 1 + hi)
    clip_pg_losses1 = torch.maximum(pg_losses1, pg_losses2)
    pg_losses3 = -advantages * c
    clip_pg_losses2 = torch.min(pg_losses3, clip_pg_losses1)
    pg_losses = torch.where(advantages < 0, clip_pg_losses2, clip_pg_losses1)
    return {
        "loss": t_masked_mean(pg_losses, mask),
        "clipfrac": t_masked_mean(torch.gt(pg_losses2, pg_losses1).float(), mask),
        "ppoKl": t_masked_mean(-negative_approx_kl, mask),
    }


def t_kl_k3(a, p):
    kl = torch.clamp(a["refLogProbs"] - a["logProbs"], min=-20, max=20)
    return {"kl": torch.clamp(torch.exp(kl) - kl - 1, min=-10, max=10)}


def t_logprobs_entropy(a, p):
    # verl logprobs_from_logits (log_softmax + gather) and entropy_from_logits, in f32.
    z = a["logits"].float()
    lse = torch.logsumexp(z, dim=-1)
    logp = z.gather(-1, a["labels"].unsqueeze(-1)).squeeze(-1) - lse
    pd = torch.softmax(z, dim=-1)
    entropy = lse - torch.sum(pd * z, dim=-1)
    return {"logProbs": logp, "entropy": entropy}


def t_mlp_heads(a, p):
    B, K, width = int(p["B"]), int(p["K"]), int(p["width"])
    x = torch.nn.functional.silu(torch.addmm(a["b1"], a["hidden"], a["w1"].T))
    return {"scores": (x * a["w2"]).view(B, K, width).sum(dim=2).T}


def t_ensemble(a, p):
    x = a["scores"]
    reduce = p.get("reduce", "mean")
    if reduce == "mean":
        out = x.mean(dim=0)
    elif reduce == "min":
        out = x.min(dim=0).values
    elif reduce == "median":
        # np.median's convention (the mean of the middle two for even K); torch.median takes the lower one.
        s = x.sort(dim=0).values
        K = x.shape[0]
        out = (s[(K - 1) // 2] + s[K // 2]) / 2
    elif reduce == "uwo":
        out = x.mean(dim=0) - p.get("coef", 1.0) * x.var(dim=0, correction=int(p.get("ddof", 0)))
    else:
        raise ValueError("unknown reduce " + str(reduce))
    return {"scores": out}


def t_bradley_terry(a, p):
    d = a["chosen"] - a["rejected"]
    return {"loss": -torch.nn.functional.logsigmoid(d).mean(), "accuracy": (d > 0).float().mean()}


def t_sde_step(a, p):
    # Flow-GRPO sde_step_with_logprob.
    sample, model_output, noise = a["sample"], a["modelOutput"], a["noise"]
    sigma, sigma_prev = a["sigma"].unsqueeze(1), a["sigmaPrev"].unsqueeze(1)
    dt = sigma_prev - sigma
    std_dev_t = torch.sqrt(sigma / (1 - sigma)) * p.get("noiseLevel", 0.7)
    prev_sample_mean = sample * (1 + std_dev_t**2 / (2 * sigma) * dt) + model_output * (1 + std_dev_t**2 * (1 - sigma) / (2 * sigma)) * dt
    prev_sample = prev_sample_mean + std_dev_t * torch.sqrt(-1 * dt) * noise
    log_prob = (
        -((prev_sample.detach() - prev_sample_mean) ** 2) / (2 * ((std_dev_t * torch.sqrt(-1 * dt)) ** 2))
        - torch.log(std_dev_t * torch.sqrt(-1 * dt))
        - math.log(math.sqrt(2 * math.pi))
    )
    return {"prevSample": prev_sample, "logProb": log_prob.mean(dim=1)}


TORCH_OPS = {
    "grpo": t_grpo,
    "rloo": t_rloo,
    "maskedWhiten": t_masked_whiten_op,
    "gae": t_gae,
    "policyLoss": t_policy_loss,
    "klK3": t_kl_k3,
    "logprobsEntropy": t_logprobs_entropy,
    "mlpHeads": t_mlp_heads,
    "ensemble": t_ensemble,
    "bradleyTerry": t_bradley_terry,
    "sdeStep": t_sde_step,
}

# Inputs that are [rows, cols] (or [rows, vocab], [B, ·]) matrices: the param naming each dimension.
MATRICES = {
    "grpo": {"mask": ("rows", "cols")},
    "rloo": {"mask": ("rows", "cols")},
    "gae": {"rewards": ("rows", "cols"), "values": ("rows", "cols"), "mask": ("rows", "cols")},
    "logprobsEntropy": {"logits": ("rows", "vocab")},
    "mlpHeads": {"hidden": ("B", "H"), "w1": (None, "H")},
    "ensemble": {"scores": ("K", "B")},
    "sdeStep": {"sample": ("B", "D"), "modelOutput": ("B", "D"), "noise": ("B", "D")},
}


# ---------------------------------------------------------------------------------------------
# Loading, timing and the request loop.


def load_inputs(req):
    """The request's arrays as numpy arrays, reshaped where the op reads a matrix."""
    arrays = {}
    shapes = MATRICES.get(req["op"], {})
    for name, spec in req["inputs"].items():
        arr = np.fromfile(spec["path"], dtype=np.dtype(spec["dtype"]))
        if name in shapes:
            rows_key, cols_key = shapes[name]
            cols = int(req["params"][cols_key])
            arr = arr.reshape(-1, cols)
        arrays[name] = arr
    return arrays


def prepare_numpy(op, arrays):
    a = dict(arrays)
    if "mask" in a:
        a["mask"] = a["mask"].view(np.bool_)
        if op == "gae":  # verl's GAE blends with a float mask
            a["maskf"] = a["mask"].astype(np.float32)
    if "logits" in a and a["logits"].dtype == np.uint16:
        # numpy has no bfloat16: the bf16 bits are widened to f32 once here (exact), so numpy's
        # timed calls read f32 logits (twice the bytes torch reads from its bf16 tensor).
        a["logits"] = (a["logits"].astype(np.uint32) << 16).view(np.float32)
    return a


def prepare_torch(op, arrays, device):
    a = {}
    for name, arr in arrays.items():
        if arr.dtype == np.uint16:
            # Real bf16 storage: the u16 bits reinterpreted, then moved to the device.
            a[name] = torch.from_numpy(arr.view(np.int16)).view(torch.bfloat16).to(device)
        elif name == "mask":
            a["mask"] = torch.from_numpy(arr.view(np.bool_)).to(device)
            if op == "gae":
                a["maskf"] = a["mask"].float()
        elif arr.dtype == np.int32:
            a[name] = torch.from_numpy(arr).to(device=device, dtype=torch.int64)  # index tensors are int64
        else:
            a[name] = torch.from_numpy(arr).to(device)
    if "groups" in arrays:
        a["numGroups"] = int(arrays["groups"].max()) + 1 if arrays["groups"].size else 0
    if device == "cuda":
        torch.cuda.synchronize()
    return a


def measure(fn, sync, min_ms, min_iterations):
    """Warm up (at least one call; up to 3 within 50 ms), then time calls until both minima are met."""
    start = time.perf_counter()
    for i in range(3):
        fn()
        sync()
        if (time.perf_counter() - start) * 1e3 > 50:
            break
    samples, total = [], 0.0
    while len(samples) < min_iterations or total < min_ms:
        t0 = time.perf_counter()
        fn()
        sync()
        ms = (time.perf_counter() - t0) * 1e3
        samples.append(ms)
        total += ms
    return samples


def plain(x):
    """An output as a flat list of JSON-safe numbers (non-finite values as strings)."""
    if torch is not None and isinstance(x, torch.Tensor):
        x = x.detach().float().cpu().numpy()
    flat = np.asarray(x, dtype=np.float64).reshape(-1)
    return [v if math.isfinite(v) else "NaN" if v != v else "Infinity" if v > 0 else "-Infinity" for v in flat.tolist()]


def handle(req):
    cmd = req.get("cmd")
    if cmd == "probe":
        load_numpy()
        load_torch()
        cuda = bool(torch is not None and torch.cuda.is_available())
        return {
            "python": sys.version.split()[0],
            "numpy": np.__version__ if np is not None else None,
            "torch": torch.__version__ if torch is not None else None,
            "cuda": cuda,
            "device": torch.cuda.get_device_name() if cuda else None,
            "threads": torch.get_num_threads() if torch is not None else cores(),
            "errors": errors,
        }
    if cmd not in ("time", "run"):
        raise ValueError("unknown cmd " + repr(cmd))
    lib, op, params = req.get("lib"), req.get("op"), req.get("params") or {}
    if load_numpy() is None:
        raise RuntimeError("numpy is not installed: " + errors["numpy"])
    arrays = load_inputs(req)
    if lib == "numpy":
        if op not in NUMPY_OPS:
            raise ValueError("numpy: no op " + repr(op))
        a = prepare_numpy(op, arrays)
        impl = NUMPY_OPS[op]
        fn, sync = (lambda: impl(a, params)), (lambda: None)
    elif lib in ("torch-cpu", "torch-cuda"):
        if load_torch() is None:
            raise RuntimeError("torch is not installed: " + errors["torch"])
        if op not in TORCH_OPS:
            raise ValueError("torch: no op " + repr(op))
        device = "cuda" if lib == "torch-cuda" else "cpu"
        if device == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("CUDA is not available")
        a = prepare_torch(op, arrays, device)
        impl = TORCH_OPS[op]

        def fn():
            with torch.inference_mode():
                return impl(a, params)

        sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    else:
        raise ValueError("unknown lib " + repr(lib))
    try:
        if cmd == "run":
            limit = int(req.get("limit", 1 << 16))
            return {"outputs": {k: plain(v)[:limit] for k, v in fn().items()}}
        return {"samplesMs": measure(fn, sync, float(req.get("minTimeMs", 0)), int(req.get("minIterations", 1)))}
    finally:
        del a
        if lib == "torch-cuda":
            torch.cuda.empty_cache()


def main():
    # Answers go to the real stdout; anything a library prints goes to stderr, off the protocol.
    answers, sys.stdout = sys.stdout, sys.stderr
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = handle(json.loads(line))
        except BaseException as e:  # noqa: BLE001 - a failed request is answered, never fatal
            if isinstance(e, KeyboardInterrupt):
                raise
            answer = {"error": f"{type(e).__name__}: {e}"}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


main()

#!/usr/bin/python3
"""Reference values for the optimizer tests (train/optim/*/optimizer_test.go).

Run with Debian's Python (python3-torch 1.13, numpy):  /usr/bin/python3 gen_refs.py
It writes one <optimizer>.json per optimizer next to this script. Every case feeds a fixed,
seeded gradient sequence and per-step group learning rates to the optimizer and records the
parameters (and some state) after every step, in float64.

Sources of truth:
  - torch 1.13 where torch has the algorithm: AdamW, SGD (with/without Nesterov), Adam (the
    base of the CPR optimizers);
  - hand-written numpy from the published algorithms otherwise: CPR (constraint step),
    Adafactor, Lion, RAdam (the published algorithm; torch 1.13's RAdam differs in its first
    steps), SophiaG with given Hessian estimates, AdamPlus.
"""
import json
import math
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))

# Two groups: matrices/kernels with weight decay, vector/scalar without, at half the lr.
PARAMS = [("w1", [4, 3], 0), ("conv", [2, 3, 2, 2], 0), ("b1", [3], 1), ("scale", [], 1)]
GROUPS = [
    {"name": "decay", "lr_multiplier": 1.0, "wd_multiplier": 1.0},
    {"name": "no_decay", "lr_multiplier": 0.5, "wd_multiplier": 0.0},
]
FACTORS = [0.3, 0.6, 1.0, 1.0, 0.9, 0.8, 0.6, 0.5, 0.4, 0.3, 0.25, 0.2, 0.2, 0.15, 0.1, 0.1]


def make_inputs(seed, n_steps, base_lr, params=PARAMS, groups=GROUPS, grad_scale=1.0):
    rng = np.random.RandomState(seed)
    init = {n: rng.normal(0.0, 0.5, size=s) for n, s, _ in params}
    steps = []
    for k in range(1, n_steps + 1):
        f = FACTORS[(k - 1) % len(FACTORS)]
        lrs = [base_lr * g["lr_multiplier"] * f for g in groups]
        grads = {n: rng.normal(0.0, grad_scale, size=s) for n, s, _ in params}
        steps.append({"step": k, "lr": lrs, "grads": grads})
    return init, steps


def case_json(name, note, cfg, init, steps, expected, state=None, params=PARAMS, groups=GROUPS):
    gs = []
    for gi, g in enumerate(groups):
        d = dict(g)
        d["params"] = sorted(n for n, _, pg in params if pg == gi)
        gs.append(d)
    out = {
        "name": name,
        "note": note,
        "config": cfg,
        "groups": gs,
        "params": [{"name": n, "shape": s, "init": np.asarray(init[n]).ravel().tolist()} for n, s, _ in params],
        "steps": [],
        "expected": [{n: np.asarray(v).ravel().tolist() for n, v in e.items()} for e in expected],
    }
    for st in steps:
        d = {"step": st["step"], "lr": st["lr"], "grads": {n: np.asarray(v).ravel().tolist() for n, v in st["grads"].items()}}
        if "hessian" in st:
            d["hessian"] = {"grads": {n: np.asarray(v).ravel().tolist() for n, v in st["hessian"]["grads"].items()},
                            "batch_size": st["hessian"]["batch_size"]}
        out["steps"].append(d)
    if state is not None:
        out["state"] = [{p: {k: np.asarray(v).ravel().tolist() for k, v in vs.items()} for p, vs in s.items()} for s in state]
    return out


def write(name, cases):
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(cases, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print("wrote", name, len(cases), "cases")


# ---------------------------------------------------------------- torch-driven optimizers

def run_torch(make_opt, init, steps, params=PARAMS, groups=GROUPS, wd=0.0, after_step=None):
    ps = {n: torch.tensor(np.array(init[n]), dtype=torch.float64, requires_grad=True) for n, _, _ in params}
    pgs = []
    for gi, g in enumerate(groups):
        pgs.append({"params": [ps[n] for n, _, pg in sorted(params) if pg == gi],
                    "weight_decay": wd * g["wd_multiplier"], "lr": 0.0})
    opt = make_opt(pgs)
    expected = []
    for st in steps:
        for gi, pg in enumerate(opt.param_groups):
            pg["lr"] = st["lr"][gi]
        for n, _, _ in params:
            ps[n].grad = torch.tensor(np.array(st["grads"][n]), dtype=torch.float64)
        before = {n: ps[n].detach().numpy().copy() for n in ps}
        opt.step()
        if after_step is not None:
            after_step(st["step"], ps, before)
        expected.append({n: ps[n].detach().numpy().copy() for n in ps})
    return expected


def gen_adamw():
    cases = []
    for name, cfg, seed in [
        ("defaults_lr1e-2", {"name": "adamw_baseline", "learning_rate": 1e-2}, 1),
        ("wd0.1_betas", {"name": "adamw_baseline", "learning_rate": 3e-2, "weight_decay": 0.1, "beta1": 0.8,
                         "beta2": 0.99, "epsilon": 1e-6}, 2),
    ]:
        full = {"beta1": 0.9, "beta2": 0.999, "weight_decay": 0.01, "epsilon": 1e-8}
        full.update(cfg)
        init, steps = make_inputs(seed, 8, full["learning_rate"])
        exp = run_torch(lambda pgs: torch.optim.AdamW(pgs, lr=full["learning_rate"], betas=(full["beta1"], full["beta2"]),
                                                       eps=full["epsilon"], foreach=False),
                        init, steps, wd=full["weight_decay"])
        cases.append(case_json(name, "torch 1.13 AdamW (foreach=False)", cfg, init, steps, exp))
    write("adamw_baseline", cases)


def gen_sgd():
    cases = []
    variants = [
        ("momentum", {"learning_rate": 5e-2, "weight_decay": 1e-2}, 0.9, 1e-2, False, 3),
        ("nesterov", {"learning_rate": 5e-2, "weight_decay": 1e-2, "nesterov": True}, 0.9, 1e-2, True, 4),
        ("no_momentum", {"learning_rate": 5e-2, "momentum": 0.0, "weight_decay": 1e-3}, 0.0, 1e-3, False, 5),
    ]
    for opt_name in ["sgd_baseline", "sgd_stepwise"]:
        # sgd_stepwise shares sgd_baseline's code: one case shows the registration is wired.
        for name, cfg, mom, wd, nest, seed in (variants if opt_name == "sgd_baseline" else variants[1:2]):
            cfg = dict(cfg, name=opt_name)
            init, steps = make_inputs(seed, 8, cfg["learning_rate"])
            exp = run_torch(lambda pgs: torch.optim.SGD(pgs, lr=cfg["learning_rate"], momentum=mom, nesterov=nest,
                                                         foreach=False),
                            init, steps, wd=wd)
            cases.append(case_json(name, "torch 1.13 SGD (dampening 0, foreach=False)", cfg, init, steps, exp))
        write(opt_name, cases)
        cases = []
    init, steps = make_inputs(6, 8, 1e-1)
    exp = run_torch(lambda pgs: torch.optim.SGD(pgs, lr=0.1, foreach=False), init, steps, wd=0.0)
    write("template", [case_json("plain_sgd", "torch 1.13 SGD without momentum",
                                 {"name": "template", "learning_rate": 0.1}, init, steps, exp)])


# ---------------------------------------------------------------- CPR (numpy on torch Adam)

def huber(t):
    a = np.abs(t)
    return np.where(a < 1, 0.5 * t * t, a - 0.5)


def reg_value(reg, t):
    if reg == "l2":
        return np.mean(t * t)
    if reg == "l1":
        return np.mean(np.abs(t))
    if reg == "huber":
        return np.mean(huber(t))
    if reg == "std":
        return np.std(t, ddof=1)
    raise ValueError(reg)


def constrain(reg, t, lag, kappa, mu):
    n = t.size
    if reg == "std":
        s = np.std(t, ddof=1)
        lag = max(0.0, lag + mu * (s - kappa))
        return t - lag * (t - t.mean()) / ((n - 1) * s), lag
    if reg == "l2":
        c, grad = np.sum(t * t), 2 * t
    elif reg == "l1":
        c, grad = np.sum(np.abs(t)), np.sign(t)
    else:
        c, grad = np.sum(huber(t)), np.where(np.abs(t) < 1, t, np.sign(t))
    lag = max(0.0, lag + mu / n * (c - kappa * n))
    return t - grad * lag, lag


class CPRState:
    def __init__(self, kappa):
        self.lag, self.kappa, self.set, self.prev, self.prev_g, self.flag = 0.0, kappa, False, 0.0, 0.0, False


def cpr_step(st, method, k, theta0, theta, reg, mu, kip, ws, R, adapt, margins):
    if method == "uniform":
        active = True
    elif method == "dependent":
        if k == 1:
            st.kappa = kip * reg_value(reg, theta0)
        active = True
    elif method == "warm_start":
        if k == ws:
            st.kappa = reg_value(reg, theta)
        active = k > ws
    else:  # inflection_point: first k > 3R where the per-step increase of sum(theta^2) shrinks
        active = st.set
        if not st.set:
            s = float(np.sum(theta * theta))
            g = s - st.prev
            if k > 3 * R:
                margins.append(abs(st.prev_g - g) / max(abs(g), abs(st.prev_g), 1e-30))
                if st.prev_g > g:
                    st.kappa, st.set = reg_value(reg, theta), True
            if k > R:
                st.prev = s
            if k > 2 * R:
                st.prev_g = g
    if not active:
        return theta
    new, lag = constrain(reg, theta, st.lag, st.kappa, mu)
    if adapt:
        if st.flag and lag == 0:
            st.kappa = min(st.kappa, reg_value(reg, new))
        if lag > 0:
            st.flag = True
    st.lag = lag
    return new


def run_cpr(cfg, seed, n_steps, base_lr):
    method = cfg.get("kappa_init_method", "warm_start_factor")
    reg = cfg.get("reg_function", "l2")
    mu = cfg.get("kappa_update", 1.0)
    kip = cfg.get("kappa_init_param", 1.0)
    adapt = cfg.get("kappa_adapt", False)
    ls = cfg.get("lr_scheduler", {})
    W = ls["warmup_steps"] if ls.get("warmup_steps") is not None else math.ceil(cfg["max_steps"] * ls.get("warmup_factor", 0.01))
    ws, R = 0, max(W, 1)
    if method == "warm_start_factor":
        method, ws = "warm_start", int(W * kip)
    elif method == "warm_start":
        ws = int(kip)
    ws = max(ws, 1)
    init, steps = make_inputs(seed, n_steps, base_lr)
    states = {n: CPRState(kip if method == "uniform" else 0.0) for n, _, g in PARAMS if g == 0}
    margins, state_log = [], []

    def after(k, ps, before):
        for n, st in states.items():
            t = ps[n].detach().numpy()
            if reg == "std" and t.size < 2:
                continue
            new = cpr_step(st, method, k, before[n], t.copy(), reg, mu, kip, ws, R, adapt, margins)
            with torch.no_grad():
                ps[n].copy_(torch.tensor(new, dtype=torch.float64))
        state_log.append({n: {"kappa": [st.kappa], "lagmul": [st.lag]} for n, st in states.items()})

    exp = run_torch(lambda pgs: torch.optim.Adam(pgs, lr=base_lr, betas=(cfg.get("beta1", 0.9), cfg.get("beta2", 0.999)),
                                                  eps=cfg.get("epsilon", 1e-8), weight_decay=0.0, foreach=False),
                    init, steps, after_step=after)
    return init, steps, exp, state_log, states, margins


def gen_cpr():
    base = {"max_steps": 100, "learning_rate": 5e-2}
    variants = [
        ("warm_start_factor_l2", {"kappa_init_method": "warm_start_factor", "kappa_init_param": 0.75,
                                  "lr_scheduler": {"warmup_factor": 0.04}}, 11, 10),
        ("warm_start_l1", {"kappa_init_method": "warm_start", "kappa_init_param": 2.0, "reg_function": "l1"}, 12, 10),
        ("uniform_l2", {"kappa_init_method": "uniform", "kappa_init_param": 0.05, "kappa_update": 0.5}, 13, 8),
        ("dependent_huber", {"kappa_init_method": "dependent", "kappa_init_param": 0.8, "reg_function": "huber"}, 14, 8),
        ("dependent_std", {"kappa_init_method": "dependent", "kappa_init_param": 0.8, "reg_function": "std"}, 15, 8),
        ("inflection_point_l2", {"kappa_init_method": "inflection_point", "lr_scheduler": {"warmup_steps": 1}}, None, 14),
    ]
    for opt_name in ["adamcpr", "adamcpr_fast"]:
        cases = []
        vs = list(variants)
        if opt_name == "adamcpr_fast":  # same implementation as adamcpr: a subset shows the wiring
            vs = [v for v in variants if v[0] in ("warm_start_factor_l2", "dependent_std", "inflection_point_l2")]
        if opt_name == "adamcpr":
            vs.append(("warm_start_adapt", {"kappa_init_method": "warm_start", "kappa_init_param": 2.0,
                                            "kappa_adapt": True, "kappa_update": 0.3}, 16, 12))
        for name, extra, seed, n in vs:
            cfg = dict(base, name=opt_name, **extra)
            if seed is None:  # pick a gradient sequence whose inflection is found mid-run, far from ties
                for seed in range(100, 400):
                    _, _, _, _, states, margins = run_cpr(cfg, seed, n, cfg["learning_rate"])
                    if all(st.set for st in states.values()) and min(margins, default=0) > 1e-3:
                        break
                else:
                    raise SystemExit("no seed for " + name)
            init, steps, exp, log, states, margins = run_cpr(cfg, seed, n, cfg["learning_rate"])
            active = any(v["lagmul"][0] > 0 for s in log for v in s.values())
            assert active, name + ": constraint never active"
            cases.append(case_json(name, "torch 1.13 Adam (wd 0) + numpy CPR step; seed %d" % seed, cfg, init, steps, exp, log))
        write(opt_name, cases)


# ---------------------------------------------------------------- numpy optimizers

def rms(x):
    return math.sqrt(np.mean(np.square(x)))


def gen_adafactor():
    cases = []
    for name, cfg, seed in [
        ("defaults", {"learning_rate": 1e-2}, 21),
        ("no_beta1_no_wd", {"learning_rate": 2e-2, "beta1": None, "weight_decay": 0.0}, 22),
        ("clipping", {"learning_rate": 1e-2, "clipping_threshold": 0.5, "decay_rate": -0.6, "eps2": 0.1}, 23),
    ]:
        c = {"beta1": 0.9, "weight_decay": 0.01, "eps1": 1e-30, "eps2": 1e-3, "clipping_threshold": 1.0, "decay_rate": -0.8}
        c.update(cfg)
        init, steps = make_inputs(seed, 8, c["learning_rate"])
        theta = {n: np.array(v, dtype=np.float64) for n, v in init.items()}
        st = {n: {} for n in theta}
        exp = []
        for s in steps:
            k = s["step"]
            for n, shape, gi in PARAMS:
                lr, wd = s["lr"][gi], c["weight_decay"] * GROUPS[gi]["wd_multiplier"]
                g, p, S = np.array(s["grads"][n]), theta[n], st[n]
                rho = lr * max(c["eps2"], rms(p))
                b2t = 1.0 - k ** c["decay_rate"]
                u = g * g + c["eps1"]
                if len(shape) >= 2:
                    S.setdefault("row", np.zeros(shape[:-1]))
                    S.setdefault("col", np.zeros(shape[:-2] + shape[-1:]))
                    S["row"] = b2t * S["row"] + (1 - b2t) * u.mean(axis=-1)
                    S["col"] = b2t * S["col"] + (1 - b2t) * u.mean(axis=-2)
                    r = 1 / np.sqrt(S["row"] / S["row"].mean(axis=-1, keepdims=True))
                    U = r[..., None] * (1 / np.sqrt(S["col"]))[..., None, :] * g
                else:
                    S["v"] = b2t * S.get("v", np.zeros(shape)) + (1 - b2t) * u
                    U = g / np.sqrt(S["v"])
                U = U / max(1.0, rms(U) / c["clipping_threshold"])
                U = rho * U
                if c["beta1"] is not None:
                    S["m"] = c["beta1"] * S.get("m", np.zeros(shape)) + (1 - c["beta1"]) * U
                    U = S["m"]
                theta[n] = p - wd * rho * p - U
            exp.append({n: v.copy() for n, v in theta.items()})
        cases.append(case_json(name, "numpy Adafactor (relative_step False, scale_parameter True)",
                               dict(cfg, name="adafactor"), init, steps, exp))
    write("adafactor", cases)


def gen_lion():
    cases = []
    for name, cfg, seed in [
        ("coupled_wd", {"learning_rate": 1e-3, "weight_decay": 0.1}, 31),
        ("decoupled_wd", {"learning_rate": 1e-3, "weight_decay": 1e-4, "decoupled_weight_decay": True, "beta2": 0.99}, 32),
    ]:
        c = {"beta1": 0.9, "beta2": 0.999, "weight_decay": 0.0, "decoupled_weight_decay": False}
        c.update(cfg)
        init, steps = make_inputs(seed, 8, c["learning_rate"])
        theta = {n: np.array(v) for n, v in init.items()}
        m = {n: np.zeros_like(v) for n, v in theta.items()}
        exp = []
        for s in steps:
            for n, _, gi in PARAMS:
                lr, g = s["lr"][gi], np.array(s["grads"][n])
                wd = c["weight_decay"] * GROUPS[gi]["wd_multiplier"]
                if c["decoupled_weight_decay"]:
                    wd /= c["learning_rate"]
                p = theta[n] * (1 - lr * wd)
                p = p - lr * np.sign(c["beta1"] * m[n] + (1 - c["beta1"]) * g)
                m[n] = c["beta2"] * m[n] + (1 - c["beta2"]) * g
                theta[n] = p
            exp.append({n: v.copy() for n, v in theta.items()})
        cases.append(case_json(name, "numpy Lion (lion-pytorch 0.2 semantics)", dict(cfg, name="lion"), init, steps, exp))
    write("lion", cases)


def gen_radam():
    cases = []
    for name, cfg, seed, n in [
        ("defaults_sgd_then_rectified", {"learning_rate": 1e-2}, 41, 9),
        ("beta2_0.95_wd", {"learning_rate": 1e-2, "beta2": 0.95, "weight_decay": 0.1, "epsilon": 1e-6}, 42, 8),
    ]:
        c = {"beta1": 0.9, "beta2": 0.999, "weight_decay": 0.01, "epsilon": 1e-8}
        c.update(cfg)
        b1, b2 = c["beta1"], c["beta2"]
        init, steps = make_inputs(seed, n, c["learning_rate"])
        theta = {k: np.array(v) for k, v in init.items()}
        m = {k: np.zeros_like(v) for k, v in theta.items()}
        v = {k: np.zeros_like(x) for k, x in theta.items()}
        exp, branches = [], []
        rho_inf = 2 / (1 - b2) - 1
        for s in steps:
            k = s["step"]
            rho = rho_inf - 2 * k * b2 ** k / (1 - b2 ** k)
            branches.append("rectified" if rho >= 5 else "sgd")
            for nm, _, gi in PARAMS:
                lr, g = s["lr"][gi], np.array(s["grads"][nm])
                wd = c["weight_decay"] * GROUPS[gi]["wd_multiplier"]
                m[nm] = b1 * m[nm] + (1 - b1) * g
                v[nm] = b2 * v[nm] + (1 - b2) * g * g
                p = theta[nm] * (1 - wd * lr)
                if rho >= 5:
                    r = math.sqrt((1 - b2 ** k) * (rho - 4) / (rho_inf - 4) * (rho - 2) / rho * rho_inf / (rho_inf - 2)) / (1 - b1 ** k)
                    p = p - lr * r * m[nm] / (np.sqrt(v[nm]) + c["epsilon"])
                else:
                    p = p - lr * m[nm] / (1 - b1 ** k)
                theta[nm] = p
            exp.append({k2: x.copy() for k2, x in theta.items()})
        assert "sgd" in branches and "rectified" in branches, branches
        cases.append(case_json(name, "numpy RAdam, published algorithm (un-rectified momentum SGD while rho_k < 5): " + " ".join(branches),
                               dict(cfg, name="radam"), init, steps, exp))
    # Without weight decay torch 1.13's RAdam is the same algorithm (it couples weight decay
    # into the gradient otherwise): an independent check of the numpy reference.
    cfg = {"name": "radam", "learning_rate": 1e-2, "weight_decay": 0.0}
    init, steps = make_inputs(43, 9, 1e-2)
    exp = run_torch(lambda pgs: torch.optim.RAdam(pgs, lr=1e-2, foreach=False), init, steps, wd=0.0)
    cases.append(case_json("torch_radam_no_wd", "torch 1.13 RAdam, weight_decay 0", cfg, init, steps, exp))
    write("radam", cases)


def gen_sophia():
    cases = []
    for name, cfg, seed, bs in [
        ("defaults_sign_phase", {"learning_rate": 1e-3, "hessian_update_interval": 2}, 51, 16),
        ("clipped_by_hessian", {"learning_rate": 1e-2, "beta2": 0.9, "rho": 0.5, "weight_decay": 1e-2,
                                "hessian_update_interval": 2}, 52, 64),
    ]:
        c = {"beta1": 0.9, "beta2": 0.999, "rho": 0.04, "weight_decay": 1e-5}
        c.update(cfg)
        every = c["hessian_update_interval"]
        init, steps = make_inputs(seed, 8, c["learning_rate"])
        rng = np.random.RandomState(seed + 1000)
        theta = {k: np.array(v) for k, v in init.items()}
        m = {k: np.zeros_like(v) for k, v in theta.items()}
        h = {k: np.zeros_like(v) for k, v in theta.items()}
        exp, log, clipped = [], [], 0
        for s in steps:
            k = s["step"]
            for nm, _, gi in PARAMS:
                lr, g = s["lr"][gi], np.array(s["grads"][nm])
                wd = c["weight_decay"] * GROUPS[gi]["wd_multiplier"]
                p = theta[nm] * (1 - lr * wd)
                m[nm] = c["beta1"] * m[nm] + (1 - c["beta1"]) * g
                ratio = np.minimum(np.abs(m[nm]) / (c["rho"] * h[nm] + 1e-15), 1.0)
                clipped += int(np.sum(ratio < 1))
                theta[nm] = p - lr * np.sign(m[nm]) * ratio
            if every > 0 and k % every == 0:
                hg = {nm: rng.normal(0.0, 0.3, size=shape) for nm, shape, _ in PARAMS}
                s["hessian"] = {"grads": hg, "batch_size": bs}
                for nm in h:
                    h[nm] = c["beta2"] * h[nm] + (1 - c["beta2"]) * bs * hg[nm] ** 2
            exp.append({k2: x.copy() for k2, x in theta.items()})
            log.append({nm: {"hessian": h[nm].copy(), "exp_avg": m[nm].copy()} for nm in h})
        if name == "clipped_by_hessian":
            assert clipped > 0
        cases.append(case_json(name, "numpy SophiaG; Hessian EMA of batch_size*g_s^2 after every %d steps; %d clipped ratios" % (every, clipped),
                               dict(cfg, name="sophia"), init, steps, exp, log))
    write("sophia", cases)


AP_PARAMS = [("fc1.weight", [4, 3], 0), ("fc2.weight", [3, 2], 0), ("fc1.bias", [3], 1), ("fc2.bias", [2], 1), ("norm.weight", [3], 1)]


def run_adam_plus(c, seed, n):
    R, T = c["reg_step_size"], c["max_steps"]
    init, steps = make_inputs(seed, n, 1.0, params=AP_PARAMS, grad_scale=1.0)
    for s in steps:  # adam_plus is fed the group lr multipliers (self-scheduling)
        s["lr"] = [g["lr_multiplier"] for g in GROUPS]
    b1, b2, eps = c["beta1"], c["beta2"], c["epsilon"]
    theta = {k: np.array(v) for k, v in init.items()}
    m = {k: np.zeros_like(v) for k, v in theta.items()}
    v = {k: np.zeros_like(x) for k, x in theta.items()}
    masters = [nm for nm, _, g in AP_PARAMS if g == 0]
    S = {nm: dict(lr=0.0, lag=0.0, kappa=0.0, set=False, df=1.0, prev=0.0, prev_g=0.0, prev_s=0.0) for nm in masters}
    exp, log, margins, found_at = [], [], [], {}
    for s in steps:
        k = s["step"]
        start = {nm: S[nm]["lr"] for nm in masters}
        mean_lr = sum(start.values()) / len(start)
        for nm, _, gi in AP_PARAMS:
            g = np.array(s["grads"][nm])
            if gi == 0:
                lr = start[nm]
            else:
                lr = start.get(nm.replace("bias", "weight"), mean_lr)
            lr *= s["lr"][gi]
            m[nm] = m[nm] + (g - m[nm]) * (1 - b1)
            v[nm] = v[nm] * b2 + g * g * (1 - b2)
            denom = np.sqrt(v[nm]) / math.sqrt(1 - b2 ** k) + eps
            p = theta[nm] - (lr / (1 - b1 ** k)) * m[nm] / denom
            if gi == 0:
                st = S[nm]
                if st["set"]:
                    p, st["lag"] = constrain("l2", p, st["lag"], st["kappa"], c["kappa_update"])
                    st["lr"] = st["lr"] * st["df"]
                elif k % R == 0:
                    cur = float(np.mean(p * p))
                    cg = cur - st["prev"]
                    cs = cg - st["prev_g"]
                    if k > 3 * R:
                        for a, b in [(st["prev_g"], cg), (st["prev_s"], 0.0), (cs, 0.0)]:
                            margins.append(abs(a - b) / max(abs(a), abs(b), 1e-30))
                        if st["prev_g"] > cg and st["prev_s"] > 0 and cs <= 0:
                            st["kappa"], st["set"] = cur, True
                            st["df"] = c["lr_decay"] ** (1 / max(T - k, 1))
                            found_at[nm] = k
                    st["prev"] = cur
                    if k > R:
                        st["prev_g"] = cg
                    if k > 2 * R:
                        st["prev_s"] = cs
                    st["lr"] += c["lr_grad"]
                else:
                    st["lr"] += c["lr_grad"]
            theta[nm] = p
        exp.append({k2: x.copy() for k2, x in theta.items()})
        log.append({nm: {"lr": [S[nm]["lr"]], "kappa": [S[nm]["kappa"]], "lagmul": [S[nm]["lag"]],
                         "kappa_set": [1.0 if S[nm]["set"] else 0.0], "lr_decay_factor": [S[nm]["df"]]} for nm in masters})
    return init, steps, exp, log, margins, found_at


def gen_adam_plus():
    cfg = {"name": "adam_plus", "lr_grad": 2e-2, "lr_decay": 0.1, "reg_step_size": 2, "kappa_update": 1.0, "max_steps": 40}
    c = {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    c.update(cfg)
    n = 28
    for seed in range(200, 800):
        _, _, _, log, margins, found_at = run_adam_plus(c, seed, n)
        if len(found_at) == 2 and max(found_at.values()) <= n - 6 and min(margins, default=0) > 1e-3:
            break
    else:
        raise SystemExit("no seed for adam_plus")
    init, steps, exp, log, margins, found_at = run_adam_plus(c, seed, n)
    assert any(x["lagmul"][0] > 0 for s in log for x in s.values())
    note = "numpy AdamPlus (single-tensor algorithm, group lr multipliers applied); seed %d; kappa set at %s" % (
        seed, ", ".join("%s step %d" % kv for kv in sorted(found_at.items())))
    write("adam_plus", [case_json("inflection_and_decay", note, cfg, init, steps, exp, log, params=AP_PARAMS)])


if __name__ == "__main__":
    torch.set_num_threads(1)
    gen_adamw()
    gen_sgd()
    gen_cpr()
    gen_adafactor()
    gen_lion()
    gen_radam()
    gen_sophia()
    gen_adam_plus()

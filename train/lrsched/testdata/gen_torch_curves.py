#!/usr/bin/python3
"""Reference learning-rate curves from torch 1.13's schedulers, for lrsched_test.go.

Run with Debian's Python (python3-torch 1.13):  /usr/bin/python3 gen_torch_curves.py
Writes torch_curves.json: for each case the fob optimizer section it corresponds to and the
learning rate torch uses at every optimisation step (a scheduler with interval epoch is stepped
once per epoch, and its warmup and T_max are counted in epochs, as lrsched intends).

torch 1.13 has CosineAnnealingLR, LinearLR, PolynomialLR, StepLR, ExponentialLR, ConstantLR and
SequentialLR; FOB's own IncreasingCosineAnnealingLR (cosine warmup) is not in torch, so cosine
warmups are checked against the closed form only.
"""
import json
import math
import os

import torch
from torch.optim.lr_scheduler import (ConstantLR, CosineAnnealingLR, ExponentialLR, LinearLR,
                                      PolynomialLR, SequentialLR, StepLR)

HERE = os.path.dirname(os.path.abspath(__file__))
LR = 0.1


def curve(make, n_units, steps_per_unit=1):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=LR)
    sched = make(opt)
    out = []
    for _ in range(n_units):
        for _ in range(steps_per_unit):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
        sched.step()
    return out


def warm(opt, W, main):
    return SequentialLR(opt, [LinearLR(opt, start_factor=1e-10, end_factor=1.0, total_iters=W), main], milestones=[W])


def main():
    N = 1000
    cases = []

    def add(name, lr_scheduler, make, n_units=N, steps_per_unit=1, max_epochs=None):
        cfg = {"name": "sgd_baseline", "learning_rate": LR, "max_steps": n_units * steps_per_unit, "lr_scheduler": lr_scheduler}
        if max_epochs is not None:
            cfg["max_epochs"] = max_epochs
        cases.append({"name": name, "config": cfg, "steps_per_epoch": steps_per_unit,
                      "lrs": curve(make, n_units, steps_per_unit)})

    # W = ceil(1000 * 0.01) = 10, T_max = 990, eta_min = 0.01 * lr.
    add("cosine_linear_warmup", {"scheduler": "cosine"},
        lambda o: warm(o, 10, CosineAnnealingLR(o, T_max=990, eta_min=0.01 * LR)))
    add("cosine_no_warmup_eta0.1", {"scheduler": "cosine", "warmup_steps": 0, "eta_min_factor": 0.1},
        lambda o: CosineAnnealingLR(o, T_max=1000, eta_min=0.1 * LR))
    add("poly_power2_warmup50", {"scheduler": "poly", "warmup_steps": 50, "lr_power": 2.0},
        lambda o: warm(o, 50, PolynomialLR(o, total_iters=950, power=2.0)))
    add("poly_power1", {"scheduler": "poly", "warmup_factor": 0.05},
        lambda o: warm(o, 50, PolynomialLR(o, total_iters=950, power=1.0)))
    add("stepwise_no_warmup", {"scheduler": "stepwise", "warmup_steps": 0, "step_size": 100, "gamma": 0.5},
        lambda o: StepLR(o, step_size=100, gamma=0.5))
    add("stepwise_warmup20", {"scheduler": "stepwise", "warmup_steps": 20, "step_size": 300, "gamma": 0.1},
        lambda o: warm(o, 20, StepLR(o, step_size=300, gamma=0.1)))
    add("exponential", {"scheduler": "exponential", "gamma": 0.995},
        lambda o: warm(o, 10, ExponentialLR(o, gamma=0.995)))
    # wsd: W = 10, D = ceil(1000 * 0.2) = 200, stable 790.
    add("wsd_linear", {"scheduler": "wsd", "decay_factor": 0.2, "decay_strategy": "linear", "eta_min_factor": 0.05},
        lambda o: SequentialLR(o, [LinearLR(o, start_factor=1e-10, end_factor=1.0, total_iters=10),
                                   ConstantLR(o, factor=1.0, total_iters=0),
                                   LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=200)],
                               milestones=[10, 800]))
    add("wsd_cosine_decay", {"scheduler": "wsd", "warmup_steps": 30, "decay_steps": 100, "eta_min_factor": 0.1},
        lambda o: SequentialLR(o, [LinearLR(o, start_factor=1e-10, end_factor=1.0, total_iters=30),
                                   ConstantLR(o, factor=1.0, total_iters=0),
                                   CosineAnnealingLR(o, T_max=100, eta_min=0.1 * LR)],
                               milestones=[30, 900]))
    # Interval epoch: 100 epochs of 10 steps; W = ceil(100 * 0.05) = 5 epochs, T_max = 95 epochs.
    add("cosine_epoch_interval", {"scheduler": "cosine", "interval": "epoch", "warmup_factor": 0.05},
        lambda o: warm(o, 5, CosineAnnealingLR(o, T_max=95, eta_min=0.01 * LR)), n_units=100, steps_per_unit=10,
        max_epochs=100)
    add("stepwise_epoch_interval", {"scheduler": "stepwise", "interval": "epoch", "warmup_steps": 0, "step_size": 30,
                                    "gamma": 0.2},
        lambda o: StepLR(o, step_size=30, gamma=0.2), n_units=100, steps_per_unit=10, max_epochs=100)

    with open(os.path.join(HERE, "torch_curves.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", len(cases), "curves")


if __name__ == "__main__":
    main()

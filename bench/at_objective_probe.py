"""Is the constant predictor the better minimiser of Miyato's AT objective? A probe on trained LSTMs.

For each `textadv finetune` run directory given (an LSTM classifier), on the first 4,096 training
snippets of the packaged Rotten Tomatoes split (seed 0), eval mode (no dropout):

- CE(x) and CE(x + ε·g/‖g‖₂) with g = ∇ₓCE per example over the whole normalised-embedding
  sequence (the AT perturbation, `core.fgsm` with the text surface's ℓ2 threat), for several ε;
  their sum is the AT objective at λ = 1;
- the first-order distance to the decision boundary, margin / ‖∇ₓ margin‖₂, of the correctly
  classified snippets.

The constant predictor (the class prior) scores 2·H(prior) on the AT objective at every ε. Where a
trained model's AT objective is above it, training with AT at that ε has no reason to leave the
constant predictor. docs/results/text.md ("AT from random embeddings") quotes its output.

Run: python bench/at_objective_probe.py RUN_DIR [RUN_DIR ...]
"""

import math
import sys
import warnings

import torch
import torch.nn.functional as F
from textadv import text
from textadv.core import fgsm
from textadv.surfaces import TextSurface

EPS = (0.1, 0.3, 1.0, 2.0, 5.0)
torch.set_num_threads(1)
warnings.filterwarnings("ignore", message=".*longer than max_length")  # truncation is not the point here
data = text.load_text_classification("rotten_tomatoes", seed=0)
p = sum(data.train.labels) / len(data.train.labels)
prior_ce = -(p * math.log(p) + (1 - p) * math.log(1 - p))
print(f"constant predictor: CE {prior_ce:.3f}, AT objective {2 * prior_ce:.3f} at every ε")

for run in sys.argv[1:]:
    loaded = text.load_text_model(f"{run}/model")
    surface = TextSurface(loaded.model)
    examples = text.encode_examples(loaded.encoder, data.train.texts, data.train.labels, 40)[:4096]
    collate = text.TextCollator(text.pad_id_of(loaded.encoder))
    sums = dict.fromkeys((0.0,) + EPS, 0.0)
    distances = []
    for i in range(0, len(examples), 256):
        batch = collate(examples[i : i + 256])
        y = batch["labels"]
        x = surface.inputs(batch).detach()
        with torch.no_grad():
            sums[0.0] += float(F.cross_entropy(surface.logits(x, batch), y, reduction="sum"))
        for eps in EPS:
            x_adv = fgsm(lambda z: surface.loss(surface.logits(z, batch), y), x, surface.threat(batch, 2, eps))
            with torch.no_grad():
                sums[eps] += float(F.cross_entropy(surface.logits(x_adv, batch), y, reduction="sum"))
        z = x.clone().requires_grad_(True)
        logits = surface.logits(z, batch)
        margin = logits[:, 1] - logits[:, 0]
        (g,) = torch.autograd.grad(margin.sum(), z)
        g = g * batch["attention_mask"][..., None]
        signed = margin.detach() * torch.where(y == 1, 1.0, -1.0)
        distances.append(signed / g.flatten(1).norm(dim=1))
    n = len(examples)
    d = torch.cat(distances)
    d = d[d > 0]
    print(f"{run}: CE(x) {sums[0.0] / n:.3f}")
    for eps in EPS:
        print(f"  ε={eps}: CE(x+r) {sums[eps] / n:.3f}, AT objective {(sums[0.0] + sums[eps]) / n:.3f}")
    print(
        f"  first-order distance to the boundary (correct snippets): median {d.median():.2f}, 90% {d.quantile(0.9):.2f}"
    )

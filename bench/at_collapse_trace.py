"""Trace of what AT does to Miyato's LSTM early in training on Rotten Tomatoes (against plain training).

Builds the data and model exactly as `textadv finetune` does (its `load_data` and `build_model`),
then trains with the objective's own `step`, Adam, gradient clipping at 1.0 and the ×0.9998
learning-rate decay of the text job (the job's `train` loop, written out so that each step can be
inspected), and prints one line every `--every` steps:

- clean: CE of the batch; adv: the AT term CE(x + r) of the same step;
- g_med / g_min: median and smallest per-example ‖∇ₓ CE‖₂ over the embedding sequence of a fresh
  batch-mean backward (the gradient AT normalises), n<1e-12: how many are below `Threat.direction`'s
  clamp (docs/miyato_reference.md, D1); eps/|x|: ε over the median sequence norm of x;
- val acc / margin sd: accuracy and the standard deviation over examples of the logit margin on the
  first 512 validation snippets (eval mode): how much the output still depends on the input;
- relu: dense units active on at least one of those snippets (of 30); |h|: mean absolute LSTM
  output on them (saturation would push it towards 1); Var: mean frequency-weighted
  variance of the raw embedding table; top10: mean norm of the 10 most frequent words' normalised
  embeddings.

Run: python bench/at_collapse_trace.py --adv at --epsilon 5 --steps 800 --every 40 [--glove]
     [--embedding-dropout 0] [--lr 0.005] [--warm 600] [--init-from LM_RUN]  (--warm N: N steps without AT first)
"""

import argparse
import random
import warnings

import torch
from textadv import text
from textadv.jobs.finetune import build_model, load_data
from textadv.jobs.finetune_settings import FinetuneConfig
from textadv.objectives import build_objective
from textadv.surfaces import TextSurface
from textadv.train import seed_everything

parser = argparse.ArgumentParser()
parser.add_argument("--adv", default="at")
parser.add_argument("--epsilon", type=float, default=5.0)
parser.add_argument("--steps", type=int, default=800)
parser.add_argument("--every", type=int, default=40)
parser.add_argument("--warm", type=int, default=0, help="steps of plain training before the objective")
parser.add_argument("--glove", action="store_true")
parser.add_argument("--embedding-dropout", type=float, default=0.5)
parser.add_argument("--lr", type=float, default=1e-3)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--init-from", default=None, help="a textadv pretrain-lm run directory")
args = parser.parse_args()
torch.set_num_threads(1)
warnings.filterwarnings("ignore", message=".*longer than max_length")

config = FinetuneConfig(
    adv=args.adv,
    epsilon=args.epsilon,
    glove=args.glove,
    embedding_dropout=args.embedding_dropout,
    lr=args.lr,
    init_from=args.init_from,
).resolved()
data = load_data(config)
seed_everything(args.seed)
model, encoder, _ = build_model(config, data)
train_set = text.encode_examples(encoder, data.train.texts, data.train.labels, config.max_length)
collate = text.TextCollator(text.pad_id_of(encoder))
val = collate(text.encode_examples(encoder, data.validation.texts, data.validation.labels, config.max_length)[:512])
surface = TextSurface(model)
objective, plain = build_objective(args.adv, eps=args.epsilon), build_objective("none", eps=0.0)
optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=config.lr_decay)
top10 = torch.argsort(model.embedding.frequencies, descending=True)[:10]
dense = {}
model.dense.register_forward_hook(lambda module, inputs, output: dense.__setitem__("out", output.detach()))
model.lstm.register_forward_hook(lambda module, inputs, output: dense.__setitem__("lstm", output[0].detach()))

print("step clean adv g_med g_min n<1e-12 eps/|x| val_acc margin_sd relu |h| Var top10")
shuffle, order, step = random.Random(args.seed), [], 0
while step < args.steps:
    if not order:
        order = list(range(len(train_set)))
        shuffle.shuffle(order)
    batch, order = collate([train_set[i] for i in order[:64]]), order[64:]
    model.train()
    optimizer.zero_grad()
    out = (plain if step < args.warm else objective).step(surface, batch, step=step)
    torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
    optimizer.step()
    scheduler.step()
    step += 1
    if step % args.every and step != 1:
        continue
    mask = batch["attention_mask"][..., None]
    x = surface.inputs(batch).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(surface.loss(surface.logits(x, batch), batch["labels"], reduction="mean"), x)
    g_norm = (g * mask).flatten(1).norm(dim=1)
    x_norm = (x.detach() * mask).flatten(1).norm(dim=1)
    model.eval()
    with torch.no_grad():
        logits = surface.logits(surface.inputs(val), val)
        accuracy = float((logits.argmax(1) == val["labels"]).float().mean())
        margin_sd = float((logits[:, 1] - logits[:, 0]).std())
        alive = int((dense["out"] > 0).any(0).sum())
        lstm_h = float(dense["lstm"].abs().mean())
        _, var = model.embedding.moments()
        top = float(model.embedding.normalized_weight()[top10].norm(dim=1).mean())
    adv = sum(float(v) for v in out.terms.values())
    print(
        f"{step} {float(out.clean_loss):.3f} {adv:.3f} {float(g_norm.median()):.2e} {float(g_norm.min()):.2e} "
        f"{int((g_norm < 1e-12).sum())} {args.epsilon / float(x_norm.median()):.3f} {accuracy:.3f} {margin_sd:.4f} "
        f"{alive} {lstm_h:.3f} {float(var.mean()):.3f} {top:.2f}",
        flush=True,
    )

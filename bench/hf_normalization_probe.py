"""Which normalisation suits a pretrained transformer? Frozen-feature linear probe on Rotten Tomatoes.

For each mode, MiniLM's [CLS]/mean-pooled last hidden states are computed from the word embeddings
the mode feeds (raw for scale/raw, Miyato-normalised for miyato) with no training, and a logistic
regression is fitted on N training texts and scored on N test texts. A mode that keeps the
pretrained features intact keeps the probe accuracy. Also reports the cosine between the features
of the two modes and the relative size of ε = 5 in each.

Run: HF_HUB_OFFLINE=1 python bench/hf_normalization_probe.py [N=400]
This measurement is why `--normalization scale` is the default for Hugging Face models.
"""

import sys
import time

import torch
from sklearn.linear_model import LogisticRegression
from textadv import text

torch.manual_seed(0)
n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
data = text.load_text_classification("rotten_tomatoes", seed=0)
hf, tok = text.load_hf_classifier(None, 2)
freq = text.word_frequencies(tok, data.train.texts + data.unlabeled)
collate = text.TextCollator(text.pad_id_of(tok))


def features(model, texts, labels):
    ex = text.encode_examples(tok, texts, labels, 48)
    out = []
    with torch.no_grad():
        for i in range(0, len(ex), 50):
            b = collate(ex[i : i + 50])
            h = model.model.base_model(
                inputs_embeds=model.embed(b["input_ids"]), attention_mask=b["attention_mask"]
            ).last_hidden_state
            m = b["attention_mask"].unsqueeze(-1).float()
            out.append((h * m).sum(1) / m.sum(1))
    return torch.cat(out)


feats = {}
for mode in ("scale", "miyato"):
    model = text.HFTextClassifier(hf, freq, normalization=mode).eval()
    t = time.time()
    xtr = features(model, data.train.texts[:n], data.train.labels[:n])
    xte = features(model, data.test.texts[:n], data.test.labels[:n])
    clf = LogisticRegression(max_iter=2000, C=1.0).fit(xtr.numpy(), data.train.labels[:n])
    acc = clf.score(xte.numpy(), data.test.labels[:n])
    b = collate(text.encode_examples(tok, data.test.texts[:200], None, 48))
    s = model.embed(b["input_ids"]) * b["attention_mask"].unsqueeze(-1)
    rel = 5.0 * model.embedding.eps_scale() / s.flatten(1).norm(dim=1).mean().item()
    feats[mode] = xte
    print(
        f"{mode:7s} probe test accuracy {acc:.3f} (n={n}); "
        f"eps=5 is {100 * rel:.1f}% of the mean sequence norm; {time.time() - t:.0f}s"
    )
cos = torch.nn.functional.cosine_similarity(feats["scale"], feats["miyato"], dim=1)
print(f"cosine(scale features, miyato features): mean {cos.mean():.3f}")

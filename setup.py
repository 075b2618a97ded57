"""The compiled modules of keywords: ``_automaton`` (the dense Aho-Corasick automaton of keywords.matcher and
keywords.prefilter), ``_fold`` (the per-character passes of keywords.normalisation) and ``_segment`` (jieba's
word graph for keywords.tokenizer); everything else is declared in pyproject.toml. ``pip install -e .`` builds
them with the C compiler and Python's headers."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("keywords._automaton", sources=["keywords/_automaton.c"], extra_compile_args=["-O2"]),
        Extension("keywords._fold", sources=["keywords/_fold.c"], extra_compile_args=["-O2"]),
        Extension("keywords._segment", sources=["keywords/_segment.c"], extra_compile_args=["-O2"]),
    ]
)

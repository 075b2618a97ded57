"""The one compiled module, keywords._automaton (the skeleton scan's automaton, see keywords.matcher); everything
else is declared in pyproject.toml. ``pip install -e .`` builds it with the C compiler and Python's headers."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("keywords._automaton", sources=["keywords/_automaton.c"], extra_compile_args=["-O2"])])

"""The >>> examples in the library's docstrings run as tests."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import evidencegraph

MODULES = sorted(m.name for m in pkgutil.walk_packages(evidencegraph.__path__, "evidencegraph.") if m.name != "evidencegraph.__main__")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0

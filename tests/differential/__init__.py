"""Differential tester: random small programs run on tapegrad and on PyTorch, compared.

`generate(rng, torch)` builds a `Program`; `compare(program, tapegrad, torch)` runs it on both and
returns the disagreements; `shrink` drops statements while the disagreement stays.
"""
from tests.differential.program import Program, Stmt
from tests.differential.generator import generate
from tests.differential.runner import Disagreement, compare, shrink

__all__ = ["Program", "Stmt", "generate", "compare", "shrink", "Disagreement"]

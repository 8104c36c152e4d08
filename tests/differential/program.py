"""A program: straight-line Python statements over a module bound to `T` (tapegrad or torch)."""
import numpy as np


class Stmt:
    """One statement (possibly a `with` block); `tags` name the patterns it exercises."""

    def __init__(self, src, tags=(), terms=None):
        self.src = src
        self.tags = frozenset(tags)
        self.terms = terms  # the final loss: a list of terms the shrinker may drop

    def with_terms(self, terms):
        """The same loss statement summing only `terms`."""
        return Stmt(loss_source(terms, self.src), self.tags, terms)

    def __repr__(self):
        return f"Stmt({self.src!r})"


class Program:
    """Statements run in order in one namespace holding only `T`."""

    def __init__(self, stmts, seed=None):
        self.stmts = list(stmts)
        self.seed = seed

    @property
    def tags(self):
        return frozenset().union(*(s.tags for s in self.stmts)) if self.stmts else frozenset()

    def source(self, module="torch"):
        """A script that reproduces the program with `module` imported as T."""
        head = f"import {module} as T\n"
        return head + "".join(s.src + "\n" for s in self.stmts)

    def __str__(self):
        return self.source()


def loss_source(terms, old_src):
    """Rebuild the final statement (`loss = a + b` then its backward/grad line) from its terms."""
    first, _, rest = old_src.partition("\n")
    target = first.split(" = ", 1)[0]
    return f"{target} = {' + '.join(terms)}\n{rest}"


def literal(values, shape, dtype, requires_grad):
    """Source text that builds a leaf tensor holding `values` (exactly, for float32 too)."""
    rg = ", requires_grad=True" if requires_grad else ""
    if 0 in shape:
        return f"T.zeros({tuple(shape)!r}, dtype=T.{dtype}{rg})"
    data = np.asarray(values).reshape(shape).tolist()
    return f"T.tensor({data!r}, dtype=T.{dtype}{rg})"

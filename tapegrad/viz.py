"""Drawing the tape: Graphviz DOT for a tensor's graph (`graph`) or a whole tape
(`Tape.to_dot`), rendered by Graphviz's `dot` program when it is installed.

Nodes are entries (PyTorch's node name, the output's shape and dtype, the bytes it saves for
backward); leaves carry the names given in `params` (`dict(model.named_parameters())`), else
x0, x1...; values that are not differentiated are small `const(shape) dtype` nodes; entries a
backward already released are dashed. Names match `print(tape)`.
"""
import os
import pathlib
import shutil
import subprocess

from ._tensor import Tensor
from .tape import Tape, namer
from .autograd._history import human, operands, reachable, saved_buffers

# what users call; tape_graph and tape_mimebundle reach them as Tape.to_dot and Jupyter's view
__all__ = ["graph", "Graph"]

FORMATS = ("svg", "png", "pdf")
JUPYTER_MAX_ENTRIES = 500     # Graphviz lays out larger tapes too slowly for a notebook cell
INSTALL = ("install Graphviz, which provides the `dot` program: `apt-get install graphviz` "
           "(Debian/Ubuntu), `brew install graphviz` (macOS) or `conda install graphviz`")


class Graph(str):
    """DOT text (a `str`) that can render itself with Graphviz and shows as SVG in Jupyter."""

    @property
    def source(self):
        """The DOT text."""
        return str(self)

    def render(self, path):
        """Write the drawing to `path` and return it (as a `pathlib.Path`).

        The format is the one the suffix of `path` names: .svg, .png or .pdf. Needs
        Graphviz's `dot` program.
        """
        path = pathlib.Path(path)
        fmt = path.suffix[1:].lower()
        if fmt not in FORMATS:
            raise ValueError(f"render: cannot tell the format from {str(path)!r}; end the name "
                             f"with one of {', '.join('.' + f for f in FORMATS)}")
        path.write_bytes(_run_dot(self, fmt))
        return path

    def _repr_svg_(self):
        """Jupyter's SVG view (None without Graphviz: Jupyter then shows the text)."""
        return _run_dot(self, "svg").decode() if shutil.which("dot") else None

    def _repr_mimebundle_(self, include=None, exclude=None):
        """Jupyter's views: SVG when Graphviz is installed, and the DOT text."""
        bundle = {"text/plain": self.source}
        svg = self._repr_svg_()
        if svg is not None:
            bundle["image/svg+xml"] = svg
        return bundle


def _run_dot(source, fmt):
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(f"render: Graphviz's `dot` program was not found on PATH; {INSTALL}. "
                           "The DOT text itself is `str(graph)`.")
    done = subprocess.run([dot, f"-T{fmt}"], input=source.encode(), capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"render: `dot -T{fmt}` failed: {done.stderr.decode().strip()}")
    return done.stdout


def graph(tensor, params=None):
    """The drawing of what `tensor` was computed through, as a `Graph` of DOT text.

    `tensor` may also be a sequence of tensors; `params` (name -> tensor, e.g.
    `dict(model.named_parameters())`) names the leaves.
    """
    roots = [tensor] if isinstance(tensor, Tensor) else list(tensor)
    if not roots or not all(isinstance(t, Tensor) for t in roots):
        raise TypeError(f"graph: expected a Tensor or a sequence of Tensors, got "
                        f"{type(tensor).__name__}")
    return Graph(to_dot(reachable(roots), params, roots))


def tape_graph(tape, params=None):
    """The drawing of every live entry on `tape`, as a `Graph` of DOT text (Tape.to_dot).

    `params` (name -> tensor, e.g. `dict(model.named_parameters())`) names the leaves.
    """
    if not isinstance(tape, Tape):
        raise TypeError(f"to_dot: expected a Tape, got {type(tape).__name__}")
    return Graph(to_dot(tape.entries(), params))


def tape_mimebundle(tape, include=None, exclude=None):
    """Jupyter's view of `tape` (Tape._repr_mimebundle_): its Wengert list, and its drawing.

    The drawing (SVG) comes when Graphviz is installed and the tape is small enough to lay out
    quickly. `include` and `exclude` are Jupyter's (unused: it picks from what is offered).
    """
    bundle = {"text/plain": repr(tape)}
    if len(tape.entries()) <= JUPYTER_MAX_ENTRIES and shutil.which("dot"):
        bundle["image/svg+xml"] = tape_graph(tape)._repr_svg_()
    return bundle


def quote(text):
    """`text` as a DOT string literal: quotes and backslashes escaped, newlines as DOT's escape."""
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "\\n".join(escaped.splitlines() or [""]) + '"'


def to_dot(entries, params=None, roots=()):
    """DOT text for `entries` (oldest first), with an edge from each input to its reader.

    Inputs from outside `entries` become nodes of their own, leaves named by `params` (name
    -> tensor) as in `print(tape)`; the entries that made the tensors `roots` are drawn bold.
    """
    name_of = namer(entries, params)
    ids = {id(e): f"t{k}" for k, e in enumerate(entries)}
    bold = {id(t._entry) for t in roots if t._entry is not None}
    lines = ["digraph tape {", '  node [shape=box, fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=8];']
    others = {}         # id of an input from outside `entries` -> its node id
    for e in entries:
        lines.append(f"  {ids[id(e)]} [{_entry_style(e, name_of, id(e) in bold)}];")
        found = operands(e)
        for i, x in found:
            src = _input_node(x, ids, others, name_of, lines)
            # the input's position when there are several; which output, as t3.1 in print(tape)
            text = (f"{i}" if len(found) > 1 else "") + (
                f".{x._index}" if isinstance(x, Tensor) and x._entry is not None
                and x._entry.n_out > 1 else "")
            label = f" [label={quote(text)}]" if text else ""
            lines.append(f"  {src} -> {ids[id(e)]}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _entry_style(e, name_of, bold):
    outs = [o for o in e.out or () if o is not None]
    text = [f"{name_of(e)}  {e.name().rpartition('::')[2]}"]
    if e.inputs is None:
        text.append("released")
    else:
        if outs:
            text.append("; ".join(f"{tuple(o.shape)} {o.dtype}" for o in outs))
        saved = sum(b.nbytes for b in saved_buffers(e).values())
        text.append(f"saved {human(saved)}")
    if e.source:
        text.append(os.path.basename(e.source))
    style = "dashed" if e.inputs is None else "solid"
    return f"label={quote(chr(10).join(text))}, style={style}" + (", penwidth=2" if bold else "")


def _input_node(x, ids, others, name_of, lines):
    """The node an input comes from: its entry's, or a node for a leaf or constant (made once)."""
    if isinstance(x, Tensor) and x._entry is not None and id(x._entry) in ids:
        return ids[id(x._entry)]
    key = id(x)
    if key not in others:
        node = others[key] = f"n{len(others)}"
        if not isinstance(x, Tensor):
            label, style = f"const{tuple(x.shape)} {x.dtype}", "shape=plaintext, fontsize=8"
        elif x._entry is None and not x._requires_grad:
            label, style = name_of(x), "shape=plaintext, fontsize=8"
        elif x._entry is None:      # a leaf that requires grad: a parameter or an input
            label = f"{name_of(x)}\n{tuple(x._data.shape)} {x._data.dtype}"
            style = "shape=ellipse, style=filled, fillcolor=lightblue"
        else:                       # computed before these entries
            label = f"{name_of(x)}  {x._entry.name().rpartition('::')[2]}\n" \
                    f"{tuple(x._data.shape)} {x._data.dtype}"
            style = "style=dotted"
        lines.append(f"  {node} [label={quote(label)}, {style}];")
    return others[key]

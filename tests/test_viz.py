"""Drawing the tape (tapegrad.viz, Tape.to_dot): DOT text with the names a user knows, the
edges the graph has, released entries marked, labels escaped; rendering with Graphviz."""
import re
import shutil

import pytest

import tapegrad as tg
from tapegrad import viz
from tapegrad.autograd import memory_report

NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$')
EDGE = re.compile(r"^\s*(\w+) -> (\w+)")


def parse(dot):
    """{node id: (first label line, the rest of its attributes)} and the edges between the
    nodes' first label lines."""
    nodes, edges = {}, set()
    for line in dot.splitlines():
        m = NODE.match(line)
        if m:
            nodes[m.group(1)] = (m.group(2).split("\\n")[0], m.group(3))
    for line in dot.splitlines():
        m = EDGE.match(line)
        if m:
            edges.add((nodes[m.group(1)][0], nodes[m.group(2)][0]))
    return nodes, edges


def small_layer():
    x = tg.ones(2, 3)
    w = tg.ones(3, 4, requires_grad=True)
    b = tg.zeros(4, requires_grad=True)
    with tg.Tape() as tape:
        loss = (x @ w + b).tanh().sum()
    return tape, loss, {"lin.weight": w, "lin.bias": b}


def test_graph_has_the_parameter_names_and_the_edges_of_the_computation():
    tape, loss, params = small_layer()
    dot = viz.graph(loss, params=params)
    assert dot.startswith("digraph") and dot.source == str(dot)
    nodes, edges = parse(dot)
    assert edges == {
        ("const(2, 3) float32", "t0  MmBackward0"), ("lin.weight", "t0  MmBackward0"),
        ("t0  MmBackward0", "t1  AddBackward0"), ("lin.bias", "t1  AddBackward0"),
        ("t1  AddBackward0", "t2  TanhBackward0"), ("t2  TanhBackward0", "t3  SumBackward0"),
    }
    labels = {first: rest for first, rest in nodes.values()}
    assert "lightblue" in labels["lin.weight"] and "penwidth=2" in labels["t3  SumBackward0"]
    assert '(2, 4) float32' in dot and "saved" in dot


def test_leaves_without_names_are_x0_x1_and_match_print_tape():
    tape, loss, params = small_layer()
    dot = tape.to_dot()
    nodes, _ = parse(dot)
    firsts = {first for first, _ in nodes.values()}
    assert {"x0", "x1"} <= firsts
    assert str(tape).splitlines()[0] == "t0 = matmul(const(2, 3) float32, x0)  # (2, 4) float32"
    named = tape.describe(params=params).splitlines()
    assert named[0].startswith("t0 = matmul(const(2, 3) float32, lin.weight)")
    assert named[1].startswith("t1 = add(t0, lin.bias)")
    assert "lin.weight" in tape.to_dot(params=params)


def test_saved_bytes_in_the_drawing_are_the_memory_reports():
    x = tg.ones(50, dtype=tg.float64, requires_grad=True)
    with tg.Tape() as tape:
        y = x.exp().sum()     # noqa: F841  (kept alive: the tape holds entries weakly)
    dot = tape.to_dot()
    row = memory_report(tape).entries[0]
    assert row.bytes == 400 and "saved 400 B" in dot     # exp keeps its output


def test_released_entries_are_dashed_and_marked():
    tape, loss, params = small_layer()
    loss.backward()
    dot = tape.to_dot(params)
    nodes, _ = parse(dot)
    # the entries before tanh died with it (a released entry drops its inputs)
    released = [rest for first, rest in nodes.values() if first.endswith("TanhBackward0")]
    assert released and "dashed" in released[0]
    assert "TanhBackward0\\nreleased" in dot


def test_labels_are_escaped():
    x = tg.ones(2, requires_grad=True)
    dot = viz.graph((x * 2).sum(), params={'a "quoted"\\name': x})
    assert '"a \\"quoted\\"\\\\name\\n(2,) float32"' in dot
    assert viz.quote("two\nlines") == '"two\\nlines"'


def test_multi_output_entries_label_their_output_index():
    x = tg.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
    w, v = tg.linalg.eigh(x)
    dot = viz.graph(w.sum() + v.sum())
    assert "LinalgEighBackward0\\n(2,) float32; (2, 2) float32" in dot
    assert 't0 -> t1 [label=".0"]' in dot and 't0 -> t2 [label=".1"]' in dot
    assert 't1 -> t3 [label="0"]' in dot and 't2 -> t3 [label="1"]' in dot


def test_a_graph_refuses_what_is_not_a_tensor():
    with pytest.raises(TypeError, match="graph: expected a Tensor"):
        viz.graph([1.0])
    with pytest.raises(TypeError, match="to_dot: expected a Tape"):
        viz.tape_graph(3)


def test_render_needs_a_known_suffix(tmp_path):
    tape, loss, params = small_layer()
    with pytest.raises(ValueError, match="suffix|end the name"):
        tape.to_dot().render(tmp_path / "step.gif")


def test_render_without_graphviz_says_how_to_install_it(tmp_path, monkeypatch):
    tape, loss, params = small_layer()
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        tape.to_dot().render(tmp_path / "step.svg")
    bundle = tape._repr_mimebundle_()
    assert "image/svg+xml" not in bundle and bundle["text/plain"] == repr(tape)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` program is not installed")
@pytest.mark.parametrize("suffix, magic", [(".svg", b"<svg"), (".png", b"\x89PNG"),
                                           (".pdf", b"%PDF")])
def test_render_writes_the_format_of_the_suffix(tmp_path, suffix, magic):
    tape, loss, params = small_layer()
    path = tape.to_dot(params).render(tmp_path / f"step{suffix}")
    data = path.read_bytes()
    assert magic in data[:400] or magic in data


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` program is not installed")
def test_jupyter_shows_a_tape_as_svg():
    tape, loss, params = small_layer()
    bundle = tape._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"] and "MmBackward0" in bundle["image/svg+xml"]
    assert "<svg" in viz.graph(loss)._repr_svg_()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` program is not installed")
def test_escaped_labels_are_valid_dot(tmp_path):
    x = tg.ones(2, requires_grad=True)
    dot = viz.graph((x * 2).sum(), params={'a "quoted"\\name {x} <y>': x})
    svg = dot.render(tmp_path / "odd.svg").read_text()
    assert "quoted" in svg


def test_record_source_names_the_users_line_in_print_and_drawing():
    from tapegrad._state import debug
    x = tg.ones(2, requires_grad=True)
    with tg.Tape(record_source=True) as tape:
        y = (x * 2).sum(); line = f"{__file__}:{_line()}"     # noqa: E702
    assert [e.source for e in tape] == [line, line]
    assert str(tape).splitlines()[0].endswith(f"  @ {line}")
    assert line.rpartition("/")[2] in tape.to_dot()
    assert debug.on_record is None and debug.on_cut is None and debug.on_unrecorded is None
    with tg.Tape() as plain:
        z = x * 3
    assert plain.entries()[0].source is None and "@" not in str(plain)
    del y, z


def test_record_source_is_turned_off_when_the_block_raises():
    from tapegrad._state import debug
    with pytest.raises(ZeroDivisionError):
        with tg.Tape(record_source=True):
            1 / 0
    assert debug.sources == 0 and debug.on_record is None


def _line():
    import inspect
    return inspect.currentframe().f_back.f_lineno


def test_jupyter_shows_a_large_tape_as_text_only(monkeypatch):
    tape, loss, params = small_layer()
    monkeypatch.setattr(viz, "JUPYTER_MAX_ENTRIES", 3)
    assert tape._repr_mimebundle_() == {"text/plain": repr(tape)}

"""Sphinx extension: read tapegrad's docstrings as the plain text they are written in.

The docstrings mark code with backticks and otherwise use plain text, where reStructuredText
would misread three habits: `|x|` (a substitution), `add_` or `Tensor.zero_:` (a hyperlink
reference) and `*args`, `(N, C, *)` (an unterminated emphasis). Outside code spans, literal
blocks and doctest lines, those characters are escaped so that they print as written; the
rest of reStructuredText (and napoleon's sections, which run after this) is left alone.
"""
import re

CODE = re.compile(r"(``.+?``|`[^`]+`)")
BAR = re.compile(r"(?<!\\)\|")
# a word ending in `_` where reStructuredText would end a reference: before a space or
# closing punctuation (docutils' list), or at the end of the line
REFERENCE = re.compile(r"(?<![\\_])\b(\w*?[^\W_])(_+)(?=[\s\-.,:;!?/'\")\]}>]|$)")
# `*`/`**` that open an emphasis: after a space or opening punctuation, before a non-space
STAR = re.compile(r"(?<![\w\\*])(\*\*?)(?=[^\s*])")
# a well-formed *emphasis* or **strong** span, kept as markup
EMPHASIS = re.compile(r"(?<![\w\\*])(\*\*?)[^\s*](?:[^*]*[^\s*\\])?\1(?![\w*])")
DIRECTIVE = re.compile(r"\.\. ([\w:-]+)::")
CODE_DIRECTIVES = {"code-block", "code", "sourcecode", "math", "doctest", "testcode",
                   "testoutput", "literalinclude", "highlight"}

# what docutils accepts right before an inline start-string and right after an end-string
BEFORE = set(" \t-:/'\"<([{")
AFTER = set(" \t-.,:;!?\\/'\")]}>")


def escape_text(text):
    """Escape `|`, reference-like `name_` and unmatched `*` in prose outside code spans, and
    let a code span touch a word (`reduce`='add'), which reStructuredText would not end."""
    parts = CODE.split(text)
    for i in range(0, len(parts), 2):       # even parts are outside code spans
        parts[i] = _escape_prose(parts[i])
    for i in range(1, len(parts), 2):       # odd parts are the code spans
        if parts[i - 1] and parts[i - 1][-1] not in BEFORE:
            parts[i - 1] += "\\ "          # an escaped space: nothing, but a boundary
        if parts[i + 1] and parts[i + 1][0] not in AFTER:
            parts[i + 1] = "\\ " + parts[i + 1]
    return "".join(parts)


def _escape_prose(text):
    text = BAR.sub(r"\|", text)
    text = REFERENCE.sub(lambda m: m.group(1) + m.group(2).replace("_", "\\_"), text)
    kept = [m.span() for m in EMPHASIS.finditer(text)]

    def star(m):
        if any(a <= m.start() < b for a, b in kept):
            return m.group(0)
        return m.group(1).replace("*", r"\*")
    return STAR.sub(star, text)


def escape_lines(lines):
    """Escape each prose line of a docstring in place. Literal blocks (after `::`), the bodies
    of code and math directives, and doctest lines (`>>>`, `...`) are code: left as they are."""
    literal_indent = None      # indentation of the line that opened a literal block
    for k, line in enumerate(lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if not stripped or indent > literal_indent:
                continue
            literal_indent = None
        if stripped.startswith((">>>", "...")) or _table_or_line_block(stripped):
            continue
        directive = DIRECTIVE.match(stripped)
        if directive:
            if directive.group(1) in CODE_DIRECTIVES:
                literal_indent = indent
            continue
        if stripped.endswith("::"):
            literal_indent = indent
            lines[k] = escape_text(line.rstrip()[:-2]) + "::"
            continue
        lines[k] = escape_text(line)
    return lines


def _table_or_line_block(stripped):
    """A grid table's border or row (`+---+`, `| a | b |`) or a line block (`| text`): RST's own
    uses of `|`, unlike a prose `|x|`."""
    return (stripped.startswith(("+-", "+=", "| ")) or stripped == "|"
            or len(stripped) > 1 and stripped[0] == stripped[-1] == "|" and " | " in stripped)


def _process(app, what, name, obj, options, lines):
    escape_lines(lines)


def setup(app):
    # before napoleon (priority 500), so that its sections are built from escaped prose
    app.connect("autodoc-process-docstring", _process, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

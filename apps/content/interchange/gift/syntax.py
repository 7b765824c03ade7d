"""GIFT's text rules, shared by import and export: whitespace, format markers, escapes."""

import re

# Characters GIFT escapes with a backslash. While a question is parsed, each escaped one is
# replaced by a lone surrogate (which decoded text never contains), so the structural searches
# ("{", "~", "#"...) skip it; unmask turns them back into the literal characters.
_SPECIALS = "~=#{}:"
_MASK = {ch: chr(0xD800 + i) for i, ch in enumerate(_SPECIALS)}
_UNMASK = str.maketrans({masked: ch for ch, masked in _MASK.items()})
SURROGATE_RE = re.compile("[\ud800-\udfff]")

# The characters pydantic's str_strip_whitespace strips (Unicode White_Space). Stripping the
# same set here keeps titles and options consistent with the content models' texts.
_WS = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)
FORMAT_RE = re.compile(r"\[(?:html|moodle|plain|markdown)\]", re.IGNORECASE)
CATEGORY = "$CATEGORY:"


def strip(text: str) -> str:
    return text.strip(_WS)


def strip_format(text: str) -> str:
    match = FORMAT_RE.match(text)
    return text[match.end() :] if match else text


def answer_text(masked: str) -> str:
    """An answer or feedback text: stripped, without its format marker, unescaped."""
    return strip(unmask(strip(strip_format(strip(masked)))))


def mask(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            following = text[i + 1]
            if following in _MASK:
                out.append(_MASK[following])
                i += 2
                continue
            if following in "\\n":
                out.append("\\" if following == "\\" else "\n")
                i += 2
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def unmask(text: str) -> str:
    return text.translate(_UNMASK)


def escape(text: str) -> str:
    text = text.replace("\\", "\\\\")
    for ch in _SPECIALS:
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", "\\n")


def escape_text(text: str) -> str:
    """Escape a text GIFT may prefix with a format marker; a text that itself starts with
    something like "[html]" gets "[plain]" in front, which the import removes again."""
    return ("[plain]" if FORMAT_RE.match(text) else "") + escape(text)

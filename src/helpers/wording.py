"""How the book's computed prose writes numbers and lists: percentages, signed
differences in points, durations, Markdown tables, "A, B and C"."""

from __future__ import annotations

from helpers.models import LABELS


def pct(x, digits=1):
    return f"{100 * x:.{digits}f}"


def points(x, digits=1):
    """A difference in percentage points, signed (a proper minus sign)."""
    text = f"{100 * x:+.{digits}f}"
    if float(text) == 0:  # no sign on a difference that rounds to nothing ("−0.0")
        return f"{0:.{digits}f}"
    return text.replace("-", "\u2212")


def sd_text(sd):
    """A standard deviation in points: one decimal, two where one would show 0.0."""
    return pct(sd, 2) if 0 < sd < 0.0005 else pct(sd)


def span(low, high):
    return f"{pct(low)} to {pct(high)} %"


def duration(minutes):
    return f"{minutes:.0f} min" if minutes < 90 else f"{minutes / 60:.1f} h"


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def capitalized(text):
    return text[:1].upper() + text[1:]


def joined(items, word):
    """'A', 'A and B', 'A, B and C' (``word`` "and" or "or"): a list as this module's prose
    writes it."""
    items = [str(item) for item in items]
    if not items:
        raise ValueError(f"an empty list has nothing to join with {word!r}")
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def and_list(items):
    return joined(items, "and")


def seeds_phrase(seeds):
    """'seed 0' or 'seeds 1 and 2'."""
    seeds = list(seeds)
    return f"{'seed' if len(seeds) == 1 else 'seeds'} {and_list(seeds)}"


def or_list(values):
    """'30', '30 or 33', '30, 33 or 50'."""
    return joined(values, "or")


def possessive(name):
    label = LABELS.get(name, name)
    return label + ("'" if label.endswith("s") else "'s")


def short_commit(commit):
    """A record's git commit as shown: seven characters, keeping a "-dirty" suffix (code with
    changes not yet committed); "an unrecorded commit" for none."""
    if not commit:
        return "an unrecorded commit"
    return commit[:7] + ("-dirty" if commit.endswith("-dirty") else "")


def code_version(record):
    """The version of the code that made ``record``, as shown (``short_commit``)."""
    return short_commit(record["environment"].get("git_commit"))


def by_code_version(records):
    """``{code_version: [records]}``, in the order the versions first appear."""
    found = {}
    for record in records:
        found.setdefault(code_version(record), []).append(record)
    return found

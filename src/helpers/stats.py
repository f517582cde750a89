"""95 % intervals for test accuracies (chapters 3-7).

How an interval is made (``interval``): with one seed, only the test set's size is known to
bound the noise, and the interval is Wilson's score interval for a binomial proportion. With
two or more seeds, it is Student's t interval of the mean over seeds, widened by the test-set
term (the seeds all share one test set, so their spread does not contain its sampling
noise). A network with too few seeds of its own can borrow another's spread
(``interval_with_spread``; ``seed_spreads`` decides whose). Two networks are
ranked only where their intervals do not overlap, a conservative test.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

Z95 = 1.959963984540054  # the 97.5 % quantile of the standard normal


# Student's t, 97.5 % quantile, for 1..30 degrees of freedom (beyond that, the normal's)
_T975 = (
    12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004,
    2.262157, 2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905,
    2.109816, 2.100922, 2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899,
    2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272,
)


def t975(df):
    """Student's t 97.5 % quantile for ``df`` degrees of freedom (two-sided 95 %)."""
    if df < 1:
        raise ValueError("a t interval needs at least two values")
    return _T975[df - 1] if df <= len(_T975) else Z95


def wilson(p, n, z=Z95):
    """Wilson's score interval for a proportion ``p`` observed on ``n`` trials."""
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0 <= p <= 1:
        raise ValueError(f"p={p} is not a proportion")
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclasses.dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    sd: float | None  # sample standard deviation over its own seeds (None for one seed)
    n: int  # seeds
    method: str  # "wilson" (one seed, from the test set's size), "t" (over its own seeds)
    # or "borrowed" (with the largest spread among the networks' seeds)
    df: int = 0  # degrees of freedom of the seed spread it holds (0 for "wilson")
    spread_sd: float | None = None  # "borrowed": the spread it holds, and whose it is
    spread_from: str | None = None

    @property
    def half(self):
        """The larger of the two half-widths (Wilson's interval is not symmetric)."""
        return max(self.mean - self.low, self.high - self.mean)


def interval(values, size):
    """95 % interval for the mean of accuracies ``values`` (one per seed) on ``size`` images."""
    values = np.asarray(values, dtype=float).reshape(-1)
    if values.size == 0:
        raise ValueError("no values")
    mean = float(values.mean())
    if values.size == 1:
        low, high = wilson(mean, size)
        return Interval(mean, low, high, None, 1, "wilson")
    sd = float(values.std(ddof=1))
    seeds = t975(values.size - 1) * sd / math.sqrt(values.size)
    test = Z95 * math.sqrt(mean * (1 - mean) / size)
    half = math.hypot(seeds, test)
    return Interval(mean, max(0.0, mean - half), min(1.0, mean + half), sd, values.size, "t",
                    values.size - 1)


def difference(a, b):
    """``a - b`` of two Intervals, with a 95 % half-width for independent estimates."""
    d = a.mean - b.mean
    half = math.hypot(a.half, b.half)
    return d, d - half, d + half


def paired_change_interval(changes, size, changed=None):
    """(mean, low, high): 95 % interval of the mean of per-seed ``changes`` of accuracy, each
    between two scorings of the same network on the same ``size`` test images; None for fewer
    than two seeds. ``changed``: per seed, the share of the images whose verdict (right or
    wrong) differs between the two scorings, None where not known.

    The seeds' spread of the changes (Student's t) holds the part of the test set's noise that
    differs between seeds, not the part all seeds share (which images tend to change). That
    part is added at its largest: it is at most a seed's per-image variance of the change,
    f - d**2 for a change d with a share f of the images changing verdict, averaged over the
    seeds, and where f is not known, at most 1 - d**2.
    """
    if len(changes) < 2:
        return None
    values = np.asarray(changes, dtype=float)
    shares = [1.0 if f is None else float(f) for f in changed or [None] * values.size]
    if len(shares) != values.size:
        raise ValueError(f"{values.size} changes but {len(shares)} shares of changed verdicts")
    mean = float(values.mean())
    seeds = t975(values.size - 1) * float(values.std(ddof=1)) / math.sqrt(values.size)
    per_image = float(np.mean([max(f - d ** 2, 0.0) for f, d in zip(shares, values)]))
    shared = Z95 * math.sqrt(per_image / size)
    half = math.hypot(seeds, shared)
    return mean, mean - half, mean + half


def largest_spread(groups):
    """``(network, sd, df)``: of the networks with two or more seeds in ``groups`` (network to
    its like runs' test accuracies), the one whose seeds scatter most, its standard deviation
    and degrees of freedom; (None, None, 0) where no network has two seeds."""
    spreads = [(name, float(np.std(v, ddof=1)), len(v) - 1) for name, v in groups.items()
               if len(v) >= 2]
    return max(spreads, key=lambda s: s[1], default=(None, None, 0))


def interval_with_spread(values, size, sd, df, source=None):
    """95 % interval for the mean of ``values`` with a seed SD borrowed from elsewhere (the
    seeds of network ``source``, ``df`` their degrees of freedom); its ``sd`` stays the values'
    own (None for one), the borrowed one is ``spread_sd``.

    A network with one seed then still carries the training noise that seeds measured (how far
    a re-run with another seed could move it), not only the test set's.
    """
    values = np.asarray(values, dtype=float).reshape(-1)
    mean = float(values.mean())
    seeds = t975(df) * sd / math.sqrt(values.size)
    test = Z95 * math.sqrt(mean * (1 - mean) / size)
    half = math.hypot(seeds, test)
    own = float(values.std(ddof=1)) if values.size > 1 else None
    return Interval(mean, max(0.0, mean - half), min(1.0, mean + half), own, values.size,
                    "borrowed", df, sd, source)


# From this many seeds a network's interval uses its own seed-to-seed spread. Networks' seeds
# need not scatter alike, and at a short budget they do not: a network that leaves chance at a
# different epoch from seed to seed, or dips while its rate is high, scatters far more than one
# that does not (on the H200 under `fast`, VGG16-big's three seeds lay within 0.1 points,
# ResNet18's over 2.2). So a network with fewer seeds borrows the largest spread measured, not
# a pooled one that the steadiest network would narrow.
OWN_SPREAD_SEEDS = 3


def seed_spreads(groups):
    """``{network: (sd, df, source)}``: the seed-to-seed spread each network's intervals carry,
    and the network whose seeds it comes from.

    ``groups`` maps a network to its like runs' test accuracies. A network with
    ``OWN_SPREAD_SEEDS`` or more seeds has its own (n - 1 degrees of freedom); one with fewer
    borrows the largest spread among the networks with two or more (``largest_spread``), since
    a single run could have moved as much; (None, 0, None) where no network has two seeds.
    """
    source, sd, df = largest_spread(groups)
    return {name: (float(np.std(v, ddof=1)), len(v) - 1, name) if len(v) >= OWN_SPREAD_SEEDS
            else (sd, df, source) for name, v in groups.items()}

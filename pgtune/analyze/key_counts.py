"""Distinct keys from a key sample's frequency profile (key_sample): which estimate fits the keys it saw.

A page sample of a table sees a key of r rows about r·q times (q: its share
of the rows). Duj1 (Haas and Stokes, as ANALYZE uses it) takes every key to
have the same number of rows; keys mostly unique or of a few rows beside a
few very common ones break that, and are counted in two parts.
"""

from __future__ import annotations

import math


def mixed(f1: float, f2: float, s3: float) -> bool:
    """Do the sample's keys seen three times or more hold more sightings than keys of even counts would give?

    Duj1 takes every key to have the same number of rows, and reads a key seen
    twice in the sample as one of many duplicates across the table. Keys that
    are mostly unique next to some very common ones (user ids and three plan
    names in one key/value column: u15's 1M-row repro, 50k keys counted for
    602k, its index forecast 9.0 MB where it built 26.7; Formbricks'
    ContactAttribute 26.4 MB where it built 43.5) break it: the common keys'
    repeats read as duplicates of every key. Keys of even counts seen at a
    rate λ = 2·f2/f1 (Poisson) put f1·(e^λ − 1 − λ) sightings in keys seen
    three times or more (TPC-H's lineitem (l_partkey, l_suppkey): 19.6
    expected, 21 seen; (l_shipdate, l_discount): 8,563 and 9,442); the mixed
    ones put far more there (11,865 where 3.5 were expected). Twice as many,
    and 30 more (a 30,000-row sample's noise), is mixed.
    """
    if f1 <= 0:
        return False            # every key repeats: Duj1 is their count already
    lam = 2.0 * f2 / f1
    return s3 > 2.0 * f1 * (math.expm1(lam) - lam) + 30.0


def light_keys(f1: float, f2: float, q: float) -> float:
    """Distinct keys in the table among those the sample saw once or twice (``f1``, ``f2``), the sample holding
    a share ``q`` of the rows: Duj1 over their own sightings, n·d / (n − f1 + f1·q) with n = f1 + 2·f2 and
    d = f1 + f2; with no key seen twice, one a sighting's 1/q rows (f1/q: every such row is its own key).

    The keys seen once were all taken as unique (f1/q). Keys of 10-30 rows
    spread over a table are seen once each by a 1% sample too, far more often
    than twice: a Hoppscotch-shaped UserHistory ("isStarred", "userUid"),
    200,000 users of 10 rows beside 50 of 20,000, was counted 1.77 million
    keys for 221,000 and forecast 2.98x its built size; a Formbricks-shaped
    Response ("endingId", "surveyId") 794,000 for 80,000, 2.48x. Their keys
    seen twice tell them from unique ones: a key of r rows is seen twice
    (r − 1)·q/2 times as often as once, a unique one never.
    """
    n, d = f1 + 2.0 * f2, f1 + f2
    if n <= 0:
        return 0.0
    return min(n / q, n * d / max(n - f1 + f1 * q, 1.0))


def heavy_tail(f3: float, f1: float, f2: float) -> tuple[float, float]:
    """Of the keys the sample saw once and twice (``f1``, ``f2``), how many are of the heavy part's kind, as
    many as it saw three times (``f3``) each: keys of rates spread evenly about 1-3 sightings are seen once,
    twice and three times alike (∫ λ^k·e^(−λ)/k! dλ = 1 for every k).

    Keys seen twice are what tells keys of a few rows from unique ones
    (``light_keys``), and near-unique keys are read from very few of them: a
    few plan names over 800 teams, ~67 rows a key, seen 5.4 times each at
    7.5%, gave as many keys seen twice as 240,000 unique user ids beside
    them would in 60 of them, and Duj1 read 20% of the ids as duplicates
    (u15's repro forecast 0.84x of built); teams of 1 to 330 rows beside
    200,000 ids, 12%. Keys of 10-30 rows seen at 1% are seen three times 30
    times less often than twice, and keep their count.
    """
    return min(f3, f1), min(f3, f2)

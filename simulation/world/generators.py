"""Array-native generators of social graphs, one per `graph.kind`.

Each returns a graph built with the run's Generator; none loops over people in
Python (the per-tie loops are numba kernels), and draws are taken in chunks with
ids in int32, so a million people with ten million ties build in about a second and
ten million with a hundred million in a few GiB.
"""

from __future__ import annotations

import math
from pathlib import Path

import numba
import numpy as np
import pandas as pd

from simulation.scenario.loading import ScenarioError
from simulation.scenario.schema import (
    BarabasiAlbertGraph,
    CirclesGraph,
    ErdosRenyiGraph,
    GraphConfig,
    WattsStrogatzGraph,
)
from simulation.world.arrays import bernoulli_positions
from simulation.world.graph import ContactGraph, SocialGraph, WellMixedGraph, index_type
from simulation.world.threads import parallel_kernel

CHUNK = 1 << 22  # draws taken at a time: the same stream as one draw, without its copy


def build_graph(config: GraphConfig, n: int, rng: np.random.Generator) -> ContactGraph:
    """The graph a scenario's `[graph]` table describes, on `n` people."""
    if config.kind == "complete":
        return WellMixedGraph(n)
    if config.kind == "edgelist":
        return read_edgelist(config.path, n)
    builders = {
        "erdos_renyi": erdos_renyi,
        "watts_strogatz": watts_strogatz,
        "barabasi_albert": barabasi_albert,
        "circles": circles,
    }
    return builders[config.kind](config, n, rng)


def _uniforms_below(rng: np.random.Generator, size: int, prob: float) -> np.ndarray:
    """`rng.random(size) < prob`, drawn in chunks (the same draws, no float64 array)."""
    below = np.empty(size, dtype=bool)
    for start in range(0, size, CHUNK):
        stop = min(start + CHUNK, size)
        np.less(rng.random(stop - start), prob, out=below[start:stop])
    return below


def _integers_into(rng: np.random.Generator, n: int, out: np.ndarray) -> None:
    """`out[:] = rng.integers(0, n, size=out.size)`, drawn in chunks (the same draws:
    the bit generator, not the call, keeps the spare half of a 64-bit output)."""
    for start in range(0, out.size, CHUNK):
        stop = min(start + CHUNK, out.size)
        out[start:stop] = rng.integers(0, n, size=stop - start)


@numba.njit(cache=True)
def _pair_keys(n: int, u: np.ndarray, v: np.ndarray, keys: np.ndarray) -> int:
    """`min·n + max` of each pair that is not a self-loop, into `keys`; how many."""
    count = 0
    for i in range(u.size):
        a, b = np.int64(u[i]), np.int64(v[i])
        if a != b:
            keys[count] = min(a, b) * n + max(a, b)
            count += 1
    return count


@numba.njit(cache=True)
def _drop_repeats(values: np.ndarray) -> int:
    """Close up a sorted array's repeated values in place; how many distinct remain."""
    kept = 0
    for i in range(values.size):
        if i == 0 or values[i] != values[i - 1]:
            values[kept] = values[i]
            kept += 1
    return kept


@numba.njit(cache=True)
def _merge_distinct(first: np.ndarray, second: np.ndarray, out: np.ndarray) -> int:
    """The sorted distinct union of two sorted distinct arrays, into `out`; its size."""
    i = j = kept = 0
    while i < first.size or j < second.size:
        if j == second.size or (i < first.size and first[i] < second[j]):
            value = first[i]
            i += 1
        elif i == first.size or second[j] < first[i]:
            value = second[j]
            j += 1
        else:
            value = first[i]
            i += 1
            j += 1
        out[kept] = value
        kept += 1
    return kept


@numba.njit(cache=True)
def _drop_positions(values: np.ndarray, drop: np.ndarray) -> int:
    """Close up `values` over the flagged positions in place; how many remain."""
    kept = 0
    for i in range(values.size):
        if not drop[i]:
            values[kept] = values[i]
            kept += 1
    return kept


@numba.njit(cache=True)
def _split_keys(n: int, keys: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    """`lo, hi = divmod(keys, n)` into narrower arrays, with no int64 pair of copies."""
    for i in range(keys.size):
        lo[i] = keys[i] // n
        hi[i] = keys[i] % n


def _shrunk(values: np.ndarray, size: int) -> np.ndarray:
    """`values[:size]` without keeping the rest alive (in place when it owns its data)."""
    if size == values.size:
        return values
    if values.flags.owndata and values.base is None:
        values.resize(size, refcheck=False)
        return values
    return values[:size].copy()


def erdos_renyi(config: ErdosRenyiGraph, n: int, rng: np.random.Generator) -> SocialGraph:
    """G(n, m) with m = n·mean_degree/2 distinct ties drawn uniformly."""
    target = int(round(n * config.mean_degree / 2))
    target = min(target, n * (n - 1) // 2)
    pairs = np.empty(0, dtype=np.int64)  # lo·n + hi, sorted and distinct
    while pairs.size < target:
        missing = target - pairs.size
        draw = int(missing * 1.01) + 16
        u = np.empty(draw, dtype=index_type(n))
        v = np.empty(draw, dtype=index_type(n))
        _integers_into(rng, n, u)
        _integers_into(rng, n, v)
        fresh = np.empty(draw, dtype=np.int64)
        fresh = _shrunk(fresh, _pair_keys(n, u, v, fresh))
        del u, v
        fresh.sort()
        fresh = _shrunk(fresh, _drop_repeats(fresh))
        if pairs.size == 0:
            pairs = fresh
        else:
            union = np.empty(pairs.size + fresh.size, dtype=np.int64)
            pairs = _shrunk(union, _merge_distinct(pairs, fresh, union))
        del fresh
    if pairs.size > target:
        drop = np.zeros(pairs.size, dtype=bool)
        drop[rng.choice(pairs.size, size=pairs.size - target, replace=False)] = True
        pairs = _shrunk(pairs, _drop_positions(pairs, drop))
        del drop
    lo = np.empty(pairs.size, dtype=index_type(n))
    hi = np.empty(pairs.size, dtype=index_type(n))
    _split_keys(n, pairs, lo, hi)
    del pairs
    return SocialGraph.from_edges(n, lo, hi)


@parallel_kernel
def _ring(n: int, half: int, ends: np.ndarray, others: np.ndarray) -> None:
    """Person i's ties to i + 1 … i + half (mod n), at positions i·half … i·half + half − 1."""
    for i in numba.prange(n):
        for k in range(half):
            ends[i * half + k] = i
            others[i * half + k] = (np.int64(i) + k + 1) % n


def watts_strogatz(config: WattsStrogatzGraph, n: int, rng: np.random.Generator) -> SocialGraph:
    """A ring where each person ties to the k/2 nearest on each side, far ends rewired."""
    half = max(1, int(round(config.mean_degree / 2)))
    half = min(half, (n - 1) // 2) if n > 2 else 1
    u = np.empty(n * half, dtype=index_type(n))
    v = np.empty(n * half, dtype=index_type(n))
    _ring(n, half, u, v)
    rewire = _uniforms_below(rng, u.size, config.rewire_prob)
    v[rewire] = rng.integers(0, n, size=int(rewire.sum()))
    del rewire
    return SocialGraph.from_edges(n, u, v)


@numba.njit(cache=True)
def _attach(first: int, m: int, uniform: np.ndarray, target: np.ndarray) -> None:
    """Far ends of ties first … first + len(uniform) − 1, in order: tie e copies slot
    ⌊u·(2e + 1)⌋ of the endpoint list (even slots are sources, odd ones far ends,
    which are earlier ties and so already set)."""
    for i in range(uniform.size):
        tie = first + i
        slot = np.int64(uniform[i] * np.float64(2 * tie + 1))
        earlier = slot // 2
        target[tie] = earlier // m if slot % 2 == 0 else target[earlier]


def barabasi_albert(config: BarabasiAlbertGraph, n: int, rng: np.random.Generator) -> SocialGraph:
    """Preferential attachment, m = mean_degree/2 ties per newcomer (Batagelj–Brandes).

    Tie e's far end copies a uniformly chosen earlier endpoint slot (a far end's slot is
    that earlier tie's far end), resolved in one pass in tie order.
    """
    m = max(1, int(round(config.mean_degree / 2)))
    target = np.empty(n * m, dtype=index_type(n))
    for start in range(0, target.size, CHUNK):
        stop = min(start + CHUNK, target.size)
        _attach(start, m, rng.random(stop - start), target)
    source = np.repeat(np.arange(n, dtype=index_type(n)), m)
    return SocialGraph.from_edges(n, source, target)


@numba.njit(cache=True)
def _circle_pairs(
    positions: np.ndarray, size: int, pair_counts: np.ndarray, u: np.ndarray, v: np.ndarray
) -> None:
    """The two people of each drawn within-circle pair: position p runs over the
    circles' pairs (circle by circle, pair j = later·(later − 1)/2 + earlier)."""
    ends = np.cumsum(pair_counts)
    circle = 0
    for i in range(positions.size):
        position = positions[i]
        if circle > 0 and position < ends[circle - 1]:
            circle = np.searchsorted(ends, position, side="right")
        while ends[circle] <= position:
            circle += 1
        pair = position - (ends[circle] - pair_counts[circle])
        later = np.int64((math.sqrt(8.0 * pair + 1.0) - 1.0) // 2.0) + 1
        earlier = pair - later * (later - 1) // 2
        u[i] = circle * size + earlier
        v[i] = circle * size + later


def circles(config: CirclesGraph, n: int, rng: np.random.Generator) -> SocialGraph:
    """Stochastic block model: circles of `circle_size`, `within_share` of ties inside.

    Inside a circle each pair is tied independently (G(s, p) with p set so that a
    person has mean_degree·within_share ties inside); ties across circles join
    uniformly drawn pairs.
    """
    size = min(config.circle_size, n)
    starts = np.arange(0, n, size, dtype=np.int64)
    sizes = np.diff(np.append(starts, n))
    pair_counts = sizes * (sizes - 1) // 2
    p_inside = min(1.0, config.mean_degree * config.within_share / max(size - 1, 1))
    positions = bernoulli_positions(int(pair_counts.sum()), p_inside, rng)
    across = int(round(n * config.mean_degree * (1 - config.within_share) / 2))
    u = np.empty(positions.size + across, dtype=index_type(n))
    v = np.empty(positions.size + across, dtype=index_type(n))
    _circle_pairs(positions, size, pair_counts, u, v)
    inside = positions.size
    del positions
    _integers_into(rng, n, u[inside:])
    _integers_into(rng, n, v[inside:])
    return SocialGraph.from_edges(n, u, v)


def edgelist_fault(path: Path) -> str:
    """Where an edge list stops being `u v` lines of whole numbers, without quoting the
    file (it is data, not a scenario)."""
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            fields = line.split(b"#")[0].split()
            if not fields:
                continue
            if len(fields) < 2 or not all(f.isdigit() for f in fields[:2]):
                return f"line {number} is not two whole numbers 'u v'"
            if max(int(f) for f in fields[:2]) > np.iinfo(np.int64).max:
                return f"line {number}: an id beyond 2^63 − 1"
    return "no 'u v' lines"


def read_edgelist(path: str, n: int) -> SocialGraph:
    """A graph from a file of whitespace-separated `u v` lines ('#' starts a comment).

    Person ids are renumbered 0..k-1 in order; `population.size` must equal k.
    """
    try:
        table = pd.read_csv(
            Path(path), sep=r"\s+", comment="#", header=None, usecols=[0, 1], dtype=np.int64
        )
    except OSError as err:
        raise ScenarioError(path, "graph.path", f"cannot read: {err.strerror}") from None
    except (ValueError, OverflowError, pd.errors.ParserError, pd.errors.EmptyDataError):
        raise ScenarioError(path, "graph.path", edgelist_fault(Path(path))) from None
    ids, pairs = np.unique(table.to_numpy().ravel(), return_inverse=True)
    if ids.size != n:
        raise ScenarioError(
            path,
            "population.size",
            f"the edge list has {ids.size} people but population.size is {n}",
        )
    pairs = pairs.reshape(-1, 2)
    return SocialGraph.from_edges(n, pairs[:, 0], pairs[:, 1])

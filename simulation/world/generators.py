"""Array-native generators of social graphs, one per `graph.kind`.

Each returns a graph built with the run's Generator; none loops over people in
Python, so a million people with ten million ties build in seconds.
"""

from __future__ import annotations

from pathlib import Path

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
from simulation.world.arrays import bernoulli_positions, segment_of, sorted_unique
from simulation.world.graph import ContactGraph, SocialGraph, WellMixedGraph


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


def erdos_renyi(config: ErdosRenyiGraph, n: int, rng: np.random.Generator) -> SocialGraph:
    """G(n, m) with m = n·mean_degree/2 distinct ties drawn uniformly."""
    target = int(round(n * config.mean_degree / 2))
    target = min(target, n * (n - 1) // 2)
    pairs = np.empty(0, dtype=np.int64)
    while pairs.size < target:
        missing = target - pairs.size
        draw = int(missing * 1.01) + 16
        u = rng.integers(0, n, size=draw)
        v = rng.integers(0, n, size=draw)
        keep = u != v
        fresh = np.minimum(u[keep], v[keep]) * n + np.maximum(u[keep], v[keep])
        pairs = sorted_unique(np.concatenate([pairs, fresh]))
    if pairs.size > target:
        pairs = np.delete(pairs, rng.choice(pairs.size, size=pairs.size - target, replace=False))
    return SocialGraph.from_edges(n, *np.divmod(pairs, n))


def watts_strogatz(config: WattsStrogatzGraph, n: int, rng: np.random.Generator) -> SocialGraph:
    """A ring where each person ties to the k/2 nearest on each side, far ends rewired."""
    half = max(1, int(round(config.mean_degree / 2)))
    half = min(half, (n - 1) // 2) if n > 2 else 1
    u = np.repeat(np.arange(n, dtype=np.int64), half)
    v = (u + np.tile(np.arange(1, half + 1, dtype=np.int64), n)) % n
    rewire = rng.random(u.size) < config.rewire_prob
    v[rewire] = rng.integers(0, n, size=int(rewire.sum()))
    return SocialGraph.from_edges(n, u, v)


def barabasi_albert(config: BarabasiAlbertGraph, n: int, rng: np.random.Generator) -> SocialGraph:
    """Preferential attachment, m = mean_degree/2 ties per newcomer (Batagelj–Brandes).

    Tie e's far end copies a uniformly chosen earlier endpoint slot; a slot that is
    itself a far end is resolved by pointer jumping, all ties at once.
    """
    m = max(1, int(round(config.mean_degree / 2)))
    ties = np.arange(n * m, dtype=np.int64)
    slot = (rng.random(ties.size) * (2 * ties + 1)).astype(np.int64)
    source = ties // m
    target = np.where(slot % 2 == 0, source[slot // 2], -1)
    pointer = slot // 2
    open_ = target < 0
    while open_.any():
        idx = np.flatnonzero(open_)
        ref = pointer[idx]
        done = target[ref] >= 0
        target[idx[done]] = target[ref[done]]
        pointer[idx[~done]] = pointer[ref[~done]]
        open_[idx[done]] = False
    return SocialGraph.from_edges(n, source, target)


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
    circle, pair = segment_of(positions, pair_counts)
    later = ((np.sqrt(8.0 * pair + 1.0) - 1.0) // 2).astype(np.int64) + 1
    earlier = pair - later * (later - 1) // 2
    across = int(round(n * config.mean_degree * (1 - config.within_share) / 2))
    u = np.concatenate([starts[circle] + earlier, rng.integers(0, n, size=across)])
    v = np.concatenate([starts[circle] + later, rng.integers(0, n, size=across)])
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

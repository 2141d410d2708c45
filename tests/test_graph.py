"""Social graphs: every generator gives a simple undirected graph of the asked size."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.scenario import ScenarioError
from simulation.scenario.schema import (
    BarabasiAlbertGraph,
    CirclesGraph,
    EdgelistGraph,
    ErdosRenyiGraph,
    WattsStrogatzGraph,
)
from simulation.world import generators
from simulation.world.arrays import bernoulli_positions, segment_of
from simulation.world.generators import build_graph
from simulation.world.graph import SocialGraph, WellMixedGraph
from tests.conftest import SHARED_DATA

GENERATED = [
    ErdosRenyiGraph(kind="erdos_renyi", mean_degree=12),
    WattsStrogatzGraph(kind="watts_strogatz", mean_degree=12, rewire_prob=0.2),
    BarabasiAlbertGraph(kind="barabasi_albert", mean_degree=12),
    CirclesGraph(kind="circles", mean_degree=12, circle_size=40, within_share=0.7),
]


def assert_simple_undirected(graph: SocialGraph) -> None:
    src = np.repeat(np.arange(graph.n), graph.degree)
    dst = graph.indices.astype(np.int64)
    assert not np.any(src == dst), "self-loop"
    forward = src * graph.n + dst
    assert np.all(np.diff(forward) > 0), "rows unsorted or repeated ties"
    assert np.array_equal(np.sort(dst * graph.n + src), forward), "a tie without its reverse"


@pytest.mark.parametrize("config", GENERATED, ids=lambda c: c.kind)
def test_generators_give_simple_graphs_of_the_asked_degree(config):
    graph = build_graph(config, 5000, np.random.default_rng(1))
    assert graph.n == 5000
    assert_simple_undirected(graph)
    assert graph.degree.mean() == pytest.approx(12, rel=0.03)


@pytest.mark.parametrize("config", GENERATED, ids=lambda c: c.kind)
def test_generators_are_reproducible(config):
    first = build_graph(config, 2000, np.random.default_rng(5))
    again = build_graph(config, 2000, np.random.default_rng(5))
    other = build_graph(config, 2000, np.random.default_rng(6))
    assert np.array_equal(first.indices, again.indices)
    assert not np.array_equal(first.indices, other.indices)


def test_unrewired_watts_strogatz_is_a_ring_lattice():
    config = WattsStrogatzGraph(kind="watts_strogatz", mean_degree=4, rewire_prob=0.0)
    graph = build_graph(config, 10, np.random.default_rng(0))
    assert np.all(graph.degree == 4)
    assert list(graph.indices[graph.indptr[0] : graph.indptr[1]]) == [1, 2, 8, 9]


def test_barabasi_albert_has_hubs():
    config = BarabasiAlbertGraph(kind="barabasi_albert", mean_degree=10)
    graph = build_graph(config, 20000, np.random.default_rng(2))
    assert graph.degree.max() > 15 * graph.degree.mean()


def test_circles_keep_the_asked_share_of_ties_inside():
    config = CirclesGraph(kind="circles", mean_degree=20, circle_size=50, within_share=0.8)
    graph = build_graph(config, 10000, np.random.default_rng(3))
    src = np.repeat(np.arange(graph.n), graph.degree)
    inside = np.mean(src // 50 == graph.indices // 50)
    assert inside == pytest.approx(0.8, abs=0.02)


def test_well_mixed_contacts_are_everyone_else():
    graph = WellMixedGraph(5)
    senders = np.full(4, 2)
    receivers, ties = graph.contact_at(senders, np.arange(4))
    assert list(receivers) == [0, 1, 3, 4]
    assert list(ties) == [10, 11, 13, 14]


def test_bernoulli_positions():
    rng = np.random.default_rng(0)
    positions = bernoulli_positions(1_000_000, 0.001, rng)
    assert positions.size == pytest.approx(1000, rel=0.15)
    assert np.all(np.diff(positions) > 0) and positions.max() < 1_000_000
    assert np.array_equal(bernoulli_positions(5, 1.0, rng), np.arange(5))
    assert bernoulli_positions(5, 0.0, rng).size == 0


def test_segment_of():
    segment, offset = segment_of(np.array([0, 2, 3, 5]), np.array([3, 0, 3]))
    assert list(segment) == [0, 0, 2, 2]
    assert list(offset) == [0, 2, 0, 2]


def test_edgelist_renumbers_and_symmetrises(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("# comment\n10 20\n20 30\n30 10\n10 20\n")
    graph = build_graph(EdgelistGraph(kind="edgelist", path=str(path)), 3, None)
    assert graph.n_ties == 6
    assert_simple_undirected(graph)


def test_edgelist_size_must_match_population(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("0 1\n1 2\n")
    with pytest.raises(ScenarioError, match="has 3 people but population.size is 5"):
        build_graph(EdgelistGraph(kind="edgelist", path=str(path)), 5, None)


def test_unreadable_edgelist_is_a_scenario_error(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("0 one\n")
    with pytest.raises(ScenarioError, match="line 1 is not two whole numbers"):
        build_graph(EdgelistGraph(kind="edgelist", path=str(path)), 2, None)


@pytest.mark.skipif(not (SHARED_DATA / "facebook_combined.txt").exists(), reason="no shared data")
def test_snap_facebook_graph_loads():
    config = EdgelistGraph(kind="edgelist", path=str(SHARED_DATA / "facebook_combined.txt"))
    graph = build_graph(config, 4039, None)
    assert graph.n_ties == 2 * 88234
    assert_simple_undirected(graph)


def set_built(n: int, u, v) -> tuple[np.ndarray, np.ndarray]:
    """The CSR arrays built the plain way: a set of contacts per person, sorted."""
    contacts = [set() for _ in range(n)]
    for a, b in zip(u, v, strict=True):
        if a != b:
            contacts[int(a)].add(int(b))
            contacts[int(b)].add(int(a))
    indptr = np.cumsum([0] + [len(c) for c in contacts])
    indices = [x for c in contacts for x in sorted(c)]
    return indptr, np.array(indices, dtype=np.int64)


def assert_built_like_sets(n: int, u, v) -> None:
    graph = SocialGraph.from_edges(n, u, v)
    indptr, indices = set_built(n, u, v)
    assert graph.indptr.dtype == np.int64 and graph.indices.dtype == np.int32
    assert np.array_equal(graph.indptr, indptr)
    assert np.array_equal(graph.indices, indices)
    assert np.array_equal(graph.degree, np.diff(indptr))


@st.composite
def edge_lists(draw):
    """A few people and pairs among them, with repeats (both ways) and self-loops."""
    n = draw(st.integers(1, 60))
    ids = st.integers(0, n - 1)
    pairs = draw(st.lists(st.tuples(ids, ids), max_size=200))
    repeats = draw(st.lists(st.sampled_from(pairs), max_size=50)) if pairs else []
    pairs += [(b, a) for a, b in repeats]
    dtype = draw(st.sampled_from([np.int64, np.int32, np.int16, np.uint32]))
    u = np.array([a for a, _ in pairs], dtype=dtype)
    v = np.array([b for _, b in pairs], dtype=dtype)
    return n, u, v


@settings(max_examples=300, deadline=None)
@given(edge_lists())
def test_from_edges_equals_a_set_based_build(case):
    assert_built_like_sets(*case)


def test_from_edges_equals_a_set_based_build_on_long_rows():
    """Rows longer than the insertion-sort cut-off, with many repeats."""
    rng = np.random.default_rng(4)
    u = np.concatenate([np.zeros(3000, np.int64), rng.integers(0, 300, 5000)])
    v = rng.integers(0, 300, u.size)
    assert_built_like_sets(300, u, v)


@pytest.mark.parametrize(
    ("n", "u", "v"),
    [
        (1, [], []),
        (5, np.empty(0, np.int64), np.empty(0, np.int64)),
        (1, [0, 0], [0, 0]),
        (3, [0, 1, 2], [0, 1, 2]),
        (2, [0, 1, 1, 0], [1, 0, 0, 1]),
        (4, [3, 3, 2, 1], [0, 0, 0, 0]),
        (3, np.array([2, 1], np.uint8), np.array([0, 0], np.uint8)),
        (3, [2.0, 1.0], [0.0, 0.0]),
    ],
    ids=["one", "nobody-tied", "one-self-loop", "self-loops", "repeats", "star", "u8", "floats"],
)
def test_from_edges_edge_cases(n, u, v):
    assert_built_like_sets(n, u, v)


def test_from_edges_rejects_ids_outside_the_population():
    with pytest.raises(ValueError, match="outside"):
        SocialGraph.from_edges(3, [0, 1], [1, 3])
    with pytest.raises(ValueError, match="outside"):
        SocialGraph.from_edges(3, [-1], [1])
    with pytest.raises(ValueError, match="first ends"):
        SocialGraph.from_edges(3, [0, 1], [1])


@pytest.mark.parametrize("config", GENERATED, ids=lambda c: c.kind)
def test_generators_build_like_sets_from_the_same_draws(config, monkeypatch):
    """Each generator's graph is the plain build of its own pairs."""
    pairs = {}
    build = SocialGraph.from_edges.__func__

    def recording(cls, n, u, v):
        pairs["n"], pairs["u"], pairs["v"] = n, np.array(u), np.array(v)
        return build(cls, n, u, v)

    monkeypatch.setattr(SocialGraph, "from_edges", classmethod(recording))
    graph = build_graph(config, 700, np.random.default_rng(8))
    indptr, indices = set_built(pairs["n"], pairs["u"], pairs["v"])
    assert np.array_equal(graph.indptr, indptr) and np.array_equal(graph.indices, indices)


@pytest.mark.parametrize("config", GENERATED, ids=lambda c: c.kind)
def test_chunked_draws_are_one_draw(config, monkeypatch):
    """Drawing in chunks changes neither the graph nor what the stream gives next."""
    whole_rng = np.random.default_rng(9)
    whole = build_graph(config, 3000, whole_rng)
    monkeypatch.setattr(generators, "CHUNK", 997)
    chunked_rng = np.random.default_rng(9)
    chunked = build_graph(config, 3000, chunked_rng)
    assert np.array_equal(whole.indptr, chunked.indptr)
    assert np.array_equal(whole.indices, chunked.indices)
    assert whole_rng.random() == chunked_rng.random()


def test_tiny_populations():
    for config in GENERATED:
        for n in (1, 2, 3):
            graph = build_graph(config, n, np.random.default_rng(0))
            assert graph.n == n and graph.indptr.size == n + 1
            assert_simple_undirected(graph)


# sha256 of indptr + indices as the sort-based build (before the numba one) gave them
DIGESTS = {
    "erdos_renyi": "0757a2651585b566",
    "watts_strogatz": "73d89b12ab520348",
    "barabasi_albert": "9f4468ff87471112",
    "circles": "02938af034f3d0f4",
}


@pytest.mark.parametrize("config", GENERATED, ids=lambda c: c.kind)
def test_generators_give_the_graphs_they_always_gave(config):
    graph = build_graph(config, 2000, np.random.default_rng(5))
    digest = hashlib.sha256(graph.indptr.tobytes() + graph.indices.tobytes()).hexdigest()
    assert digest[:16] == DIGESTS[config.kind]

"""Social graphs: every generator gives a simple undirected graph of the asked size."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.scenario import ScenarioError
from simulation.scenario.schema import (
    BarabasiAlbertGraph,
    CirclesGraph,
    EdgelistGraph,
    ErdosRenyiGraph,
    WattsStrogatzGraph,
)
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

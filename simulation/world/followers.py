"""The follower graph: who follows whom on the content channel, beside the social graph.

Hosts are the people (ids 0..n-1) and the platform's own live rooms (ids n..n+H-1);
each host's followers are people. Audiences are heavy-tailed (Pareto sizes), and a
person's followers come partly from its 2-hop social neighbourhood, partly from anyone.
Stored in CSR form over hosts, with a flag per follow saying whether the follower is
also a social contact of the host.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.scenario.schema import ContentConfig
from simulation.world.arrays import sorted_unique
from simulation.world.graph import ContactGraph, SocialGraph


@dataclass(frozen=True)
class FollowerGraph:
    """Followers of each host in CSR form: host h's are `follower[indptr[h]:indptr[h+1]]`,
    sorted; `tied` marks follows where the follower is a social contact of the host."""

    people: int
    indptr: np.ndarray
    follower: np.ndarray
    tied: np.ndarray

    @property
    def hosts(self) -> int:
        """People plus platform-run hosts."""
        return int(self.indptr.size - 1)

    @property
    def audience(self) -> np.ndarray:
        """Followers per host."""
        return np.diff(self.indptr)

    @classmethod
    def from_pairs(
        cls, people: int, hosts: int, host: np.ndarray, follower: np.ndarray, graph: ContactGraph
    ) -> FollowerGraph:
        """Build from (host, follower) pairs; self-follows and repeats are dropped."""
        keep = host != follower
        pairs = sorted_unique(host[keep].astype(np.int64) * people + follower[keep])
        host, follower = np.divmod(pairs, people)
        indptr = np.zeros(hosts + 1, dtype=np.int64)
        np.cumsum(np.bincount(host, minlength=hosts), out=indptr[1:])
        return cls(people, indptr, follower, are_contacts(graph, host, follower))


def are_contacts(graph: ContactGraph, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether each b is a social contact of a (a platform host, id ≥ n, has none)."""
    person = a < graph.n
    if not isinstance(graph, SocialGraph):
        return person & (a != b)
    out = np.zeros(a.size, dtype=bool)
    if graph.n_ties == 0:
        return out
    src = np.repeat(np.arange(graph.n, dtype=np.int64), graph.degree)
    ties = src * graph.n + graph.indices
    wanted = a[person] * graph.n + b[person]
    at = np.minimum(np.searchsorted(ties, wanted), ties.size - 1)
    out[person] = ties[at] == wanted
    return out


def audience_sizes(config: ContentConfig, n: int, rng: np.random.Generator) -> np.ndarray:
    """Each person's audience: Pareto with tail exponent α and mean `mean_followers`
    (scale m·(α−1)/α), rounded at random so the mean holds, capped at n − 1."""
    alpha = config.follower_exponent
    scale = config.mean_followers * (alpha - 1.0) / alpha
    size = scale * (1.0 - rng.random(n)) ** (-1.0 / alpha)
    size = np.floor(size + rng.random(n))
    return np.minimum(size, max(n - 1, 0)).astype(np.int64)


def build_followers(
    config: ContentConfig, graph: ContactGraph, rng: np.random.Generator
) -> FollowerGraph:
    """Draw audiences, then each follow: with chance `local_share` (people hosts on a
    social graph) a contact of a uniform contact of the host, else anyone uniformly."""
    n = graph.n
    hosts = n + config.platform_hosts
    size = np.concatenate(
        [
            audience_sizes(config, n, rng),
            np.full(config.platform_hosts, min(config.host_followers, n), dtype=np.int64),
        ]
    )
    host = np.repeat(np.arange(hosts, dtype=np.int64), size)
    follower = rng.integers(0, max(n, 1), size=host.size)
    if isinstance(graph, SocialGraph):
        local = (rng.random(host.size) < config.local_share) & (host < n)
        near = host[local]
        near = near[graph.degree[near] > 0]
        local[local] = graph.degree[host[local]] > 0
        first = graph.indices[
            graph.indptr[near] + (rng.random(near.size) * graph.degree[near]).astype(np.int64)
        ].astype(np.int64)
        second = graph.indices[
            graph.indptr[first] + (rng.random(first.size) * graph.degree[first]).astype(np.int64)
        ].astype(np.int64)
        follower[local] = second
    return FollowerGraph.from_pairs(n, hosts, host, follower, graph)

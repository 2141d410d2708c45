"""The social graph as the model sees it: who each person's contacts are, and tie ids.

A tie is directed, sender to receiver, and carries the receiver's trust in the
sender. `SocialGraph` stores ties in CSR arrays (a tie id is a position in
`indices`); `WellMixedGraph` is the complete graph, whose ties are never stored
and whose tie id is `sender * n + receiver`.
"""

from __future__ import annotations

import numpy as np

from simulation.world.arrays import sorted_unique


class ContactGraph:
    """What both graph kinds offer: degrees, contacts by offset, and tie sampling."""

    n: int
    dense_ties: bool

    def degree_of(self, people: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def contact_at(self, senders: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The `offsets`-th contact of each sender and the id of that tie."""
        raise NotImplementedError

    def mean_over_contacts(self, values: np.ndarray) -> np.ndarray:
        """Each person's mean of `values` (rows per person) over its contacts; a person
        without contacts keeps its own row."""
        raise NotImplementedError

    def contacts_at_fraction(
        self, senders: np.ndarray, fractions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The contact at position ⌊fraction × degree⌋ of each sender, so a uniform
        fraction picks a uniform contact (senders with no contact drop out)."""
        degree = self.degree_of(senders)
        has = degree > 0
        senders, degree = senders[has], degree[has]
        offsets = (fractions[has] * degree).astype(np.int64)
        receivers, ties = self.contact_at(senders, offsets)
        return senders, receivers, ties


class SocialGraph(ContactGraph):
    """An undirected graph stored as directed ties in CSR form, rows sorted."""

    dense_ties = True

    def __init__(self, n: int, indptr: np.ndarray, indices: np.ndarray) -> None:
        self.n = n
        self.indptr = indptr
        self.indices = indices
        self.degree = np.diff(indptr).astype(np.int64)

    @classmethod
    def from_edges(cls, n: int, u: np.ndarray, v: np.ndarray) -> SocialGraph:
        """Build from undirected pairs; self-loops and repeated pairs are dropped."""
        u = np.asarray(u, dtype=np.int64)
        v = np.asarray(v, dtype=np.int64)
        keep = u != v
        lo = np.minimum(u[keep], v[keep])
        hi = np.maximum(u[keep], v[keep])
        pairs = sorted_unique(lo * n + hi)
        lo, hi = np.divmod(pairs, n)
        directed = np.concatenate([pairs, hi * n + lo])
        directed.sort()
        src, dst = np.divmod(directed, n)
        index_type = np.int32 if n < np.iinfo(np.int32).max else np.int64
        indices = dst.astype(index_type)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
        return cls(n, indptr, indices)

    @property
    def n_ties(self) -> int:
        """Directed ties (twice the undirected ones)."""
        return int(self.indices.size)

    def degree_of(self, people: np.ndarray) -> np.ndarray:
        return self.degree[people]

    def mean_over_contacts(self, values: np.ndarray) -> np.ndarray:
        sums = np.add.reduceat(values[self.indices], self.indptr[:-1], axis=0)
        has = self.degree > 0
        means = values.copy()
        means[has] = sums[has] / self.degree[has, None]
        return means

    def contact_at(self, senders: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ties = self.indptr[senders] + offsets
        return self.indices[ties].astype(np.int64), ties


class WellMixedGraph(ContactGraph):
    """The complete graph on n people: everyone is everyone's contact."""

    dense_ties = False

    def __init__(self, n: int) -> None:
        self.n = n

    @property
    def n_ties(self) -> int:
        return self.n * (self.n - 1)

    def degree_of(self, people: np.ndarray) -> np.ndarray:
        return np.full(np.shape(people), self.n - 1, dtype=np.int64)

    def mean_over_contacts(self, values: np.ndarray) -> np.ndarray:
        return (values.sum(axis=0) - values) / max(self.n - 1, 1)

    def contact_at(self, senders: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        receivers = offsets + (offsets >= senders)
        return receivers, senders.astype(np.int64) * self.n + receivers

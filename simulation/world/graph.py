"""The social graph as the model sees it: who each person's contacts are, and tie ids.

A tie is directed, sender to receiver, and carries the receiver's trust in the
sender. `SocialGraph` stores ties in CSR arrays (a tie id is a position in
`indices`); `WellMixedGraph` is the complete graph, whose ties are never stored
and whose tie id is `sender * n + receiver`.
"""

from __future__ import annotations

import numba
import numpy as np

from simulation.world.arrays import consecutive, spread, weyl_point
from simulation.world.threads import parallel_kernel

INSERTION_ROW = 32  # rows up to this length are sorted by insertion, longer by quicksort


@numba.njit(cache=True)
def _count_rows(n: int, u: np.ndarray, v: np.ndarray, indptr: np.ndarray) -> int:
    """Row starts of the directed ties (both ways, self-loops skipped) into `indptr`;
    the position of the first pair with an id outside [0, n), or -1."""
    for i in range(u.size):
        a, b = u[i], v[i]
        if a < 0 or a >= n or b < 0 or b >= n:
            return i
        if a != b:
            indptr[a + 1] += 1
            indptr[b + 1] += 1
    for row in range(n):
        indptr[row + 1] += indptr[row]
    return -1


@parallel_kernel
def _fill_rows(
    u: np.ndarray, v: np.ndarray, indptr: np.ndarray, indices: np.ndarray, parts: int
) -> None:
    """Counting sort of the directed ties by sender: each pair goes into both rows, in
    pair order. Each of `parts` threads fills the rows of one range of senders."""
    n = indptr.size - 1
    for part in numba.prange(parts):
        low, high = part * n // parts, (part + 1) * n // parts
        for i in range(u.size):
            a, b = u[i], v[i]
            if a == b:
                continue
            if low <= a < high:
                indices[indptr[a]] = b
                indptr[a] += 1
            if low <= b < high:
                indices[indptr[b]] = a
                indptr[b] += 1
    for row in range(n, 0, -1):  # the cursors ran to the next row's start
        indptr[row] = indptr[row - 1]
    indptr[0] = 0


@numba.njit(cache=True)
def _sort_rows_dropping_repeats(indptr: np.ndarray, indices: np.ndarray) -> int:
    """Sort each row, drop repeated contacts and close the gaps (in place); the ties kept."""
    kept = 0
    start = indptr[0]
    for row in range(indptr.size - 1):
        end = indptr[row + 1]
        if end - start > INSERTION_ROW:
            indices[start:end].sort()
        else:
            for j in range(start + 1, end):
                x = indices[j]
                k = j - 1
                while k >= start and indices[k] > x:
                    indices[k + 1] = indices[k]
                    k -= 1
                indices[k + 1] = x
        indptr[row] = kept
        for j in range(start, end):
            if j == start or indices[j] != indices[j - 1]:
                indices[kept] = indices[j]
                kept += 1
        start = end
    indptr[indptr.size - 1] = kept
    return kept


def index_type(n: int) -> type[np.signedinteger]:
    """The narrowest id dtype for `n` people: int32 under 2³¹ − 1, else int64."""
    return np.int32 if n < np.iinfo(np.int32).max else np.int64


def _id_array(ids: np.ndarray) -> np.ndarray:
    """Person ids as a flat int32 or int64 array (other dtypes and lists as int64)."""
    ids = np.asarray(ids)
    if ids.dtype not in (np.int32, np.int64):
        ids = ids.astype(np.int64)
    return ids.ravel()


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

    def spread_contacts(
        self, members: np.ndarray, counts: np.ndarray, uniform: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`counts[i]` contacts of each member, at the fractions `spread` draws from its
        `uniform[i]` (members with no contact drop out): (sender, receiver, tie)."""
        return self.contacts_at_fraction(np.repeat(members, counts), spread(uniform, counts))

    def consecutive_contacts(
        self, senders: np.ndarray, first: np.ndarray, counts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`counts[i]` consecutive contacts of each sender from offset `first[i]`,
        wrapping around its row (`consecutive`): (sender, contact, tie)."""
        repeated = np.repeat(senders, counts)
        offsets = consecutive(first, counts, self.degree_of(senders))
        return repeated, *self.contact_at(repeated, offsets)


class SocialGraph(ContactGraph):
    """An undirected graph stored as directed ties in CSR form, rows sorted."""

    dense_ties = True

    def __init__(self, n: int, indptr: np.ndarray, indices: np.ndarray) -> None:
        self.n = n
        self.indptr = indptr
        self.indices = indices
        self.degree = np.diff(indptr).astype(np.int64, copy=False)

    @classmethod
    def from_edges(cls, n: int, u: np.ndarray, v: np.ndarray) -> SocialGraph:
        """Build from undirected pairs; self-loops and repeated pairs are dropped.

        A counting sort by row and a sort within each (short) row, so the build is
        linear in ties and holds no int64 copy of them (10⁸ ties fit in a few GiB).
        """
        u, v = _id_array(u), _id_array(v)
        if u.shape != v.shape:
            raise ValueError(f"{u.size} first ends but {v.size} second ends")
        indptr = np.zeros(n + 1, dtype=np.int64)
        bad = _count_rows(n, u, v, indptr)
        if bad >= 0:
            raise ValueError(f"pair {bad} ({u[bad]}, {v[bad]}) has an id outside [0, {n})")
        indices = np.empty(int(indptr[-1]), dtype=index_type(n))
        _fill_rows(u, v, indptr, indices, numba.get_num_threads())
        kept = _sort_rows_dropping_repeats(indptr, indices)
        if kept < indices.size:
            indices.resize(kept, refcheck=False)  # shrinks in place: no second copy
        return cls(n, indptr, indices)

    @property
    def n_ties(self) -> int:
        """Directed ties (twice the undirected ones)."""
        return int(self.indices.size)

    def degree_of(self, people: np.ndarray) -> np.ndarray:
        return self.degree[people]

    def mean_over_contacts(self, values: np.ndarray) -> np.ndarray:
        sums = np.add.reduceat(_rows_at(values, self.indices), self.indptr[:-1], axis=0)
        has = self.degree > 0
        means = values.copy()
        means[has] = sums[has] / self.degree[has, None]
        return means

    def contact_at(self, senders: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _contact_at(self.indptr, self.indices, senders, offsets)

    def contacts_at_fraction(
        self, senders: np.ndarray, fractions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return _contacts_at_fraction(self.indptr, self.indices, senders, fractions)

    def spread_contacts(
        self, members: np.ndarray, counts: np.ndarray, uniform: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return _spread_contacts(
            self.indptr,
            self.indices,
            members,
            np.asarray(counts, dtype=np.int64),
            np.asarray(uniform, dtype=np.float64),
        )

    def consecutive_contacts(
        self, senders: np.ndarray, first: np.ndarray, counts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return _consecutive_contacts(
            self.indptr,
            self.indices,
            senders,
            np.asarray(first, np.int64),
            np.asarray(counts, np.int64),
        )


def _rows_at(values: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """values[ids] for a table of rows, gathered in parallel."""
    table = np.ascontiguousarray(values).reshape(values.shape[0], -1)
    return _gather_rows(table, ids).reshape((ids.size, *values.shape[1:]))


@parallel_kernel
def _gather_rows(table: np.ndarray, ids: np.ndarray) -> np.ndarray:
    rows = np.empty((ids.size, table.shape[1]), dtype=table.dtype)
    for i in numba.prange(ids.size):
        rows[i] = table[ids[i]]
    return rows


@parallel_kernel
def _contact_at(
    indptr: np.ndarray, indices: np.ndarray, senders: np.ndarray, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The `offsets`-th contact of each sender in CSR rows, and the tie's position."""
    receivers = np.empty(senders.size, dtype=np.int64)
    ties = np.empty(senders.size, dtype=np.int64)
    for i in numba.prange(senders.size):
        tie = indptr[senders[i]] + offsets[i]
        receivers[i] = indices[tie]
        ties[i] = tie
    return receivers, ties


@parallel_kernel
def _contacts_at_fraction(
    indptr: np.ndarray, indices: np.ndarray, senders: np.ndarray, fractions: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`ContactGraph.contacts_at_fraction` over CSR rows: each sender's contact in
    parallel, then senders without contacts dropped."""
    receivers = np.empty(senders.size, dtype=np.int64)
    ties = np.empty(senders.size, dtype=np.int64)
    alone = 0
    for i in numba.prange(senders.size):
        start = indptr[senders[i]]
        degree = indptr[senders[i] + 1] - start
        if degree > 0:
            tie = start + np.int64(fractions[i] * degree)
            receivers[i] = indices[tie]
            ties[i] = tie
        else:
            ties[i] = -1
            alone += 1
    if alone == 0:
        return senders.copy(), receivers, ties
    kept = ties >= 0
    return senders[kept], receivers[kept], ties[kept]


@parallel_kernel
def _spread_contacts(
    indptr: np.ndarray,
    indices: np.ndarray,
    members: np.ndarray,
    counts: np.ndarray,
    uniform: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`ContactGraph.spread_contacts` over CSR rows: each member's contacts in parallel,
    then members without contacts dropped."""
    ends = np.cumsum(counts)
    total = ends[-1] if ends.size else 0
    senders = np.empty(total, dtype=members.dtype)
    receivers = np.empty(total, dtype=np.int64)
    ties = np.empty(total, dtype=np.int64)
    alone = 0
    for owner in numba.prange(members.size):
        member = members[owner]
        start = indptr[member]
        degree = indptr[member + 1] - start
        at = ends[owner] - counts[owner]
        for rank in range(counts[owner]):
            senders[at + rank] = member
            if degree > 0:
                tie = start + np.int64(weyl_point(uniform[owner], rank) * degree)
                receivers[at + rank] = indices[tie]
                ties[at + rank] = tie
            else:
                ties[at + rank] = -1
                alone += 1
    if alone == 0:
        return senders, receivers, ties
    kept = ties >= 0
    return senders[kept], receivers[kept], ties[kept]


@parallel_kernel
def _consecutive_contacts(
    indptr: np.ndarray,
    indices: np.ndarray,
    senders: np.ndarray,
    first: np.ndarray,
    counts: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`ContactGraph.consecutive_contacts` over CSR rows, each sender in parallel."""
    ends = np.cumsum(counts)
    total = ends[-1] if ends.size else 0
    repeated = np.empty(total, dtype=senders.dtype)
    contacts = np.empty(total, dtype=np.int64)
    ties = np.empty(total, dtype=np.int64)
    for owner in numba.prange(senders.size):
        sender = senders[owner]
        start = indptr[sender]
        degree = indptr[sender + 1] - start
        at = ends[owner] - counts[owner]
        for rank in range(counts[owner]):
            tie = start + (first[owner] + rank) % degree
            repeated[at + rank] = sender
            contacts[at + rank] = indices[tie]
            ties[at + rank] = tie
    return repeated, contacts, ties


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

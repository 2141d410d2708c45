"""People as a struct of arrays: a person is an index into each array.

The world owns what is drawn at the start (traits) and who is a member of which
recruitment tree; every other per-person array is declared by the mechanism that
owns it (`People.declare`) and only that mechanism writes it. Others read it here,
as `people.<name>`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from simulation.world.arrays import filled, sorted_unique

CONSUMER, MEMBER, FORMER = 0, 1, 2
NEVER = -(10**6)
WORLD = "world"


@dataclass(frozen=True)
class State:
    """A per-person array a mechanism owns: its name, dtype and value at the start."""

    name: str
    dtype: type
    fill: float | int | bool = 0
    doc: str = ""


class People:
    """Everyone on the graph: traits, membership and the recruitment tree, and the
    arrays mechanisms declare.

    `root` and `depth` place a member in the recruitment tree as it was when the
    member joined; `tree_size` and `tree_levels`, indexed by a root, describe that
    root's whole tree (everyone ever recruited into it, and its depth). `roots` are the
    ids of every tree's root, ascending, and `deepest` the largest `depth` ever.
    """

    def __init__(self, n: int, products: int = 1) -> None:
        self.n = n
        self.owner: dict[str, str] = {}
        self._members = np.empty(0, dtype=np.int64)
        self._ever = np.empty(0, dtype=np.int64)
        self._ever_fresh: list[np.ndarray] = []
        self.ever_count = 0
        self.roots = np.empty(0, dtype=np.int64)
        self._rooted = np.zeros(n, dtype=bool)
        self.deepest = 0
        for state in (
            State("role", np.int8, CONSUMER, "consumer, member or former member"),
            State("sponsor", np.int64, -1, "the member who recruited this member"),
            State("root", np.int64, -1, "root of the member's recruitment tree"),
            State("depth", np.int32, 0, "levels below the root, at joining"),
            State("tree_size", np.int64, 0, "for a root: everyone ever in its tree"),
            State("tree_levels", np.int32, 0, "for a root: its tree's number of levels"),
            State("joined_day", np.int32, NEVER, "day of joining"),
            State("left_day", np.int32, NEVER, "day of leaving"),
            State("effort", np.float32, 0.0, "sharing effort in [0, 1] (trait)"),
            State("hype", np.float32, 0.0, "how far claims run ahead of the product (trait)"),
            State("join_cost", np.float32, 0.0, "personal cost of joining, RMB (trait)"),
        ):
            self.declare(state, WORLD)
        self.need = np.zeros((n, products), dtype=np.float32)
        self.owner["need"] = WORLD

    def declare(self, state: State, owner: str) -> None:
        """Allocate `state` for everyone, owned by `owner`; a name has one owner."""
        if state.name in self.owner:
            raise ValueError(
                f"per-person array {state.name!r} is owned by {self.owner[state.name]!r}; "
                f"{owner!r} cannot declare it too"
            )
        self.owner[state.name] = owner
        setattr(self, state.name, filled(self.n, state.fill, state.dtype))

    @property
    def members(self) -> np.ndarray:
        """Ids of current members, ascending (kept up to date as people join and leave,
        so reading it costs nothing)."""
        return self._members

    @property
    def ever_members(self) -> np.ndarray:
        """Ids of current and former members, ascending (newcomers merged in when next
        asked for; `ever_count` is their number at any time)."""
        if self._ever_fresh:
            self._ever = merged(self._ever, np.concatenate(self._ever_fresh))
            self._ever_fresh = []
        return self._ever

    def join(self, newcomers: np.ndarray, sponsors: np.ndarray, day: int) -> None:
        """Make `newcomers` members under `sponsors` (-1: no sponsor, a new tree's root)."""
        first_time = np.unique(newcomers[self.role[newcomers] == CONSUMER])
        self._ever_fresh.append(first_time)
        self.ever_count += first_time.size
        self._members = merged(self._members, newcomers[self.role[newcomers] != MEMBER])
        self.role[newcomers] = MEMBER
        self.sponsor[newcomers] = sponsors
        self.joined_day[newcomers] = day
        sponsored = sponsors >= 0
        self.root[newcomers] = np.where(sponsored, self.root[np.maximum(sponsors, 0)], newcomers)
        self.depth[newcomers] = np.where(sponsored, self.depth[np.maximum(sponsors, 0)] + 1, 0)
        np.add.at(self.tree_size, self.root[newcomers], 1)
        np.maximum.at(self.tree_levels, self.root[newcomers], self.depth[newcomers] + 1)
        rooted = newcomers[~sponsored]
        rooted = rooted[~self._rooted[rooted]]
        self._rooted[rooted] = True
        self.roots = merged(self.roots, rooted)
        self.deepest = max(self.deepest, int(self.depth[newcomers].max(initial=0)))

    def leave(self, leavers: np.ndarray, day: int) -> None:
        """Members who quit, switch or are banned become former members."""
        if leavers.size:
            self._members = read_only(_without(self._members, sorted_unique(leavers)))
        self.role[leavers] = FORMER
        self.left_day[leavers] = day


def merged(ids: np.ndarray, fresh: np.ndarray) -> np.ndarray:
    """Ascending `ids` with `fresh` (none of them among `ids`; repeats allowed) added,
    still ascending; read-only, as every list People hands out."""
    fresh = sorted_unique(fresh)
    if fresh.size == 0:
        return ids
    return read_only(_merge(ids, fresh))


@numba.njit(cache=True)
def _merge(ids: np.ndarray, fresh: np.ndarray) -> np.ndarray:
    """Ascending `ids` and ascending `fresh` (none in common) as one ascending array:
    the runs of `ids` between fresh ids copied whole, each found by bisection."""
    out = np.empty(ids.size + fresh.size, dtype=ids.dtype)
    low = 0
    for k in range(fresh.size):
        high = _first_not_below(ids, low, fresh[k])
        out[low + k : high + k] = ids[low:high]
        out[high + k] = fresh[k]
        low = high
    out[low + fresh.size :] = ids[low:]
    return out


@numba.njit(cache=True)
def _without(ids: np.ndarray, gone: np.ndarray) -> np.ndarray:
    """Ascending `ids` less the ascending `gone` (which may hold ids not among them):
    each removed id found by bisection, the runs between them copied whole."""
    at = np.empty(gone.size, dtype=np.int64)
    found = 0
    low = 0
    for k in range(gone.size):
        low = _first_not_below(ids, low, gone[k])
        if low < ids.size and ids[low] == gone[k]:
            at[found] = low
            found += 1
    out = np.empty(ids.size - found, dtype=ids.dtype)
    low = 0
    for k in range(found):
        out[low - k : at[k] - k] = ids[low : at[k]]
        low = at[k] + 1
    out[low - found :] = ids[low:]
    return out


@numba.njit(cache=True)
def _first_not_below(ids: np.ndarray, low: int, value: int) -> int:
    """The first position from `low` on where ascending `ids` is at least `value` (what
    np.searchsorted gives; written out because numba's takes seconds to compile)."""
    high = ids.size
    while low < high:
        middle = (low + high) // 2
        if ids[middle] < value:
            low = middle + 1
        else:
            high = middle
    return low


def read_only(ids: np.ndarray) -> np.ndarray:
    """`ids`, marked unwritable: People keeps these lists and hands them out as they are."""
    ids.flags.writeable = False
    return ids

"""The dashboard's network view: the largest recruitment trees, and saturation on the
social graph, each a matplotlib figure of a few hundred people.

Only the people drawn are looped over in Python; whole-population work (finding the
largest trees, their members) is array operations, so a redraw stays cheap at any size.
The social-graph sample and its layout are chosen once per model, by a fixed rule
(a snowball from the first founder), so every redraw shows the same people.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from simulation.model import SocialCommerceModel
from simulation.world.graph import SocialGraph
from simulation.world.people import FORMER, MEMBER, NEVER, People

TREES = 3  # the largest recruitment trees drawn
TREE_NODES = 300  # at most, over the trees drawn (the shallowest members first)
SAMPLE = 300  # people drawn on the social graph
LAYOUT_SEED = 17  # the spring layout's own seed (never numpy's global random)
NODE_AREA = 12.0  # points², a member without income
INCOME_AREA = 260.0  # points² added for the highest income drawn
TIER_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
ROLES = ("never bought", "buyer, not member", "member", "former member")
LEGEND = {"loc": "center left", "bbox_to_anchor": (1.0, 0.5), "fontsize": 9, "frameon": False}
ROLE_COLOURS = ("#d0d0d0", "#1f77b4", "#d62728", "#6b6b6b")


@dataclass(frozen=True)
class Tree:
    """One recruitment tree as drawn: its root, its size and levels, and the members
    drawn (shallowest first) with their positions in the picture."""

    root: int
    size: int
    levels: int
    members: np.ndarray
    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class Sample:
    """The people drawn on the social graph, the ties among them (pairs of positions in
    `people`) and their fixed positions."""

    people: np.ndarray
    ties: np.ndarray
    xy: np.ndarray
    well_mixed: bool


_SAMPLES: weakref.WeakKeyDictionary[SocialCommerceModel, Sample] = weakref.WeakKeyDictionary()


def largest_roots(people: People, count: int = TREES) -> np.ndarray:
    """Roots of the `count` largest recruitment trees by `tree_size` (ties: the lower
    id first), largest first."""
    roots = np.flatnonzero(people.tree_size > 0)
    order = np.lexsort((roots, -people.tree_size[roots]))
    return roots[order[:count]]


def shares_of(sizes: list[int], cap: int) -> list[int]:
    """How many members of each tree to draw, `cap` in all: the smaller trees whole
    where they fit, the rest split evenly among the larger."""
    shares = [0] * len(sizes)
    left = cap
    for rank, i in enumerate(sorted(range(len(sizes)), key=lambda i: sizes[i])):
        shares[i] = min(sizes[i], left // (len(sizes) - rank))
        left -= shares[i]
    return shares


def tidy_positions(members: np.ndarray, sponsors: np.ndarray, depths: np.ndarray) -> np.ndarray:
    """x of each member in a top-down tree drawing: leaves side by side in depth-first
    order, each sponsor centred over its recruits (members given shallowest first)."""
    index = {int(m): i for i, m in enumerate(members)}
    children: list[list[int]] = [[] for _ in members]
    tops = []
    for i, sponsor in enumerate(sponsors):
        parent = index.get(int(sponsor), -1)
        if parent >= 0 and depths[parent] < depths[i]:
            children[parent].append(i)
        else:
            tops.append(i)
    x = np.zeros(len(members))
    next_leaf = 0.0
    stack = [(top, False) for top in reversed(tops)]
    while stack:
        node, placed = stack.pop()
        if not children[node]:
            x[node], next_leaf = next_leaf, next_leaf + 1.0
        elif placed:
            x[node] = (x[children[node][0]] + x[children[node][-1]]) / 2
        else:
            stack.append((node, True))
            stack += [(child, False) for child in reversed(children[node])]
    return x


def largest_trees(people: People, count: int = TREES, cap: int = TREE_NODES) -> list[Tree]:
    """The `count` largest recruitment trees, at most `cap` members drawn in all, each
    laid out top-down (root at the top) beside the one before."""
    roots = largest_roots(people, count)
    if roots.size == 0:
        return []
    in_trees = np.flatnonzero(np.isin(people.root, roots))
    sizes = [int(np.count_nonzero(people.root[in_trees] == root)) for root in roots]
    trees, left_edge = [], 0.0
    for root, share in zip(roots, shares_of(sizes, cap), strict=True):
        members = in_trees[people.root[in_trees] == root]
        members = members[np.lexsort((people.joined_day[members], people.depth[members]))]
        members = members[:share]
        depths = people.depth[members]
        x = tidy_positions(members, people.sponsor[members], depths) + left_edge
        left_edge = x.max() + 3.0
        trees.append(
            Tree(
                int(root),
                int(people.tree_size[root]),
                int(people.tree_levels[root]),
                members,
                x,
                -depths.astype(float),
            )
        )
    return trees


def income_area(income_rmb: np.ndarray, top: float) -> np.ndarray:
    """Marker areas: proportional to cumulative income, from NODE_AREA (none) up."""
    return NODE_AREA + INCOME_AREA * np.clip(income_rmb, 0, None) / max(top, 1e-9)


def reference_incomes(top: float) -> list[float]:
    """Incomes for the size legend: the highest drawn, rounded down to one significant
    digit, with a half and a tenth of it (none when nobody has earned yet)."""
    if top < 1:
        return []
    unit = 10 ** np.floor(np.log10(top))
    rounded = float(np.floor(top / unit) * unit)
    return [rounded / 10, rounded / 2, rounded]


def draw_trees(model: SocialCommerceModel, ax: Axes) -> list[Tree]:
    """The largest recruitment trees on `ax`: sponsor links, members coloured by tier,
    sized by cumulative income (RMB), former members hollow."""
    people = model.world.people
    trees = largest_trees(people)
    tier_names = [tier.name for tier in model.policy.tiers]
    ax.set_axis_off()
    if not trees:
        ax.set_title("Largest recruitment trees: no members yet", loc="left")
        return trees
    members = np.concatenate([tree.members for tree in trees])
    x = np.concatenate([tree.x for tree in trees])
    y = np.concatenate([tree.y for tree in trees])
    at = {int(m): i for i, m in enumerate(members)}
    links = [
        ((x[at[int(s)]], y[at[int(s)]]), (x[i], y[i]))
        for i, s in enumerate(people.sponsor[members])
        if int(s) in at
    ]
    ax.add_collection(LineCollection(links, colors="#b0b0b0", linewidths=0.6, zorder=1))
    colours = np.array(TIER_COLOURS)[people.tier[members] % len(TIER_COLOURS)]
    former = people.role[members] == FORMER
    income = people.income[members] / 100
    top = float(income.max(initial=0.0))
    ax.scatter(
        x,
        y,
        s=income_area(income, top),
        c=np.where(former, "white", colours),
        edgecolors=colours,
        linewidths=0.8,
        zorder=2,
    )
    for tree in trees:
        ax.annotate(
            f"{tree.size:,} members\n{tree.levels} levels",
            (tree.x[0], 0.0),
            xytext=(0, 10),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    shown = sum(tree.members.size for tree in trees)
    total = sum(tree.size for tree in trees)
    drawn = f"the first levels: {shown:,} of {total:,} members" if shown < total else "drawn whole"
    ax.set_title(
        f"The {len(trees)} largest recruitment trees, day {model.day} ({drawn})\n"
        "lines: sponsor to recruit; colour: tier; size: income\n"
        "received so far (RMB); hollow: former member",
        fontsize=11,
        loc="left",
    )
    used = set(people.tier[members].tolist())
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            color=TIER_COLOURS[t % len(TIER_COLOURS)],
            label=f"tier: {name}",
        )
        for t, name in enumerate(tier_names)
        if t in used
    ]
    labels = [handle.get_label() for handle in handles]
    for amount in reference_incomes(top):
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                color="#888888",
                markersize=float(np.sqrt(income_area(np.array([amount]), top)[0])),
            )
        )
        labels.append(f"income RMB {amount:,.0f}")
    ax.legend(handles, labels, **LEGEND)
    ax.set_ylim(y.min() - 0.8, 1.6)
    ax.margins(x=0.03)
    return trees


def snowball(graph: SocialGraph, start: int, size: int) -> np.ndarray:
    """`size` people found breadth-first from `start` over the graph's ties (the last
    ring cut at the lowest ids): a neighbourhood, so the ties among them show."""
    found = np.array([start], dtype=np.int64)
    ring = found
    while found.size < size and ring.size:
        contacts = np.concatenate(
            [graph.indices[graph.indptr[p] : graph.indptr[p + 1]] for p in ring]
        )
        ring = np.setdiff1d(contacts.astype(np.int64), found)[: size - found.size]
        found = np.concatenate([found, ring])
    return np.sort(found)


def social_sample(model: SocialCommerceModel) -> Sample:
    """The model's fixed sample on the social graph (chosen on first use): a snowball
    of SAMPLE people from the first founder and the ties among them, laid out once;
    on a well-mixed graph, evenly spaced ids on a circle (every pair is tied)."""
    known = _SAMPLES.get(model)
    if known is not None:
        return known
    graph, n = model.world.graph, model.world.people.n
    if not isinstance(graph, SocialGraph):
        people = np.unique(np.linspace(0, n - 1, min(SAMPLE, n)).astype(np.int64))
        angle = 2 * np.pi * np.arange(people.size) / people.size
        sample = Sample(
            people,
            np.empty((0, 2), np.int64),
            np.column_stack([np.cos(angle), np.sin(angle)]),
            True,
        )
        _SAMPLES[model] = sample
        return sample
    founders = model.world.founders
    people = snowball(graph, int(founders[0]) if founders.size else 0, min(SAMPLE, n))
    pairs = []
    for i, person in enumerate(people):
        contacts = graph.indices[graph.indptr[person] : graph.indptr[person + 1]]
        at = np.searchsorted(people, contacts)
        found = (at < people.size) & (people[np.minimum(at, people.size - 1)] == contacts)
        pairs += [(i, j) for j in at[found] if j > i]
    ties = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    shape = nx.Graph()
    shape.add_nodes_from(range(people.size))
    shape.add_edges_from(ties.tolist())
    layout = nx.spring_layout(shape, seed=LAYOUT_SEED, iterations=60)
    xy = np.array([layout[i] for i in range(people.size)])
    sample = Sample(people, ties, xy, False)
    _SAMPLES[model] = sample
    return sample


def roles_of(people: People, ids: np.ndarray) -> np.ndarray:
    """Each person's place in ROLES: consumer who never bought (a real order), buyer
    who is not a member, member, former member."""
    role = people.role[ids]
    bought = people.last_bought_day[ids] != NEVER
    return np.select([role == MEMBER, role == FORMER, bought], [2, 3, 1], default=0).astype(
        np.int64
    )


def draw_saturation(model: SocialCommerceModel, ax: Axes) -> Sample:
    """The fixed sample on the social graph, coloured by role today, with the ties
    among them and a count of each role in the legend."""
    sample = social_sample(model)
    roles = roles_of(model.world.people, sample.people)
    xy = sample.xy
    if sample.ties.size:
        segments = np.stack([xy[sample.ties[:, 0]], xy[sample.ties[:, 1]]], axis=1)
        ax.add_collection(LineCollection(segments, colors="#cccccc", linewidths=0.4, zorder=1))
    ax.scatter(xy[:, 0], xy[:, 1], s=14, c=np.array(ROLE_COLOURS)[roles], zorder=2, linewidths=0)
    counts = np.bincount(roles, minlength=len(ROLES))
    handles = [
        Line2D([], [], marker="o", ls="", color=colour, label=f"{role} ({count:,})")
        for role, colour, count in zip(ROLES, ROLE_COLOURS, counts, strict=True)
    ]
    ax.legend(handles=handles, title="role (people)", title_fontsize=9, **LEGEND)
    where = (
        "evenly spaced people (well-mixed graph: every pair tied, ties not drawn)"
        if sample.well_mixed
        else "people around the first founder and the ties among them"
    )
    ax.set_title(
        f"Saturation on the social graph, day {model.day}:\n{sample.people.size} {where}",
        fontsize=11,
        loc="left",
    )
    ax.set_axis_off()
    return sample


def figure(
    draw: Callable[[SocialCommerceModel, Axes], object], model: SocialCommerceModel
) -> Figure:
    """A figure of the network view's size with `draw(model, ax)` on it (axes placed by
    hand: a layout engine or a tight bounding box would double the time of a redraw)."""
    fig = Figure(figsize=(6.4, 4.8))
    draw(model, fig.add_axes((0.01, 0.01, 0.66, 0.84)))
    return fig

"""Draws and grouping over event arrays: the one helpers module every mechanism uses.

Counts from per-person uniforms, picks and spreads over owners' events, sorting-based
grouping and distinct counts, and event-proportional Bernoulli sampling.
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np

from simulation.world.threads import parallel_kernel

WEYL = 0.6180339887498949
LARGE_MEAN = 200.0
DIGIT_BITS = 16  # radix sort: keys sorted at most 16 bits a pass
SMALL = 2048  # below this many keys NumPy's own stable sort is quicker than a radix pass


def beta_with_mean(mean: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draws in [0, 1] with the given mean (Beta with concentration 4; constant at 0 or 1)."""
    if mean <= 0.0 or mean >= 1.0:
        return np.full(size, mean)
    return rng.beta(4.0 * mean, 4.0 * (1.0 - mean), size=size)


def filled(size: int, value: float, dtype: np.dtype | type) -> np.ndarray:
    """np.full(size, value, dtype), its pages first written by every engine thread at
    once (a large array's first writes are page faults, which threads share)."""
    out = np.empty(size, dtype=dtype)
    fill(out, value)
    return out


def fill(out: np.ndarray, value: float) -> None:
    """out[:] = value for a 1-d array, written by every engine thread at once."""
    _fill(out, out.dtype.type(value))


@parallel_kernel
def _fill(out: np.ndarray, value: np.generic) -> None:
    """out[:] = value, each thread writing (and so first touching) its own stretch."""
    for i in numba.prange(out.size):
        out[i] = value


def poisson_from_uniform(uniform: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Poisson(mean) counts by inverting the CDF at the given uniforms."""
    term = np.exp(-mean)
    return _invert_poisson(uniform, mean, term, term.copy())


@parallel_kernel
def _invert_poisson(
    uniform: np.ndarray, mean: np.ndarray, term: np.ndarray, cdf: np.ndarray
) -> np.ndarray:
    """The count at which each CDF first passes its uniform; terms and CDF in the dtype
    of `mean`, each ratio in float64, as NumPy's arithmetic would do them."""
    count = np.zeros(uniform.size, dtype=np.int64)
    for i in numba.prange(uniform.size):
        while uniform[i] >= cdf[i] and term[i] > 0:
            count[i] += 1
            term[i] = term[i] * (np.float64(mean[i]) / np.float64(count[i]))
            cdf[i] += term[i]
    return count


def binomial_from_uniform(uniform: np.ndarray, trials: np.ndarray, prob: float) -> np.ndarray:
    """Binomial(trials, prob) counts by inverting the CDF at the given uniforms (SciPy's
    quantile function where the expected count is large)."""
    trials = np.asarray(trials, dtype=np.int64)
    if prob <= 0.0:
        return np.zeros(trials.size, dtype=np.int64)
    if prob >= 1.0:
        return trials.copy()
    count = np.zeros(trials.size, dtype=np.int64)
    large = trials * prob > LARGE_MEAN
    if large.any():
        from scipy import stats  # here: importing scipy.stats costs most runs 0.7 s for nothing

        count[large] = stats.binom.ppf(uniform[large], trials[large], prob).astype(np.int64)
    term = np.exp(trials * np.log1p(-prob))
    _invert_binomial(uniform, trials, prob / (1.0 - prob), term, term.copy(), large, count)
    return count


@parallel_kernel
def _invert_binomial(
    uniform: np.ndarray,
    trials: np.ndarray,
    odds: float,
    term: np.ndarray,
    cdf: np.ndarray,
    large: np.ndarray,
    count: np.ndarray,
) -> None:
    """Into `count`, where not `large`: the count at which each CDF first passes its
    uniform, each term the last times (trials − k)/(k + 1)·odds."""
    for i in numba.prange(uniform.size):
        if large[i] or uniform[i] < cdf[i]:
            continue
        while True:
            term[i] = term[i] * ((trials[i] - count[i]) / (count[i] + 1) * odds)
            count[i] += 1
            cdf[i] += term[i]
            if uniform[i] < cdf[i] or count[i] >= trials[i]:
                break


def consecutive(starts: np.ndarray, counts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """For each owner, `counts[i]` distinct offsets in [0, sizes[i]) running on from
    `starts[i]` and wrapping around."""
    rank = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return (np.repeat(starts, counts) + rank) % np.repeat(sizes, counts)


def pick_one(keys: np.ndarray, draw: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Indices choosing one entry per distinct key, the ⌊u·count⌋-th in the key's run,
    where u = draw(key) is the key's own uniform draw."""
    order, starts, counts = grouped(keys)
    chosen = starts + (draw(keys[order][starts]) * counts).astype(np.int64)
    return order[chosen]


def spread(uniform: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """For each owner with `counts[i]` items, fractions in [0, 1) spread from one uniform
    along a Weyl sequence: item j gets frac(u + j·φ). Each is uniform on its own."""
    return _spread(np.asarray(uniform, dtype=np.float64), np.asarray(counts, dtype=np.int64))


@parallel_kernel
def _spread(uniform: np.ndarray, counts: np.ndarray) -> np.ndarray:
    ends = np.cumsum(counts)
    fractions = np.empty(ends[-1] if ends.size else 0, dtype=np.float64)
    for owner in numba.prange(counts.size):
        start = ends[owner] - counts[owner]
        for rank in range(counts[owner]):
            fractions[start + rank] = weyl_point(uniform[owner], rank)
    return fractions


@numba.njit(cache=True)
def weyl_point(uniform: float, rank: int) -> float:
    """frac(u + rank·φ): item `rank` of an owner's Weyl sequence started at `uniform`."""
    point = uniform + rank * WEYL
    return point - np.floor(point)


def grouped(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Order that sorts `keys` (stably), and the start and length of each run of equal
    keys. From SMALL keys up, integer keys of at least 0 are radix-sorted, in time linear in
    their number."""
    radix = keys.size >= SMALL and keys.dtype.kind in "iu"
    order = _radix_order(keys) if radix else np.empty(0, dtype=np.int64)
    if order.size != keys.size:
        ascending = keys.size < 2 or bool(np.all(keys[1:] >= keys[:-1]))
        order = np.arange(keys.size) if ascending else np.argsort(keys, kind="stable")
    if not radix:
        starts = np.flatnonzero(np.diff(keys[order], prepend=-1))
        return order, starts, np.diff(np.r_[starts, keys.size])
    starts, counts = _runs(keys, order)
    return order, starts, counts


@numba.njit(cache=True)
def _runs(keys: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and length of each run of equal keys in `keys[order]` (a run starting at
    0 with key −1 is joined to nothing before it, as `np.diff(…, prepend=-1)` does)."""
    starts = np.empty(order.size, dtype=np.int64)
    found = 0
    previous = keys[order[0]]
    for i in range(order.size):
        key = keys[order[i]]
        if (i == 0 and key != -1) or (i > 0 and key != previous):
            starts[found] = i
            found += 1
        previous = key
    counts = np.empty(found, dtype=np.int64)
    for run in range(found):
        end = starts[run + 1] if run + 1 < found else order.size
        counts[run] = end - starts[run]
    return starts[:found], counts


@numba.njit(cache=True)
def _radix_order(keys: np.ndarray) -> np.ndarray:
    """The stable sorting order of non-negative integer keys (LSD radix sort, at most
    DIGIT_BITS a pass, the key's bits split evenly over the passes so that each has as
    few bins as it can; keys already in order cost one pass); an empty array for a
    negative key."""
    n = keys.size
    low, high, ascending = keys[0], keys[0], True
    for i in range(1, n):
        key = keys[i]
        if key < keys[i - 1]:
            ascending = False
        low = min(low, key)
        high = max(high, key)
    if low < 0:
        return np.empty(0, dtype=np.int64)
    if ascending:
        return np.arange(n)
    width = 1
    while (high >> width) != 0:
        width += 1
    passes = (width + DIGIT_BITS - 1) // DIGIT_BITS
    digit_bits = (width + passes - 1) // passes
    bins = 1 << digit_bits
    mask = bins - 1
    order = np.arange(n)
    spare = np.empty(n, dtype=np.int64)
    for shift in range(0, passes * digit_bits, digit_bits):
        starts = np.zeros(bins + 1, dtype=np.int64)
        for i in range(n):
            starts[((keys[order[i]] >> shift) & mask) + 1] += 1
        for digit in range(bins):
            starts[digit + 1] += starts[digit]
        for i in range(n):
            digit = (keys[order[i]] >> shift) & mask
            spare[starts[digit]] = order[i]
            starts[digit] += 1
        order, spare = spare, order
    return order


def group_sums(
    values: np.ndarray, order: np.ndarray, starts: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """Per run of `grouped`, the sum of `values` over it: np.add.reduceat(values[order],
    starts), bit for bit, without gathering `values` first (float64 values; others
    are summed by NumPy, in their own precision)."""
    if values.dtype != np.float64:
        return np.add.reduceat(values[order], starts) if starts.size else values[:0]
    return _group_sums(values, order, starts, counts)


@parallel_kernel
def _group_sums(
    values: np.ndarray, order: np.ndarray, starts: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """A run's sum as NumPy's reduceat takes it: its first value plus the pairwise sum
    of the rest."""
    sums = np.empty(starts.size, dtype=np.float64)
    for run in numba.prange(starts.size):
        sums[run] = run_sum(values, order, starts[run], counts[run])
    return sums


@numba.njit(cache=True)
def run_sum(values: np.ndarray, order: np.ndarray, first: int, count: int) -> float:
    """The sum of values[order[first : first + count]] as NumPy's reduceat takes it:
    the first value plus the pairwise sum of the rest."""
    total = values[order[first]]
    if count > 1:
        total += _pairwise_sum(values, order, first + 1, count - 1)
    return total


@numba.njit(cache=True)
def _pairwise_sum(values: np.ndarray, order: np.ndarray, low: int, n: int) -> float:
    """NumPy's pairwise summation of values[order[low : low + n]]: in order below 8
    terms, eight running sums up to 128, halves (at a multiple of 8) above."""
    if n < 8:
        total = -0.0
        for i in range(n):
            total += values[order[low + i]]
        return total
    if n <= 128:
        sums = np.empty(8, dtype=np.float64)
        for lane in range(8):
            sums[lane] = values[order[low + lane]]
        i = 8
        while i < n - n % 8:
            for lane in range(8):
                sums[lane] += values[order[low + i + lane]]
            i += 8
        total = ((sums[0] + sums[1]) + (sums[2] + sums[3])) + (
            (sums[4] + sums[5]) + (sums[6] + sums[7])
        )
        while i < n:
            total += values[order[low + i]]
            i += 1
        return total
    half = n // 2
    half -= half % 8
    return _pairwise_sum(values, order, low, half) + _pairwise_sum(
        values, order, low + half, n - half
    )


def gathered_mean(values: np.ndarray, ids: np.ndarray) -> float:
    """values[ids].mean() of float64 `values`, bit for bit, without the gathered copy
    (NumPy sums a whole array pairwise from 0.0); nan for no ids."""
    if ids.size == 0:
        return float("nan")
    return (0.0 + _pairwise_sum(values, ids, 0, ids.size)) / ids.size


@parallel_kernel
def count_at_least(values: np.ndarray, ids: np.ndarray, threshold: float) -> int:
    """np.count_nonzero(values[ids] >= threshold), without the gathered copy."""
    count = 0
    for i in numba.prange(ids.size):
        if values[ids[i]] >= threshold:
            count += 1
    return count


def distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values, sorted, and how often each occurs (a sort: faster than
    np.unique's hashing on integer ids)."""
    order, starts, counts = grouped(values)
    return values[order][starts], counts


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (a sort and a mask: faster than np.unique on int64)."""
    values = np.sort(values)
    if values.size == 0:
        return values
    keep = np.empty(values.size, dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def bernoulli_positions(length: int, prob: float, rng: np.random.Generator) -> np.ndarray:
    """Positions of successes in `length` independent Bernoulli(`prob`) trials.

    Draws geometric gaps between successes, so the work is proportional to the
    number of successes, not to `length`.
    """
    if length <= 0 or prob <= 0.0:
        return np.empty(0, dtype=np.int64)
    if prob >= 1.0:
        return np.arange(length, dtype=np.int64)
    expected = length * prob
    chunks = []
    last = -1
    while last < length - 1:
        batch = int(expected + 6.0 * np.sqrt(expected) + 16)
        steps = rng.geometric(prob, size=batch).astype(np.int64)
        positions = last + np.cumsum(steps)
        chunks.append(positions)
        last = int(positions[-1])
    positions = np.concatenate(chunks)
    return positions[positions < length]


def segment_of(positions: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map positions in the concatenation of segments of `sizes` to (segment, offset)."""
    ends = np.cumsum(sizes, dtype=np.int64)
    segment = np.searchsorted(ends, positions, side="right")
    offset = positions - (ends[segment] - sizes[segment])
    return segment, offset

"""Random numbers tied to identities: a counter-based generator keyed by (seed, what is drawn for).

Every uniform of a run is a pure function of the seed, a stable hash of the activity, risk or category it is
drawn for, and the iteration number, so adding, removing or reordering other rows of the input leaves it
unchanged (common random numbers across portfolios and scenarios). The generator is Philox4x64-10 (Salmon et al.,
"Parallel random numbers: as easy as 1, 2, 3", 2011; numpy's ``numpy.random.Philox``) with

    key     = (stable_hash(kind, id), seed)      two 64-bit words
    counter = (iteration // 4, stream, 0, 0)     four 64-bit words

and word iteration % 4 of that block turned into the uniform ((word >> 12) + 0.5) / 2**52, strictly between 0
and 1 (one block serves four consecutive iterations). Streams: 0 for an activity's duration, a category's common
factor and a risk's occurrence, 1 for a risk's impact. ``stable_hash`` is the first 8 bytes of SHA-256 of the
UTF-8 text ``kind + ":" + id``, read as a little-endian unsigned integer (never Python's ``hash``, which changes
between processes). The construction is written in docs/simulation.md ("Draws"); ``philox_block`` reproduces a
block with numpy's own Philox.
"""
from __future__ import annotations

import hashlib

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

SEED_LIMIT = 1 << 64  # a seed is one 64-bit word of the key
KINDS = ("activity", "risk", "category", "project")

_M0 = np.uint64(0xD2E7470EE14C6C93)  # Philox4x64 multipliers
_M1 = np.uint64(0xCA5A826395121157)
_W0 = np.uint64(0x9E3779B97F4A7C15)  # Weyl increments of the key
_W1 = np.uint64(0xBB67AE8584CAA73B)
_ROUNDS = 10
_ZERO = np.uint64(0)
_SHIFT = np.uint64(12)
_ULP = 2.0 ** -52


def stable_hash(kind: str, ident: str) -> int:
    """The 64-bit key word of ``ident`` (an activity, risk or category): the same in every process and run."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    digest = hashlib.sha256(f"{kind}:{ident}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little")


def keys(kind: str, idents) -> np.ndarray:
    """``stable_hash`` of each of ``idents``, as uint64."""
    return np.array([stable_hash(kind, x) for x in idents], dtype=np.uint64)


@intrinsic
def _mulhilo(typingctx, a, b):
    """(low, high) 64-bit words of the 128-bit product of two uint64 (one multiply instruction on x86-64)."""
    def codegen(context, builder, signature, args):
        wide = ir.IntType(128)
        product = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
        low = builder.trunc(product, ir.IntType(64))
        high = builder.trunc(builder.lshr(product, ir.Constant(wide, 64)), ir.IntType(64))
        return context.make_tuple(builder, signature.return_type, (low, high))
    return types.UniTuple(types.uint64, 2)(types.uint64, types.uint64), codegen


@njit(cache=True)
def _philox(c0, c1, c2, c3, k0, k1):
    """Philox4x64-10 of the counter (c0, c1, c2, c3) under the key (k0, k1): four uint64 words."""
    for r in range(_ROUNDS):
        if r:
            k0 += _W0
            k1 += _W1
        lo0, hi0 = _mulhilo(_M0, c0)
        lo1, hi1 = _mulhilo(_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


@njit(cache=True)
def _to_uniform(word):
    """The top 52 bits of a uint64 as a uniform strictly inside (0, 1), exactly: ((word >> 12) + 0.5) / 2**52."""
    return (np.float64(word >> _SHIFT) + 0.5) * _ULP


@njit(cache=True)
def uniforms(seed, key_words, stream, i0, out):
    """``out[q, a]`` = draw i0 + q of stream ``stream`` of key ``key_words[a]``: word (i0 + q) % 4 of the Philox
    block with counter ((i0 + q) // 4, stream, 0, 0) under the key (key_words[a], seed)."""
    s = np.uint64(seed)
    st = np.uint64(stream)
    i1 = i0 + out.shape[0]
    for b in range(i0 // 4, (i1 + 3) // 4):
        lo = max(4 * b, i0)
        hi = min(4 * b + 4, i1)
        for a in range(key_words.shape[0]):
            words = _philox(np.uint64(b), st, _ZERO, _ZERO, key_words[a], s)
            for i in range(lo, hi):
                out[i - i0, a] = _to_uniform(words[i - 4 * b])


def philox_block(seed: int, key_word: int, counter: int, stream: int) -> np.ndarray:
    """The four words of the Philox block (counter, stream, 0, 0) under (key_word, seed), from numpy's own
    Philox: the reference the compiled generator is checked against. (numpy steps its counter before it makes a
    block, hence the - 1.)"""
    start = ((counter | (stream << 64)) - 1) % (1 << 256)
    return np.random.Philox(counter=start, key=key_word | (seed << 64)).random_raw(4)


def uniform_of(word: int) -> float:
    """``_to_uniform`` in plain Python (for checks and other implementations)."""
    return ((int(word) >> 12) + 0.5) / 2 ** 52

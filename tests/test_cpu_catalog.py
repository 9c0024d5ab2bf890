"""The CPU catalog: names as lscpu/dmidecode print them, key order, and plausible ratings."""

import pytest

from harness.hardware.cpu_catalog import CPU_RATINGS, CpuRating, rating_for


# (model name as a tool prints it, expected (cores per socket, max_mts, int8_dot))
PRINTED_NAMES = [
    ("AMD EPYC 9654 96-Core Processor", (96, 4800, 4.0)),
    ("Intel(R) Xeon(R) Platinum 8480+", (56, 4800, 4.0)),
    ("AMD Ryzen Threadripper PRO 7995WX 96-Cores", (96, 5200, 4.0)),
    ("Intel(R) Xeon(R) 6980P", (128, 6400, 4.0)),
    ("AMD EPYC 7763 64-Core Processor", (64, 3200, 2.0)),
    ("AMD EPYC 9575F 64-Core Processor", (64, 6400, 4.0)),
    ("AMD EPYC 9175F 16-Core Processor", (16, 6400, 4.0)),
    ("AMD EPYC 7302 16-Core Processor", (16, 3200, 2.0)),
    ("Intel(R) Xeon(R) Gold 6138 CPU @ 2.00GHz", (20, 2666, 2.0)),
    ("Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz", (24, 2933, 4.0)),
    ("Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz", (40, 3200, 4.0)),
    ("Intel(R) Xeon(R) Platinum 8470Q", (52, 4800, 4.0)),
    ("Intel(R) Xeon(R) Platinum 8592+", (64, 5600, 4.0)),
    ("Intel(R) Xeon(R) w9-3495X", (56, 4800, 4.0)),
    ("AMD Ryzen 9 7950X3D 16-Core Processor", (16, 5200, 4.0)),
    ("AMD Ryzen 9 5950X 16-Core Processor", (16, 3200, 2.0)),
]


@pytest.mark.parametrize("name, expected", PRINTED_NAMES)
def test_printed_model_names_find_their_rating(name, expected):
    rating = rating_for(name)
    assert rating is not None, name
    assert (rating.cores, rating.max_mts, rating.int8_dot) == expected


def test_x3d_parts_are_not_rated_as_their_plain_siblings():
    assert rating_for("AMD Ryzen 9 7950X3D 16-Core Processor").base_ghz == 4.2
    assert rating_for("AMD Ryzen 9 7950X 16-Core Processor").base_ghz == 4.5


def test_unknown_or_missing_names_have_no_rating():
    assert rating_for(None) is None
    assert rating_for("") is None
    assert rating_for("Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz") is None


def test_keys_are_unique_and_lower_case():
    keys = [key for key, _ in CPU_RATINGS]
    assert len(keys) == len(set(keys))
    assert all(key == key.lower() and key == key.strip() for key in keys)


def _shadowed(catalog):
    """(key, earlier keys it contains) for every key an earlier, more general key would beat in
    rating_for's first-match scan (say "platinum 8470" listed before "platinum 8470q")."""
    found = []
    for index, (key, _) in enumerate(catalog):
        earlier = [other for other, _ in catalog[:index] if other in key]
        if earlier:
            found.append((key, earlier))
    return found


def test_no_key_is_shadowed_by_an_earlier_key():
    assert _shadowed(CPU_RATINGS) == []
    for key, rating in CPU_RATINGS:
        assert rating_for(key) is rating, f"{key!r} does not reach its own entry"


def test_shadow_check_fails_when_a_general_key_comes_first():
    general, specific = CpuRating(52, 2.0, 64, 4800), CpuRating(52, 2.1, 64, 4800)
    assert _shadowed((("platinum 8470", general), ("platinum 8470q", specific))) == [
        ("platinum 8470q", ["platinum 8470"])]
    assert _shadowed((("platinum 8470q", specific), ("platinum 8470", general))) == []


# Real DIMM data rates (MT/s) a one-DIMM-per-channel spec can name, MRDIMM-8000/8800 included.
REAL_DDR_SPEEDS = {2133, 2400, 2666, 2933, 3200, 4400, 4800, 5200, 5600, 6000, 6400, 8000, 8800}


@pytest.mark.parametrize("key, rating", CPU_RATINGS, ids=[key for key, _ in CPU_RATINGS])
def test_every_rating_is_plausible(key, rating):
    assert isinstance(rating.cores, int) and rating.cores >= 1
    assert 1.0 <= rating.base_ghz <= 6.0
    assert rating.flops_per_cycle in {16, 32, 64}
    assert rating.int8_dot in {2.0, 4.0}
    assert rating.max_mts is None or rating.max_mts in REAL_DDR_SPEEDS

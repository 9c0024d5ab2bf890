"""The engine profiles come from harness/data/engine_fit.json, and that file is what the fitter
gives on the shipped calibration rows: a value typed in by hand, or rows changed without a refit,
fail here."""

from __future__ import annotations

import json

import pytest

from harness.calibration import fit as fitter
from harness.calibration.fitfile import (ROCM_ENGINES, SERVING_ENGINES, default_engines, engines_from_fit, fit_path,
                                        load_fit, raw_engines, serving_rocm_scale, serving_tp_scale)
from harness.calibration.profiles import DECODE_PARAMS, DERIVED, FIXED, PREFILL_PARAMS
from harness.calibration.score import usable_cases
from harness.errors import HarnessError
from harness.perf.engines import NUMERIC_FIELDS

DOC = load_fit()
SHIPPED = engines_from_fit(DOC)


@pytest.fixture(scope="module")
def cases():
    return usable_cases()


def test_every_field_has_a_status_and_the_profiles_read_the_file():
    statuses = {r["status"] for fields in DOC["engines"].values() for r in fields.values()}
    assert statuses <= {"fitted", "derived", "placeholder", "definition", "unused"}
    for name, fields in DOC["engines"].items():
        assert set(fields) == set(NUMERIC_FIELDS)
        for fld, record in fields.items():
            assert getattr(raw_engines()[name], fld) == record["value"]
            if record["status"] != "fitted":
                assert record.get("source"), (name, fld)


@pytest.mark.parametrize("params, loss", [(DECODE_PARAMS, fitter.decode_loss),
                                          (PREFILL_PARAMS, fitter.prefill_loss)], ids=["decode", "prefill"])
def test_stored_values_are_the_fitters_optimum(cases, params, loss):
    """The fitter's descent from the stored values comes back to them (after its rounding)."""
    stored = fitter.values_of(SHIPPED, params)
    assert fitter.fit(SHIPPED, params, cases, loss, starts=[stored]) == stored


def test_derived_values_are_what_their_sources_give():
    assert fitter.derive(SHIPPED) == {k: getattr(SHIPPED[d.engines[0]], d.field) for k, d in DERIVED.items()}


def test_fixed_values_are_the_tables():
    for engine, fields in FIXED.items():
        for fld, fixed in fields.items():
            assert DOC["engines"][engine][fld] == {"value": fixed.value, "status": fixed.status, "source": fixed.why}


def test_placeholders_are_marked_on_the_profile():
    assert "cpu_flops_frac" in SHIPPED["ktransformers"].placeholders
    assert SHIPPED["llama.cpp"].placeholders == ()


def test_notes_are_written_from_the_values():
    kt = SHIPPED["ktransformers"]
    assert f"{kt.cpu_bw_frac:.2f} of the host's STREAM rate" in kt.note


def test_the_file_records_its_errors():
    mape = DOC["mape"]
    assert mape["in_sample"]["rows"] == len(usable_cases())
    assert mape["cross_validated"]["mape_pct"] >= mape["in_sample"]["mape_pct"] > 0
    assert DOC["rows_used"] and DOC["loss"]["decode"] > 0


def test_a_newer_or_damaged_fit_file_is_refused(tmp_path):
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({**DOC, "schema_version": 99}))
    with pytest.raises(HarnessError, match="schema_version 99"):
        load_fit(newer)
    broken = tmp_path / "broken.json"
    broken.write_text(fit_path().read_text()[:200])
    with pytest.raises(HarnessError, match="cannot read"):
        load_fit(broken)
    partial = {**DOC, "engines": {k: v for k, v in DOC["engines"].items() if k != "vllm"}}
    with pytest.raises(HarnessError, match="regenerate"):
        engines_from_fit(partial)


def test_shipped_profiles_carry_the_serving_tensor_parallel_scale():
    """Current vLLM/SGLang builds' tensor-parallel floor is the derived one times the scale fitted on
    the serving rows; every other field is the engine fit file's."""
    scale = serving_tp_scale()
    for name in SHIPPED:
        for fld in NUMERIC_FIELDS:
            expected = getattr(SHIPPED[name], fld) * (scale if name in SERVING_ENGINES and fld == "tp_layer_us" else 1)
            assert getattr(default_engines()[name], fld) == pytest.approx(expected)
        # vLLM's and SGLang's floors on ROCm are the serving fit's; every other engine keeps CUDA's
        rocm = serving_rocm_scale() if name in ROCM_ENGINES else 1.0
        assert default_engines()[name].rocm_floor_scale == rocm

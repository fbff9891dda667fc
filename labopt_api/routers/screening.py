"""The CLI's `labopt screen` over HTTP: POST /v1/screening/size and /precision (any key), and
the units' rounds of a stored scenario (GET /v1/scenarios/{id}/screening for its coordinators,
.../districts/{code}/screening for the unit's own key too)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool

from labopt.errors import InputError
from labopt.scenario.updates import day_of
from labopt.screening.districts import unit_rounds
from labopt.screening.precision import size_for_estimate
from labopt.screening.risk import RiskGroup, size_round
from labopt_api.deps import Caller, DbSession
from labopt_api.errors import query_error
from labopt_api.schemas import (
    ERRORS,
    ScreeningPrecisionOut,
    ScreeningPrecisionRequest,
    ScreeningRoundsOut,
    ScreeningSizeOut,
    ScreeningSizeRequest,
    UnitRoundOut,
)
from labopt_api.security import forbidden, require_coordinator
from labopt_api.store import district_days, scenarios

router = APIRouter(prefix="/v1/screening", tags=["screening"], responses=ERRORS)
rounds_router = APIRouter(prefix="/v1/scenarios", tags=["screening"], responses=ERRORS)


@router.post(
    "/size",
    response_model=ScreeningSizeOut,
    summary="The samples and pools a screening round needs to detect infection",
    operation_id="screening-size",
    response_model_exclude_unset=True,
)
async def size(req: ScreeningSizeRequest, _: Caller) -> dict[str, Any]:
    """The fewest samples (and pools) that flag a population infected at the design prevalence
    with the target sensitivity; with sp < 1, the number of positive pools that flags it, so
    that a population with no infection is flagged at most 1 - target_specificity of the time
    (labopt.screening.freedom.size_for_detection). With groups: the fewest pools, riskiest
    groups first (labopt.screening.risk.allocate_for_detection)."""
    groups = (
        None
        if req.groups is None
        else [RiskGroup(g.name, g.relative_risk, g.share, g.available, g.at_least)
              for g in req.groups]
    )  # fmt: skip
    got = await run_in_threadpool(
        size_round,
        req.target_sensitivity,
        req.design_prevalence,
        groups=groups,
        population=req.population,
        pool_size=req.pool_size,
        se=req.se,
        sp=req.sp,
        target_specificity=req.target_specificity,
    )
    return got.to_dict()


@router.post(
    "/precision",
    response_model=ScreeningPrecisionOut,
    summary="The samples and pools a round needs to estimate prevalence within ±precision",
    operation_id="screening-precision",
)
async def precision(req: ScreeningPrecisionRequest, _: Caller) -> dict[str, Any]:
    """The samples and first-stage pools (reactions) that estimate the expected prevalence
    within ±precision at the confidence level with the lab workflow's estimator; without
    pool_size, the pool size up to max_pool_size needing the fewest reactions
    (labopt.screening.precision.size_for_estimate)."""
    got = await run_in_threadpool(
        size_for_estimate,
        req.prevalence,
        req.precision,
        relative=req.relative,
        confidence=req.confidence,
        pool_size=req.pool_size,
        max_pool_size=req.max_pool_size,
        se=req.se,
        sp=req.sp,
    )
    return got.to_dict()


@rounds_router.get(
    "/{scenario_id}/screening",
    response_model=ScreeningRoundsOut,
    summary="Every unit's screening round on a date",
    operation_id="screening-rounds",
)
def rounds(
    scenario_id: str,
    who: Caller,
    db: DbSession,
    date: dt.date | None = Query(None, description="a date of the horizon (default: its start)"),
) -> dict[str, Any]:
    """Each unit's screening round on the date: the samples and pools that detect infection at
    the design prevalence of its epidemic level and area type (the scenario's [screening]
    settings, the units' latest reported levels) with its target sensitivity, against the
    screening its demand asks (labopt.screening.districts)."""
    r = scenarios.get(db, scenario_id)
    require_coordinator(who, r.province_code, f"read the screening rounds of {r.province_code}")
    return _rounds_out(db, r, date, None)


@rounds_router.get(
    "/{scenario_id}/districts/{code}/screening",
    response_model=UnitRoundOut,
    summary="One unit's screening round on a date",
    operation_id="district-screening",
)
def district_round(
    scenario_id: str,
    code: str,
    who: Caller,
    db: DbSession,
    date: dt.date | None = Query(None, description="a date of the horizon (default: its start)"),
) -> dict[str, Any]:
    """The unit's screening round on the date (as ``GET .../screening`` gives every unit's);
    the unit's own district key may read it."""
    r = scenarios.get(db, scenario_id)
    if not who.speaks_for(r.province_code, code):
        raise forbidden(f"read the screening round of {r.province_code}/{code}")
    return _rounds_out(db, r, date, code)["units"][0]


def _rounds_out(db, r, date: dt.date | None, code: str | None) -> dict[str, Any]:
    scn = district_days.build_scenario(db, r)
    if code is not None and code not in scn.district_by_code:
        raise HTTPException(404, detail=f"no unit {code!r} in scenario {r.id}")
    try:
        day = 1 if date is None else day_of(scn, date)
        got = unit_rounds(scn, day, codes=None if code is None else [code])
    except InputError as exc:
        raise HTTPException(422, detail=[query_error(exc)]) from None
    return {
        "scenario_id": r.id,
        "date": date or scn.province.start_date,
        "units": [u.to_dict() for u in got],
    }

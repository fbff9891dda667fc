"""POST /v1/screening/size and /precision: the CLI's `labopt screen` over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from labopt.screening import size_for_detection
from labopt.screening.precision import size_for_estimate
from labopt_api.deps import Caller
from labopt_api.schemas import (
    ERRORS,
    ScreeningPrecisionOut,
    ScreeningPrecisionRequest,
    ScreeningSizeOut,
    ScreeningSizeRequest,
)

router = APIRouter(prefix="/v1/screening", tags=["screening"], responses=ERRORS)


@router.post(
    "/size",
    response_model=ScreeningSizeOut,
    summary="The samples and pools a screening round needs to detect infection",
    operation_id="screening-size",
)
async def size(req: ScreeningSizeRequest, _: Caller) -> dict[str, Any]:
    """The fewest samples (and pools) that flag a population infected at the design prevalence
    with the target sensitivity; with sp < 1, the number of positive pools that flags it, so
    that a population with no infection is flagged at most 1 - target_specificity of the time
    (labopt.screening.freedom.size_for_detection)."""
    got = await run_in_threadpool(
        size_for_detection,
        req.target_sensitivity,
        req.design_prevalence,
        pool_size=req.pool_size,
        se=req.se,
        sp=req.sp,
        population=req.population,
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

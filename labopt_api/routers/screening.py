"""POST /v1/screening/size: the CLI's `labopt screen size` over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from labopt.screening import size_for_detection
from labopt_api.deps import Caller
from labopt_api.schemas import ERRORS, ScreeningSizeOut, ScreeningSizeRequest

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

"""POST /v1/pooling/evaluate, /optimize and /frontier: the CLI's `labopt pool` over HTTP; the
same for a two-disease (multiplex) assay under /v1/pooling/multiplex/."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from labopt.pooling import DilutionModel, SearchConstraints, evaluate, optimize
from labopt.pooling.frontier import frontier
from labopt.pooling.multiplex import evaluate_multiplex
from labopt.pooling.multiplex_search import optimize_multiplex
from labopt.pooling.opchar import OperatingCharacteristics
from labopt_api.deps import Caller
from labopt_api.schemas import (
    ERRORS,
    DesignGridOut,
    DesignOut,
    Dilution,
    EvaluateRequest,
    FrontierOut,
    FrontierRequest,
    MultiplexEvaluateRequest,
    MultiplexOptimizeOut,
    MultiplexOptimizeRequest,
    MultiplexOut,
    OptimizeGridOut,
    OptimizeOut,
    OptimizeRequest,
)

router = APIRouter(prefix="/v1/pooling", tags=["pooling"], responses=ERRORS)


def _dilution(d: Dilution | None) -> DilutionModel | None:
    return None if d is None else DilutionModel(**d.model_dump())


# evaluating one design is far quicker than a thread hand-off: run it on the event loop;
# grids and searches, which take longer, run in the thread pool
@router.post(
    "/evaluate",
    response_model=DesignOut | DesignGridOut,
    summary="Operating characteristics of one design",
    operation_id="pooling-evaluate",
)
async def evaluate_design(req: EvaluateRequest, _: Caller) -> dict[str, Any]:
    def run() -> OperatingCharacteristics:
        return evaluate(
            req.algorithm,
            req.config,
            prevalence=req.prevalence,
            risks=req.risks,
            se=req.se,
            sp=req.sp,
            dilution=_dilution(req.dilution),
            bingroup2_compat=req.bingroup2_compat,
        )

    small = not isinstance(req.prevalence, list) and (req.risks is None or len(req.risks) < 500)
    oc = run() if small else await run_in_threadpool(run)
    rows = oc.split()
    if isinstance(req.prevalence, list):
        return {"results": [r.to_dict() for r in rows]}
    return rows[0].to_dict()


@router.post(
    "/optimize",
    response_model=OptimizeOut | OptimizeGridOut,
    summary="Lowest-cost designs under a lab's limits",
    operation_id="pooling-optimize",
)
def optimize_design(req: OptimizeRequest, _: Caller) -> dict[str, Any]:
    cons = SearchConstraints(
        min_size=req.min_size,
        max_size=req.max_size,
        max_stages=req.max_stages,
        min_sensitivity=req.min_sensitivity,
        min_specificity=req.min_specificity,
        square_arrays=req.square_arrays,
    )
    res = optimize(
        req.prevalence,
        risks=req.risks,
        algorithm=req.algorithm,
        se=req.se,
        sp=req.sp,
        constraints=cons,
        top=req.top,
        dilution=_dilution(req.dilution),
    )
    if isinstance(res, list):
        return {"results": [r.to_dict() for r in res]}
    return res.to_dict()


@router.post(
    "/frontier",
    response_model=FrontierOut,
    summary="What one more PCR round or a larger pool buys",
    operation_id="pooling-frontier",
)
def design_frontier(req: FrontierRequest, _: Caller) -> dict[str, Any]:
    front = frontier(
        req.prevalence,
        se=req.se,
        sp=req.sp,
        max_stages=req.max_stages,
        max_size=req.max_size,
        min_sensitivity=req.min_sensitivity,
        min_specificity=req.min_specificity,
    )
    return front.to_dict()


@router.post(
    "/multiplex/evaluate",
    response_model=MultiplexOut,
    summary="Operating characteristics of one design with a two-disease assay",
    operation_id="pooling-multiplex-evaluate",
)
def evaluate_multiplex_design(req: MultiplexEvaluateRequest, _: Caller) -> dict[str, Any]:
    oc = evaluate_multiplex(
        req.algorithm,
        req.config,
        joint=req.joint,
        se=req.se,
        sp=req.sp,
        se2=req.se2,
        sp2=req.sp2,
    )
    return oc.to_dict()


@router.post(
    "/multiplex/optimize",
    response_model=MultiplexOptimizeOut,
    summary="Lowest-cost designs for a two-disease assay under a lab's limits",
    operation_id="pooling-multiplex-optimize",
)
def optimize_multiplex_design(req: MultiplexOptimizeRequest, _: Caller) -> dict[str, Any]:
    cons = SearchConstraints(
        min_size=req.min_size,
        max_size=req.max_size,
        max_stages=req.max_stages,
        min_sensitivity=req.min_sensitivity,
        min_specificity=req.min_specificity,
        square_arrays=req.square_arrays,
    )
    res = optimize_multiplex(
        req.joint,
        se=req.se,
        sp=req.sp,
        se2=req.se2,
        sp2=req.sp2,
        constraints=cons,
        top=req.top,
    )
    return res.to_dict()

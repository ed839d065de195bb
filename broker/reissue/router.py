"""HTTP: an institution's intermediate server applies for a reissue on its chief's approval; one
administrator declares the leak on that application, a second confirms, and anyone of them
follows the reissue's progress."""

from fastapi import APIRouter, Request, status

from broker.admins.router import AdministratorDep
from broker.reissue.schemas import LeakDeclaration, ReissueApplicationIn, ReissueApplicationOut, ReissueOut
from broker.reissue.service import (
    ReissueJobs,
    cancel_reissue,
    confirm_reissue,
    declare_leak,
    get_reissue,
    list_applications,
    list_reissues,
    receive_application,
    reissue_out,
    resume_reissue,
)
from services.app import DbSession, SignedCaller
from services.rbac import require_caller

router = APIRouter(prefix="/symbol-reissues", tags=["symbol reissue"])
applications_router = APIRouter(prefix="/symbol-reissue-applications", tags=["symbol reissue"])


@applications_router.post("", response_model=ReissueApplicationOut, status_code=status.HTTP_201_CREATED)
async def post_application(
    body: ReissueApplicationIn, caller: SignedCaller, session: DbSession
) -> ReissueApplicationOut:
    """Only an institution's own intermediate server applies, for that institution."""
    require_caller(caller, components={"intermediate"})
    return await receive_application(session, caller, body)


@applications_router.get("", response_model=list[ReissueApplicationOut])
async def get_applications(_admin: AdministratorDep, session: DbSession) -> list[ReissueApplicationOut]:
    return await list_applications(session)


def _jobs(request: Request) -> ReissueJobs:
    jobs: ReissueJobs = request.app.state.reissue_jobs
    return jobs


@router.post("", response_model=ReissueOut, status_code=status.HTTP_201_CREATED)
async def post_leak_declaration(body: LeakDeclaration, admin: AdministratorDep, session: DbSession) -> ReissueOut:
    return await declare_leak(session, body, admin)


@router.get("", response_model=list[ReissueOut])
async def get_reissues(_admin: AdministratorDep, session: DbSession) -> list[ReissueOut]:
    return await list_reissues(session)


@router.get("/{reissue_id}", response_model=ReissueOut)
async def get_one_reissue(reissue_id: str, _admin: AdministratorDep, session: DbSession) -> ReissueOut:
    return reissue_out(await get_reissue(session, reissue_id))


@router.post("/{reissue_id}/confirmation", response_model=ReissueOut, status_code=status.HTTP_202_ACCEPTED)
async def post_confirmation(
    reissue_id: str, admin: AdministratorDep, session: DbSession, request: Request
) -> ReissueOut:
    confirmed = await confirm_reissue(session, reissue_id, admin)
    await session.commit()  # the job must see the confirmation
    _jobs(request).start(reissue_id)
    return confirmed


@router.post("/{reissue_id}/cancellation", response_model=ReissueOut)
async def post_cancellation(reissue_id: str, admin: AdministratorDep, session: DbSession) -> ReissueOut:
    """Withdraw a declaration nobody has confirmed: its application may be declared on again."""
    return await cancel_reissue(session, reissue_id, admin)


@router.post("/{reissue_id}/resumption", response_model=ReissueOut, status_code=status.HTTP_202_ACCEPTED)
async def post_resumption(reissue_id: str, admin: AdministratorDep, session: DbSession, request: Request) -> ReissueOut:
    resumed = await resume_reissue(session, reissue_id, admin)
    await session.commit()
    _jobs(request).start(reissue_id)
    return resumed

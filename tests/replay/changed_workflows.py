"""Two versions of a release that changes the dossier workflow, for the replay tests.

A module of its own: the workflow sandbox re-imports a workflow's module, and the test module
reads files at import time, which the sandbox forbids.
"""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.candidate import Registration
    from workflows import names
    from workflows.dossier import DossierWorkflow, Outcome


@workflow.defn(name=names.DOSSIER_WORKFLOW)
class UnpatchedChange(DossierWorkflow):
    """A release that adds a timer at the start of every dossier, without a patch."""

    @workflow.run
    async def run(self, registration: Registration) -> Outcome:
        await workflow.sleep(timedelta(minutes=1))
        return await super().run(registration)


@workflow.defn(name=names.DOSSIER_WORKFLOW)
class PatchedChange(DossierWorkflow):
    """The same change behind `workflow.patched`: new dossiers wait, open ones carry on."""

    @workflow.run
    async def run(self, registration: Registration) -> Outcome:
        if workflow.patched("wait-a-minute-at-start"):
            await workflow.sleep(timedelta(minutes=1))
        return await super().run(registration)

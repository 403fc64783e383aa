"""The candidate space's pages (server-rendered, French, usable without JavaScript).

`router` gathers them; every form on it is CSRF-checked (`web.csrf.require_csrf`).
"""

from fastapi import APIRouter, Depends

from web.candidate import accommodations, auth, documents, email_address, my_data_export, public, space
from web.csrf import require_csrf

router = APIRouter(dependencies=[Depends(require_csrf)], include_in_schema=False)
for module in (public, auth, space, email_address, documents, my_data_export, accommodations):
    router.include_router(module.router)

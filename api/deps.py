"""Reusable dependencies: the store and the settings the app was created with.

Async on purpose: FastAPI runs a plain ``def`` dependency in a worker thread, a hand-off that costs
more than these attribute reads.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.settings import ApiSettings
from kg.errors import StoreError
from kg.settings import Settings
from kg.store import Store


async def get_store(request: Request) -> Store:
    """The store opened by the app's lifespan (or given to `create_app`)."""
    store: Store | None = getattr(request.app.state, "store", None)
    if store is None:
        raise StoreError("the service has no store open; it starts with the app's lifespan")
    return store


async def get_app_settings(request: Request) -> Settings:
    """The library settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_app_api_settings(request: Request) -> ApiSettings:
    """The service settings the app was created with."""
    api_settings: ApiSettings = request.app.state.api_settings
    return api_settings


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ApiSettingsDep = Annotated[ApiSettings, Depends(get_app_api_settings)]

"""FastAPI dependencies of the monitoring routes and pages: the clock, the settings and this
replica's checker, all from the app's state. The registry's alias is ``providers.deps``'s."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kurobara.config import Settings
from kurobara.monitoring.checker import Checker
from kurobara.monitoring.clock import Clock
from kurobara.providers.deps import RegistryDep

__all__ = ["CheckerDep", "ClockDep", "RegistryDep", "SettingsDep"]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_checker(request: Request) -> Checker:
    checker: Checker = request.app.state.checker
    return checker


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
CheckerDep = Annotated[Checker, Depends(get_checker)]

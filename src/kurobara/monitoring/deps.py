"""FastAPI dependencies of the monitoring routes and pages: the clock, the settings and this
replica's checker, all from the app's state. The registry's alias is ``providers.deps``'s."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kurobara.config import Settings
from kurobara.monitoring.checker import Checker
from kurobara.monitoring.clock import Clock
from kurobara.monitoring.throttle import ManualTestLimiter
from kurobara.providers.deps import RegistryDep

__all__ = ["CheckerDep", "ClockDep", "RegistryDep", "SettingsDep", "TestLimiterDep"]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_checker(request: Request) -> Checker:
    checker: Checker = request.app.state.checker
    return checker


def get_test_limiter(request: Request) -> ManualTestLimiter:
    limiter: ManualTestLimiter = request.app.state.manual_test_limiter
    return limiter


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
CheckerDep = Annotated[Checker, Depends(get_checker)]
TestLimiterDep = Annotated[ManualTestLimiter, Depends(get_test_limiter)]

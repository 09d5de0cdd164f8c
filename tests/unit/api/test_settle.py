"""A read a streaming response makes runs to its end when the client goes away mid-read: Starlette
cancels the stream through an anyio cancel scope, which cancels every later await too — a database
session cut there had its rollback cancelled ("Exception during reset", seen in CI)."""

import asyncio
import logging
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from dockyard.api.settle import settled


async def test_a_read_cut_by_its_stream_s_cancel_scope_still_ends_its_session(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    inside, ended = asyncio.Event(), asyncio.Event()
    outcome: list[str] = []

    async def read() -> int:
        async with AsyncSession(engine) as session, session.begin():
            value = (await session.execute(text("select 7"))).scalar_one()
            inside.set()
            await asyncio.sleep(0.2)
        ended.set()
        return int(value)

    async def stream() -> None:
        try:
            await settled(read())
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise

    with caplog.at_level(logging.ERROR, logger="sqlalchemy"):
        async with anyio.create_task_group() as group:
            group.start_soon(stream)
            await inside.wait()
            group.cancel_scope.cancel()
        await asyncio.wait_for(ended.wait(), 5)
    await engine.dispose()
    assert outcome == ["cancelled"]  # the stream itself ends at once
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_the_caller_gets_the_result_or_the_error() -> None:
    async def answer() -> int:
        return 42

    async def fail() -> int:
        raise ValueError("no")

    assert await settled(answer()) == 42
    with pytest.raises(ValueError, match="no"):
        await settled(fail())

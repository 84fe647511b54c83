"""Each thread keeps its own connection; when the thread ends, the connection goes back to
the pool (a server's worker threads come and go: otherwise the pool would run dry)."""

from __future__ import annotations

import threading

from sqlalchemy import text

from xunshi.storage.db import Database


def test_the_connections_of_ended_threads_go_back_to_the_pool(db_url: str) -> None:
    db = Database(db_url)
    try:

        def read() -> None:
            with db.transaction() as conn:
                assert conn.execute(text("SELECT 1")).scalar() == 1

        for _ in range(12):  # one after another: each its own thread, ended when joined
            thread = threading.Thread(target=read)
            thread.start()
            thread.join()
        # The last thread's connection is returned when the next thread needs one.
        assert db.engine.pool.checkedout() == 1  # type: ignore[attr-defined]
        read()
        assert db.engine.pool.checkedout() == 1  # type: ignore[attr-defined]  # this thread's
    finally:
        db.dispose()


def test_a_live_thread_keeps_its_connection(db_url: str) -> None:
    db = Database(db_url)
    try:
        done, hold = threading.Event(), threading.Event()

        def read_and_wait() -> None:
            with db.transaction() as conn:
                conn.execute(text("SELECT 1"))
            done.set()
            hold.wait(10)

        waiting = threading.Thread(target=read_and_wait)
        waiting.start()
        assert done.wait(10)
        with db.transaction() as conn:  # a new thread's connection: the live one's stays
            conn.execute(text("SELECT 1"))
        assert db.engine.pool.checkedout() == 2  # type: ignore[attr-defined]
        hold.set()
        waiting.join()
    finally:
        db.dispose()

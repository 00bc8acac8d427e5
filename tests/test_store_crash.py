"""The store survives what happens to real runs: kill -9, Ctrl-C, a forgotten close, a second run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

import pytest

from crawler.store import StoreLocked, open_store

LINKS = 5000

# A run as `crawler run` makes one: resume, check what is left, record each
# result as it finishes, finish. It says how many results are on disk as it goes.
RUN = textwrap.dedent("""
    import sys, time
    from crawler.model import CheckResult, Verdict
    from crawler.store import open_store

    path, links = sys.argv[1], int(sys.argv[2])
    store = open_store(path)
    run = store.begin_run()
    todo = [u for u in (f"https://host{i % 20}.example/page/{i}" for i in range(links)) if u not in run.done]
    for i, url in enumerate(todo, 1):
        verdict = Verdict.DEAD if i % 3 == 0 else Verdict.ALIVE
        store.record_check(run, url, CheckResult(verdict, "http_404" if verdict is Verdict.DEAD else "ok"))
        if i % 100 == 0:
            store.flush()
            print("on disk", len(run.done) + i, flush=True)
            time.sleep(0.002)  # checks take time: leave the killer room to strike mid-run
    store.finish_run(run)
    store.close()
    print("finished", flush=True)
""")


def start(*args: str, script: str = RUN) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    return subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True, env=env)


def database(path: Path) -> closing[sqlite3.Connection]:
    return closing(sqlite3.connect(path))


def test_kill_9_mid_run_then_resume_checks_every_link_exactly_once(tmp_path):
    path = tmp_path / "crawler.sqlite3"
    child = start(str(path), str(LINKS))
    assert child.stdout is not None
    on_disk = 0
    for line in child.stdout:
        on_disk = int(line.split()[-1])
        if on_disk >= LINKS // 3:
            break
    child.kill()  # SIGKILL: no handler, no atexit, no flush
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    with database(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # Every check that was reported on disk is there, and each link's state
        # agrees with its checks: no batch was half written.
        assert conn.execute("SELECT count(*) FROM checks").fetchone()[0] >= on_disk
        assert conn.execute("SELECT count(*) FROM links l WHERE l.checks != "
                            "(SELECT count(*) FROM checks c WHERE c.link_id = l.id)").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM runs WHERE finished IS NULL").fetchone()[0] == 1

    resumed = start(str(path), str(LINKS))
    out, _ = resumed.communicate(timeout=120)
    assert resumed.returncode == 0 and out.endswith("finished\n")
    with database(path) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT link_id), count(DISTINCT run_id) FROM checks"
                            ).fetchone() == (LINKS, LINKS, 1)
        assert conn.execute("SELECT attempts, finished IS NOT NULL FROM runs").fetchall() == [(2, 1)]
        assert conn.execute("SELECT max(checks) FROM links").fetchone()[0] == 1


def test_ctrl_c_keeps_every_recorded_check(tmp_path):
    path = tmp_path / "crawler.sqlite3"
    script = textwrap.dedent("""
        import os, signal, sys
        from crawler.model import CheckResult, Verdict
        from crawler.store import open_store

        with open_store(sys.argv[1]) as store:
            run = store.begin_run()
            for i in range(2000):
                store.record_check(run, f"https://example.org/{i}", CheckResult(Verdict.ALIVE, "ok"))
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, with results still queued
            signal.pause()
    """)
    child = start(str(path), script=script)
    child.communicate(timeout=60)
    assert child.returncode != 0
    with database(path) as conn:
        assert conn.execute("SELECT count(*) FROM checks").fetchone()[0] == 2000


def test_a_forgotten_close_still_writes_everything_at_exit(tmp_path):
    path = tmp_path / "crawler.sqlite3"
    script = textwrap.dedent("""
        import sys
        from crawler.model import CheckResult, Verdict
        from crawler.store import open_store

        store = open_store(sys.argv[1])
        run = store.begin_run()
        for i in range(2000):
            store.record_check(run, f"https://example.org/{i}", CheckResult(Verdict.DEAD, "http_404"))
    """)
    child = start(str(path), script=script)
    child.communicate(timeout=60)
    assert child.returncode == 0
    with database(path) as conn:
        assert conn.execute("SELECT count(*) FROM checks").fetchone()[0] == 2000


def test_a_second_run_is_refused_while_one_runs_and_the_lock_dies_with_it(tmp_path):
    path = tmp_path / "crawler.sqlite3"
    script = textwrap.dedent("""
        import sys, time
        from crawler.store import open_store

        store = open_store(sys.argv[1])
        store.begin_run()
        print("running", flush=True)
        time.sleep(600)
    """)
    child = start(str(path), script=script)
    assert child.stdout is not None and child.stdout.readline() == "running\n"
    try:
        with pytest.raises(StoreLocked, match=rf"{path}: another crawler run is using this store "
                                              rf"\(pid {child.pid} since "):
            open_store(path)
    finally:
        child.kill()
        child.wait(timeout=30)
    with open_store(path) as store:  # no stale lock to clean up
        run = store.begin_run()
        assert run.resumed  # and the killed run is the one resumed
    with database(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

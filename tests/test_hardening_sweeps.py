"""Sweep, report and compare under bad input and faults: one line on stderr, exit 2
for bad input and 1 for a fault of the machine, nothing half-written, no process left
behind, and a store that survives kill -9 and garbage files."""

from __future__ import annotations

import errno
import fcntl
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from simulation.cli import main
from simulation.experiments import analysis, executors, runner
from simulation.experiments.runner import Sweep
from simulation.experiments.store import SweepStore
from tests.conftest import ROOT, SCENARIOS

BASELINE = SCENARIOS / "baseline.toml"
SMALL = ["--set", "population.size=300", "--steps", "5", "--quiet"]
FEES = ["--vary", "commission.entry_fee=0,10"]
ENV = os.environ | {"PYTHONPATH": str(ROOT)}
SECRET = "do-not-echo-7f3a"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def comparable(runs: pd.DataFrame) -> pd.DataFrame:
    """runs.parquet without the wall-clock column, which no two runs share."""
    return runs.drop(columns=["wall_s"]).reset_index(drop=True)


def one_error_line(err: str) -> str:
    """The error output, checked to be a single line and no traceback."""
    assert err.count("\n") == 1, err
    assert "Traceback" not in err and "internal error" not in err, err
    return err


def hidden(store: Path) -> list[Path]:
    """Staging debris: hidden files and folders anywhere in a store but its lock."""
    return [p for p in store.rglob(".*") if p != store / ".lock"]


@pytest.fixture(scope="module")
def finished_store(tmp_path_factory) -> Path:
    """A finished two-run sweep (`sweep BASELINE FEES SMALL`), to copy and damage."""
    out = tmp_path_factory.mktemp("stores") / "fees"
    assert main(["sweep", str(BASELINE), *FEES, *SMALL, "--out", str(out)]) == 0
    return out


@pytest.fixture
def store(finished_store, tmp_path, capsys) -> Path:
    capsys.readouterr()
    copy = tmp_path / "store"
    shutil.copytree(finished_store, copy)
    return copy


def test_an_absurd_sample_size_is_refused_before_any_work(tmp_path, capsys):
    args = ["--sample", "sobol:10000000000", "--range", "commission.entry_fee=0:10"]
    started = time.monotonic()
    assert main(["sweep", str(BASELINE), *args, *SMALL, "--out", str(tmp_path / "s")]) == 2
    assert time.monotonic() - started < 10
    err = one_error_line(capsys.readouterr().err)
    assert "--sample" in err and "at most 1,000,000" in err
    args = [*FEES, "--replicates", "600000"]
    assert main(["sweep", str(BASELINE), *args, *SMALL, "--out", str(tmp_path / "s")]) == 2
    assert "at most 1,000,000" in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("design", "words"),
    [
        (["--vary", "commission.entry_fee=300,300"], "listed twice"),
        (["--vary", "commission.entry_fee=1,2", "--vary", "commission.entry_fee=3"], "twice"),
        (["--vary", "commission.entry_fee=1,2", "--range", "commission.entry_fee=0:3"], "--range"),
        (
            ["--sample", "lhs:4", "--range", "commission.entry_fee=0:1"]
            + ["--range", "commission.entry_fee=1:2"],
            "twice",
        ),
    ],
)
def test_duplicate_or_dropped_design_options_are_refused(tmp_path, capsys, design, words):
    out = tmp_path / "s"
    assert main(["sweep", str(BASELINE), *design, *SMALL, "--out", str(out)]) == 2
    assert words in one_error_line(capsys.readouterr().err)
    assert not out.exists()


@pytest.mark.parametrize(
    ("sample", "ranges"),
    [
        ("sobol:2", {"commission.entry_fee": (0.0, 100.0)}),
        ("morris:3", {"population.initial_members": (10, 11), "commission.entry_fee": (0, 50)}),
    ],
)
def test_coinciding_sampled_points_keep_every_run(tmp_path, sample, ranges):
    """A one-parameter Sobol' design repeats its points; Morris trajectories over two
    integer levels cross. Every point must keep its runs for the sensitivity analysis."""
    sweep = Sweep(
        BASELINE,
        sample=sample,
        ranges=ranges,
        replicates=2,
        overrides={"population.size": 300, "run.steps": 5},
        out=tmp_path / "s",
        progress=False,
    )
    points = sweep.design.points
    assert points.duplicated().any(), "the design should have coinciding points"
    runs = sweep.run()
    assert len(runs) == 2 * len(points) and runs["run_key"].is_unique
    assert (runs["status"] == "done").all()
    assert not pd.isna(analysis.point_means(runs, "gmv")).any()


def test_workers_beyond_the_cpus_are_capped_with_a_note(tmp_path, capsys, monkeypatch):
    started = []
    real_executor = runner.executor

    def recording_executor(workers, dask):
        started.append(workers)
        return real_executor(workers, dask)

    monkeypatch.setattr(runner, "executor", recording_executor)
    args = [*FEES, "--workers", "1000", *SMALL, "--out", str(tmp_path / "s")]
    assert main(["sweep", str(BASELINE), *args]) == 0
    note = one_error_line(capsys.readouterr().err)
    assert "--workers 1000" in note and f"using {min(os.cpu_count() or 1, 1000)}" in note
    assert started and started[0] <= min(os.cpu_count() or 1, 2)


@pytest.mark.parametrize(
    "address", ["tcp://", "http://localhost:8786", "tcp://localhost", "tls://h:99999", "x"]
)
def test_a_bad_dask_address_is_refused_before_the_store_is_made(tmp_path, capsys, address):
    out = tmp_path / "s"
    assert main(["sweep", str(BASELINE), *FEES, *SMALL, "--dask", address, "--out", str(out)]) == 2
    assert "--dask" in one_error_line(capsys.readouterr().err)
    assert not out.exists()


def test_an_unreachable_cluster_is_a_fault_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(executors, "DASK_CONNECT_TIMEOUT", "1s")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    out = tmp_path / "s"
    assert main(["sweep", str(BASELINE), *FEES, *SMALL, "--dask", address, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"sharelab: error: cannot reach the Dask cluster: {address}\n" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_the_dask_help_says_that_joining_a_cluster_trusts_it(capsys):
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "tls://HOST:PORT" in help_text and "trust" in help_text and "unpickles" in help_text


def make_run(folder: Path, summary: bytes) -> str:
    folder.mkdir()
    (folder / "summary.json").write_bytes(summary)
    return str(folder)


@pytest.mark.parametrize(
    ("summary", "words"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b'{"scenario": "' + SECRET.encode() + b'", ', "not valid JSON"),
        (b"\xff\xfe" + SECRET.encode(), "not UTF-8"),
        (b'["' + SECRET.encode() + b'"]', "expected a JSON object"),
        (b'{"scenario": "' + SECRET.encode() + b'"}', "missing"),
        (b'{"scenario": ["' + SECRET.encode() + b'"]}', "scenario"),
    ],
)
def test_compare_of_a_garbage_summary_names_the_file_not_its_content(
    tmp_path, capsys, summary, words
):
    run = make_run(tmp_path / "run", summary)
    assert main(["compare", run, "--out", str(tmp_path / "cmp")]) == 2
    err = one_error_line(capsys.readouterr().err)
    assert str(tmp_path / "run" / "summary.json") in err and words in err
    assert SECRET not in err
    assert not (tmp_path / "cmp").exists()


def test_compare_refuses_a_full_out_folder_before_reading_anything(tmp_path, capsys):
    out = tmp_path / "cmp"
    out.mkdir()
    (out / "kept.txt").write_text("mine")
    run = make_run(tmp_path / "run", b"garbage")
    assert main(["compare", run, "--out", str(out)]) == 2
    assert "--out" in one_error_line(capsys.readouterr().err)
    assert [p.name for p in out.iterdir()] == ["kept.txt"]


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("runs.parquet", lambda data: data[: len(data) // 2]),
        ("runs.parquet", lambda data: SECRET.encode()),
        ("manifest.json", lambda data: b"\x00\x01" + SECRET.encode()),
        ("manifest.json", lambda data: b"{}"),
        ("manifest.json", lambda data: data.replace(b'"design": {', b'"design": {"x": {')),
    ],
)
def test_report_on_a_damaged_store_names_the_file(store, capsys, name, damage):
    path = store / name
    path.write_bytes(damage(path.read_bytes()))
    assert main(["report", str(store)]) == 2
    err = one_error_line(capsys.readouterr().err)
    assert str(path) in err and SECRET not in err
    assert not (store / "report").exists() and not hidden(store)


def sweep_again(store: Path) -> list[str]:
    return ["sweep", str(BASELINE), *FEES, *SMALL, "--out", str(store)]


def test_a_resume_quarantines_unreadable_files_and_redoes_their_runs(store, capsys):
    before = pd.read_parquet(store / "runs.parquet")
    row, series = sorted((store / "rows").iterdir()), sorted((store / "timeseries").iterdir())
    row[0].write_bytes(b"PAR1" + SECRET.encode())
    series[1].write_bytes(series[1].read_bytes()[:100])
    (store / "runs.parquet").write_bytes(b"garbage")
    assert main(sweep_again(store)) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "quarantine" in line]
    assert len(notes) == 2 and SECRET not in "".join(notes)
    assert str(row[0]) in notes[0] and str(series[1]) in notes[1]
    assert sorted(p.name for p in (store / "quarantine").iterdir()) == [
        f"rows-{row[0].name}",
        f"timeseries-{series[1].name}",
    ]
    after = pd.read_parquet(store / "runs.parquet")
    pd.testing.assert_frame_equal(comparable(after), comparable(before))
    assert len(list((store / "timeseries").glob("*.parquet"))) == 2
    assert main(sweep_again(store)) == 0
    assert "quarantine" not in capsys.readouterr().err


def test_a_store_held_by_a_running_sweep_is_refused(store, capsys):
    with open(store / ".lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert main(sweep_again(store)) == 2
        assert "in use by another sweep" in one_error_line(capsys.readouterr().err)
    assert main(sweep_again(store)) == 0


def test_a_failed_write_leaves_neither_staging_files_nor_half_a_run(tmp_path, monkeypatch):
    store = SweepStore(tmp_path / "s")
    store.rows.mkdir(parents=True)
    store.series.mkdir()
    real_to_parquet = pd.DataFrame.to_parquet

    def disk_full_for_rows(table, path, **options):
        real_to_parquet(table, path, **options)
        if Path(path).parent == store.rows:
            raise OSError(errno.ENOSPC, "Error writing bytes to file")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", disk_full_for_rows)
    row = {"run_key": "k1", "point": 0, "replicate": 0, "status": "done"}
    with pytest.raises(OSError) as raised:
        store.record(row, pd.DataFrame({"day": [0, 1]}))
    assert raised.value.errno == errno.ENOSPC
    assert raised.value.filename == str(store.rows / "k1.parquet")
    assert not list(store.root.rglob("*.parquet")) and not hidden(store.root)


def test_opening_clears_debris_of_dead_writers_only(store):
    dead = psutil.Popen(["true"])
    dead.wait()
    assert not psutil.pid_exists(dead.pid)
    (store / f".runs.parquet.{dead.pid}").write_bytes(b"half")
    (store / f".report.partial-{dead.pid}").mkdir()
    (store / "rows" / f".x.parquet.{dead.pid}").write_bytes(b"half")
    live = store / f".report.partial-{os.getpid()}"
    live.mkdir()
    assert main(sweep_again(store)) == 0
    assert hidden(store) == [live]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "simulation.cli", *args]


def test_a_sweep_piped_into_a_closed_reader_ends_quietly(tmp_path):
    process = subprocess.Popen(
        cli(*sweep_again(tmp_path / "s")), env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait() in (0, 1)
    assert "Traceback" not in err and "Exception ignored" not in err
    shell = " ".join(cli(*sweep_again(tmp_path / "h"))) + " | head -1"
    piped = subprocess.run(shell, shell=True, env=ENV, capture_output=True, text=True, check=True)
    assert piped.stdout.startswith("2 of 2 runs done (0 failed)") and piped.stderr == ""


WORKER_SWEEP = [
    "--vary",
    "commission.entry_fee=0,10,20,30,40,50",
    "--replicates",
    "2",
    "--set",
    "population.size=300",
    "--steps",
    "20",
    "--workers",
    "2",
    "--quiet",
]


def worker_sweep(out: Path) -> list[str]:
    return cli("sweep", str(BASELINE), *WORKER_SWEEP, "--out", str(out))


def survivors(processes: set[psutil.Process]) -> list[psutil.Process]:
    """The processes still running (a zombie waiting for its parent has ended)."""
    running = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                running.append(process)
        except psutil.NoSuchProcess:
            continue
    return running


def wait_for_survivors(processes: set[psutil.Process], seconds: float) -> list[psutil.Process]:
    deadline = time.monotonic() + seconds
    while survivors(processes) and time.monotonic() < deadline:
        time.sleep(0.1)
    return survivors(processes)


def descendants(pid: int) -> set[psutil.Process]:
    try:
        return set(psutil.Process(pid).children(recursive=True))
    except psutil.NoSuchProcess:
        return set()


def test_sigterm_stops_the_sweep_and_its_workers(tmp_path):
    out, log = tmp_path / "s", tmp_path / "stderr.txt"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            worker_sweep(out), env=ENV, stdout=subprocess.DEVNULL, stderr=stderr
        )
    children: set[psutil.Process] = set()
    deadline = time.monotonic() + 60
    while not list(out.glob("rows/*.parquet")) and time.monotonic() < deadline:
        children |= descendants(process.pid)
        time.sleep(0.02)
    children |= descendants(process.pid)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 130
    err = log.read_text()
    assert "interrupted with" in err and "Traceback" not in err
    assert children and not wait_for_survivors(children, 10)


def test_a_sweep_killed_three_times_ends_as_one_that_never_was(tmp_path):
    """kill -9 of the sweep alone (not its process group) at random moments: its workers
    go with it, a resume is never refused or stuck, and the store ends complete, equal
    to an uninterrupted sweep's and free of staging debris."""
    out = tmp_path / "killed"
    chance = random.Random(20240612)
    for _ in range(3):
        stored = len(list(out.glob("rows/*.parquet")))
        wanted = stored + chance.randint(0, 3)
        pause = chance.uniform(0.2, 3.0)
        process = subprocess.Popen(
            worker_sweep(out), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        children: set[psutil.Process] = set()
        started = time.monotonic()
        while process.poll() is None and time.monotonic() - started < 60:
            children |= descendants(process.pid)
            if len(list(out.glob("rows/*.parquet"))) >= wanted and (
                time.monotonic() - started > pause
            ):
                break
            time.sleep(0.02)
        children |= descendants(process.pid)
        process.kill()
        process.wait()
        assert not wait_for_survivors(children, 10), "workers outlived the killed sweep"
    finished = subprocess.run(
        worker_sweep(out), env=ENV, capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, finished.stderr
    assert "12 of 12 runs done (0 failed)" in finished.stdout
    Sweep(
        BASELINE,
        vary={"commission.entry_fee": [0, 10, 20, 30, 40, 50]},
        replicates=2,
        overrides={"population.size": 300, "run.steps": 20},
        out=tmp_path / "whole",
        progress=False,
    ).run()
    whole = pd.read_parquet(tmp_path / "whole" / "runs.parquet")
    resumed = pd.read_parquet(out / "runs.parquet")
    pd.testing.assert_frame_equal(comparable(resumed), comparable(whole))
    assert len(list(out.glob("timeseries/*.parquet"))) == 12
    assert not hidden(out) and not (out / "quarantine").exists()


def test_sampled_whole_number_keys_of_list_entries_are_rounded():
    from simulation.experiments.design import integer_keys

    keys = ["tiers.1.min_team", "tiers.1.min_sales", "population.size", "nope.x"]
    assert integer_keys(keys) == ["tiers.1.min_team", "population.size"]


def test_reopening_a_store_keeps_the_users_hidden_files(tmp_path):
    from simulation.experiments.runner import Sweep

    def sweep() -> Sweep:
        return Sweep(
            SCENARIOS / "baseline.toml",
            vary={"run.seed": [1]},
            overrides={"population.size": 300, "run.steps": 3},
            out=tmp_path / "store",
            progress=False,
        )

    sweep().run()
    notes = tmp_path / "store" / ".notes-2024"
    notes.mkdir()
    (notes / "a").write_text("mine")
    dead = subprocess.Popen(["true"])
    dead.wait()
    debris = tmp_path / "store" / f".manifest.json.{dead.pid}"
    debris.write_text("half")
    sweep().run()
    assert (notes / "a").read_text() == "mine" and not debris.exists()

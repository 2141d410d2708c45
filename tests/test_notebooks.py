"""The notebooks run, top to bottom, at a small size, so they never rot."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_six_notebooks_are_there():
    assert [path.name for path in NOTEBOOKS] == [
        "01_quickstart.ipynb",
        "02_compare_schemes.ipynb",
        "03_saturation.ipynb",
        "04_sensitivity.ipynb",
        "05_calibration.ipynb",
        "06_strategy_search.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_is_committed_without_outputs(path, tmp_path, monkeypatch):
    notebook = nbformat.read(path, as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    monkeypatch.setenv("SHARELAB_NOTEBOOK_SCALE", "small")
    monkeypatch.setenv("SHARELAB_NOTEBOOK_OUT", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_that_simulates_shows_progress_and_names_the_small_switch(path):
    cells = [c.source for c in nbformat.read(path, as_version=4).cells]
    simulating = [s for s in cells if ".run(" in s]
    assert simulating and all("tqdm" in s or "progress=True" in s for s in simulating)
    assert "progress=False" not in "".join(cells)
    assert any("SHARELAB_NOTEBOOK_SCALE" in s for s in cells)


def test_the_saturation_notebook_runs_the_saturation_study_and_plots_what_it_says():
    cells = [
        c.source
        for c in nbformat.read(ROOT / "notebooks" / "03_saturation.ipynb", as_version=4).cells
    ]
    assert any('"studies" / "saturation.toml"' in s for s in cells)
    assert "reach" in cells[0] and any('set_ylabel("reach' in s for s in cells)

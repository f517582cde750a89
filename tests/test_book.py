"""Checks of the book itself: its table of contents, its notebooks and their stored outputs."""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NETWORK_CHAPTERS = ("03_vgg16", "04_vgg16_bigconv", "05_googlenet", "06_resnet18")


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def load(path):
    return json.loads(Path(path).read_text())


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_every_notebook_and_page_is_in_the_toc_and_exists():
    listed = toc_files()
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.stem}" in listed, f"{nb.name} is not in _toc.yml"
    for entry in listed:
        assert (ROOT / f"{entry}.ipynb").exists() or (ROOT / f"{entry}.md").exists(), entry


def test_there_are_nine_chapters():
    assert [nb.stem[:2] for nb in NOTEBOOKS] == [f"{i:02d}" for i in range(1, 10)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_a_title_and_every_code_cell_was_executed(path):
    nb = load(path)
    first = "".join(nb["cells"][0]["source"])
    assert first.startswith("# "), f"{path.name}: the first cell must be a '# ' title"
    missing = [i for i, c in enumerate(code_cells(nb)) if not c.get("execution_count")]
    assert not missing, f"{path.name}: code cells {missing} have no stored execution"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_outputs_hold_no_errors_or_timestamped_logs(path):
    for cell in code_cells(load(path)):
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"{path.name}: a cell stored an error"
            text = "".join(output.get("text", ""))
            assert not re.search(r"^[IWE]0000 ", text, re.M), f"{path.name}: TF log in outputs"


@pytest.mark.parametrize("name", NETWORK_CHAPTERS)
def test_network_chapters_carry_real_run_outputs(name):
    nb = load(ROOT / "notebooks" / f"{name}.ipynb")
    text = json.dumps([c.get("outputs", []) for c in code_cells(nb)])
    assert "profile: cpu" in text or "profile: full" in text, f"{name}: not a cpu/full run"
    assert not re.search(r"\bsmoke\b|SYNTHETIC", text), f"{name}: smoke or synthetic outputs"
    assert "data: cifar10" in text or "data: keras" in text, f"{name}: not real CIFAR-10 data"


def test_setup_cell_is_the_same_everywhere_and_names_the_configured_repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    url = config["repository"]["url"]
    setups = {"".join(code_cells(load(p))[0]["source"]) for p in NOTEBOOKS}
    assert len(setups) == 1, "the notebooks' first code cells differ"
    assert f'REPO_URL = "{url}"' in setups.pop()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_with_settings_have_one_parameters_cell(path):
    nb = load(path)
    source = "".join("".join(c["source"]) for c in code_cells(nb))
    tagged = [c for c in code_cells(nb) if "parameters" in c.get("metadata", {}).get("tags", [])]
    if "PROFILE" in source or "DATA_SOURCE" in source:
        assert len(tagged) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"
        assert re.search(r"^(PROFILE|DATA_SOURCE) = ", "".join(tagged[0]["source"]), re.M)

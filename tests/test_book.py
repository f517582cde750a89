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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_notebooks_name_no_path_of_the_machine_that_ran_them(path):
    # outputs and metadata (papermill records where it wrote) are read by everyone
    found = re.findall(r"(?<![\w.])/(?:tmp|work|root|home|content)/[^\s\"']*", path.read_text())
    assert not found, f"{path.name}: machine-local paths {sorted(set(found))[:3]}"


@pytest.mark.parametrize("name", NETWORK_CHAPTERS)
def test_network_chapters_carry_real_run_outputs(name):
    nb = load(ROOT / "notebooks" / f"{name}.ipynb")
    text = json.dumps([c.get("outputs", []) for c in code_cells(nb)])
    # cpu: a laptop-class CPU; fast and full: a GPU (fast is what "auto" picks there)
    assert re.search(r"profile: (cpu|fast|full)\b", text), f"{name}: not a cpu/fast/full run"
    assert not re.search(r"\bsmoke\b|SYNTHETIC", text), f"{name}: smoke or synthetic outputs"
    assert "data: cifar10" in text or "data: keras" in text, f"{name}: not real CIFAR-10 data"


def test_setup_cell_is_the_same_everywhere_and_names_the_configured_repository():
    """_config.yml's repository.url is the one to edit; each setup cell carries a copy.

    On Colab a notebook must clone the repository before it can read any of its files, so the
    URL it clones from has to be written in the notebook itself. This test keeps the copies
    equal to _config.yml (which also drives the book's Colab and GitHub buttons).
    """
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    url = config["repository"]["url"]
    setups = {"".join(code_cells(load(p))[0]["source"]) for p in NOTEBOOKS}
    assert len(setups) == 1, "the notebooks' first code cells differ"
    found = re.search(r'^REPO_URL = "([^"]*)"', setups.pop(), re.M)
    assert found, "the setup cell does not define REPO_URL"
    assert found.group(1) == url, (
        f"The notebooks clone {found.group(1)!r} but _config.yml names {url!r}. Copy the URL "
        f"into them: sed -i 's|{found.group(1)}|{url}|' notebooks/*.ipynb"
    )


GLUE_ROLE = re.compile(r"\{glue(?::\w+)?\}`([^`]*)`")
GLUE_DIRECTIVE = re.compile(r"^(?:`{3,}|:{3,})\{glue(?::\w+)?\}\s+(\S+)", re.M)  # paragraphs


def glue_keys_defined(nb):
    keys = set()
    for cell in code_cells(nb):
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                keys.add(name)
    return keys


def missing_glue_keys(nb):
    """The glue keys a notebook's text uses, as a role or a directive, that no output defines."""
    used = {
        key.split(":")[0]
        for cell in nb["cells"] if cell["cell_type"] == "markdown"
        for pattern in (GLUE_ROLE, GLUE_DIRECTIVE)
        for key in pattern.findall("".join(cell["source"]))
    }
    return sorted(used - glue_keys_defined(nb))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_glued_value_the_text_uses_is_stored(path):
    missing = missing_glue_keys(load(path))
    assert not missing, f"{path.name}: the text uses glue keys no stored output defines: {missing}"


# A measured result in prose: a percentage, a decimal, a count with a unit, a thousands figure.
MEASURED = re.compile(
    r"\d+(?:\.\d+)?\s?%"
    r"|\b\d+\.\d+\b"
    r"|\b\d+(?:\.\d+)?\s?(?:points?|s|seconds?|min|minutes?|h|hours?|images/s|epochs?|M|million)\b"
    r"|\b\d{1,3}(?:,\d{3})+\b"
)
ALLOWED = ("95 %",)  # the confidence level of the intervals, a choice, not a result


def bare_numbers(markdown):
    text = GLUE_ROLE.sub(" ", markdown)
    text = re.sub(r"`[^`]*`", " ", text)  # inline code: names, not results
    for allowed in ALLOWED:
        text = text.replace(allowed, " ")
    return MEASURED.findall(text)


def test_bare_number_check_catches_typed_results_and_spares_glued_ones():
    assert bare_numbers("VGG16 reached 93.04 % and took 21 min on 5,000 images") == [
        "93.04 %", "21 min", "5,000"]
    assert bare_numbers("a 95 % interval of {glue:text}`acc`; `x = 0.5`; 3x3 kernels") == []


def test_the_comparison_chapter_types_no_measured_result():
    """Chapter 7's prose states results only through glue, so a re-run rewrites it."""
    nb = load(ROOT / "notebooks" / "07_comparison.ipynb")
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            found = bare_numbers("".join(cell["source"]))
            assert not found, f"07_comparison cell {i} types results by hand: {found}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_with_settings_have_one_parameters_cell(path):
    nb = load(path)
    source = "".join("".join(c["source"]) for c in code_cells(nb))
    tagged = [c for c in code_cells(nb) if "parameters" in c.get("metadata", {}).get("tags", [])]
    if "PROFILE" in source or "DATA_SOURCE" in source:
        assert len(tagged) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"
        assert re.search(r"^(PROFILE|DATA_SOURCE) = ", "".join(tagged[0]["source"]), re.M)
    # papermill's cell of injected parameters, stored, would override the parameters cell for
    # every reader, CI run and `make reproduce` (a GPU run passed ABLATIONS = False once)
    injected = [c for c in code_cells(nb)
                if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    assert not injected, f"{path.name}: remove papermill's injected-parameters cell"


def test_the_introduction_states_the_fast_recipes_aims_as_the_profiles_set_them():
    from helpers import profiles

    intro = " ".join((ROOT / "book" / "intro.md").read_text().split())
    margin = "one point" if profiles.FAST_AIM_MARGIN == 1 else f"{profiles.FAST_AIM_MARGIN:g} points"
    assert f"post less {margin} (on all 10,000 test images)" in intro
    assert f"within {profiles.FAST_TIME_AIM_MINUTES:g} minutes of one H200-class GPU" in intro


def test_a_glue_key_the_text_uses_without_an_output_is_missing_in_either_form():
    text = ("Before.\n\n```{glue:md} in_backticks\n:format: myst\n```\n\n"
            ":::{glue:md} in_colons\n:::\n\n{glue:text}`as_role` and {glue:text}`stored`")
    stored = {"outputs": [{"metadata": {"scrapbook": {"name": "stored"}}}], "cell_type": "code"}
    nb = {"cells": [{"cell_type": "markdown", "source": [text]}, stored]}
    assert missing_glue_keys(nb) == ["as_role", "in_backticks", "in_colons"]

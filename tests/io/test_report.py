"""Each command's report is one typed record, and docs/reports.md lists exactly its fields."""

import dataclasses
import json
import re
from pathlib import Path

import pytest

from neural_style.denoising.report import DenoiseReport
from neural_style.fast.reports import ExportReport, TrainReport, TransferReport
from neural_style.io.report import Report, write_report
from neural_style.style_transfer.report import StylizeReport
from neural_style.video.report import ClipReport

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reports.md"
#: docs/reports.md's section of each report type.
SECTIONS = {
    "stylize (an image)": StylizeReport,
    "stylize (a video or an animated image)": ClipReport,
    "denoise": DenoiseReport,
    "train": TrainReport,
    "transfer": TransferReport,
    "export": ExportReport,
}


def documented_fields(heading: str):
    """The field names in the first column of the table under ``## heading``."""
    text = DOCS.read_text()
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    names = []
    for row in re.findall(r"^\| (`[^|]+) \|", section, flags=re.M):
        names += re.findall(r"`([a-z_0-9]+)`", row)
    return names


@pytest.mark.parametrize("heading", sorted(SECTIONS))
def test_the_docs_list_every_field_of_each_report(heading):
    kind = SECTIONS[heading]
    assert documented_fields(heading) == [f.name for f in dataclasses.fields(kind)], heading


def test_every_report_names_its_command_first(tmp_path):
    report = StylizeReport(settings={"size": 8})
    path = write_report(tmp_path / "r.json", report)
    data = json.loads(path.read_text())
    assert list(data)[:2] == ["command", "settings"] and data["command"] == "stylize"
    assert data["stop_reason"] == "interrupted" and data["iterations"] == 0 and data["final_losses"] is None
    assert "environment" in data
    assert all(issubclass(kind, Report) for kind in SECTIONS.values())

"""What a hub must give each learner: the guide's per-lesson table and docs/hub/values.yaml agree with
bench/results (bench/memory_table.py), and values.yaml is valid YAML with the keys a class needs.

values.yaml is not run on Kubernetes here (it says so); these checks are all that is tested.
"""

from __future__ import annotations

import json

import pytest
import yaml

from bench import memory_table
from coursetools.paths import REPO_ROOT


def test_guide_table_and_values_yaml_agree_with_the_results():
    table = memory_table.rows()
    for path, text in memory_table.updated(table).items():
        assert path.read_text() == text, f"{path.relative_to(REPO_ROOT)} disagrees with bench/results: run make memory-table"


def test_every_lesson_row_of_the_guide_states_its_measured_peak():
    guide = memory_table.GUIDE.read_text()
    for row in memory_table.rows():
        assert row.peak_mb is not None, f"{row.lesson}: no cpu-mode measurement in bench/results"
        assert f"| `{row.lesson}` | {row.peak_mb:,.0f} MiB |" in guide


def test_values_yaml_is_valid_and_has_what_a_class_needs():
    text = memory_table.VALUES.read_text()
    assert "UNTESTED ON KUBERNETES" in text
    values = yaml.safe_load(text)
    single = values["singleuser"]
    user = memory_table.per_user(memory_table.rows())
    assert single["memory"] == {"guarantee": user["memory_guarantee"], "limit": user["memory_limit"]}
    assert single["cpu"] == {"guarantee": user["cpu_guarantee"], "limit": user["cpu_limit"]}
    assert single["image"]["name"] and single["image"]["tag"]
    assert values["cull"]["enabled"] is True and values["cull"]["timeout"] > 0
    mounts = {m["name"]: m["mountPath"] for m in single["storage"]["extraVolumeMounts"]}
    volumes = {v["name"]: v for v in single["storage"]["extraVolumes"]}
    assert "nfs" in volumes["nbgrader-exchange"]
    exchange_config = single["extraFiles"]["nbgrader-config"]["stringData"]
    assert f'c.Exchange.root = "{mounts["nbgrader-exchange"]}"' in exchange_config
    assert single["extraEnv"]["TL_COURSE_MIRROR"] == mounts["course-mirror"]


def _results(tmp_path, peaks: dict[str, float], cores: int = 2):
    data = {
        "machine": {"description": "test machine", "cores": cores},
        "lessons": {
            name: {"cpu": {"peak_rss_mb": peak, "median_s": 100.0, "runs": 3, "measured_at": "2026-12-06T10:00:00+0000"}}
            for name, peak in peaks.items()
        },
    }
    (tmp_path / "m.json").write_text(json.dumps(data))
    return tmp_path


def test_the_heaviest_lesson_sets_the_limit_and_a_newer_measurement_wins(tmp_path):
    results = _results(tmp_path, {"a": 2000.0, "b": 2900.0})
    newer = {
        "machine": {"description": "other", "cores": 4},
        "lessons": {"b": {"cpu": {"peak_rss_mb": 1000.0, "median_s": 1.0, "runs": 1, "measured_at": "2026-12-07T00:00:00"}}},
    }
    table = memory_table.rows(results, ["a", "b", "c"])
    assert [r.peak_mb for r in table] == [2000.0, 2900.0, None]
    user = memory_table.per_user(table)
    assert user["memory_limit"] == "3.5Gi" and user["heaviest"] == "b"  # (2900 + 512) MiB -> 3.5 GiB
    rendered = memory_table.render_table(table)
    assert "| `b` | 2,900 MiB | **no** |" in rendered and "| `c` | not measured |" in rendered
    (tmp_path / "n.json").write_text(json.dumps(newer))
    table = memory_table.rows(results, ["a", "b"])
    assert table[1].peak_mb == 1000.0 and table[1].machine == "other"
    assert memory_table.per_user(table)["memory_limit"] == "2.5Gi" and memory_table.per_user(table)["cpu_limit"] == 4


def test_a_stale_guide_is_reported(tmp_path, monkeypatch):
    guide, values = tmp_path / "guide.md", tmp_path / "values.yaml"
    guide.write_text(memory_table.GUIDE.read_text().replace("MiB |", "MB |", 1))
    values.write_text(memory_table.VALUES.read_text())
    monkeypatch.setattr(memory_table, "GUIDE", guide)
    monkeypatch.setattr(memory_table, "VALUES", values)
    assert memory_table.main(["--check"]) == 1
    assert memory_table.main([]) == 0 and memory_table.main(["--check"]) == 0


def test_a_guide_without_the_table_markers_is_an_error(tmp_path):
    guide = tmp_path / "guide.md"
    guide.write_text("# no table\n")
    with pytest.raises(ValueError, match="no block"):
        memory_table.updated(memory_table.rows(), guide, memory_table.VALUES)

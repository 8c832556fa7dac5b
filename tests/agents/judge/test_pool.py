"""``s2b judge pool``: the harm rows of validation files (leave-one-game-out folds) in one table."""

from __future__ import annotations

import json

from s2b.cli import main
from tests.conftest import console_text


def test_pool_recomputes_the_validations_metrics_over_all_rows(zork1_walk, tmp_path, console):
    first = tmp_path / "a.json"
    args = ["judge", "validate", "--runs", str(zork1_walk), "--baselines-only", "--boot", "200",
            "--json", str(first), "--progress", "off"]  # fmt: skip
    assert main(args, console) == 0
    report = json.loads(first.read_text())
    rows = report["harm"]["rows"]
    assert rows and {r["game"] for r in rows} == {"zork1"}
    # a second "fold": the same rows under another game's name
    second = tmp_path / "b.json"
    other = [{**r, "game": "zorkX"} for r in rows]
    second.write_text(json.dumps({"harm": {"rows": other, "metrics": []}}))
    pooled = tmp_path / "pooled.json"
    args = ["judge", "pool", str(first), str(second), "--boot", "200", "--json", str(pooled)]
    assert main(args, console) == 0
    result = json.loads(pooled.read_text())
    assert result["games"] == ["zork1", "zorkX"]
    single = {(m["steps"], m["scorer"]): m for m in report["harm"]["metrics"]}
    for m in result["pooled"]:
        alone = single[(m["steps"], m["scorer"])]
        assert m["n"] == 2 * alone["n"] and m["positives"] == 2 * alone["positives"]
        assert m["auroc"][0] == alone["auroc"][0]  # the same rows twice: the same AUROC
    per_game = {m["scorer"]: m for m in result["per_game"]["zork1"] if m["steps"] == "all"}
    assert per_game["keyword"]["auroc"][0] == single[("all", "keyword")]["auroc"][0]
    assert "pooled over 2 games: zork1, zorkX" in console_text(console)
    # a file that is no validation: one line naming it
    bad = tmp_path / "bad.json"
    bad.write_text('{"dilemmas": {}}')
    assert main(["judge", "pool", str(bad)], console) == 2
    assert "bad.json" in console_text(console) and "harm" in console_text(console)

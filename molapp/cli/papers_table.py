"""`python -m molapp.cli.papers_table`: write the seed papers' claims, each beside our figure
and its verdict (`molapp.evaluation.papers`, read from bench/results), between the markers
in README.md — the same checks the app's Papers page shows."""

from __future__ import annotations

import re
from pathlib import Path

from molapp.evaluation.papers import paper_claims

ROOT = Path(__file__).resolve().parents[2]
START, END = "<!-- papers-claims:start -->", "<!-- papers-claims:end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(results_dir: Path) -> str:
    lines = ["| paper | claim | paper's figure | ours | verdict | departures from the paper | results |", "|---|---|---|---|---|---|---|"]
    for paper in paper_claims(results_dir):
        for claim in paper.claims:
            evidence = ", ".join(f"`{p}`" for p in claim.evidence[:2]) + (f" (+{len(claim.evidence) - 2})" if len(claim.evidence) > 2 else "")
            lines.append(f"| {paper.key} | {_cell(claim.claim)} | {_cell(claim.paper_figure)} | {_cell(claim.ours)} | **{claim.verdict}** "
                         f"| {_cell('; '.join(claim.departures))} | {evidence} |")
    return "\n".join(lines)


def main() -> int:
    readme = ROOT / "README.md"
    text = readme.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"README.md lacks the markers {START} … {END}")
    body = table(ROOT / "bench" / "results")
    readme.write_text(re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: START + "\n" + body + "\n" + END, text, flags=re.S))
    print(f"wrote the papers' claims into {readme}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

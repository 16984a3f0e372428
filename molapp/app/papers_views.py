"""The Papers page: each seed paper's claims, one by one — the paper's figure, ours on the
same kind of data, the command that produced ours, what differs from the paper's setting,
and a verdict — generated from the benchmark results files (`molapp.evaluation.papers`)."""

from __future__ import annotations

from collections import Counter

import plotly.graph_objects as go
import streamlit as st

from molapp.app.models_views import results_dir
from molapp.app.text import escape_markdown
from molapp.evaluation.papers import NOT_REPRODUCED, NOT_TESTED, PARTLY, REPRODUCED, RULES, ClaimPlot, ClaimCheck, Paper, paper_claims

VERDICT_BADGES = {  # Streamlit markdown colour badges
    REPRODUCED: ":green-badge[reproduced]",
    PARTLY: ":orange-badge[partly reproduced]",
    NOT_REPRODUCED: ":red-badge[not reproduced]",
    NOT_TESTED: ":gray-badge[not tested]",
}


@st.cache_data(show_spinner=False)
def _papers(directory: str) -> list[Paper]:
    return paper_claims(directory)


def introduction() -> None:
    st.markdown(
        "Every claim below is checked against runs of this project on the same kind of data, read from "
        "`bench/results` when the page loads: nothing here is typed in except the papers' own figures. "
        "Negative results are reported as plainly as positive ones.")
    with st.expander("How verdicts are decided"):
        for name, rule in RULES.items():
            st.markdown(f"- **{name}**: {rule}")
        st.markdown("- **not tested**: no run of ours answers the claim yet (or too few seeds to decide).")


def papers() -> None:
    for paper in _papers(str(results_dir())):
        st.header(paper.title, anchor=paper.key)
        counts = Counter(claim.verdict for claim in paper.claims)
        st.caption(f"{paper.reference} · " + " · ".join(f"{counts[v]} {v}" for v in VERDICT_BADGES if counts[v]))
        for index, claim in enumerate(paper.claims):
            _claim(claim, key=f"{paper.key}-claim-{index}")


def _claim(claim: ClaimCheck, key: str) -> None:
    """One claim's card. `key` names its chart: two claims may answer with the same plot (GraSeq's
    two Table 4 claims share one), and Streamlit refuses two identical charts without keys."""
    with st.container(border=True):
        st.markdown(f"{VERDICT_BADGES[claim.verdict]} **{escape_markdown(claim.claim)}**")
        paper_column, ours_column = st.columns(2)
        paper_column.markdown(f"**Paper:** {escape_markdown(claim.paper_figure)}")
        ours_column.markdown(f"**Ours:** {escape_markdown(claim.ours)}")
        if claim.plot is not None:
            st.plotly_chart(claim_figure(claim.plot), width="stretch", key=f"{key}-plot")
        if claim.departures:
            st.markdown("**What differs from the paper:**\n" + "\n".join(f"- {escape_markdown(d)}" for d in claim.departures))
        if claim.command or claim.evidence:
            with st.expander("Command and results files"):
                if claim.command:
                    st.code(claim.command, language="bash")
                for path in claim.evidence:
                    st.markdown(f"- `{path}`")


def claim_figure(plot: ClaimPlot) -> go.Figure:
    figure = go.Figure()
    for name, values in plot.series.items():
        errors = plot.errors.get(name)
        error_y = dict(type="data", array=errors, visible=True) if errors else None
        if plot.lines:
            figure.add_scatter(name=name, x=plot.categories[:len(values)], y=values, mode="lines+markers", error_y=error_y)
        else:
            figure.add_bar(name=name, x=plot.categories, y=values, error_y=error_y)
    figure.update_layout(title=plot.title, xaxis_title=plot.x_title or None, yaxis_title=plot.y_title, barmode="group", height=380,
                         margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.25))
    figure.update_xaxes(type="category")  # "1", "2", … are counts of tasks, not a continuous axis
    return figure

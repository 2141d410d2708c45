"""Text tables for the terminal and for reports: a run's summary, and runs side by side."""

from __future__ import annotations

from typing import Any

import pandas as pd

SUMMARY_ROWS = (
    ("Growth", None, None),
    ("days simulated", "days", "{:,}"),
    ("people on the graph", "people", "{:,}"),
    ("members at the end", "members", "{:,}"),
    ("members ever", "ever_members", "{:,}"),
    ("final penetration", "final_penetration", "{:.1%}"),
    ("peak day of joining", "peak_join_day", "{:,}"),
    ("orders", "orders", "{:,}"),
    ("shares received", "exposures", "{:,}"),
    ("members lost to competitors", "churned_to_competitors", "{:,}"),
    ("multi-homing members at the end", "multi_homing_share", "{:.1%}"),
    ("Economics", None, None),
    ("GMV (RMB)", "gmv", "{:,.2f}"),
    ("refunded (RMB)", "refunded", "{:,.2f}"),
    ("commissions paid (RMB)", "commissions_paid", "{:,.2f}"),
    ("entry fees (RMB)", "fee_revenue", "{:,.2f}"),
    ("training spend (RMB)", "training_spend", "{:,.2f}"),
    ("platform margin (RMB)", "platform_margin", "{:,.2f}"),
    ("payout ratio", "payout_ratio", "{:.1%}"),
    ("median member net income (RMB)", "median_net_income", "{:,.2f}"),
    ("income Gini", "income_gini", "{:.3f}"),
    ("top 1% share of income", "top1_income_share", "{:.1%}"),
    ("Compliance", None, None),
    ("recruitment reward share", "recruitment_reward_share", "{:.1%}"),
    ("entry fee share of revenue", "entry_fee_share", "{:.1%}"),
    ("paid depth (levels)", "paid_depth", "{:,}"),
    ("deepest recruitment chain", "max_tree_depth", "{:,}"),
    ("criminal-threshold trees", "criminal_threshold_trees", "{:,}"),
    ("paid members above 30% of own sales", "over_direct_selling_cap_share", "{:.1%}"),
    ("internal consumption share", "internal_consumption_share", "{:.1%}"),
    ("retail customers per member (median)", "retail_customers_per_member", "{:,.1f}"),
    ("members who lost money", "loss_fraction", "{:.1%}"),
    ("refund rate", "refund_rate", "{:.1%}"),
    ("refund concentration (Gini)", "refund_concentration", "{:.3f}"),
    ("brushed order share", "brushed_order_share", "{:.2%}"),
    ("brushed orders caught", "brushed_caught_share", "{:.1%}"),
    ("members banned", "banned_members", "{:,}"),
)


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as an aligned two-column table, grouped by theme, then the flags."""
    width = max(len(label) for label, _, _ in SUMMARY_ROWS)
    lines = [f"{summary['scenario']} · seed {summary['seed']} · hash {summary['scenario_hash']}"]
    for label, key, fmt in SUMMARY_ROWS:
        if key is None:
            lines += ["", label, "-" * (width + 16)]
        else:
            lines.append(f"{label:<{width}}  {fmt.format(summary[key]):>14}")
    lines += ["", f"Flags ({len(summary['flags'])})", "-" * (width + 16)]
    for flag in summary["flags"]:
        lines.append(
            f"[{flag['severity']}] {flag['rule']}: {flag['indicator']} = {flag['value']:.3g} "
            f"({flag['threshold']}) — {flag['source']}"
        )
    return "\n".join(lines)


def comparison_table(summaries: list[dict[str, Any]], names: list[str]) -> pd.DataFrame:
    """One row per summary metric, one column per run, values formatted for reading."""
    rows = {}
    for label, key, fmt in SUMMARY_ROWS:
        if key is not None:
            rows[label] = [fmt.format(s[key]) for s in summaries]
    rows["flags"] = [
        ", ".join(sorted({f["rule"] for f in s["flags"]})) or "none" for s in summaries
    ]
    return pd.DataFrame.from_dict(rows, orient="index", columns=names)


def markdown_table(table: pd.DataFrame) -> str:
    """A DataFrame as a GitHub-flavoured Markdown table, index as the first column."""
    header = ["", *map(str, table.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, row in table.iterrows():
        cells = [str(label), *(str(value).replace("|", "/") for value in row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"

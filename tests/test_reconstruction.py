"""The reconstruction page's measurements: whether a verdict moves with the inversion budget."""

from opgan.study.reconstruction import budget_agreement


def entry(claim: str, *verdicts: str) -> dict:
    budgets = ("150 steps, 8 seeds × 32 images", "600 steps, 3 seeds × 16 images", "1000 steps (the paper's protocol)")
    return {"claim": claim, **{f"{budget}: verdict": verdict for budget, verdict in zip(budgets, verdicts)}}


def test_the_budget_comparison_says_when_no_verdict_moves():
    check = [
        entry("a", "agrees", "agrees", "agrees"),
        entry("b", "no material gain (worse)", *["no material gain (worse)"] * 2),
    ]
    assert budget_agreement(check) == "2 of 2 verdicts are the same at all 3 budgets: no verdict moves with the budget."


def test_the_budget_comparison_names_a_verdict_that_moves():
    check = [entry("a", "agrees", "agrees", "agrees"), entry("b", "inconclusive", "agrees", "agrees")]
    text = budget_agreement(check)
    assert text.startswith("1 of 2 verdicts are the same at all 3 budgets; these move: b: inconclusive at 150 steps")
    assert "agrees at 1000 steps (the paper's protocol)" in text


def test_one_budget_says_nothing():
    assert budget_agreement([]) == ""

"""How well models do: results files → leaderboards, a checkpoint's test-split predictions →
ROC curves and reliability, and the papers' own figures to set beside ours."""

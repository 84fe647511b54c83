"""Read models and exports: summaries, ledgers, thematic views."""

"""`xunshi demo`: a fictional energy group's party-group round, run on a virtual clock.

scenario.py is the story as data (the group, its units, groups and batches, the problem
bank, who is late, the grades, and what the features still to come will need); runner.py
plays it through the services. The CLI then prints the round's report.
"""

from __future__ import annotations

from xunshi.demo.runner import DEFAULT_SEED, DEMO_DB, run_demo
from xunshi.demo.scenario import DESK_USERS, ROUND

__all__ = ["DEFAULT_SEED", "DEMO_DB", "DESK_USERS", "ROUND", "run_demo"]

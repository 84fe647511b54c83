"""xunshi: a workflow engine for inspection programmes (巡视)."""

__version__ = "0.1.0"

"""The lifecycle definition language: YAML in, validated frozen objects out.

This package imports nothing else of the project.
"""

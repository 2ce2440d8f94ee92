"""The commands that put the three parts together: ``serve`` and ``demo``.

Only here (and in :mod:`avala_mcp.cli`) may the server meet the embedded API.
"""

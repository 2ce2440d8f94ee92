"""avala-mcp's benchmarks: ``python -m benchmarks [--quick]`` prints one JSON document.

Every figure is a ratio against a baseline measured in the same run (see ``common``).
"""

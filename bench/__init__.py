"""nnrosetta benchmarks: conversion overhead, IR streaming rate, service memory.

    PYTHONPATH=. .venv/bin/python -m bench            # all three, one summary table
    PYTHONPATH=. .venv/bin/python -m bench.conversion # one of them (also streaming, memory)

Results go to bench/results/<name>.json.
"""

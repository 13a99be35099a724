#!/usr/bin/env python3
"""The differential conformance suite: `make conformance`, or `python3 conformance/run.py [NAME ...]`."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from qmpconf.runner import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

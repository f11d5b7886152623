"""Same as `python -m bench`."""

from bench.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main())

"""`python -m molapp.train` — see molapp.cli.train."""

from molapp.cli.train import main

if __name__ == "__main__":
    raise SystemExit(main())

"""`python -m molapp.predict` — see molapp.cli.predict."""

from molapp.cli.predict import main

if __name__ == "__main__":
    raise SystemExit(main())

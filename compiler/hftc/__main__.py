"""Allow `python -m hftc`."""

from hftc.cli import main

if __name__ == "__main__":
    main()

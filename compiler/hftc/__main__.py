"""Allow `python -m hftc`."""

from hftc.entry import main

if __name__ == "__main__":
    main()

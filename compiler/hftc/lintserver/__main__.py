"""`python -m hftc.lintserver SOCKET_PATH`: what `hftc lint` starts in the background."""

from hftc.lintserver.server import main

main()

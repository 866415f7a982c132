"""The intermediate representation: the contract between the frontend and every backend."""

from hftc.ir.model import *  # noqa: F401,F403
from hftc.ir.model import IR_VERSION, Schema  # noqa: F401

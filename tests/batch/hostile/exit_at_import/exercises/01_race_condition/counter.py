"""Hostile student: ends its process with exit code 0 (os._exit, no cleanup, no report) while it
is being imported, hoping that a run which "exited cleanly" counts as passed.

Must earn 0: nothing of it can be called.
"""

import os

os._exit(0)

"""Hostile student: waits forever, without burning any CPU, while it is being imported.

Must earn 0: nothing of it can be called.
"""

import threading

threading.Event().wait()

"""Hostile student: spins forever while it is being imported, burning a core.

Must earn 0: nothing of it can be called.
"""

while True:
    pass

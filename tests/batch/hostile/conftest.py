"""The folders here are hostile student repositories for test_hostile_class.py, not tests of the
kit: their conftest.py files, edited visible tests and modules attack whatever runs them, so
pytest must never collect or load anything below this folder."""

collect_ignore_glob = ["*"]

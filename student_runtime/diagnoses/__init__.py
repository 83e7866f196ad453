"""What went wrong, in the lecture's words: one module per exercise, named after its folder.

`ex04_event.py` holds the diagnoses of `exercises/04_event`, and so on. The visible tests and
the hidden suites build the failure message of a classic mistake from the same function, so a
student reads the same explanation before the deadline as in the grader's feedback. Each
function takes facts that its test measured (numbers, names) and returns the message; none
knows the inputs of a hidden test, and none reads the student's code.
"""

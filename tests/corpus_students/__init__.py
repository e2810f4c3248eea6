"""A corpus of student submissions written by hand from the release notebooks (issue 8, Proof).

One module per problem set (``ps1`` .. ``ps4``) defines ``SUBMISSIONS``: submission name ->
``Submission`` (the sources of the solution cells a student wrote, by grade id, and what the
grader must do with them). Nothing here is generated from ``backprop_ref.mutants`` or the task
files' ``EXAMPLES``. ``tests/integration/test_student_corpus.py`` grades them.
"""

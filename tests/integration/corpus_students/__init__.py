"""A corpus of student submissions written by hand from the release notebooks (issue 8, Proof).

One module per problem set (``ps1`` .. ``ps4``) defines ``SUBMISSIONS``: submission name ->
``Submission`` (the sources of the solution cells a student wrote, by grade id, and what the
grader must do with them). Nothing here is generated from ``backprop_ref.mutants`` or the task
files' ``EXAMPLES``. ``tests/integration/test_student_corpus.py`` grades them;
``scripts/corpus_report.py`` prints the numbers (false passes, false fails, collateral, cascades,
named rate, misnamed) and every submission graded differently from its expectation.

Every expected mistake id is an id of ``coursekit.diagnose.MISTAKES`` (the one catalogue; SymPy
answers use its ``expression_*`` and ``wrong_symbols`` ids, a finite-difference "backward" is
``finite_differences``, a write into an input ``input_modified``, a partial missing one of its
paths ``missing_path``, one wrong tensor or one wrong row/column ``one_tensor_wrong`` /
``one_slice_wrong``).
"""

"""A corpus of student submissions written by hand from the release notebooks (issue 8, Proof).

One module per problem set (``ps1`` .. ``ps4``) defines ``SUBMISSIONS``: submission name ->
``Submission`` (the sources of the solution cells a student wrote, by grade id, and what the
grader must do with them). Nothing here is generated from ``backprop_ref.mutants`` or the task
files' ``EXAMPLES``. ``tests/integration/test_student_corpus.py`` grades them;
``scripts/corpus_report.py`` prints the numbers (false passes, false fails, collateral, cascades,
named rate, misnamed) and every submission graded differently from its expectation.

Expected mistake ids that ``coursekit.diagnose.MISTAKES`` does not have yet (the catalogue
should): ``finite_differences`` (a backward pass computed by finite differences, own loops or
the notebook's helpers), ``input_modified`` (a function wrote into its inputs X/T/x/t/params),
``missing_path`` (a partial derivative that misses one of its paths), ``one_tensor_wrong`` and
``one_slice_wrong`` (only one tensor, or one slice of it, is wrong), ``sympy_factor``,
``sympy_missing_term``, ``sympy_wrong_term``, ``sympy_wrong_symbols`` and ``sympy_wrong_values``
(SymPy answers off by a factor, missing an additive term, with one wrong term, written in other
symbols than asked, or wrong with no recognised pattern).
"""

"""nbgrader configuration of backprop-course (nbgrader 0.9.6).

source/<a>/<a>.ipynb is the problem set (edit it in JupyterLab, Create Assignment toolbar);
source/<a>/coursekit/ holds committed symlinks to coursekit/. `nbgrader generate_assignment <a>`
(or `./dev build`, which adds the leak check) makes release/<a>/, which is committed. See
docs/authoring.md.
"""

from pathlib import Path

c = get_config()  # noqa: F821 - injected by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "backprop-course"
c.CourseDirectory.root = str(Path(__file__).resolve().parent)

# Nothing instructor-side may reach release/: the reference, the grader, tests, caches.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    "*.md.bak",
    "backprop_ref",
    "autograder",
    "tests",
    "gradebook.db",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
]

# nbgrader's own pipeline with one step first: the `_REF = {...}  #: reference` line of a hidden
# test becomes the model solutions of the answer cells it names (autograder/references.py). It
# must run before ClearSolutions (which empties the answer cells) and before SaveCells (which
# stores the hidden tests in the gradebook for autograde to restore); ClearHiddenTests then
# removes it from release/ with the rest of the hidden block.
c.GenerateAssignment.preprocessors = [
    "autograder.references.ExpandReferences",
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    "nbgrader.preprocessors.ClearSolutions",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Answer stubs: the body becomes NotImplementedError so that a blank answer fails loudly.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Rubrics live in locked markdown cells right after written answers (not task cells).
c.ClearMarkScheme.enforce_metadata = False

# Per-cell time limit when validating and autograding (the timing cell of ps2 is ungraded).
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# A warning on stderr (e.g. a RuntimeWarning from NumPy) must not zero a correct answer: drop
# stderr outputs that are only warnings before grading. Real errors are 'error' outputs.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"^(?:[^\n]*(?:Warning|warnings\.warn)[^\n]*\n?|\s+[^\n]*\n?)+$"

# `nbgrader generate_feedback` (and formgrader's button) would copy every hidden test into the
# student's HTML; this strips them. The course's feedback command is `backprop-course feedback`
# (manual grades, comments, late penalty): see docs/instructor-guide.md.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.nbgrader_guard.StripHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

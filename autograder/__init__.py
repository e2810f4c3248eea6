"""The instructor's grading pipeline: safe, parallel grading of nbgrader submissions.

Entry points: :func:`autograder.pipeline.grade_assignment` (Python API),
:func:`autograder.release.release_assignment`, :mod:`autograder.cli` (``backprop-course``).
"""

"""The instructor's grading pipeline: safe, parallel grading of nbgrader submissions.

Entry points: :func:`autograder.pipeline.grade_assignment` (Python API),
:func:`autograder.release.release_assignment`, :mod:`autograder.cli` (``backprop-course``).
"""

import sys

# jsonschema (imported by nbformat) imports rfc3987_syntax when it is installed (jupyter_server's
# dependencies install it), and that import builds a grammar parser: 1.5 s of CPU in every
# grader process. Nothing here validates IRIs (nbformat's schema has no such format), so the
# module is marked missing, which jsonschema handles by not checking that one format.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

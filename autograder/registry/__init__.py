"""Task files of the course's assignments: ``<assignment>.py`` defining ``TASKS``.

See :mod:`autograder.tasks` for the interface. Files here run only in the trusted grader.
"""

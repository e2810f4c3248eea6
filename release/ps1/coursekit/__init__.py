"""Student-side tools that ship with every release: ``rel_error``, the tolerances and central
differences (``gradcheck``), mistake diagnosis by rules, the uniform check helper of the public
tests, per-student numbers and gradient explorers.

Nothing in this package holds an analytic gradient that a student is asked to write.
"""

"""Student-side tools that ship with every release: the gradient checker, mistake diagnosis by
rules, the uniform check helper of the public tests, per-student numbers and gradient explorers.

Nothing in this package holds an analytic gradient that a student is asked to write.
"""

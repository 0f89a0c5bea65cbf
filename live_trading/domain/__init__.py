"""The pure trading domain: values, events, state folds, P/L, SL/TP maths.

Nothing in this package imports from the rest of the project.
"""

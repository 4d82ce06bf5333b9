"""Group `modeling`: features → training set → registered models, their checks, the backtest.

The checks on `candidate_model` (`checks.py`) are the gate a model passes before
the promotion job (`assets.promotion`) may put it in service.
"""

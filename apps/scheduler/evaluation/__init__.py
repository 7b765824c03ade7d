"""Offline evaluation of the memory models, pure numpy + csv (no Django), so it runs from the
management command, the benchmark and the tests alike: ``replay`` (a review log replayed
through every model), ``metrics`` (log loss, RMSE (bins), AUC, MAE) and ``simulation``
(learners drawn from a known HLR model)."""

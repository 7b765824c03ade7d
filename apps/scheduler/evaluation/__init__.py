"""Offline evaluation of the memory models with srs-benchmark's protocol, pure numpy + csv so
it runs from the management command, the benchmark and the tests alike: ``replay`` (calendar
days, first review per card and day, time split, the five models), ``metrics`` (log loss,
srs-benchmark's RMSE(bins), AUC), ``fsrs_models`` (FSRS-6 memory states and fitting) and
``simulation`` (learners drawn from a known HLR model). ``attempts`` is the one Django module:
it reads a course's attempts and records the comparison (``scheduler_evaluate --by-course``)."""

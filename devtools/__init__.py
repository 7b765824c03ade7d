"""Development tooling shared by the test suite (tests/) and the benchmarks (bench/).

Neither product code (apps/, config/) nor part of either suite, so that tests do not import
benchmarks and benchmarks do not import tests."""

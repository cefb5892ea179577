"""Speed and fidelity measurements (not tests): ``python -m benchmarks.run_all [--quick]`` runs them all."""

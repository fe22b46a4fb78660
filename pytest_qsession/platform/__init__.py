"""The simulated IBM Quantum Platform: plain Python, no HTTP and no pytest inside."""

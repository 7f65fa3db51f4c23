"""The runner processes and the master that starts and watches them."""

"""neurocal.fpga: deployment to a PYNQ board — Vivado build scripts (``tcl/``, package data), their check
under tclsh, the overlay driver (numpy and pynq only) and the deploy folder and its commands."""

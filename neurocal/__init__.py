"""neurocal: a hardware-in-the-loop deployment stack for spiking neural networks.

The spine package holds what every stage shares: configuration, the spike-stream format,
the integer network and its golden model, NIR I/O, artifacts and reports.
"""

__version__ = "0.1.0"

"""neurocal.firmware — the integer network as an hls4ml project, C-simulated bit for bit with g++.

hls4ml's own Dense layers carry the synapses; neurocal's LIF layer (:mod:`neurocal.firmware.lif_layer`,
C++ core ``hls/nc_lif.h``) is added through hls4ml's extension API. :mod:`~neurocal.firmware.project`
generates and compiles projects, :mod:`~neurocal.firmware.csim` runs them, :mod:`~neurocal.firmware.backend`
is the ``hls`` backend, :mod:`~neurocal.firmware.cli` the ``neurocal firmware`` commands. See README.md here.
"""

"""``neurocal report``: physics, agreement, operations, hardware and energy of one network in one folder.

Modules: :mod:`~neurocal.report.quantity` (numbers with units, formulas and inputs),
:mod:`~neurocal.report.cache` (stage results keyed by their inputs), :mod:`~neurocal.report.section`
(the section protocol, the shared :class:`~neurocal.report.section.Context`, entry points),
:mod:`~neurocal.report.sections` (the spine's sections), :mod:`~neurocal.report.render` (Markdown and
HTML) and :mod:`~neurocal.report.build` (assembling and writing the folder).
"""

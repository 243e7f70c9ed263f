"""``balrex dossier``: how much of a block range could run in parallel, and what serializes it.

Every source (a ``trace-pack-v1`` pack today) is turned into the neutral model of
:mod:`.model` (blocks of transactions, each with its gas and its read and write
key sets), so one analysis (:mod:`.analysis`, :mod:`.schedule`, :mod:`.hot`,
assembled by :mod:`.dossier`) serves them all; the reports render its result.
"""

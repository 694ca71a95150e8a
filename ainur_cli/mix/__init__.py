"""Mix and master: per-part chains and send busses (``mixer``), linked mastering (``master``),
loudness and true-peak meters (``loudness``), and the preset's ``mix:`` schema (``settings``).

Import the submodules directly; this package imports nothing heavy, so that validating a
preset (``settings``) does not load numpy, scipy or pedalboard.
"""

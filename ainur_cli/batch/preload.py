"""Imported by the batch fork server before it forks workers (see :mod:`ainur_cli.batch.local`).

It pins BLAS/OpenMP pools to one thread *before* numpy loads (a forked worker must not
inherit thread pools, and one job per core wants none) and imports the render stack, so that
every worker forked afterwards starts with numpy, scipy and soundfile already loaded.
"""

from ainur_cli.batch.local import single_thread_pools

single_thread_pools()

import ainur_cli.render  # noqa: E402,F401  (the point of this module)

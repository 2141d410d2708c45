"""Experiments: designs, seeds, sweeps over local processes or Dask, a resumable store,
and their analysis (confidence intervals, paired differences, sensitivity)."""

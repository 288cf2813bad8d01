"""The nightly job: run configuration, the steps in order, and the executor that runs them."""

from engine.pipeline.run import DEFAULT_STORE, InjectedFailure, RunConfig, RunReport, run

__all__ = ["DEFAULT_STORE", "InjectedFailure", "RunConfig", "RunReport", "run"]

"""The environment of launched MPI jobs carries no MPI job markers."""

from landia.launch import OPENMPI_DEFAULTS, launch_environment


def test_job_markers_are_removed_and_openmpi_defaults_added(monkeypatch):
    monkeypatch.setenv("PMIX_RANK", "0")
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "1")
    monkeypatch.setenv("OMPI_MCA_ess", "singleton")
    monkeypatch.setenv("LANDIA_KEEP", "yes")
    monkeypatch.setenv("OMPI_ALLOW_RUN_AS_ROOT", "0")  # the user's choice is kept
    env = launch_environment(openmpi_defaults=True)
    assert "PMIX_RANK" not in env and "OMPI_COMM_WORLD_SIZE" not in env
    assert "OMPI_MCA_ess" not in env and env["LANDIA_KEEP"] == "yes"
    assert env["OMPI_ALLOW_RUN_AS_ROOT"] == "0"
    assert env["OMPI_MCA_rmaps_base_oversubscribe"] == OPENMPI_DEFAULTS[
        "OMPI_MCA_rmaps_base_oversubscribe"]
    assert "OMPI_MCA_rmaps_base_oversubscribe" not in launch_environment() or \
        "OMPI_MCA_rmaps_base_oversubscribe" in __import__("os").environ

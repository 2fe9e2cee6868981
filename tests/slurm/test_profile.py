"""profiles/slurm without a cluster: it loads, it plans the study, every *_train rule gets a GPU, and its
groups and core limit fit the workflow."""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache

from snakemake_executor_plugin_slurm.validation import get_forbidden_slurm_options

from tests.conftest import REPO, TINY_CONFIG
from tests.slurm.conftest import PROFILE, rule_resources, slurm_profile


@cache
def _workflow_rules() -> frozenset[str]:
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--list-rules"], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return frozenset(proc.stdout.split())


def test_profile_loads_and_gives_every_job_an_account_and_partition(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
                           "--directory", str(tmp_path), "--configfile", str(TINY_CONFIG),
                           "--profile", str(PROFILE), "--dry-run"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    resources = re.findall(r"^    resources: (.*)$", proc.stdout + proc.stderr, flags=re.MULTILINE)
    assert resources, "the dry run listed no job"
    defaults = slurm_profile()["default-resources"]
    for line in resources:
        assert f"slurm_account={defaults['slurm_account']}" in line, line
        assert "slurm_partition=" in line and "runtime=" in line and "mem_mb=" in line, line


def test_every_training_rule_gets_one_gpu():
    per_rule = rule_resources(slurm_profile())
    for rule in sorted(r for r in _workflow_rules() if r.endswith("_train")):
        assert rule in per_rule, f"profiles/slurm: no set-resources entry for {rule} (it needs gpu: 1)"
        assert per_rule[rule].get("gpu") == 1, f"profiles/slurm: {rule} must get `gpu: 1`"
        assert "slurm_partition" in per_rule[rule], f"profiles/slurm: {rule} needs its GPU partition"


def test_set_resources_name_real_rules_and_leave_plugin_options_alone():
    per_rule = rule_resources(slurm_profile())
    # A misspelt rule name in set-resources is silently ignored by Snakemake.
    assert set(per_rule) <= _workflow_rules(), set(per_rule) - _workflow_rules()
    # The plugin rejects these in slurm_extra only when it submits, i.e. on the cluster.
    forbidden = get_forbidden_slurm_options()
    for rule, resources in {"default-resources": slurm_profile()["default-resources"], **per_rule}.items():
        extra = str(resources.get("slurm_extra", ""))
        clashes = [name for pattern, name in forbidden.items() if re.search(pattern, extra)]
        assert not clashes, f"{rule}: slurm_extra sets {clashes}; use the matching resource instead"


def _rule_sources() -> str:
    return "".join(path.read_text() for path in sorted((REPO / "workflow" / "rules").glob("*.smk")))


def _workflow_groups() -> set[str]:
    """Groups named by the rules' `group:` directives: a literal or a *_GROUP constant of common.smk."""
    sources = _rule_sources()
    constants = dict(re.findall(r'^(\w+_GROUP) = "(\w+)"', sources, flags=re.MULTILINE))
    values = re.findall(r"^    group:\n        (\S+)$", sources, flags=re.MULTILINE)
    assert values, "no rule is in a group"
    return {value.strip("\"'") if value[0] in "\"'" else constants[value] for value in values}


def test_group_components_name_groups_of_the_workflow():
    # A misspelt group in group-components is silently ignored: its jobs go to SLURM one by one.
    components = dict(item.split("=") for item in slurm_profile()["group-components"])
    assert set(components) == _workflow_groups()
    assert all(int(n) > 1 for n in components.values()), components


def test_no_rule_asks_for_more_threads_than_a_job_gets():
    # Snakemake scales a rule's threads down to `cores` without a word.
    threads = [int(n) for n in re.findall(r"^    threads: (\d+)$", _rule_sources(), flags=re.MULTILINE)]
    assert threads and max(threads) <= slurm_profile()["cores"], threads

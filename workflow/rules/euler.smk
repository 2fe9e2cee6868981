# Claim `euler`: forward Euler for dh/dt = J h is the linear RNN W = I + dt J; BPTT gradients
# explode where the Euler step leaves its stability disc; Euler inflates Lorenz's lambda_1.

STAGE_FIGURES["euler"] = ["euler_stability_region", "euler_gradient_norms", "euler_lorenz_lambda1"]


# One lambda_1 store per (integrator, dt) of the config.
EULER_LORENZ_STORES = [
    f"{RESULTS}/euler/lorenz_{integrator}_dt{dt:g}.zarr"
    for integrator in ("euler", "rk4")
    for dt in config["euler"]["lorenz"][f"{integrator}_dt"]
]


rule euler_gradients:
    output:
        directory(f"{RESULTS}/euler/gradients.zarr"),
    log:
        f"{LOGS}/euler/gradients.log",
    benchmark:
        f"{BENCHMARKS}/euler/gradients.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        cfg=job_config("euler.gradients"),
        seed=config["seed"],
    script:
        "../../scripts/euler_gradients.py"


rule euler_lorenz:
    output:
        directory(f"{RESULTS}/euler/lorenz_{{integrator}}_dt{{dt}}.zarr"),
    log:
        f"{LOGS}/euler/lorenz_{{integrator}}_dt{{dt}}.log",
    benchmark:
        f"{BENCHMARKS}/euler/lorenz_{{integrator}}_dt{{dt}}.tsv"
    wildcard_constraints:
        integrator=r"euler|rk4",
        dt=r"[0-9]+(\.[0-9]+)?(e-?[0-9]+)?",
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=20,
    params:
        # Its own budget only: the step lists make the wildcards.
        cfg=job_config("euler.lorenz", drop=("euler_dt", "rk4_dt")),
        seed=config["seed"],
    script:
        "../../scripts/euler_lorenz.py"


rule euler_claims:
    input:
        gradients=f"{RESULTS}/euler/gradients.zarr",
        lorenz=EULER_LORENZ_STORES,
    output:
        claims=f"{RESULTS}/claims/euler.json",
    log:
        f"{LOGS}/euler/claims.log",
    benchmark:
        f"{BENCHMARKS}/euler/claims.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    script:
        "../../scripts/euler_claims.py"


rule euler_figures:
    input:
        gradients=f"{RESULTS}/euler/gradients.zarr",
        lorenz=EULER_LORENZ_STORES,
    output:
        region_pdf=f"{RESULTS}/figures/euler_stability_region.pdf",
        region_png=report(
            f"{RESULTS}/figures/euler_stability_region.png",
            caption="../report/euler_stability_region.rst",
            category="Forward Euler",
        ),
        norms_pdf=f"{RESULTS}/figures/euler_gradient_norms.pdf",
        norms_png=report(
            f"{RESULTS}/figures/euler_gradient_norms.png",
            caption="../report/euler_gradient_norms.rst",
            category="Forward Euler",
        ),
        lorenz_pdf=f"{RESULTS}/figures/euler_lorenz_lambda1.pdf",
        lorenz_png=report(
            f"{RESULTS}/figures/euler_lorenz_lambda1.png",
            caption="../report/euler_lorenz_lambda1.rst",
            category="Forward Euler",
        ),
    log:
        f"{LOGS}/euler/figures.log",
    benchmark:
        f"{BENCHMARKS}/euler/figures.tsv"
    group:
        FIGURES_GROUP
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../../scripts/euler_figures.py"

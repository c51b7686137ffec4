"""``mhhs-workbench``: generate, validate and verify MHHS test data from the command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mhhs-workbench")
def main() -> None:
    """Realistic, valid test data for GB Market-wide Half-Hourly Settlement (IF-021, IF-041)."""


def _generate(scenario, out: Path, overwrite: bool, chunk_size: int, progress: bool) -> None:
    from .dataset import generate_dataset
    from .export import PublicationError
    from .profiles import TemperatureDataError
    from .readings import RegisterCapacityError

    try:
        summary = generate_dataset(scenario, out, overwrite=overwrite, chunk_size=chunk_size, progress=progress)
    except (PublicationError, TemperatureDataError, RegisterCapacityError) as exc:
        _fail(str(exc))
    click.echo(summary.describe())


@main.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("demo-data"), show_default=True,
              help="Folder to publish the data set as.")
@click.option("--overwrite", is_flag=True, help="Replace an existing data set at --out.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=500, show_default=True,
              help="Meters generated at once (memory vs speed; output is the same).")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def demo(out: Path, overwrite: bool, chunk_size: int, no_progress: bool) -> None:
    """Generate the built-in demo data set: 200 mixed meters x 14 days over the October clock change."""
    from .scenario import demo_scenario

    _generate(demo_scenario(), out, overwrite, chunk_size, not no_progress)


@main.command()
@click.argument("scenario_file", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder to publish the data set as.")
@click.option("--overwrite", is_flag=True, help="Replace an existing data set at --out.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=500, show_default=True,
              help="Meters generated at once (memory vs speed; output is the same).")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def generate(scenario_file: Path, out: Path, overwrite: bool, chunk_size: int, no_progress: bool) -> None:
    """Generate the data set a SCENARIO_FILE (YAML) describes."""
    from .scenario import Scenario, ScenarioError

    try:
        scenario = Scenario.from_yaml(scenario_file)
    except ScenarioError as exc:
        _fail(str(exc))
    _generate(scenario, out, overwrite, chunk_size, not no_progress)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--spec-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Validate against Elexon's official DIP API YAML in this folder instead of the "
              "package's own schemas.")
@click.option("--no-rules", is_flag=True, help="Check the schema only, not the business rules.")
def validate(paths: tuple[Path, ...], spec_dir: Path | None, no_rules: bool) -> None:
    """Validate IF-021 / IF-041 message files (or folders of them)."""
    from .validation import format_report, validate_files

    report = validate_files(list(paths), spec_dir=spec_dir, business_rules=not no_rules)
    click.echo(format_report(report))
    sys.exit(0 if report.ok else 1)


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def verify(folder: Path) -> None:
    """Re-check a published data set against its manifest of checksums."""
    from .export import verify as verify_folder

    problems = verify_folder(folder)
    for line in problems:
        click.echo(f"FAIL {line}")
    if problems:
        click.echo(f"{folder}: {len(problems)} problem(s)", err=True)
        sys.exit(1)
    click.echo(f"OK  {folder}: every file matches manifest.json")


@main.command()
@click.argument("notebook")
@click.option("-p", "--parameter", "parameters", nargs=2, multiple=True, metavar="NAME VALUE",
              help="Set a notebook parameter; VALUE is read as YAML (8, true, null, 2025-03-01 as text).")
@click.option("-f", "--parameters-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML file of parameters; -p values override it.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the executed notebook (default: evidence/ in the data set it documents).")
@click.option("--log-output", is_flag=True, help="Echo the notebook's output while it runs.")
def run(notebook: str, parameters: tuple[tuple[str, str], ...], parameters_file: Path | None,
        out: Path | None, log_output: bool) -> None:
    """Run NOTEBOOK headless (a path, or generate_dataset, validate_messages, profile_designer)."""
    try:
        from .notebook_runner import (
            NotebookFailed,
            RunError,
            load_parameter_file,
            parse_parameter_value,
            run_notebook,
        )
    except ImportError as exc:
        _fail(f"running notebooks needs the notebook extra ({exc.name} is missing): "
              "pip install 'mhhs-workbench[notebook]'")

    try:
        values = load_parameter_file(parameters_file) if parameters_file else {}
        values.update({name: parse_parameter_value(value) for name, value in parameters})
        result = run_notebook(notebook, values, out=out, log_output=log_output)
    except RunError as exc:
        _fail(str(exc))
    except NotebookFailed as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"executed notebook: {result.notebook}")
    if result.dataset is not None:
        click.echo(f"recorded in {result.dataset / 'manifest.json'}")


if __name__ == "__main__":  # pragma: no cover
    main()

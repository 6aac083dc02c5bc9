"""Command-line interface: parse, call the API, print. No logic of its own."""

from __future__ import annotations

import sys

import click

from capacity import __version__
from capacity.data import EXAMPLE_PATH, load_district
from capacity.errors import CapacityError

DISTRICT_HELP = "District folder of CSV files or .xlsx workbook (default: the bundled example county)."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="capacity")
def cli() -> None:
    """capacity: school-district capacity planning.

    Project enrolment, find seat gaps, and plan the least-cost set of builds, openings and
    mergers that seats every child within reach and within class-size limits.
    """


@cli.command()
@click.argument("district", required=False, metavar="[DISTRICT]")
def validate(district: str | None) -> None:
    """Check a district's data and list every problem found."""
    d = load_district(district)
    for note in d.notes:
        click.echo(f"note: {note}")
    click.echo(
        f"OK: {d.source} is a valid district ({len(d.zones)} zones, {len(d.schools)} schools, history {d.history_years[0]}-{d.last_year})."
    )


@cli.command()
@click.argument("district", required=False, metavar="[DISTRICT]")
def info(district: str | None) -> None:
    """Show what a district holds: zones, schools by stage, pupils by stage and year."""
    from capacity.data.district import pupils_by_stage, schools_by_stage

    d = load_district(district)
    name = "bundled example county" if district is None else d.source
    click.echo(f"District: {name}")
    for note in d.notes:
        click.echo(f"note: {note}")
    kinds = d.zones["kind"].value_counts().reindex(["urban", "town", "rural"]).fillna(0).astype(int)
    click.echo(f"\nZones: {len(d.zones)} ({', '.join(f'{n} {k}' for k, n in kinds.items())})")
    click.echo(f"\nSchools teaching each stage (a nine-year school counts under primary and junior):\n{schools_by_stage(d).to_string()}")
    click.echo(f"\nPupils on roll by stage and school year:\n{pupils_by_stage(d).to_string()}")
    b = d.births.groupby("year")["births"].sum()
    click.echo(
        f"\nBirths: {int(b.index.min())}-{int(b.index.max())}, last year {int(b.iloc[-1]):,} (peak {int(b.max()):,} in {int(b.idxmax())})"
    )
    optional = [t for t in ("housing", "travel", "projects", "children") if len(getattr(d, t))]
    click.echo(f"Optional tables: {', '.join(f'{t} ({len(getattr(d, t))} rows)' for t in optional) or 'none'}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``capacity`` command; exits 2 with a message on bad input."""
    try:
        cli.main(args=argv, prog_name="capacity", standalone_mode=False)
    except CapacityError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)


__all__ = ["EXAMPLE_PATH", "cli", "main"]

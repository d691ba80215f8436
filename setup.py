"""Package discovery for pgtune (metadata lives in pyproject.toml).

Every package under pgtune/ is found, so a new subpackage can never be left
out of the wheel; the catalog SQL kept at the top level (sql/) for reviewers
ships inside the wheel as the package ``pgtune.sql``. pyproject.toml alone
cannot combine discovery with that mapping.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["pgtune", "pgtune.*"]), "pgtune.sql"],
    package_dir={"pgtune.sql": "sql"},
)

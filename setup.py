"""Package discovery for the layout in DESIGN.md.

The core lives in src/posthorn while runners/, queues/ and handlers/ sit at the root and
install as posthorn.runners, posthorn.queues and posthorn.handlers (see package-dir in
pyproject.toml).  pyproject.toml alone cannot combine that mapping with discovery, so
the package list is computed here; everything else is declared in pyproject.toml.
Folders of data (migrations, templates) have no ``__init__.py`` and are listed as
namespace packages, so setuptools installs their files without a warning each.
"""

from setuptools import find_namespace_packages, find_packages, setup

ROOT_PACKAGES = ("runners", "queues", "handlers")

packages = find_namespace_packages(
    "src", include=["posthorn", "posthorn.*"], exclude=["*__pycache__"]
)
for root in ROOT_PACKAGES:
    packages.append(f"posthorn.{root}")
    packages.extend(f"posthorn.{root}.{sub}" for sub in find_packages(root))

setup(packages=packages)

"""Build the Cython kernels in ext/ as private modules of the labopt package.

Only the .pyx/.pxd sources are versioned and shipped in the sdist (MANIFEST.in); the C files
and shared objects are generated here, on the machine that builds the wheel.
"""

import sys

from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

KERNELS = [
    "_hierarchical",
    "_array",
    "_search",
    "_nested",
    "_informative",
    "_simulate",
    "_netsimplex",
]

# gcc and clang flags (MSVC warns on them and gets setuptools' own /Ox)
COMPILE_ARGS = [] if sys.platform == "win32" else ["-O3"]

extensions = [
    Extension(
        f"labopt.{name}",
        [f"ext/{name}.pyx"],
        extra_compile_args=COMPILE_ARGS,
    )
    for name in KERNELS
]

setup(
    packages=find_packages(include=["labopt", "labopt.*", "labopt_api", "labopt_api.*"]),
    package_data={
        "labopt.examples": ["README.md", "*/*"],
        "labopt_api": [
            "migrations/*.py",
            "migrations/*.mako",
            "migrations/versions/*.py",
            "static/README.md",
            "static/*/*",
            "web/templates/*.html",
        ],
    },
    ext_modules=cythonize(
        extensions,
        include_path=["ext"],
        compiler_directives={
            "language_level": "3",
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
            "embedsignature": True,
        },
    ),
)

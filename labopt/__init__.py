"""labopt: laboratory testing-capacity and sample-pooling optimizer for RT-PCR networks."""

# the one definition of the version; a plain literal, so that setuptools reads it (pyproject:
# dynamic version) without importing labopt
__version__ = "0.1.0"

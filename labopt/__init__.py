"""labopt: laboratory testing-capacity and sample-pooling optimizer for RT-PCR networks."""

__version__ = "0.1.0"

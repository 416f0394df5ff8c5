"""`python -m attribution.sample_data`: write a sample world."""

from attribution.sample_data import main

main()

# The CMC product model imports its feature modules (cmc_potency, cmc_vector), which import
# the gate and status names back from it: loading it first keeps that order whichever module
# a caller imports.
from generator.models import cmc as cmc

# generator.models.cmc imports its feature modules (cmc_potency, cmc_vector) at its end, and
# they import names back from it: import generator.models.cmc before either of them (the CMC
# analysis does). Nothing is imported here, so a build that only reads the product file does not
# pay for the ~90 CMC models (0.3 s, issue 17).

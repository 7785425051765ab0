# Reference operating characteristics from the BOIN R package's own simulator, get.oc().
#
# The numbers in tests/analysis/test_boin_reference.py were produced by this script with
# BOIN 2.7.2 (CRAN, 2021-01-19; R/get.oc.R, R/get.boundary.R and R/select.mtd.R of the CRAN
# mirror github.com/cran/BOIN at "version 2.7.2") under R 4.2.2:
#
#   Rscript boin_get_oc.R            # with the BOIN package installed, or
#   Rscript boin_get_oc.R DIR        # DIR holding those three .R files of BOIN 2.7.2
#
# Each line printed is: name, then selection % per dose, % no dose selected (percentstop),
# mean patients per dose, mean total patients.
args <- commandArgs(trailingOnly = TRUE)
if (length(args) == 1) {
  for (f in c("get.boundary.R", "select.mtd.R", "get.oc.R")) source(file.path(args[1], f))
} else {
  suppressPackageStartupMessages(library(BOIN))
}
ntrial <- 20000
scenarios <- list(
  # the get.oc() help-page example (n.earlystop left at its default, 100: no cap)
  manual_example = list(target = 0.3, p.true = c(0.05, 0.15, 0.3, 0.45, 0.6),
                        ncohort = 20, cohortsize = 3, n.earlystop = 100, startdose = 1),
  # the same with the per-dose cap the package recommends (9-18)
  manual_example_cap12 = list(target = 0.3, p.true = c(0.05, 0.15, 0.3, 0.45, 0.6),
                              ncohort = 20, cohortsize = 3, n.earlystop = 12, startdose = 1),
  # examples/bcma-cart-rrmm: expected scenario, max N 30, cap 9
  bcma_expected_cap9 = list(target = 0.3, p.true = c(0.05, 0.10, 0.20, 0.30, 0.45),
                            ncohort = 10, cohortsize = 3, n.earlystop = 9, startdose = 1),
  # all doses safe: the cap stops the trial at the top dose (escalation impossible)
  bcma_all_safe_cap9 = list(target = 0.3, p.true = c(0.02, 0.05, 0.08, 0.12, 0.18),
                            ncohort = 10, cohortsize = 3, n.earlystop = 9, startdose = 1),
  # toxic doses, start above the lowest: elimination, de-escalation and the safety stop
  toxic_start2_cap9 = list(target = 0.25, p.true = c(0.15, 0.30, 0.45, 0.60),
                           ncohort = 8, cohortsize = 3, n.earlystop = 9, startdose = 2),
  # cohorts of one
  cohort1_cap9 = list(target = 0.2, p.true = c(0.08, 0.2, 0.35, 0.5),
                      ncohort = 18, cohortsize = 1, n.earlystop = 9, startdose = 1)
)
for (name in names(scenarios)) {
  s <- scenarios[[name]]
  oc <- suppressWarnings(get.oc(target = s$target, p.true = s$p.true, ncohort = s$ncohort,
                                cohortsize = s$cohortsize, n.earlystop = s$n.earlystop,
                                startdose = s$startdose, ntrial = ntrial, seed = 6))
  cat(name, "sel", formatC(oc$selpercent, format = "f", digits = 2),
      "stop", formatC(oc$percentstop, format = "f", digits = 2),
      "npts", formatC(oc$npatients, format = "f", digits = 3),
      "totaln", formatC(oc$totaln, format = "f", digits = 3), "\n")
}

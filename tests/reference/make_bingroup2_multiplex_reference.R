## Reference values from binGroup2 1.3.1 (Hitt, Bilder et al.) opChar2() for labopt's
## multiplex (two-disease) agreement tests: tests/data/bingroup2_multiplex.csv.
##
## Needs R and binGroup2's R sources (CRAN 1.3.1; its files listed below) in BG2_DIR/R,
## since CI cannot install binGroup2 (no CRAN); its output file is committed. Replace BG2_DIR
## with that folder, then: Rscript make_bingroup2_multiplex_reference.R

bg2.dir <- "BG2_DIR/R"
bg2.files <- c("MultiplexHierarchicalFunctions.R",   # ET / PSe / PSp engine
               "SupportingOpCharFunctions.R",        # get.unique.index, check.all.equal, get.pools
               "SupportingOTCFunctions.R",           # generate.acc, time.it
               "NI.Dorf.calc2.R", "NI.D3.calc2.R", "NI.D4.calc2.R",
               "Inf.Dorf.calc2.R",
               "operatingCharacteristics2.R",        # opChar2
               "opCharMethodFunctions.R")            # print.opChar (for the Rd example)
for (f in bg2.files) source(file.path(bg2.dir, f))

# ---- shims -----------------------------------------------------------------
# rBeta2009::rdirichlet is referenced only by joint.p.create(), which is only
# reached when opChar2() is called with 'alpha' (Dirichlet). We never do that.
rdirichlet <- function(...) stop("shim: rBeta2009::rdirichlet is not available (alpha= path not supported here)")

fmt <- function(x) sprintf("%.17g", x)
fmtvec <- function(x) paste(fmt(as.numeric(x)), collapse = ";")

# ---- case definitions ------------------------------------------------------
hier.configs <- list(
  list(alg = "D2", label = "2",  mat = rbind(rep(1, 2),  1:2)),
  list(alg = "D2", label = "5",  mat = rbind(rep(1, 5),  1:5)),
  list(alg = "D2", label = "10", mat = rbind(rep(1, 10), 1:10)),
  list(alg = "D2", label = "24", mat = rbind(rep(1, 24), 1:24)),
  list(alg = "D3", label = "12:4,4,4",
       mat = rbind(rep(1, 12), rep(1:3, each = 4), 1:12)),
  list(alg = "D3", label = "9:3,3,3",
       mat = rbind(rep(1, 9), rep(1:3, each = 3), 1:9)),
  list(alg = "D3", label = "10:5,3,2",
       mat = rbind(rep(1, 10), rep(1:3, times = c(5, 3, 2)), 1:10)),
  # singleton sub-pool: tested at stage 2, NA at stage 3 (binGroup2 convention,
  # cf. Rd example matrix(c(rep(1,10), rep(1,5), rep(2,4), 3, 1:9, NA), nrow=3))
  list(alg = "D3", label = "6:3,2,1",
       mat = rbind(rep(1, 6), c(1, 1, 1, 2, 2, 3), c(1:5, NA))),
  list(alg = "D4", label = "16:8,8:4,4,4,4",
       mat = rbind(rep(1, 16), rep(1:2, each = 8), rep(1:4, each = 4), 1:16))
)

p.vecs <- list(c(0.95, 0.02, 0.02, 0.01),
               c(0.90, 0.04, 0.04, 0.02),
               c(0.98, 0.01, 0.008, 0.002))

make.acc <- function(set, S) {
  s <- 1:S
  if (set == "A") {
    Se <- matrix(0.95, nrow = 2, ncol = S)
    Sp <- matrix(0.99, nrow = 2, ncol = S)
  } else if (set == "B") {
    Se <- rbind(rep(0.95, S), rep(0.90, S))
    Sp <- rbind(rep(0.99, S), rep(0.98, S))
  } else if (set == "C") {
    Se <- rbind(0.90 + 0.03 * (s - 1), 0.92 + 0.02 * (s - 1))
    Sp <- rbind(0.97 + 0.01 * (s - 1), 0.96 + 0.01 * (s - 1))
  }
  dimnames(Se) <- dimnames(Sp) <- list(Infection = 1:2, Stage = 1:S)
  list(Se = Se, Sp = Sp)
}

# ---- expand binGroup2's grouped "Disease k Individual" output ---------------
expand.ind <- function(ind.df, I) {
  ind.df <- as.data.frame(ind.df)
  out <- matrix(NA_real_, nrow = I, ncol = 4,
                dimnames = list(NULL, c("PSe", "PSp", "PPPV", "PNPV")))
  seen <- integer(0)
  for (r in seq_len(nrow(ind.df))) {
    idx.str <- as.character(ind.df[r, "individuals"])
    idx <- if (idx.str == "All") 1:I else as.integer(strsplit(idx.str, ",")[[1]])
    seen <- c(seen, idx)
    for (i in idx) out[i, ] <- as.numeric(ind.df[r, c("PSe", "PSp", "PPPV", "PNPV")])
  }
  if (!identical(sort(seen), 1:I)) stop("individual index expansion does not cover 1..I exactly once")
  out
}

# ---- ungrouped per-individual values (cross-check of the grouping) ----------
raw.ind <- function(res, hier, Se, Sp) {
  ordering <- matrix(data = c(0,1,0,1,0,0,1,1), nrow = 4, ncol = 2)
  dimnames(hier) <- NULL
  info <- TwoDisease.Hierarchical(joint.p = res$p.mat, group.mem = hier,
                                  Se = Se, Sp = Sp, ordering = ordering,
                                  a = 1:ncol(hier), accuracy = TRUE)
  list(d1 = info$Disease1$Individual[, c("PSe", "PSp", "PPPV", "PNPV")],
       d2 = info$Disease2$Individual[, c("PSe", "PSp", "PPPV", "PNPV")],
       Expt = info$Expt)
}

rows <- list()
n.mismatch <- 0L
add.case <- function(alg, label, pvec.str, prob.str, Se, Sp, res, hier) {
  I <- ncol(hier)
  d1 <- expand.ind(res$Accuracy$`Disease 1 Individual`, I)
  d2 <- expand.ind(res$Accuracy$`Disease 2 Individual`, I)
  raw <- raw.ind(res, hier, Se, Sp)
  if (!isTRUE(all(d1 == raw$d1)) || !isTRUE(all(d2 == raw$d2))) {
    n.mismatch <<- n.mismatch + 1L
    cat("NOTE: grouped output differs from ungrouped values for", alg, label,
        "max abs diff:", max(abs(d1 - raw$d1), abs(d2 - raw$d2)), "\n")
  }
  if (!identical(raw$Expt / I, res$value)) cat("NOTE: ET mismatch", alg, label, "\n")
  ov <- res$Accuracy$Overall
  se.str <- paste(c(fmt(Se[1, ]), fmt(Se[2, ])), collapse = ";")
  sp.str <- paste(c(fmt(Sp[1, ]), fmt(Sp[2, ])), collapse = ";")
  for (i in 1:I) {
    rows[[length(rows) + 1]] <<- c(
      algorithm = alg, config = label, p_vec = pvec.str, probabilities = prob.str,
      se = se.str, sp = sp.str, et_per_individual = fmt(res$value),
      individual = as.character(i),
      pse1 = fmt(d1[i, "PSe"]), psp1 = fmt(d1[i, "PSp"]),
      pppv1 = fmt(d1[i, "PPPV"]), pnpv1 = fmt(d1[i, "PNPV"]),
      pse2 = fmt(d2[i, "PSe"]), psp2 = fmt(d2[i, "PSp"]),
      pppv2 = fmt(d2[i, "PPPV"]), pnpv2 = fmt(d2[i, "PNPV"]),
      overall_pse1 = fmt(ov[1, "PSe"]), overall_psp1 = fmt(ov[1, "PSp"]),
      overall_pppv1 = fmt(ov[1, "PPPV"]), overall_pnpv1 = fmt(ov[1, "PNPV"]),
      overall_pse2 = fmt(ov[2, "PSe"]), overall_psp2 = fmt(ov[2, "PSp"]),
      overall_pppv2 = fmt(ov[2, "PPPV"]), overall_pnpv2 = fmt(ov[2, "PNPV"]))
  }
}

# ---- non-informative cases --------------------------------------------------
n.cases <- 0L
for (hc in hier.configs) {
  S <- nrow(hc$mat)
  for (pv in p.vecs) {
    for (set in c("A", "B", "C")) {
      acc <- make.acc(set, S)
      res <- opChar2(algorithm = hc$alg, p.vec = pv, Se = acc$Se, Sp = acc$Sp,
                     hier.config = hc$mat, print.time = FALSE)
      add.case(hc$alg, hc$label, fmtvec(pv), "", acc$Se, acc$Sp, res, hc$mat)
      n.cases <- n.cases + 1L
    }
  }
}

# ---- informative two-stage (ID2) with an explicit probabilities matrix ------
id2.hier <- matrix(c(rep(1, 5), rep(2, 4), 3, 1:9, NA), nrow = 2, byrow = TRUE)
i <- 1:10
p10 <- 0.005 * i; p01 <- 0.004 * i; p11 <- 0.001 * i
p00 <- 1 - (p10 + p01 + p11)
id2.prob <- rbind(p00, p10, p01, p11)
dimnames(id2.prob) <- NULL
for (set in c("A", "C")) {
  acc <- make.acc(set, 2)
  res <- opChar2(algorithm = "ID2", probabilities = id2.prob, Se = acc$Se,
                 Sp = acc$Sp, hier.config = id2.hier, print.time = FALSE)
  add.case("ID2", "5,4,1", "", fmtvec(as.vector(id2.prob)), acc$Se, acc$Sp, res, id2.hier)
  n.cases <- n.cases + 1L
}

out <- do.call(rbind, rows)
write.csv(out, "BG2_DIR/bingroup2_multiplex.csv", row.names = FALSE, quote = TRUE)
cat("\nWrote", nrow(out), "rows for", n.cases, "cases to BG2_DIR/bingroup2_multiplex.csv\n")
cat("Cases where binGroup2's grouped individual output differed from ungrouped values:", n.mismatch, "\n")

# ---- Rd example (operatingCharacteristics2 / opChar2, D2) --------------------
cat("\n==================== Rd example: opChar2 D2, config 24 ====================\n")
config.mat <- matrix(data = c(rep(1, 24), 1:24),
                     nrow = 2, ncol = 24, byrow = TRUE)
Se <- matrix(data = c(0.95, 0.95, 0.95, 0.95),
             nrow = 2, ncol = 2,
             dimnames = list(Infection = 1:2, Stage = 1:2))
Sp <- matrix(data = c(0.99, 0.99, 0.99, 0.99),
             nrow = 2, ncol = 2,
             dimnames = list(Infection = 1:2, Stage = 1:2))
rd <- opChar2(algorithm = "D2", p.vec = c(0.90, 0.04, 0.04, 0.02),
              Se = Se, Sp = Sp, hier.config = config.mat, print.time = FALSE)
print(rd)
cat("\nFull precision:\n")
cat("ET    =", fmt(rd$ET), "\nvalue =", fmt(rd$value), "\n")
cat("Disease 1 Individual:\n"); print(rd$Accuracy$`Disease 1 Individual`, digits = 17)
cat("Disease 2 Individual:\n"); print(rd$Accuracy$`Disease 2 Individual`, digits = 17)
cat("Overall:\n"); print(rd$Accuracy$Overall, digits = 17)
cat("\n"); print(sessionInfo()$R.version$version.string)

## Reference values from binGroup2 1.3.3 (Hitt, Bilder et al.) for labopt's agreement tests.
##
## Needs R with binGroup2 1.3.3 loaded (library(binGroup2), or its R sources sourced) and the
## 'partitions' package. Not run by CI (CRAN is out of reach there); its output files are
## committed: tests/data/bingroup2_opchar.csv and tests/data/bingroup2_otc.csv.
## Usage: Rscript tests/reference/make_bingroup2_reference.R OUTDIR [--otc]
##
## Configurations use labopt's notation: D3 "12:4,4,4", D4 "16:8,8:4,4,4,4", ID2 "5,3,2".

args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "."
do_otc <- "--otc" %in% args
num <- function(x) sprintf("%.17g", x)
vec <- function(x) paste(sprintf("%.17g", x), collapse = ";")

parse_sizes <- function(s) as.integer(strsplit(s, ",")[[1]])

hier_matrix <- function(alg, config) {
  f <- strsplit(config, ":")[[1]]
  if (alg == "D2") {
    k <- as.integer(f[1]); return(rbind(rep(1, k), 1:k))
  }
  if (alg == "ID2") {
    sizes <- parse_sizes(f[1]); n <- sum(sizes)
    return(rbind(rep(seq_along(sizes), sizes), 1:n))
  }
  I <- as.integer(f[1]); s2 <- parse_sizes(f[2])
  if (alg == "D3") {
    return(rbind(rep(1, I), rep(seq_along(s2), s2), 1:I))
  }
  # D4: row 3 numbers the stage-3 sub-pools of every stage-2 pool larger than one (NA for
  # stage-2 singletons); row 4 numbers the samples of stage-3 pools larger than one (else NA)
  s3 <- parse_sizes(f[3])
  row3 <- rep(NA_integer_, I); row4 <- rep(NA_integer_, I)
  pos <- 1; k3 <- 1; g3 <- 0; k4 <- 0
  for (m in s2) {
    if (m > 1) {
      used <- 0
      while (used < m) {
        s <- s3[k3]; k3 <- k3 + 1; g3 <- g3 + 1
        idx <- (pos + used):(pos + used + s - 1)
        row3[idx] <- g3
        if (s > 1) { row4[idx] <- (k4 + 1):(k4 + s); k4 <- k4 + s }
        used <- used + s
      }
    }
    pos <- pos + m
  }
  rbind(rep(1, I), rep(seq_along(s2), s2), row3, row4)
}

row_of <- function(alg, config, p, risks, se, sp, res) {
  acc <- res$Accuracy$Overall
  data.frame(algorithm = alg, config = config, p = if (is.null(p)) "" else num(p),
             risks = if (is.null(risks)) "" else vec(risks), se = vec(se), sp = vec(sp),
             value = num(res$value), ET = num(res$ET), PSe = num(acc[1, "PSe"]),
             PSp = num(acc[1, "PSp"]), PPPV = num(acc[1, "PPPV"]), PNPV = num(acc[1, "PNPV"]),
             stringsAsFactors = FALSE)
}

opchar <- function(alg, config, p = NULL, risks = NULL, se, sp) {
  if (alg %in% c("A2", "A2M")) {
    res <- opChar1(algorithm = alg, p = p, Se = se, Sp = sp, rowcol.sz = as.integer(config),
                   print.time = FALSE)
  } else if (alg == "ID2") {
    res <- opChar1(algorithm = alg, probabilities = risks, Se = se, Sp = sp,
                   hier.config = hier_matrix(alg, config), print.time = FALSE)
  } else {
    res <- opChar1(algorithm = alg, p = p, Se = se, Sp = sp,
                   hier.config = hier_matrix(alg, config), print.time = FALSE)
  }
  row_of(alg, config, p, risks, se, sp, res)
}

prevalences <- c(0.0005, 0.004, 0.01, 0.05, 0.2)
acc2 <- list(list(se = c(0.99, 0.99), sp = c(0.99, 0.99)),
             list(se = c(0.95, 0.99), sp = c(0.98, 0.995)),
             list(se = c(0.80, 0.90), sp = c(0.90, 0.97)))
acc3 <- list(list(se = c(0.99, 0.99, 0.99), sp = c(0.99, 0.99, 0.99)),
             list(se = c(0.95, 0.96, 0.99), sp = c(0.97, 0.98, 0.995)),
             list(se = c(0.85, 0.90, 0.95), sp = c(0.90, 0.95, 0.97)))
acc4 <- list(list(se = rep(0.99, 4), sp = rep(0.99, 4)),
             list(se = c(0.94, 0.95, 0.97, 0.99), sp = c(0.96, 0.97, 0.98, 0.995)))
# A2M: master and row/column specificities equal (binGroup2's PSp formula assumes it), and one
# set where they differ (compared with labopt's bingroup2_compat mode)
accm <- list(list(se = c(0.99, 0.99, 0.99), sp = c(0.99, 0.99, 0.99)),
             list(se = c(0.95, 0.96, 0.99), sp = c(0.98, 0.98, 0.995)),
             list(se = c(0.90, 0.95, 0.97), sp = c(0.93, 0.97, 0.99)))

rows <- list()
add <- function(r) rows[[length(rows) + 1]] <<- r
for (p in prevalences) {
  for (a in acc2) {
    for (k in c(2, 3, 5, 10, 17, 32)) add(opchar("D2", as.character(k), p = p, se = a$se, sp = a$sp))
    for (n in c(2, 3, 5, 8, 12, 20)) add(opchar("A2", as.character(n), p = p, se = a$se, sp = a$sp))
  }
  for (a in acc3) {
    for (cfg in c("6:3,3", "12:4,4,4", "10:5,3,1,1", "18:5,5,5,3", "30:10,10,5,5",
                  "9:1,1,1,1,1,1,1,1,1", "25:5,5,5,5,5"))
      add(opchar("D3", cfg, p = p, se = a$se, sp = a$sp))
  }
  for (a in accm) {
    for (n in c(2, 3, 5, 8, 12, 20)) add(opchar("A2M", as.character(n), p = p, se = a$se, sp = a$sp))
  }
  for (a in acc4) {
    for (cfg in c("12:8,2,1,1:5,3,1,1", "16:8,8:4,4,4,4", "20:10,6,4:5,5,3,3,2,2",
                  "30:12,9,9:4,4,4,3,3,3,3,3,3"))
      add(opchar("D4", cfg, p = p, se = a$se, sp = a$sp))
  }
}
# informative Dorfman on fixed risk vectors (unsorted on purpose: both sort ascending)
risk_sets <- list(
  c(rep(0.002, 12), rep(0.01, 6), rep(0.08, 3), 0.3),
  c(0.0011, 0.2, 0.004, 0.05, 0.0023, 0.009, 0.031, 0.0007, 0.015, 0.12),
  c(rep(0.001, 25), rep(0.02, 5)))
id2_cfgs <- list(c("10,6,3,1,1,1", "12,6,4", "11,11"), c("5,3,2", "4,3,2,1", "6,4"),
                 c("10,10,5,5", "25,5", "15,10,2,1,1,1"))
for (i in seq_along(risk_sets)) {
  for (a in acc2) {
    for (cfg in id2_cfgs[[i]]) add(opchar("ID2", cfg, risks = risk_sets[[i]], se = a$se, sp = a$sp))
  }
}
out <- do.call(rbind, rows)
write.csv(out, file.path(outdir, "bingroup2_opchar.csv"), row.names = FALSE)
cat("wrote", nrow(out), "rows\n")

if (do_otc) {
  searches <- list(c("D2", 3, 40), c("D3", 3, 30), c("A2", 3, 20), c("A2M", 3, 20))
  settings <- list(c(0.01, 0.99, 0.99), c(0.05, 0.95, 0.99), c(0.002, 0.99, 0.995))
  otc <- list()
  for (s in settings) for (q in searches) {
    t0 <- proc.time()[["elapsed"]]
    res <- OTC1(algorithm = q[1], p = s[1], Se = s[2], Sp = s[3],
                group.sz = as.integer(q[2]):as.integer(q[3]), obj.fn = "ET",
                trace = FALSE, print.time = FALSE)
    secs <- proc.time()[["elapsed"]] - t0
    o <- res$opt.ET$OTC
    cfg <- if (q[1] == "D3") paste0(o$Stage1, ":", paste(o$Stage2, collapse = ","))
           else if (q[1] == "D2") as.character(o$Stage1) else as.character(o$Array.dim)
    otc[[length(otc) + 1]] <- data.frame(algorithm = q[1], lo = q[2], hi = q[3], p = s[1],
                                         se = s[2], sp = s[3], config = cfg,
                                         value = num(res$opt.ET$value), seconds = secs)
    cat(q[1], s, cfg, secs, "\n")
  }
  write.csv(do.call(rbind, otc), file.path(outdir, "bingroup2_otc.csv"), row.names = FALSE)
}

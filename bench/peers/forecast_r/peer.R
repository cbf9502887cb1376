# R's forecast package (Debian r-cran-forecast): ets() and auto.arima(), the originals statsforecast ports.
#
# usage: Rscript peer.R INPUT.csv OUT.csv MODELS CORES
#   INPUT: unique_id,m,h,y — one row per observation, in time order within each series.
#   MODELS: comma-separated subset of ets,auto.arima.
# Appends "model,unique_id,step,value" rows to OUT after every chunk of series, and "model,seconds,series" rows to
# OUT.times, so a run stopped by the bench keeps what finished. Each series is fitted with its own seasonal period
# (ts(y, frequency = m)) and default settings, as a user of the package would.
suppressMessages(library(forecast))
suppressMessages(library(parallel))
args <- commandArgs(trailingOnly = TRUE)
input <- args[1]; out <- args[2]
models <- strsplit(if (length(args) > 2) args[3] else "ets,auto.arima", ",")[[1]]
cores <- if (length(args) > 3) as.integer(args[4]) else 2L
d <- read.csv(input, colClasses = c("character", "integer", "integer", "numeric"))
ids <- unique(d$unique_id)
by_id <- split(d, factor(d$unique_id, levels = ids))
one <- function(s, model) {
  # auto.arima on a season above 52 (365-day, 336 half-hours) ran for minutes a series: fitted non-seasonal, as
  # Mercury's AutoARIMA does. ets() handles those itself (it fits non-seasonal models above 24).
  y <- ts(s$y, frequency = if (model == "auto.arima" && s$m[1] > 52) 1 else s$m[1])
  h <- s$h[1]
  f <- tryCatch(
    suppressWarnings(if (model == "ets") forecast(ets(y), h = h)$mean else forecast(auto.arima(y), h = h)$mean),
    error = function(e) rep(NA_real_, h)
  )
  data.frame(model = model, unique_id = s$unique_id[1], step = seq_len(h), value = as.numeric(f))
}
if (!file.exists(out)) cat("model,unique_id,step,value\n", file = out)
times <- paste0(out, ".times")
if (!file.exists(times)) cat("model,seconds,series\n", file = times)
chunk <- 2L * cores * 5L
for (model in models) {
  t0 <- proc.time()[["elapsed"]]
  done <- 0L
  for (start in seq(1L, length(ids), by = chunk)) {
    part <- by_id[start:min(length(ids), start + chunk - 1L)]
    rows <- do.call(rbind, mclapply(part, one, model = model, mc.cores = cores))
    write.table(rows, out, sep = ",", row.names = FALSE, col.names = FALSE, append = TRUE, quote = FALSE)
    done <- done + length(part)
    cat(sprintf("%s,%.3f,%d\n", model, proc.time()[["elapsed"]] - t0, done), file = times, append = TRUE)
  }
  message(sprintf("R %s: %.1f s, %d series", model, proc.time()[["elapsed"]] - t0, done))
}

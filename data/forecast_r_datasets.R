# Exports R's classic time series (base R `datasets` and Debian's r-cran-forecast) to data/forecast_r_datasets.csv for
# the forecasting development set: unique_id,m,h,y, one row per observation in time order.
# usage: Rscript data/forecast_r_datasets.R data/forecast_r_datasets.csv
suppressMessages(library(forecast))
out <- commandArgs(trailingOnly = TRUE)[1]
horizon <- function(m) if (m == 12) 18L else if (m == 4) 8L else if (m == 1) 6L else as.integer(2 * m)
pick <- list(
  AirPassengers = AirPassengers, nottem = nottem, USAccDeaths = USAccDeaths, ldeaths = ldeaths,
  UKDriverDeaths = UKDriverDeaths, co2 = co2, gas = gas, wineind = wineind, UKgas = UKgas,
  JohnsonJohnson = JohnsonJohnson, woolyrnq = woolyrnq, austres = austres, Nile = Nile, lynx = lynx,
  LakeHuron = LakeHuron, sunspot.year = sunspot.year, airmiles = airmiles, nhtemp = nhtemp,
  taylor = taylor
)
rows <- do.call(rbind, lapply(names(pick), function(k) {
  y <- pick[[k]]
  m <- as.integer(round(frequency(y)))
  # taylor (half-hourly electricity demand, m = 336): the last four weeks, 48 steps ahead
  if (k == "taylor") { y <- tail(as.numeric(y), 4 * 336); return(data.frame(unique_id = k, m = 336L, h = 48L, y = y)) }
  data.frame(unique_id = k, m = m, h = horizon(m), y = as.numeric(y))
}))
write.csv(rows, out, row.names = FALSE, quote = FALSE)
message(sprintf("%d series, %d rows -> %s", length(pick), nrow(rows), out))

# R baseline of 'make bench': the same Poisson GLM with offset that
# bin/bench-glm fits, on the data it wrote.  Prints the median glm() time
# of 3 fits (reading the CSV is not timed) and the coefficients.
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
f <- claims ~ . - exposure + offset(log(exposure))
times <- numeric(3)
for (i in 1:3) {
    t0 <- proc.time()[["elapsed"]]
    fit <- glm(f, family = poisson, data = d)
    times[i] <- proc.time()[["elapsed"]] - t0
}
cat(sprintf("seconds %.3f\n", median(times)))
cat(sprintf("iterations %d\n", fit$iter))
cf <- coef(fit)
for (n in names(cf)) cat(sprintf("coef %s %.12g\n", n, cf[[n]]))

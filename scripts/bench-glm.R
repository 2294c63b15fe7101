# R baseline of 'make bench': the same Poisson GLM with offset that
# bin/bench-glm fits, on the data it wrote.  Prints the median glm() time
# of 3 fits (reading the CSV is not timed) and the coefficients.
#   Rscript scripts/bench-glm.R FILE            the 20-column design
#   Rscript scripts/bench-glm.R FILE factors [N]
#       the rating-factor design (bench-glm --factors): f1 and f2 as
#       factors (base L01), the interaction n1:f1; N fits (default 1: one
#       takes about a minute), the model matrix included in the time as
#       glm() builds it
args <- commandArgs(trailingOnly = TRUE)
factors <- length(args) > 1 && args[2] == "factors"
fits <- if (factors) (if (length(args) > 2) as.integer(args[3]) else 1) else 3
d <- read.csv(args[1])
if (factors) {
    d$f1 <- factor(d$f1)
    d$f2 <- factor(d$f2)
    f <- claims ~ . - exposure + n1:f1 + offset(log(exposure))
} else {
    f <- claims ~ . - exposure + offset(log(exposure))
}
times <- numeric(fits)
for (i in 1:fits) {
    t0 <- proc.time()[["elapsed"]]
    fit <- glm(f, family = poisson, data = d)
    times[i] <- proc.time()[["elapsed"]] - t0
}
cat(sprintf("seconds %.3f\n", median(times)))
cat(sprintf("iterations %d\n", fit$iter))
cf <- coef(fit)
for (n in names(cf)) cat(sprintf("coef %s %.12g\n", n, cf[[n]]))

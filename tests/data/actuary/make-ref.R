# Writes the own-factor fixtures of tests/test_actuary.c and prints R's
# reference fits of them (the figures the test holds):
#   Rscript tests/data/actuary/make-ref.R tests/data/actuary
# A simulated book with known effects: driver_age and territory in the
# features CSV, vgroup and density in factors.csv (joined by vin).
args <- commandArgs(trailingOnly = TRUE)
dir <- if (length(args)) args[1] else "."
set.seed(11)
n <- 3000
# VINs with a valid check digit
tr <- c(1:8, 1:5, 7, 9, 2:9)
names(tr) <- c(LETTERS[c(1:8)], LETTERS[c(10:14, 16, 18)], LETTERS[19:26])
val <- function(ch) if (ch %in% as.character(0:9)) as.integer(ch) else tr[[ch]]
wts <- c(8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
vin <- character(n)
for (i in 1:n) {
    s <- strsplit(sprintf("1HGCM8260AB%06d", i), "")[[1]]
    ck <- sum(sapply(s, val) * wts) %% 11
    s[9] <- if (ck == 10) "X" else as.character(ck)
    vin[i] <- paste(s, collapse = "")
}
age <- round(runif(n, 18, 80))
territory <- sample(c("North", "South", "East", "West"), n, replace = TRUE,
                    prob = c(0.4, 0.3, 0.2, 0.1))
vgroup <- sample(c("A", "B", "C"), n, replace = TRUE, prob = c(0.5, 0.3, 0.2))
density <- round(rexp(n, 1 / 3), 2)
expo <- round(runif(n, 0.2, 1), 3)
eta <- -2 - 0.01 * (age - 45) + 0.05 * density + 0.001 * (age - 45) * density +
    c(North = 0, South = 0.2, East = -0.1, West = 0.3)[territory] +
    c(A = 0, B = 0.15, C = 0.3)[vgroup]
cc <- rpois(n, expo * exp(eta))
sev <- exp(7 + 0.005 * (age - 45) +
           c(North = 0, South = 0.1, East = 0.05, West = -0.1)[territory])
amt <- sapply(1:n, function(i) if (cc[i] > 0)
    round(sum(rgamma(cc[i], shape = 2, scale = sev[i] / 2)), 2) else 0)
write.csv(data.frame(vin = vin, vehicle_id = sprintf("v%d", 1:n),
                     status = "ok", driver_age = age, territory = territory),
          file.path(dir, "features.csv"), row.names = FALSE, quote = FALSE)
write.csv(data.frame(vin = vin, vgroup = vgroup, density = density),
          file.path(dir, "factors.csv"), row.names = FALSE, quote = FALSE)
write.csv(data.frame(vin = vin, claim_count = cc, exposure_years = expo,
                     claim_amount = amt),
          file.path(dir, "claims.csv"), row.names = FALSE, quote = FALSE)

d <- data.frame(claims = cc, expo = expo, driver_age = age,
                territory = relevel(factor(territory), "West"),
                vgroup = factor(vgroup), density = density, amt = amt)
show <- function(label, fit) {
    s <- summary(fit)$coefficients
    cat(sprintf("== %s\n", label))
    for (r in rownames(s))
        cat(sprintf("%s %.15g %.15g %s\n", r, s[r, 1], s[r, 2],
                    format.pval(s[r, 4], digits = 3)))
    cat(sprintf("deviance %.15g\naic %.15g\n", deviance(fit), AIC(fit)))
}
# 1. frequency: every kind of interaction, territory's base chosen (West)
show("poisson", glm(claims ~ driver_age + territory + vgroup + density +
                    driver_age:density + driver_age:territory +
                    territory:vgroup + offset(log(expo)),
                    family = poisson, data = d))
# 2. severity: average claim, claim_count as prior weight, rows with claims
s <- d[d$claims > 0, ]
s$avg <- s$amt / s$claims
s$territory <- relevel(factor(as.character(s$territory)), "North")
show("gamma", glm(avg ~ driver_age + territory, family = Gamma(link = "log"),
                  weights = claims, data = s))

//! Forecasts of the next period: exponential smoothing fitted to a metric's
//! bucket series, with prediction intervals from the fitted residuals. Pure
//! arithmetic on `f64` slices, no I/O, no clock: every rule here has a unit
//! test, and a seeded backtest measures the accuracy.
//!
//! The method (also in `docs/analytics.md`):
//!
//! - Leading empty buckets (before the metric's first event) are dropped.
//!   Fewer than [`MIN_NON_EMPTY`] non-empty buckets left: no forecast
//!   ([`Method::InsufficientData`]).
//! - Holt's linear trend, in error-correction form, with one-step error
//!   `e_t = y_t − (l + b)`: `l ← l + b + α e_t`, `b ← b + αβ e_t`. The start
//!   values are the least-squares line through the series. `α` and `β` are
//!   the pair of a fixed grid with the least sum of squared one-step errors.
//! - For daily buckets with at least three weeks of history, Holt–Winters
//!   with an additive weekly season is fitted too (`e_t = y_t − (l + b +
//!   s_{t−7})`, `s_t = s_{t−7} + γ e_t`, seasons started from the mean
//!   deviation from the line per weekday) and kept when its Akaike
//!   information criterion `n ln(SSE / n) + 2k` is lower: the season must
//!   pay for its seven extra parameters.
//! - The forecast `h` steps after the last observed bucket is
//!   `l + h b (+ s)`, and its variance `σ² (1 + Σ_{j<h} c_j²)` with
//!   `c_j = α + αβ j (+ γ when 7 divides j)`, `σ² = SSE / (n − k)`. The
//!   total's variance follows from the same expansion (the errors of the
//!   buckets are correlated through the shared states). The 80 % interval is
//!   the mean ± 1.2816 σ_h.

/// Non-empty buckets needed before a series is forecast.
pub const MIN_NON_EMPTY: usize = 4;
/// The weekly season of daily series.
pub const WEEK: usize = 7;
/// Whole seasons of history needed to fit a season.
const MIN_SEASONS: usize = 3;
/// The standard normal quantile of 0.9: mean ± Z80 σ holds 80 %.
pub const Z80: f64 = 1.281_551_565_544_600_4;
/// The grid of the level's smoothing parameter.
const ALPHAS: [f64; 19] = [
    0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85,
    0.9, 0.95,
];
/// ... of the trend's (as a fraction of the level's update).
const BETAS: [f64; 7] = [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3];
/// ... of the season's.
const GAMMAS: [f64; 6] = [0.0, 0.05, 0.1, 0.15, 0.2, 0.3];

/// How a forecast was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Holt's linear trend (double exponential smoothing).
    HoltLinear,
    /// Holt–Winters with an additive weekly season.
    HoltWintersAdditive,
    /// A rate forecast as the ratio of the forecasts of its two counts.
    RatioOfForecasts,
    /// Too little history: no forecast.
    InsufficientData,
}

/// A forecast value: the expected value and the standard deviation of its
/// error, before any clamping.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    pub sd: f64,
}

impl Estimate {
    /// `(value, low, high)`: the mean and the 80 % interval, clamped to
    /// `[floor, ceiling]`.
    pub fn interval(self, floor: f64, ceiling: f64) -> (f64, f64, f64) {
        let clamp = |x: f64| {
            if x.is_nan() {
                floor
            } else {
                x.clamp(floor, ceiling)
            }
        };
        let half = Z80 * self.sd;
        (
            clamp(self.mean),
            clamp(self.mean - half),
            clamp(self.mean + half),
        )
    }
}

/// The forecast of a series: one estimate per future bucket and one for
/// their sum. Empty for [`Method::InsufficientData`].
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    pub method: Method,
    pub points: Vec<Estimate>,
    pub total: Option<Estimate>,
}

impl Projection {
    fn insufficient() -> Self {
        Self {
            method: Method::InsufficientData,
            points: Vec::new(),
            total: None,
        }
    }
}

/// Forecasts `horizon` buckets of `history` (oldest first), starting
/// `skip + 1` buckets after its last one (`skip` buckets are not observed
/// yet, such as the partial bucket holding now). `season` is the season
/// length to try (7 for daily buckets), if any.
pub fn project(history: &[f64], skip: usize, horizon: usize, season: Option<usize>) -> Projection {
    let first = history.iter().position(|y| *y != 0.0);
    let Some(first) = first else {
        return Projection::insufficient();
    };
    let y = &history[first..];
    if y.iter().filter(|v| **v != 0.0).count() < MIN_NON_EMPTY || horizon == 0 {
        return Projection::insufficient();
    }
    let mut best = fit(y, 0);
    if let Some(m) = season.filter(|m| *m >= 2 && y.len() >= MIN_SEASONS * m) {
        let seasonal = fit(y, m);
        if seasonal.aic(y.len()) < best.aic(y.len()) {
            best = seasonal;
        }
    }
    best.project(y.len(), skip, horizon)
}

/// The ratio `numerator / denominator` of two forecasts (a rate from its two
/// counts), by the first-order (delta) approximation with independent
/// errors: `r = N / D`, `sd_r = √(sd_N² + r² sd_D²) / D`, with `N` and `D`
/// clamped at 0. Where no denominator is expected, the rate is 0 with an
/// unbounded error (its interval, once clamped, is all of `[0, 1]`).
pub fn ratio(numerator: &Projection, denominator: &Projection) -> Projection {
    if numerator.method == Method::InsufficientData
        || denominator.method == Method::InsufficientData
    {
        return Projection::insufficient();
    }
    let divide = |n: &Estimate, d: &Estimate| {
        let (n_mean, d_mean) = (n.mean.max(0.0), d.mean.max(0.0));
        if d_mean <= f64::EPSILON {
            return Estimate {
                mean: 0.0,
                sd: f64::INFINITY,
            };
        }
        let r = n_mean / d_mean;
        Estimate {
            mean: r,
            sd: (n.sd.powi(2) + r * r * d.sd.powi(2)).sqrt() / d_mean,
        }
    };
    Projection {
        method: Method::RatioOfForecasts,
        points: numerator
            .points
            .iter()
            .zip(&denominator.points)
            .map(|(n, d)| divide(n, d))
            .collect(),
        total: numerator
            .total
            .as_ref()
            .zip(denominator.total.as_ref())
            .map(|(n, d)| divide(n, d)),
    }
}

/// A fitted model: its parameters, final states and one-step errors.
#[derive(Clone, Debug)]
struct Fit {
    alpha: f64,
    beta: f64,
    gamma: f64,
    /// Season length, 0 for none.
    m: usize,
    level: f64,
    trend: f64,
    /// `seasons[t % m]` is the season of time `t` (empty without a season).
    seasons: Vec<f64>,
    sse: f64,
}

impl Fit {
    /// Free parameters: smoothing parameters and start states.
    fn parameters(&self) -> usize {
        if self.m == 0 {
            4
        } else {
            5 + self.m
        }
    }

    fn aic(&self, n: usize) -> f64 {
        let n = n as f64;
        // A floor keeps exact fits (constant series) comparable.
        let mse = (self.sse / n).max(1e-12);
        n * mse.ln() + 2.0 * self.parameters() as f64
    }

    /// The error weight `c_j` of a shock `j` steps back.
    fn weight(&self, j: usize) -> f64 {
        let seasonal = if self.m > 0 && j % self.m == 0 {
            self.gamma
        } else {
            0.0
        };
        self.alpha + self.alpha * self.beta * j as f64 + seasonal
    }

    fn project(&self, n: usize, skip: usize, horizon: usize) -> Projection {
        let dof = n.saturating_sub(self.parameters()).max(1) as f64;
        let sigma2 = self.sse / dof;
        let steps: Vec<usize> = (skip + 1..=skip + horizon).collect();
        let last = *steps.last().unwrap_or(&0);
        // `weights[j]` is c_j, with c_0 = 1 (the shock of the step itself).
        let weights: Vec<f64> = (0..last)
            .map(|j| if j == 0 { 1.0 } else { self.weight(j) })
            .collect();
        let points = steps
            .iter()
            .map(|&h| {
                let season = if self.m > 0 {
                    self.seasons[(n - 1 + h) % self.m]
                } else {
                    0.0
                };
                let spread: f64 = weights[..h].iter().map(|c| c * c).sum();
                Estimate {
                    mean: self.level + h as f64 * self.trend + season,
                    sd: (sigma2 * spread).sqrt(),
                }
            })
            .collect::<Vec<_>>();
        // The total's error is Σ_h Σ_{k≤h} c_{h−k} ε_k: shock k weighs the
        // sum of the c_{h−k} over the steps h it precedes.
        let total_spread: f64 = (1..=last)
            .map(|k| {
                let w: f64 = steps
                    .iter()
                    .filter(|h| **h >= k)
                    .map(|h| weights[h - k])
                    .sum();
                w * w
            })
            .sum();
        let total = Estimate {
            mean: points.iter().map(|p| p.mean).sum(),
            sd: (sigma2 * total_spread).sqrt(),
        };
        Projection {
            method: if self.m > 0 {
                Method::HoltWintersAdditive
            } else {
                Method::HoltLinear
            },
            points,
            total: Some(total),
        }
    }
}

/// The least-squares line `a + b t` through `y` at `t = 0, 1, …`.
fn line(y: &[f64]) -> (f64, f64) {
    let n = y.len() as f64;
    let t_mean = (n - 1.0) / 2.0;
    let y_mean = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (t, v) in y.iter().enumerate() {
        let dt = t as f64 - t_mean;
        sxy += dt * (v - y_mean);
        sxx += dt * dt;
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (y_mean - slope * t_mean, slope)
}

/// The best model of a grid, with season length `m` (0 for none).
fn fit(y: &[f64], m: usize) -> Fit {
    let (intercept, slope) = line(y);
    let mut seasons = vec![0.0; m];
    if m > 0 {
        // Mean deviation from the line per position, over whole seasons,
        // shifted to sum to zero.
        let whole = y.len() - y.len() % m;
        let mut counts = vec![0usize; m];
        for (t, v) in y[..whole].iter().enumerate() {
            seasons[t % m] += v - (intercept + slope * t as f64);
            counts[t % m] += 1;
        }
        for (s, c) in seasons.iter_mut().zip(&counts) {
            *s /= (*c).max(1) as f64;
        }
        let mean = seasons.iter().sum::<f64>() / m as f64;
        seasons.iter_mut().for_each(|s| *s -= mean);
    }
    // States before the first observation: its one-step forecast is the line at 0.
    let start = Fit {
        alpha: 0.0,
        beta: 0.0,
        gamma: 0.0,
        m,
        level: intercept - slope,
        trend: slope,
        seasons,
        sse: f64::INFINITY,
    };
    let gammas: &[f64] = if m > 0 { &GAMMAS } else { &[0.0] };
    let mut best = start.clone();
    for &alpha in &ALPHAS {
        for &beta in &BETAS {
            for &gamma in gammas {
                if gamma > 1.0 - alpha {
                    continue;
                }
                let candidate = smooth(y, &start, alpha, beta, gamma);
                if candidate.sse < best.sse {
                    best = candidate;
                }
            }
        }
    }
    best
}

/// Runs the smoothing recursions over `y` from the start states.
fn smooth(y: &[f64], start: &Fit, alpha: f64, beta: f64, gamma: f64) -> Fit {
    let mut f = Fit {
        alpha,
        beta,
        gamma,
        sse: 0.0,
        ..start.clone()
    };
    for (t, v) in y.iter().enumerate() {
        let season = if f.m > 0 { f.seasons[t % f.m] } else { 0.0 };
        let e = v - (f.level + f.trend + season);
        f.sse += e * e;
        f.level += f.trend + alpha * e;
        f.trend += alpha * beta * e;
        if f.m > 0 {
            f.seasons[t % f.m] += gamma * e;
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// A standard normal draw (Box–Muller).
    fn normal(rng: &mut StdRng) -> f64 {
        let u: f64 = rng.gen_range(f64::EPSILON..1.0);
        let v: f64 = rng.gen_range(0.0..1.0);
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    #[test]
    fn too_little_history_gives_no_forecast() {
        assert_eq!(
            project(&[0.0; 60], 1, 30, Some(WEEK)).method,
            Method::InsufficientData
        );
        let sparse = [0.0, 3.0, 0.0, 0.0, 5.0, 0.0, 2.0, 0.0];
        let p = project(&sparse, 0, 4, None);
        assert_eq!(p.method, Method::InsufficientData);
        assert!(p.points.is_empty() && p.total.is_none());
        let enough = [0.0, 3.0, 0.0, 1.0, 5.0, 0.0, 2.0, 0.0];
        assert_eq!(project(&enough, 0, 4, None).method, Method::HoltLinear);
        assert_eq!(project(&[], 0, 4, None).method, Method::InsufficientData);
    }

    #[test]
    fn a_constant_series_is_forecast_exactly() {
        let p = project(&[5.0; 40], 1, 10, Some(WEEK));
        assert_eq!(p.method, Method::HoltLinear, "no season to pay for");
        assert_eq!(p.points.len(), 10);
        for e in &p.points {
            assert!((e.mean - 5.0).abs() < 1e-9, "{e:?}");
            assert!(e.sd < 1e-6, "{e:?}");
        }
        let total = p.total.unwrap();
        assert!((total.mean - 50.0).abs() < 1e-6);
    }

    #[test]
    fn a_straight_line_is_extended() {
        let y: Vec<f64> = (0..12).map(|t| 10.0 + 2.0 * t as f64).collect();
        let p = project(&y, 1, 3, None);
        let means: Vec<f64> = p.points.iter().map(|e| e.mean).collect();
        // Observed up to t = 11; t = 12 is skipped; forecasts for 13, 14, 15.
        for (got, want) in means.iter().zip([36.0, 38.0, 40.0]) {
            assert!((got - want).abs() < 1e-6, "{means:?}");
        }
    }

    #[test]
    fn a_clear_weekly_season_picks_holt_winters() {
        let profile = [10.0, 12.0, 12.0, 11.0, 9.0, 2.0, 1.0];
        let y: Vec<f64> = (0..35).map(|t| profile[t % 7]).collect();
        let p = project(&y, 0, 7, Some(WEEK));
        assert_eq!(p.method, Method::HoltWintersAdditive);
        for (h, e) in p.points.iter().enumerate() {
            assert!((e.mean - profile[(35 + h) % 7]).abs() < 0.5, "{h}: {e:?}");
        }
        // Without the season, or with two weeks only, Holt.
        assert_eq!(project(&y, 0, 7, None).method, Method::HoltLinear);
        assert_eq!(
            project(&y[..14], 0, 7, Some(WEEK)).method,
            Method::HoltLinear
        );
    }

    #[test]
    fn intervals_widen_with_the_horizon_and_clamp_at_zero() {
        let mut rng = StdRng::seed_from_u64(7);
        let y: Vec<f64> = (0..30)
            .map(|_| (3.0 + 2.0 * normal(&mut rng)).max(0.0))
            .collect();
        let p = project(&y, 0, 10, None);
        let sds: Vec<f64> = p.points.iter().map(|e| e.sd).collect();
        assert!(sds.windows(2).all(|w| w[1] >= w[0]), "{sds:?}");
        let total = p.total.unwrap();
        assert!(
            total.sd > sds[9],
            "the total is less certain than one bucket"
        );
        let (value, low, high) = Estimate { mean: 1.0, sd: 2.0 }.interval(0.0, f64::INFINITY);
        assert_eq!((value, low), (1.0, 0.0));
        assert!((high - (1.0 + 2.0 * Z80)).abs() < 1e-12);
        let (value, low, high) = Estimate {
            mean: -3.0,
            sd: 1.0,
        }
        .interval(0.0, f64::INFINITY);
        assert_eq!((value, low, high), (0.0, 0.0, 0.0));
    }

    #[test]
    fn a_rate_is_the_ratio_of_its_count_forecasts() {
        let meetings: Vec<f64> = (0..20).map(|t| 2.0 + (t % 2) as f64).collect();
        let outreach: Vec<f64> = (0..20).map(|t| 10.0 + (t % 2) as f64).collect();
        let m = project(&meetings, 0, 5, None);
        let o = project(&outreach, 0, 5, None);
        let r = ratio(&m, &o);
        assert_eq!(r.method, Method::RatioOfForecasts);
        assert_eq!(r.points.len(), 5);
        for ((rate, n), d) in r.points.iter().zip(&m.points).zip(&o.points) {
            assert!((rate.mean - n.mean / d.mean).abs() < 1e-12);
        }
        let total = r.total.unwrap();
        let want = m.total.unwrap().mean / o.total.unwrap().mean;
        assert!((total.mean - want).abs() < 1e-12);
        assert!(total.sd.is_finite() && total.sd > 0.0);
        let none = project(&[0.0; 20], 0, 5, None);
        assert_eq!(ratio(&m, &none).method, Method::InsufficientData);
        let zero = Estimate { mean: 0.0, sd: 1.0 };
        let nothing_sent = ratio(
            &m,
            &Projection {
                method: Method::HoltLinear,
                points: vec![zero],
                total: Some(zero),
            },
        );
        let (value, low, high) = nothing_sent.points[0].interval(0.0, 1.0);
        assert_eq!((value, low, high), (0.0, 0.0, 1.0));
    }

    /// What a backtest measured over held-out points.
    #[derive(Default, Debug)]
    struct Score {
        points: usize,
        covered: usize,
        abs_error: f64,
        naive_abs_error: f64,
    }

    impl Score {
        fn coverage(&self) -> f64 {
            self.covered as f64 / self.points as f64
        }
    }

    /// Fits on `series[..n]`, forecasts the next `horizon` points after
    /// `skip` unobserved ones, and scores them against the held-out truth
    /// and against "same as last period" (the `horizon` points before them).
    fn score(score: &mut Score, series: &[f64], n: usize, skip: usize, horizon: usize) {
        let p = project(&series[..n], skip, horizon, Some(WEEK));
        assert_eq!(p.points.len(), horizon, "{:?}", p.method);
        let start = n + skip;
        for (i, e) in p.points.iter().enumerate() {
            let (value, low, high) = e.interval(0.0, f64::INFINITY);
            let actual = series[start + i];
            let naive = series[start + i - horizon];
            score.points += 1;
            score.covered += usize::from(low <= actual && actual <= high);
            score.abs_error += (value - actual).abs();
            score.naive_abs_error += (naive - actual).abs();
        }
    }

    /// Daily counts: level, trend, a weekly profile and noise, rounded and
    /// never negative, like real activity counts.
    fn synthetic(rng: &mut StdRng, len: usize, seasonal: bool, trending: bool) -> Vec<f64> {
        let level = rng.gen_range(20.0..80.0);
        let trend = if trending {
            rng.gen_range(-0.25..0.6)
        } else {
            0.0
        };
        let amplitude = if seasonal {
            rng.gen_range(0.2..0.5) * level
        } else {
            0.0
        };
        let noise = rng.gen_range(0.08..0.2) * level;
        // Busy weekdays, quiet weekends.
        let profile = [0.5, 0.6, 0.6, 0.5, 0.3, -1.2, -1.3];
        let phase = rng.gen_range(0..7);
        (0..len)
            .map(|t| {
                let y = level
                    + trend * t as f64
                    + amplitude * profile[(t + phase) % 7]
                    + noise * normal(rng);
                y.round().max(0.0)
            })
            .collect()
    }

    /// A month of daily buckets forecast from the two before (the month
    /// summary: 60 days, the newest partial so skipped, 30 days ahead).
    fn backtest(seed: u64, seasonal: bool, trending: bool) -> Score {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut s = Score::default();
        for i in 0..200 {
            let skip = i % 2;
            let series = synthetic(&mut rng, 90, seasonal, trending);
            score(&mut s, &series, 60 - skip, skip, 30);
        }
        s
    }

    fn assert_honest(name: &str, s: &Score) {
        let coverage = s.coverage();
        eprintln!(
            "{name}: {} points, coverage {:.3}, MAE {:.3}, naive MAE {:.3}",
            s.points,
            coverage,
            s.abs_error / s.points as f64,
            s.naive_abs_error / s.points as f64
        );
        assert!(
            (0.70..=0.90).contains(&coverage),
            "{name}: the 80 % interval covered {coverage:.3}"
        );
        assert!(
            s.abs_error < s.naive_abs_error,
            "{name}: MAE {} is not below the naive {}",
            s.abs_error,
            s.naive_abs_error
        );
    }

    #[test]
    fn backtest_trend_weekly_season_and_noise() {
        assert_honest("trend + season + noise", &backtest(1, true, true));
    }

    #[test]
    fn backtest_weekly_season_and_noise() {
        assert_honest("season + noise", &backtest(2, true, false));
    }

    #[test]
    fn backtest_trend_and_noise() {
        assert_honest("trend + noise", &backtest(3, false, true));
    }

    #[test]
    fn backtest_flat_noisy_series() {
        assert_honest("flat + noise", &backtest(4, false, false));
    }

    #[test]
    fn backtest_monthly_buckets_with_trend() {
        // The year summary: 24 months of history, the newest partial, 12 ahead.
        let mut rng = StdRng::seed_from_u64(5);
        let mut s = Score::default();
        for _ in 0..300 {
            let level = rng.gen_range(300.0..1500.0);
            let trend = rng.gen_range(-0.01..0.03) * level;
            let noise = rng.gen_range(0.05..0.12) * level;
            let series: Vec<f64> = (0..36)
                .map(|t| {
                    (level + trend * t as f64 + noise * normal(&mut rng))
                        .round()
                        .max(0.0)
                })
                .collect();
            score(&mut s, &series, 23, 1, 12);
        }
        assert_honest("monthly trend + noise", &s);
    }

    #[test]
    fn backtest_all_zeros_and_constant() {
        // Zeros: never a made-up line.
        let zeros = vec![0.0; 90];
        assert_eq!(
            project(&zeros[..60], 0, 30, Some(WEEK)).method,
            Method::InsufficientData
        );
        // Constant: exact, so no error at all, and the naive forecast ties.
        let mut s = Score::default();
        score(&mut s, &[12.0; 90], 59, 1, 30);
        assert_eq!(s.covered, s.points);
        assert!(s.abs_error < 1e-6);
    }
}

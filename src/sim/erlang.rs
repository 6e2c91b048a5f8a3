//! Queueing theory to check the simulator against: Erlang C (M/M/n, callers
//! wait forever) and Erlang A (M/M/n+M, callers abandon after an
//! exponential patience). Both are computed from the birth–death chain of
//! the number of calls in the system, which is exact for these models.

/// Steady-state figures of a single queue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Figures {
    /// Probability that an arriving caller waits at all.
    pub p_wait: f64,
    /// Probability that a caller abandons (0 under Erlang C).
    pub p_abandon: f64,
    /// Mean wait of all callers, seconds.
    pub mean_wait_s: f64,
    /// Mean wait of answered callers, seconds (ASA).
    pub asa_s: f64,
    /// Agent occupancy.
    pub occupancy: f64,
}

/// Erlang C: `agents` servers, `per_hour` Poisson arrivals, exponential
/// handle times with mean `aht_s`. `None` when the load reaches the
/// number of agents (the queue grows without end).
pub fn erlang_c(agents: u32, per_hour: f64, aht_s: f64) -> Option<Figures> {
    let load = per_hour * aht_s / 3600.0;
    let n = f64::from(agents);
    if load >= n {
        return None;
    }
    // The Erlang B recursion, then C from B.
    let mut b = 1.0;
    for k in 1..=agents {
        b = load * b / (f64::from(k) + load * b);
    }
    let p_wait = n * b / (n - load * (1.0 - b));
    let mean_wait_s = p_wait * aht_s / (n - load);
    Some(Figures {
        p_wait,
        p_abandon: 0.0,
        mean_wait_s,
        asa_s: mean_wait_s,
        occupancy: load / n,
    })
}

/// Probability that a caller waits at most `t_s` seconds under Erlang C.
pub fn erlang_c_service_level(agents: u32, per_hour: f64, aht_s: f64, t_s: f64) -> Option<f64> {
    let f = erlang_c(agents, per_hour, aht_s)?;
    let n = f64::from(agents);
    let load = per_hour * aht_s / 3600.0;
    Some(1.0 - f.p_wait * (-(n - load) * t_s / aht_s).exp())
}

/// Erlang A: as Erlang C, and each waiting caller abandons at rate
/// 1/`patience_s`.
pub fn erlang_a(agents: u32, per_hour: f64, aht_s: f64, patience_s: f64) -> Figures {
    let lambda = per_hour / 3600.0;
    let mu = 1.0 / aht_s;
    let theta = 1.0 / patience_s;
    let n = agents as usize;
    // Unnormalised probabilities of k calls in the system, until the tail
    // no longer matters.
    let mut p = vec![1.0f64];
    let mut k = 0usize;
    loop {
        let death = (k + 1).min(n) as f64 * mu + (k + 1).saturating_sub(n) as f64 * theta;
        let next = p[k] * lambda / death;
        p.push(next);
        k += 1;
        if k > n && next < 1e-14 * p.iter().sum::<f64>() {
            break;
        }
    }
    let total: f64 = p.iter().sum();
    let p: Vec<f64> = p.iter().map(|x| x / total).collect();
    // PASTA: an arriving caller sees the steady state.
    let p_wait: f64 = p[n..].iter().sum();
    let queue_len: f64 = p
        .iter()
        .enumerate()
        .map(|(k, x)| k.saturating_sub(n) as f64 * x)
        .sum();
    let busy: f64 = p.iter().enumerate().map(|(k, x)| k.min(n) as f64 * x).sum();
    let p_abandon = theta * queue_len / lambda;
    let mean_wait_s = queue_len / lambda;
    Figures {
        p_wait,
        p_abandon,
        mean_wait_s,
        asa_s: answered_wait(&p, n, mu, theta),
        occupancy: busy / n as f64,
    }
}

/// Mean wait of callers who are answered, under Erlang A: a caller who
/// arrives to find j callers ahead moves up one place at a time; at each
/// place, the time to the next departure ahead is exponential with rate
/// n·mu + (callers ahead)·theta, and the caller survives it (does not
/// abandon) with probability rate/(rate + theta).
fn answered_wait(p: &[f64], n: usize, mu: f64, theta: f64) -> f64 {
    let served = n as f64 * mu;
    let mut answered = 0.0;
    let mut wait_sum = 0.0;
    for (k, pk) in p.iter().enumerate().skip(n) {
        // k − n callers ahead; the caller passes k − n + 1 steps.
        let ahead = k - n;
        let mut survive = 1.0;
        let mut mean = 0.0;
        for j in (0..=ahead).rev() {
            // j callers ahead of this one, all of whom may leave.
            let rate = served + j as f64 * theta;
            let out = rate + theta;
            mean += 1.0 / out;
            survive *= rate / out;
        }
        // Given the caller survived, each stage's time is still
        // exponential with the combined rate (memorylessness).
        answered += pk * survive;
        wait_sum += pk * survive * mean;
    }
    let immediate: f64 = p[..n].iter().sum();
    let total_answered = answered + immediate;
    if total_answered > 0.0 {
        wait_sum / total_answered
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_published_figures() {
        // 10 agents, 2 Erlangs short of full: a textbook case
        // (λ = 8/min·… here 240/h with 2 min AHT = 8 Erlangs).
        let f = erlang_c(10, 240.0, 120.0).expect("stable");
        assert!((f.p_wait - 0.409).abs() < 0.002, "{f:?}");
        assert!((f.occupancy - 0.8).abs() < 1e-9);
        assert!(erlang_c(8, 240.0, 120.0).is_none());
    }

    #[test]
    fn erlang_a_tends_to_erlang_c_with_endless_patience() {
        let c = erlang_c(10, 240.0, 120.0).expect("stable");
        let a = erlang_a(10, 240.0, 120.0, 1e9);
        assert!((a.p_wait - c.p_wait).abs() < 1e-4, "{a:?} {c:?}");
        assert!((a.mean_wait_s - c.mean_wait_s).abs() < 0.05, "{a:?} {c:?}");
        assert!((a.asa_s - c.asa_s).abs() < 0.05, "{a:?} {c:?}");
        assert!(a.p_abandon < 1e-6);
    }
}

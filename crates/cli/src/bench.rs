//! `legemiddel bench`: how fast the engine is, measured, not asserted.
//!
//! `bench requests` writes realistic generated requests (JSON Lines) for timing
//! `decide --batch` end to end; `bench decide` times the core in-process on one thread, with the
//! explanation built, and the JSON round trip on one thread for comparison.

use std::hint::black_box;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use ruleset::RuleSet;
use serde_json::{Value, json};

/// A small, fast, deterministic generator (SplitMix64): the same seed gives the same requests.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const ROLES: [&str; 4] = ["gp", "specialist", "hospital_doctor", "pain_clinic"];

/// One generated decision request: a mix of the situations the rules distinguish (§ 2, § 3,
/// § 4, the § 1b list with its brand-only and group-level entries, opioids, off-label use,
/// hospital settings, palliative care, unregistered cannabis), on dates from 2024 to 2026.
pub fn request(rng: &mut Rng) -> Value {
    let date = format!(
        "{}-{:02}-{:02}",
        2024 + rng.below(3),
        1 + rng.below(12),
        1 + rng.below(28)
    );
    let date = if date.as_str() < "2024-02-01" {
        "2024-02-01".to_string()
    } else {
        date
    };
    let role = *rng.pick(&ROLES);
    let mut r = match rng.below(14) {
        0 => {
            json!({"drug": {"atc": "C10AA05", "substance": "atorvastatin", "prescription_group": "C"},
                    "use": {"refund_listed": true, "refund_code": "T93"}})
        }
        1 => json!({"drug": {"atc": "H02AB13", "substance": "deflazacort"}}),
        2 => {
            json!({"drug": {"atc": "J01GB06", "substance": "amikacin", "brand": *rng.pick(&["Arikayce", "Amikacin B. Braun"])},
                    "started_in": "specialist"})
        }
        3 => json!({"drug": {"atc": "J01CA04", "substance": "amoksicillin"},
                    "use": {"generally_dangerous_infection": rng.chance(70)}, "patient": {"member": rng.chance(80)}}),
        4 => json!({"drug": {"atc": "J07BB02", "substance": "influensavaksine"},
                    "use": {"generally_dangerous_infection": rng.chance(30)}}),
        5 => json!({"drug": {"atc": "A10BJ06", "substance": "semaglutid", "brand": "Wegovy"}}),
        6 => {
            json!({"drug": {"atc": "N02AA05", "substance": "oksykodon", "prescription_group": "A"},
                    "opioid": {"omeq": 10 * (1 + rng.below(40)), "pain": *rng.pick(&["non_cancer", "cancer", "unclarified"]),
                               "kind": *rng.pick(&["standard", "standard", "fast_acting"])}})
        }
        7 => {
            json!({"drug": {"atc": "L04AX01", "substance": "azatioprin"}, "started_in": "specialist",
                    "use": {"on_label": false, "established": rng.chance(50), "helfo_documentation": rng.chance(50),
                            "nye_metoder": *rng.pick(&["none", "under_assessment", "decided_yes", "decided_no"])},
                    "patient": {"other_hf": rng.chance(30)}})
        }
        8 => json!({"drug": {"atc": "L01FA01", "substance": "rituksimab"},
                    "setting": *rng.pick(&["inpatient", "outpatient", "lar", "clinical_trial"]), "started_in": "specialist"}),
        9 => json!({"drug": {"atc": "N02AA01", "substance": "morfin"},
                    "use": {"palliative": true, "refund_code": "-90"}, "treatment": {"months_per_year": 1 + rng.below(3)}}),
        10 => {
            json!({"drug": {"atc": "N02BG10", "substance": "cannabis", "authorisation": "unauthorised",
                              "thc_percent": rng.below(25)}})
        }
        11 => {
            json!({"drug": {"atc": "L01EM03", "substance": *rng.pick(&["inavolisib", "alpelisib"])}, "started_in": "specialist"})
        }
        12 => {
            json!({"drug": {"atc": "C10AX13", "substance": "evolokumab"}, "patient": {"age": rng.below(90)}})
        }
        _ => {
            json!({"drug": {"atc": "R03DX05", "substance": "omalizumab", "prescription_group": "C"},
                    "treatment": {"months_per_year": rng.below(13), "repeated": rng.chance(20)},
                    "patient": {"id": *rng.pick(&["fnr", "fnr", "dnr", "none"])}})
        }
    };
    r["date"] = json!(date);
    r["prescriber"] = json!({ "role": role });
    r
}

/// Writes `count` generated requests as JSON Lines.
pub fn write_requests(count: u64, seed: u64, mut out: impl Write) -> io::Result<()> {
    let mut rng = Rng::new(seed);
    let mut line = Vec::with_capacity(512);
    for _ in 0..count {
        line.clear();
        serde_json::to_writer(&mut line, &request(&mut rng)).map_err(io::Error::other)?;
        line.push(b'\n');
        out.write_all(&line)?;
    }
    out.flush()
}

/// Times the core in-process on this thread and prints decisions per second.
pub fn run(
    rules: &RuleSet,
    count: usize,
    rounds: usize,
    seed: u64,
    mut out: impl Write,
) -> anyhow::Result<()> {
    let mut rng = Rng::new(seed);
    let lines: Vec<Vec<u8>> = (0..count)
        .map(|_| serde_json::to_vec(&request(&mut rng)).expect("JSON in memory"))
        .collect();
    let requests: Vec<_> = lines
        .iter()
        .map(|l| contract::parse_decision_request(l))
        .collect::<Result<_, _>>()?;
    writeln!(
        out,
        "{} genererte forespørsler (frø {seed}), {rounds} runder, én tråd",
        requests.len()
    )?;

    let core = best_of(rounds, || {
        let mut steps = 0usize;
        for r in &requests {
            let d = decide::decide(black_box(r), rules).expect("generated requests decide");
            steps += d.explanation.len();
            black_box(&d);
        }
        steps
    });
    writeln!(
        out,
        "kjerne (decide, med forklaring):           {:>12.0} beslutninger/s",
        rate(requests.len(), core)
    )?;

    let mut buf = Vec::with_capacity(4 << 20);
    let json = best_of(rounds, || {
        let mut bytes = 0;
        for l in &lines {
            buf.clear();
            contract::answer(contract::Command::Decide, black_box(l), rules, &mut buf)
                .expect("generated requests decide");
            bytes += buf.len();
        }
        bytes
    });
    writeln!(
        out,
        "JSON inn → beslutning → JSON ut:           {:>12.0} forespørsler/s",
        rate(lines.len(), json)
    )?;
    Ok(())
}

/// Runs `work` `rounds` times and returns the fastest time (the least disturbed by the machine).
fn best_of(rounds: usize, mut work: impl FnMut() -> usize) -> Duration {
    black_box(work()); // warm-up
    (0..rounds.max(1))
        .map(|_| {
            let start = Instant::now();
            black_box(work());
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(f64::MIN_POSITIVE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_requests_are_valid_and_deterministic() {
        let rules = RuleSet::embedded().unwrap();
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..2_000 {
            let r = request(&mut a);
            assert_eq!(r, request(&mut b));
            let bytes = serde_json::to_vec(&r).unwrap();
            let mut out = Vec::new();
            contract::answer(contract::Command::Decide, &bytes, &rules, &mut out)
                .unwrap_or_else(|e| panic!("{r}: {e}"));
        }
    }
}

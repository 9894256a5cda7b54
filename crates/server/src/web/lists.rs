//! Lists of cases as people use them: told apart by patient, date and state, searched by
//! free text, filtered by state and paged — by a query string, so a filtered list is a link
//! that can be bookmarked and works without JavaScript.
//!
//! The cases a list may show are chosen first (by role and trust, in the store); this module
//! only narrows and pages what the user may already see.

/// The query string of a list: `?q=…&status=…&side=…` (plus the flash message).
#[derive(serde::Deserialize, Default, Clone)]
pub struct ListQuery {
    /// A flash message code after a redirect.
    pub melding: Option<String>,
    /// Free text: every word must occur in the row (case number, medicine, patient, applicant…).
    pub q: Option<String>,
    /// A state code (`manual`, `approved` …); empty for all.
    pub status: Option<String>,
    /// The page, from 1.
    pub side: Option<usize>,
}

/// Rows per page.
pub const PAGE_SIZE: usize = 25;

/// One row: its link, its cells (the first is the case number), its state code.
pub struct Row {
    pub href: String,
    pub cells: Vec<String>,
    pub state: String,
    /// Also searched, never shown: the whole fødselsnummer a list shows only the start of.
    pub keys: String,
}

/// What the template needs: the rows of this page and how to reach the others.
pub struct Listing {
    pub rows: Vec<(String, Vec<String>)>,
    /// Matches in all (after search and filter).
    pub total: usize,
    /// All cases the list holds before search and filter.
    pub all: usize,
    pub q: String,
    /// `(code, label, selected)` for the state filter: only the states present.
    pub states: Vec<(String, String, bool)>,
    pub page: usize,
    pub pages: usize,
    /// Links to the previous and the next page, keeping search and filter.
    pub previous: Option<String>,
    pub next: Option<String>,
    /// The list's own address, for the form and the links.
    pub path: String,
}

/// Narrows `rows` by the query's text and state, and cuts out its page. `describe` names a
/// state code for the filter's options.
pub fn listing(
    path: &str,
    rows: Vec<Row>,
    query: &ListQuery,
    describe: impl Fn(&str) -> String,
) -> Listing {
    let q = query.q.clone().unwrap_or_default().trim().to_string();
    let status = query.status.clone().unwrap_or_default().trim().to_string();
    let all = rows.len();
    let mut codes: Vec<String> = rows.iter().map(|r| r.state.clone()).collect();
    codes.sort();
    codes.dedup();
    let states = codes
        .into_iter()
        .map(|c| (c.clone(), describe(&c), c == status))
        .collect();
    let words: Vec<String> = q.split_whitespace().map(str::to_lowercase).collect();
    let matching: Vec<Row> = rows
        .into_iter()
        .filter(|r| status.is_empty() || r.state == status)
        .filter(|r| {
            let text = format!("{} {}", r.cells.join(" "), r.keys).to_lowercase();
            // A fødselsnummer typed with its space finds the one shown without it, and back.
            let compact: String = text.split_whitespace().collect();
            words
                .iter()
                .all(|w| text.contains(w.as_str()) || compact.contains(w.as_str()))
        })
        .collect();
    let total = matching.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = query.side.unwrap_or(1).clamp(1, pages);
    let link = |p: usize| {
        let mut pairs = Vec::new();
        if !q.is_empty() {
            pairs.push(format!("q={}", encode(&q)));
        }
        if !status.is_empty() {
            pairs.push(format!("status={}", encode(&status)));
        }
        pairs.push(format!("side={p}"));
        format!("{path}?{}", pairs.join("&"))
    };
    Listing {
        rows: matching
            .into_iter()
            .skip((page - 1) * PAGE_SIZE)
            .take(PAGE_SIZE)
            .map(|r| (r.href, r.cells))
            .collect(),
        total,
        all,
        previous: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        q,
        states,
        page,
        pages,
        path: path.to_string(),
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A patient reference a doctor recognises without the list showing a whole national
/// identity number: a fødselsnummer as its birth date `ddmmåå *****` (as the API shows it
/// outside the case), a record number as it was typed. The whole number is still searchable.
pub fn patient_reference(key: Option<&str>) -> String {
    match key {
        Some(k) if k.len() == 11 && k.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{} *****", &k[..6])
        }
        // A paper application's key is `papir:<name>:<birth date>`: its birth date tells it apart.
        Some(k) if k.starts_with("papir:") => match k.rsplit(':').next() {
            Some(born) if born.len() == 10 => format!("papir, født {}", norwegian_date(born)),
            _ => "papirsøknad".to_string(),
        },
        Some(k) => k.to_string(),
        None => String::new(),
    }
}

/// An ISO date (or the date of an RFC 3339 time) as people write it here: `dd.mm.åååå`.
pub fn norwegian_date(iso: &str) -> String {
    match (iso.get(..4), iso.get(5..7), iso.get(8..10)) {
        (Some(y), Some(m), Some(d)) if iso.as_bytes().get(4) == Some(&b'-') => {
            format!("{d}.{m}.{y}")
        }
        _ => iso.to_string(),
    }
}

/// Days from an RFC 3339 time's date to `today`, for "venter i N dager".
pub fn age_days(since: &str, today: domain::Date) -> Option<i64> {
    let date = domain::Date::parse(since.get(..10)?).ok()?;
    Some(today.days_since(date))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize) -> Vec<Row> {
        (1..=n)
            .map(|i| Row {
                href: format!("/helfo/{i}"),
                cells: vec![
                    format!("H-{i}"),
                    if i % 2 == 0 { "Oksykodon" } else { "Wegovy" }.to_string(),
                    patient_reference(Some(&format!("0101801{i:04}"))),
                ],
                state: if i % 3 == 0 { "manual" } else { "granted" }.into(),
                keys: format!("0101801{i:04}"),
            })
            .collect()
    }

    fn query(q: &str, status: &str, side: usize) -> ListQuery {
        ListQuery {
            melding: None,
            q: Some(q.into()),
            status: Some(status.into()),
            side: Some(side),
        }
    }

    #[test]
    fn searches_every_word_filters_by_state_and_pages() {
        let l = listing("/helfo", rows(60), &query("oksy", "", 1), |c| c.into());
        assert_eq!((l.all, l.total, l.pages), (60, 30, 2));
        assert_eq!(l.rows.len(), PAGE_SIZE);
        assert_eq!(l.next.as_deref(), Some("/helfo?q=oksy&side=2"));
        assert_eq!(l.previous, None);
        let l = listing("/helfo", rows(60), &query("oksy", "manual", 1), |c| {
            c.into()
        });
        assert_eq!(l.total, 10, "even numbers that are multiples of 3");
        assert!(l.states.iter().any(|s| s.0 == "manual" && s.2));
        let l = listing("/helfo", rows(60), &query("", "", 9), |c| c.into());
        assert_eq!(
            (l.page, l.rows.len()),
            (3, 10),
            "a page past the end is the last"
        );
    }

    #[test]
    fn a_fodselsnummer_is_found_with_or_without_its_space_but_shown_only_in_part() {
        let with = listing("/helfo", rows(12), &query("010180 10012", "", 1), |c| {
            c.into()
        });
        let without = listing("/helfo", rows(12), &query("01018010012", "", 1), |c| {
            c.into()
        });
        assert_eq!((with.total, without.total), (1, 1));
        assert_eq!(without.rows[0].1[2], "010180 *****");
        assert_eq!(
            patient_reference(Some("papir:ana testesen:1980-05-15")),
            "papir, født 15.05.1980"
        );
    }

    #[test]
    fn dates_read_the_norwegian_way() {
        assert_eq!(norwegian_date("2026-12-01T10:00:00Z"), "01.12.2026");
        assert_eq!(norwegian_date("2026-12-01"), "01.12.2026");
        assert_eq!(norwegian_date(""), "");
    }

    #[test]
    fn links_keep_the_search_encoded() {
        let l = listing("/helfo/ko", rows(60), &query("ø &x", "", 1), |c| c.into());
        assert_eq!(l.total, 0);
        let l = listing("/helfo/ko", rows(60), &query("h-1", "granted", 1), |c| {
            c.into()
        });
        assert!(l.next.is_none() || l.next.unwrap().contains("status=granted"));
        assert_eq!(encode("ø &x"), "%C3%B8%20%26x");
    }
}

//! `decide --batch`: JSON Lines in, one answer per line out, in order, on every core.
//!
//! A reader thread cuts standard input into blocks of whole lines; each block is decided in
//! parallel (rayon, in chunks of lines) and written in input order. Memory stays bounded by a
//! few blocks however long the input is. A bad line yields `{"error": …}` on its own line and
//! the run goes on.

use std::io::{self, Read, Write};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, sync_channel};

use contract::{Command, ContractError};
use rayon::prelude::*;
use ruleset::RuleSet;

/// Size of a block of input handed to the workers.
const BLOCK_BYTES: usize = 4 << 20;
/// Lines per unit of parallel work.
const CHUNK_LINES: usize = 256;

/// What a batch run did.
#[derive(Debug, Default, Clone, Copy)]
pub struct BatchStats {
    /// Lines answered.
    pub lines: u64,
    /// Lines answered with an error.
    pub errors: u64,
}

/// Answers every line of `input` on `output`.
pub fn run(
    command: Command,
    rules: &RuleSet,
    input: impl Read + Send,
    output: impl Write + Send,
) -> io::Result<BatchStats> {
    run_with_blocks(command, rules, input, output, BLOCK_BYTES)
}

fn run_with_blocks(
    command: Command,
    rules: &RuleSet,
    input: impl Read + Send,
    output: impl Write + Send,
    block_bytes: usize,
) -> io::Result<BatchStats> {
    // Three stages that overlap: reading, deciding (on every core), writing. Output buffers go
    // back to a pool once written, so the steady state allocates nothing large.
    let (blocks_tx, blocks_rx) = sync_channel::<io::Result<Vec<u8>>>(2);
    let (answers_tx, answers_rx) = sync_channel::<Vec<Vec<u8>>>(2);
    let pool: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        scope.spawn(move || read_blocks(input, block_bytes, |block| blocks_tx.send(block).is_ok()));
        let writer = scope.spawn(|| write_answers(output, answers_rx, &pool));
        let mut stats = BatchStats::default();
        let mut failure = None;
        for block in blocks_rx {
            let block = match block {
                Ok(block) => block,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            };
            let body = block.strip_suffix(b"\n").unwrap_or(&block);
            let lines: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
            let first_line = stats.lines;
            let answered: Vec<(Vec<u8>, u64)> = lines
                .par_chunks(CHUNK_LINES)
                .enumerate()
                .map(|(chunk_no, chunk)| {
                    let mut out = pool
                        .lock()
                        .ok()
                        .and_then(|mut p| p.pop())
                        .unwrap_or_default();
                    out.clear();
                    let mut errors = 0;
                    for (i, line) in chunk.iter().enumerate() {
                        let line_no = first_line + (chunk_no * CHUNK_LINES + i) as u64 + 1;
                        if let Err(e) = answer_line(command, line, rules, &mut out) {
                            contract::write_error(&e, Some(line_no), &mut out);
                            errors += 1;
                        }
                        out.push(b'\n');
                    }
                    (out, errors)
                })
                .collect();
            stats.lines += lines.len() as u64;
            stats.errors += answered.iter().map(|(_, e)| e).sum::<u64>();
            if answers_tx
                .send(answered.into_iter().map(|(out, _)| out).collect())
                .is_err()
            {
                break; // the writer stopped: its error is reported below
            }
        }
        drop(answers_tx);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the writer thread panicked")));
        match (failure, written) {
            (Some(e), _) | (None, Err(e)) => Err(e),
            (None, Ok(())) => Ok(stats),
        }
    })
}

/// Writes answers in order and returns their buffers to the pool.
fn write_answers(
    mut output: impl Write,
    answers: Receiver<Vec<Vec<u8>>>,
    pool: &Mutex<Vec<Vec<u8>>>,
) -> io::Result<()> {
    for buffers in answers {
        for buffer in &buffers {
            output.write_all(buffer)?;
        }
        if let Ok(mut p) = pool.lock() {
            p.extend(buffers);
        }
    }
    output.flush()
}

fn answer_line(
    command: Command,
    line: &[u8],
    rules: &RuleSet,
    out: &mut Vec<u8>,
) -> Result<(), ContractError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Err(ContractError::new(
            "$",
            "tom linje: ventet én JSON-forespørsel per linje",
        ));
    }
    contract::answer(command, line, rules, out)
}

/// Reads `input` in blocks that end at a line break (the last one may not), passing each to
/// `send` until it returns false or the input ends.
fn read_blocks(
    mut input: impl Read,
    block_bytes: usize,
    mut send: impl FnMut(io::Result<Vec<u8>>) -> bool,
) {
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let mut block = std::mem::take(&mut carry);
        // Fill the block to `block_bytes` (or EOF); a carried line longer than that grows it,
        // so every pass reads something.
        let target = block_bytes.max(block.len() + 1);
        block.reserve(target - block.len());
        let mut eof = false;
        while block.len() < target {
            let want = (target - block.len()) as u64;
            match input.by_ref().take(want).read_to_end(&mut block) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    send(Err(e));
                    return;
                }
            }
        }
        if !eof {
            // Keep the unfinished last line for the next block.
            match block.iter().rposition(|&b| b == b'\n') {
                Some(i) => carry = block.split_off(i + 1),
                None => {
                    // A line longer than a block: keep reading it.
                    carry = block;
                    continue;
                }
            }
        }
        if !block.is_empty() && !send(Ok(block)) {
            return;
        }
        if eof {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_on(input: &str) -> (String, BatchStats) {
        run_blocks(input, BLOCK_BYTES)
    }

    fn run_blocks(input: &str, block_bytes: usize) -> (String, BatchStats) {
        let rules = RuleSet::embedded().unwrap();
        let mut out = Vec::new();
        let stats = run_with_blocks(
            Command::Decide,
            &rules,
            input.as_bytes(),
            &mut out,
            block_bytes,
        )
        .unwrap();
        (String::from_utf8(out).unwrap(), stats)
    }

    const GOOD: &str = r#"{"date":"2025-02-10","drug":{"atc":"C10AA05","substance":"atorvastatin"},"prescriber":{"role":"gp"},"use":{"refund_listed":true}}"#;

    #[test]
    fn one_answer_per_line_in_order_and_errors_do_not_stop_the_run() {
        let input = format!("{GOOD}\nnot json\n\n{GOOD}\r\n{GOOD}");
        let (out, stats) = run_on(&input);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 5);
        assert!(lines[0].starts_with(r#"{"payer":"folketrygden""#));
        assert!(
            lines[1].starts_with(r#"{"error":{"field":"$""#) && lines[1].contains(r#""line":2"#),
            "{}",
            lines[1]
        );
        assert!(lines[2].contains(r#""line":3"#));
        assert!(lines[3].starts_with(r#"{"payer""#) && lines[4].starts_with(r#"{"payer""#));
        assert_eq!((stats.lines, stats.errors), (5, 2));
    }

    #[test]
    fn empty_input_gives_no_output() {
        assert_eq!(run_on("").0, "");
    }

    #[test]
    fn many_lines_across_blocks_keep_their_order() {
        let n = 5_000;
        let input: String = (0..n)
            .map(|i| {
                if i % 97 == 0 {
                    "{}\n".to_string()
                } else {
                    format!("{GOOD}\n")
                }
            })
            .collect();
        // Blocks smaller than a line, and larger: every line must come out once, in order.
        for block in [64, 1000, 4096, BLOCK_BYTES] {
            let (out, stats) = run_blocks(&input, block);
            assert_eq!(stats.lines, n);
            for (i, line) in out.lines().enumerate() {
                assert_eq!(
                    line.starts_with(r#"{"error""#),
                    i % 97 == 0,
                    "line {}",
                    i + 1
                );
            }
        }
    }
}

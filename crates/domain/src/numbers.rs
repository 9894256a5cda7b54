//! Numbers and money as people read them, written without the formatting machinery: these
//! are built into explanation texts on every decision.

use std::fmt;

/// A number written into a stack buffer, for texts built on every decision: whole numbers as integers, others
/// with Rust's shortest round-trip form.
pub struct Digits {
    buf: [u8; 32],
    len: usize,
}

impl Digits {
    /// A whole number.
    pub fn int(mut n: u64) -> Digits {
        let mut buf = [0u8; 32];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        buf.copy_within(i.., 0);
        Digits { buf, len: 32 - i }
    }

    /// A non-negative number as written by people: `3`, `2.5`.
    pub fn num(x: f64) -> Digits {
        if x.fract() == 0.0 && (0.0..1e15).contains(&x) {
            return Digits::int(x as u64);
        }
        let mut d = Digits {
            buf: [0u8; 32],
            len: 0,
        };
        let mut w = &mut d.buf[..];
        let _ = std::io::Write::write_fmt(&mut w, format_args!("{x}"));
        let left = w.len();
        d.len = 32 - left;
        d
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("?")
    }
}

/// Money in whole øre (never floats). Shown as kroner the Norwegian way: `52000` → `520 kr`,
/// `327800` → `3 278 kr`, `12345` → `123,45 kr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ore(pub u64);

impl Ore {
    /// Appends the amount in kroner to `out`.
    pub fn push_kroner(self, out: &mut String) {
        let (kr, ore) = (self.0 / 100, self.0 % 100);
        let digits = Digits::int(kr);
        let digits = digits.as_str();
        // Thousands are separated by a space.
        for (i, ch) in digits.char_indices() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(' ');
            }
            out.push(ch);
        }
        if ore != 0 {
            out.push(',');
            if ore < 10 {
                out.push('0');
            }
            out.push_str(Digits::int(ore).as_str());
        }
        out.push_str(" kr");
    }

    /// The amount in kroner, as text.
    pub fn kroner(self) -> String {
        let mut s = String::with_capacity(16);
        self.push_kroner(&mut s);
        s
    }
}

impl fmt::Display for Ore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kroner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_read_like_numbers() {
        assert_eq!(Digits::int(0).as_str(), "0");
        assert_eq!(Digits::int(300).as_str(), "300");
        assert_eq!(Digits::int(u64::MAX).as_str(), "18446744073709551615");
        assert_eq!(Digits::num(3.0).as_str(), "3");
        assert_eq!(Digits::num(2.5).as_str(), "2.5");
        assert_eq!(Digits::num(100.25).as_str(), "100.25");
    }

    #[test]
    fn kroner_read_like_norwegian() {
        assert_eq!(Ore(52000).kroner(), "520 kr");
        assert_eq!(Ore(327800).kroner(), "3 278 kr");
        assert_eq!(Ore(12345).kroner(), "123,45 kr");
        assert_eq!(Ore(5).kroner(), "0,05 kr");
        assert_eq!(Ore(12_345_678_900).kroner(), "123 456 789 kr");
        assert_eq!(Ore(100_000).kroner(), "1 000 kr");
        assert_eq!(Ore(0).kroner(), "0 kr");
    }
}

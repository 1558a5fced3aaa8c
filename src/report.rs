//! How an error is told to a person: its chain of causes joined once each, and capped so
//! a message built from a hostile file (a 16 KB `.npy` header, a decoder's dump) still
//! names the file and the first problem in a few lines.

use std::error::Error;

/// Longest message shown, in characters; the rest is counted, not printed.
pub const MAX_MESSAGE_CHARS: usize = 600;

/// The error and its causes as one line: `a: b: c`, where a cause whose text the line
/// already holds (a `"{path}: {source}"` message over its own source) is not repeated,
/// nor a file name the line ends with (`writing x.npy` over `x.npy: disk full`).
pub fn report(e: &(dyn Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let t = c.to_string();
        if !text.contains(&t) {
            let rest = match t.split_once(": ") {
                Some((head, rest)) if text.ends_with(head) => rest,
                _ => &t,
            };
            text.push_str(": ");
            text.push_str(rest);
        }
        cause = c.source();
    }
    cap(&text)
}

/// `text` cut to [`MAX_MESSAGE_CHARS`] characters, saying how much was left out.
pub fn cap(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        None => text.to_string(),
        Some((end, _)) => {
            let rest = text[end..].chars().count();
            format!("{} … ({rest} more characters)", &text[..end])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "out.npy: {}", self.0)
        }
    }
    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_cause_already_in_the_message_is_said_once() {
        let e = Outer(std::io::Error::other("No space left on device"));
        assert_eq!(report(&e), "out.npy: No space left on device");
    }

    #[test]
    fn a_file_name_the_context_ends_with_is_not_repeated() {
        let inner = Outer(std::io::Error::other("No space left on device"));
        #[derive(Debug)]
        struct Ctx(Outer);
        impl std::fmt::Display for Ctx {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("writing out.npy")
            }
        }
        impl Error for Ctx {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                Some(&self.0)
            }
        }
        assert_eq!(
            report(&Ctx(inner)),
            "writing out.npy: No space left on device"
        );
    }

    #[test]
    fn long_messages_keep_their_start_and_count_the_rest() {
        let long = format!("x.npy: bad shape ({})", "9, ".repeat(5000));
        let c = cap(&long);
        assert!(c.starts_with("x.npy: bad shape (9, 9,"));
        assert!(c.chars().count() < MAX_MESSAGE_CHARS + 40);
        let total = long.chars().count();
        assert!(c.ends_with(&format!("({} more characters)", total - MAX_MESSAGE_CHARS)));
        // multi-byte characters are not split
        let e = "é".repeat(MAX_MESSAGE_CHARS + 3);
        assert!(cap(&e).ends_with("(3 more characters)"));
        assert_eq!(cap("short"), "short");
    }
}

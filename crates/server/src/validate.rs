//! The content rules of user input: usernames, passwords, titles, search
//! prefixes. Each check either returns the accepted value or says which rule
//! was broken; nothing is silently trimmed or truncated.

use crate::error::Invalid;

pub const USERNAME_MIN_CHARS: usize = 3;
pub const USERNAME_MAX_CHARS: usize = 32;
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 256;

fn is_username_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// 3 to 32 characters of `[A-Za-z0-9_.-]`.
pub fn username(name: &str) -> Result<&str, Invalid> {
    let len = name.chars().count();
    if !(USERNAME_MIN_CHARS..=USERNAME_MAX_CHARS).contains(&len) {
        return Err(Invalid::UsernameLength {
            min: USERNAME_MIN_CHARS,
            max: USERNAME_MAX_CHARS,
        });
    }
    if !name.chars().all(is_username_char) {
        return Err(Invalid::UsernameCharacters);
    }
    Ok(name)
}

/// 8 to 256 characters (Unicode scalar values), anything else allowed.
pub fn password(pw: &str) -> Result<&str, Invalid> {
    let len = pw.chars().count();
    if !(PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&len) {
        return Err(Invalid::PasswordLength {
            min: PASSWORD_MIN_CHARS,
            max: PASSWORD_MAX_CHARS,
        });
    }
    Ok(pw)
}

/// A title: not blank, at most `max` characters, no control characters.
pub fn title(title: &str, max: usize) -> Result<&str, Invalid> {
    if title.trim().is_empty() {
        return Err(Invalid::TitleEmpty);
    }
    if title.chars().count() > max {
        return Err(Invalid::TitleTooLong { max });
    }
    if title.chars().any(char::is_control) {
        return Err(Invalid::TitleControlCharacters);
    }
    Ok(title)
}

/// A user-search prefix, lower-cased: the beginning of a possible username.
pub fn search_prefix(prefix: &str) -> Result<String, Invalid> {
    let bad = Invalid::Prefix {
        max: USERNAME_MAX_CHARS,
    };
    if prefix.chars().count() > USERNAME_MAX_CHARS || !prefix.chars().all(is_username_char) {
        return Err(bad);
    }
    Ok(prefix.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(username("abc").is_ok());
        assert!(username("A.b-c_9").is_ok());
        assert!(username(&"x".repeat(32)).is_ok());
        assert!(matches!(
            username("ab"),
            Err(Invalid::UsernameLength { .. })
        ));
        assert!(matches!(username(""), Err(Invalid::UsernameLength { .. })));
        assert!(matches!(
            username(&"x".repeat(33)),
            Err(Invalid::UsernameLength { .. })
        ));
        assert_eq!(username("a b"), Err(Invalid::UsernameCharacters));
        assert_eq!(username("é!x"), Err(Invalid::UsernameCharacters));
        assert_eq!(username("ab%"), Err(Invalid::UsernameCharacters));
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        assert!(password("12345678").is_ok());
        assert!(password(&"é".repeat(256)).is_ok());
        assert!(password("1234567").is_err());
        assert!(password(&"x".repeat(257)).is_err());
    }

    #[test]
    fn titles() {
        assert_eq!(title("Notes", 10), Ok("Notes"));
        assert_eq!(title("   ", 10), Err(Invalid::TitleEmpty));
        assert_eq!(
            title("12345678901", 10),
            Err(Invalid::TitleTooLong { max: 10 })
        );
        assert_eq!(title("a\nb", 10), Err(Invalid::TitleControlCharacters));
    }

    #[test]
    fn prefixes_are_lowercased_and_cannot_smuggle_wildcards() {
        assert_eq!(search_prefix("AbC").unwrap(), "abc");
        assert_eq!(search_prefix("").unwrap(), "");
        assert!(search_prefix("a%").is_err());
        assert!(search_prefix("a_").is_ok());
        assert!(search_prefix(&"a".repeat(33)).is_err());
    }
}

//! Who is calling: password hashing, the JWT secret, token issue/verification,
//! and the extractor that turns an `Authorization: Bearer` header into a user.

pub mod extract;
pub mod password;
pub mod secret;
pub mod token;

pub use extract::AuthUser;
pub use password::Passwords;
pub use secret::JwtSecret;
pub use token::{Claims, IssuedToken, TokenService};

//! The order-entry session's logon secret, read from where the schema says (an order gateway's
//! `credentials: {env: NAME}` or `{file: PATH}`), never from the command line or the schema.
//! Mirrors `hft/oms/credentials.hpp`: one trailing newline is dropped; an unset variable, an
//! unreadable or empty file, or a secret holding NUL is an error naming the reference, never
//! the secret.

use std::fmt;
use std::fs;

/// Where the secret is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// An environment variable, by name.
    Env(String),
    /// A file, by path.
    File(String),
}

/// What is wrong with a reference (its text never holds the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretError(pub String);

impl fmt::Display for SecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SecretError {}

/// Reads the secret `source` refers to.
pub fn read_secret(source: &CredentialSource) -> Result<String, SecretError> {
    let (what, name, mut value) = match source {
        CredentialSource::Env(name) => {
            let v = std::env::var_os(name)
                .ok_or_else(|| SecretError(format!("environment variable {name} is not set")))?;
            let v = v
                .into_string()
                .map_err(|_| SecretError(format!("environment variable {name} is not UTF-8")))?;
            ("environment variable", name, v)
        }
        CredentialSource::File(path) => {
            let bytes = fs::read(path)
                .map_err(|e| SecretError(format!("cannot read credentials file {path}: {e}")))?;
            let v = String::from_utf8(bytes)
                .map_err(|_| SecretError(format!("credentials file {path} is not UTF-8")))?;
            ("credentials file", path, v)
        }
    };
    if value.ends_with('\n') {
        value.pop();
    }
    if value.ends_with('\r') {
        value.pop();
    }
    if value.is_empty() {
        return Err(SecretError(format!("{what} {name} is empty")));
    }
    if value.contains('\0') {
        return Err(SecretError(format!("{what} {name} holds a NUL byte")));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, bytes: &[u8]) -> String {
        let path = std::env::temp_dir().join(format!("{name}_{}", std::process::id()));
        fs::write(&path, bytes).expect("write");
        path.to_string_lossy().into_owned()
    }

    #[test]
    fn from_a_file_without_its_trailing_newline() {
        let path = write("hft_oms_secret_a", b"s3cr3t\r\n");
        assert_eq!(
            read_secret(&CredentialSource::File(path.clone())),
            Ok("s3cr3t".to_string())
        );
        fs::remove_file(path).ok();
    }

    #[test]
    fn problems_name_the_reference_never_the_secret() {
        let unset = "HFT_OMS_RUST_TEST_SURELY_UNSET";
        let err = read_secret(&CredentialSource::Env(unset.into())).unwrap_err();
        assert!(err.0.contains("is not set"), "{err}");
        let err =
            read_secret(&CredentialSource::File("/nonexistent/hft/secret".into())).unwrap_err();
        assert!(err.0.contains("/nonexistent/hft/secret"), "{err}");
        let empty = write("hft_oms_secret_empty", b"\n");
        assert!(read_secret(&CredentialSource::File(empty.clone()))
            .unwrap_err()
            .0
            .contains("is empty"));
        let nul = write("hft_oms_secret_nul", b"Zq9\0xY");
        let err = read_secret(&CredentialSource::File(nul.clone())).unwrap_err();
        assert!(!err.0.contains("Zq9"), "the secret must not appear: {err}");
        fs::remove_file(empty).ok();
        fs::remove_file(nul).ok();
    }
}

//! The SOPS file formats and how Flux tells them apart.

/// A SOPS store format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML.
    Yaml,
    /// JSON.
    Json,
    /// dotenv (`KEY=value` lines).
    Dotenv,
    /// INI.
    Ini,
    /// Anything else: sops keeps it in a JSON envelope.
    Binary,
}

impl Format {
    /// The format of a file or Secret key, by its extension, as Flux picks
    /// it (`.dockerconfigjson` is JSON; no known extension: binary).
    pub fn for_path(name: &str) -> Format {
        match Format::extension(name) {
            Some("yaml" | "yml") => Format::Yaml,
            Some("json" | "dockerconfigjson") => Format::Json,
            Some("env") => Format::Dotenv,
            Some("ini") => Format::Ini,
            _ => Format::Binary,
        }
    }

    /// The extension of a file or Secret data key, without the dot, as
    /// Go's `filepath.Ext` finds it (a leading dot starts one too).
    pub fn extension(name: &str) -> Option<&str> {
        let file = name.rsplit('/').next().unwrap_or(name);
        file.rsplit_once('.').map(|(_, ext)| ext)
    }

    /// The name `sops --input-type`/`--output-type` takes.
    pub fn sops_name(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Dotenv => "dotenv",
            Format::Ini => "ini",
            Format::Binary => "binary",
        }
    }

    /// The bytes that mark an encrypted file of this format (its MAC
    /// entry); binary files are stored in a JSON envelope.
    pub fn marker(self) -> &'static [u8] {
        match self {
            Format::Yaml => b"mac: ENC[",
            Format::Json | Format::Binary => b"\"mac\": \"ENC[",
            Format::Dotenv => b"sops_mac=ENC[",
            Format::Ini => b"[sops]",
        }
    }

    /// Whether `data` is SOPS-encrypted in this format.
    pub fn is_encrypted(self, data: &[u8]) -> bool {
        contains(data, self.marker())
    }

    /// The format whose marker `data` carries, if any (Flux's detection
    /// for Secret data values).
    pub fn detect(data: &[u8]) -> Option<Format> {
        [Format::Yaml, Format::Json, Format::Dotenv, Format::Ini]
            .into_iter()
            .find(|f| f.is_encrypted(data))
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension_and_marker() {
        assert_eq!(Format::for_path("app.enc.env"), Format::Dotenv);
        assert_eq!(Format::for_path("a/b.yml"), Format::Yaml);
        assert_eq!(Format::for_path(".dockerconfigjson"), Format::Json);
        assert_eq!(Format::for_path("cert.pem"), Format::Binary);
        assert_eq!(
            Format::detect(b"A=ENC[x]\nsops_mac=ENC[y]"),
            Some(Format::Dotenv)
        );
        assert_eq!(Format::detect(b"plain: text"), None);
    }
}

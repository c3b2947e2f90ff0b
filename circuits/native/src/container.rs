//! The iden3 binary container shared by `.r1cs`, `.wtns` and `.zkey` files:
//! 4 magic bytes, u32 version, u32 section count, then sections of (u32 type, u64 size,
//! payload), all little-endian.

use crate::error::{format_error, Result};

/// A little-endian cursor over a byte slice that reports truncation with the file's name.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    path: &'a str,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8], path: &'a str) -> Self {
        Reader { data, pos: 0, path }
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len()).ok_or_else(|| {
            format_error(self.path, format!("truncated at byte {} (wanted {n} more)", self.pos))
        })?;
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    pub fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }
}

/// The sections of a container, in file order: (type, payload).
pub struct Sections<'a> {
    pub items: Vec<(u32, &'a [u8])>,
    path: &'a str,
}

impl<'a> Sections<'a> {
    pub fn parse(data: &'a [u8], magic: &[u8; 4], path: &'a str) -> Result<Self> {
        let mut rd = Reader::new(data, path);
        if rd.take(4)? != magic {
            let name = String::from_utf8_lossy(magic);
            return Err(format_error(path, format!("not a .{name} file (bad magic)")));
        }
        let _version = rd.u32()?;
        let count = rd.u32()?;
        let mut items = Vec::new();
        for _ in 0..count {
            let kind = rd.u32()?;
            let size = usize::try_from(rd.u64()?)
                .map_err(|_| format_error(path, "section size does not fit in memory"))?;
            if items.iter().any(|(k, _)| *k == kind) {
                return Err(format_error(path, format!("section {kind} appears twice")));
            }
            items.push((kind, rd.take(size)?));
        }
        Ok(Sections { items, path })
    }

    /// The payload of the section of this type, or a format error naming it.
    pub fn get(&self, kind: u32, name: &str) -> Result<&'a [u8]> {
        self.items
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, payload)| *payload)
            .ok_or_else(|| format_error(self.path, format!("missing {name} section ({kind})")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(sections: &[(u32, &[u8])]) -> Vec<u8> {
        let mut out = b"test".to_vec();
        out.extend(1u32.to_le_bytes());
        out.extend((sections.len() as u32).to_le_bytes());
        for (kind, payload) in sections {
            out.extend(kind.to_le_bytes());
            out.extend((payload.len() as u64).to_le_bytes());
            out.extend(*payload);
        }
        out
    }

    #[test]
    fn reads_sections() {
        let data = container(&[(1, b"abc"), (2, b"")]);
        let s = Sections::parse(&data, b"test", "f").unwrap();
        assert_eq!(s.get(1, "one").unwrap(), b"abc");
        assert_eq!(s.get(2, "two").unwrap(), b"");
        assert!(s.get(3, "three").unwrap_err().to_string().contains("missing three"));
    }

    #[test]
    fn rejects_bad_magic_truncation_and_duplicates() {
        let data = container(&[(1, b"abc")]);
        assert!(Sections::parse(&data, b"r1cs", "f").is_err());
        let cut = &data[..data.len() - 1];
        let err = Sections::parse(cut, b"test", "f.bin").err().unwrap().to_string();
        assert!(err.starts_with("f.bin: truncated"), "{err}");
        let dup = container(&[(1, b"a"), (1, b"b")]);
        assert!(Sections::parse(&dup, b"test", "f").is_err());
    }
}

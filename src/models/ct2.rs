//! Reader for CTranslate2 (faster-whisper) `model.bin` files.
//!
//! Many users already have Whisper weights on disk in CTranslate2's format, whose runtime we
//! cannot link; its file is a simple little-endian list of named tensors, so we read it
//! ourselves and convert it once (see [`import_ct2`]) into what our backends load.
//! CTranslate2 has no magic number, so the checks here are what stands between a wrong file
//! and a confusing failure later: every length is bounds-checked and every size cross-checked.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::ggml::ElemType;

mod import;
pub mod whisper;

pub use import::{import_ct2, ImportReport};

/// Binary versions whose layout this reader knows (v4 introduced per-variable dtype ids;
/// every CTranslate2 release that can hold Whisper writes v5 or v6).
const SUPPORTED_VERSIONS: Range<u32> = 4..7;

#[derive(Debug, thiserror::Error)]
pub enum Ct2Error {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is not a CTranslate2 model: {reason}")]
    NotCt2 { path: PathBuf, reason: String },
    #[error("unsupported CTranslate2 model version {0} (this build reads versions 4 to 6)")]
    UnsupportedVersion(u32),
    #[error("unsupported CTranslate2 model type {0:?}: only Whisper models can be imported")]
    UnsupportedSpec(String),
    #[error("{path} is truncated: {what} at byte {offset} runs past the end ({len} bytes)")]
    Truncated { path: PathBuf, what: String, offset: usize, len: usize },
    #[error("{path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("missing variable {0} in the CTranslate2 model")]
    MissingVariable(String),
    #[error("variable {name} has shape {shape:?}, expected {expected:?}")]
    BadShape { name: String, shape: Vec<usize>, expected: Vec<usize> },
    #[error("variable {name} has type {dtype:?}, which cannot be converted")]
    UnsupportedDtype { name: String, dtype: Ct2DType },
    #[error("output directory {0} is the model's own directory; choose another")]
    SameDirectory(PathBuf),
    #[error("writing safetensors: {0}")]
    Safetensors(#[from] safetensors::SafeTensorError),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> Ct2Error + '_ {
    move |source| Ct2Error::Io { path: path.to_path_buf(), source }
}

/// CTranslate2's `DataType` ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ct2DType {
    F32,
    I8,
    I16,
    I32,
    F16,
    BF16,
}

impl Ct2DType {
    fn from_id(id: u8) -> Option<Self> {
        use Ct2DType::*;
        [F32, I8, I16, I32, F16, BF16].get(id as usize).copied()
    }
    pub fn size(self) -> usize {
        match self {
            Ct2DType::I8 => 1,
            Ct2DType::I16 | Ct2DType::F16 | Ct2DType::BF16 => 2,
            Ct2DType::F32 | Ct2DType::I32 => 4,
        }
    }
    fn float(self) -> Option<ElemType> {
        match self {
            Ct2DType::F32 => Some(ElemType::F32),
            Ct2DType::F16 => Some(ElemType::F16),
            Ct2DType::BF16 => Some(ElemType::BF16),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Ct2Variable {
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: Ct2DType,
    range: Range<usize>,
}

/// A parsed `model.bin`: the whole file stays in one buffer and variables borrow from it.
#[derive(Debug)]
pub struct Ct2Model {
    pub version: u32,
    pub spec: String,
    pub spec_revision: u32,
    /// `(alias, target)` pairs as stored; [`Ct2Model::get`] already resolves them.
    pub aliases: Vec<(String, String)>,
    buf: Vec<u8>,
    variables: Vec<Ct2Variable>,
    index: HashMap<String, usize>,
}

impl Ct2Model {
    pub fn variables(&self) -> &[Ct2Variable] {
        &self.variables
    }
    pub fn get(&self, name: &str) -> Option<&Ct2Variable> {
        self.index.get(name).map(|&i| &self.variables[i])
    }
    pub fn data(&self, var: &Ct2Variable) -> &[u8] {
        &self.buf[var.range.clone()]
    }
    fn require(&self, name: &str) -> Result<&Ct2Variable, Ct2Error> {
        self.get(name).ok_or_else(|| Ct2Error::MissingVariable(name.into()))
    }
    /// Integer scalars such as `encoder/num_heads`.
    fn scalar(&self, name: &str) -> Option<i64> {
        let v = self.get(name).filter(|v| v.shape.iter().product::<usize>() == 1)?;
        let d = self.data(v);
        match v.dtype {
            Ct2DType::I8 => Some(d[0] as i8 as i64),
            Ct2DType::I16 => Some(i16::from_le_bytes([d[0], d[1]]) as i64),
            Ct2DType::I32 => Some(i32::from_le_bytes([d[0], d[1], d[2], d[3]]) as i64),
            _ => None,
        }
    }
}

/// Bounds-checked little-endian reader that turns every overrun into [`Ct2Error::Truncated`].
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &dyn Fn() -> String) -> Result<&'a [u8], Ct2Error> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| Ct2Error::Truncated {
            path: self.path.into(),
            what: what(),
            offset: self.pos,
            len: self.buf.len(),
        })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self, what: &dyn Fn() -> String) -> Result<u8, Ct2Error> {
        Ok(self.take(1, what)?[0])
    }
    fn u32(&mut self, what: &dyn Fn() -> String) -> Result<u32, Ct2Error> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// u16 length (counting a trailing NUL), then the bytes.
    fn string(&mut self, what: &dyn Fn() -> String) -> Result<String, Ct2Error> {
        let b = self.take(2, what)?;
        let n = u16::from_le_bytes([b[0], b[1]]) as usize;
        let bytes = self.take(n, what)?;
        let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
        String::from_utf8(bytes.to_vec()).map_err(|_| Ct2Error::Corrupt {
            path: self.path.into(),
            reason: format!("{} is not UTF-8", what()),
        })
    }
}

/// Reads and indexes a CTranslate2 `model.bin`.
pub fn read_ct2_model(path: &Path) -> Result<Ct2Model, Ct2Error> {
    read_model(path, &mut |_| {})
}

fn read_model(path: &Path, progress: &mut dyn FnMut(u64)) -> Result<Ct2Model, Ct2Error> {
    let mut file = fs::File::open(path).map_err(io_err(path))?;
    let len = file.metadata().map_err(io_err(path))?.len();
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    let mut chunk = vec![0u8; 8 << 20];
    loop {
        let n = file.read(&mut chunk).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        progress(buf.len() as u64);
    }
    parse_model(buf, path)
}

fn parse_model(buf: Vec<u8>, path: &Path) -> Result<Ct2Model, Ct2Error> {
    let not_ct2 = |reason: &str| Ct2Error::NotCt2 { path: path.into(), reason: reason.into() };
    let mut r = Reader { buf: &buf, pos: 0, path };
    let version = r.u32(&|| "binary version".into())?;
    // CTranslate2 has no magic number: a small version and a readable spec name identify it.
    if version == 0 || version > 1000 {
        return Err(not_ct2(&format!("implausible binary version {version:#x}")));
    }
    if !SUPPORTED_VERSIONS.contains(&version) {
        return Err(Ct2Error::UnsupportedVersion(version));
    }
    let spec = r.string(&|| "model spec name".into()).map_err(|_| not_ct2("no spec name"))?;
    if spec.is_empty() || !spec.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(not_ct2("no spec name"));
    }
    if spec != "WhisperSpec" {
        return Err(Ct2Error::UnsupportedSpec(spec));
    }
    let spec_revision = r.u32(&|| "spec revision".into())?;
    let count = r.u32(&|| "variable count".into())?;
    let mut variables = Vec::new();
    for i in 0..count {
        let name = r.string(&|| format!("name of variable {i}"))?;
        let what = || format!("header of variable {name}");
        let rank = r.u8(&what)? as usize;
        let shape =
            (0..rank).map(|_| r.u32(&what).map(|d| d as usize)).collect::<Result<Vec<_>, _>>()?;
        let dtype_id = r.u8(&what)?;
        let dtype = Ct2DType::from_id(dtype_id).ok_or_else(|| Ct2Error::Corrupt {
            path: path.into(),
            reason: format!("variable {name} has unknown dtype id {dtype_id}"),
        })?;
        let n_bytes = r.u32(&what)? as usize;
        let expected = shape.iter().try_fold(dtype.size(), |a, &d| a.checked_mul(d));
        if expected != Some(n_bytes) {
            return Err(Ct2Error::Corrupt {
                path: path.into(),
                reason: format!("variable {name} {shape:?} {dtype:?} claims {n_bytes} bytes"),
            });
        }
        let start = r.pos;
        r.take(n_bytes, &|| format!("data of variable {name}"))?;
        variables.push(Ct2Variable { name, shape, dtype, range: start..r.pos });
    }
    let mut index: HashMap<String, usize> =
        variables.iter().enumerate().map(|(i, v)| (v.name.clone(), i)).collect();
    let n_aliases = r.u32(&|| "alias count".into())?;
    let mut aliases = Vec::new();
    for _ in 0..n_aliases {
        let alias = r.string(&|| "alias name".into())?;
        let target = r.string(&|| format!("target of alias {alias}"))?;
        let &i = index.get(&target).ok_or_else(|| Ct2Error::Corrupt {
            path: path.into(),
            reason: format!("alias {alias} points to unknown variable {target}"),
        })?;
        index.insert(alias.clone(), i);
        aliases.push((alias, target));
    }
    Ok(Ct2Model { version, spec, spec_revision, aliases, buf, variables, index })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes a `model.bin` the way CTranslate2 writes it: (name, shape, dtype id, data).
    pub(super) fn encode(
        spec: &str,
        vars: &[(&str, Vec<u32>, u8, Vec<u8>)],
        aliases: &[(&str, &str)],
    ) -> Vec<u8> {
        let mut b = 6u32.to_le_bytes().to_vec();
        let string = |b: &mut Vec<u8>, s: &str| {
            b.extend_from_slice(&(s.len() as u16 + 1).to_le_bytes());
            b.extend_from_slice(s.as_bytes());
            b.push(0);
        };
        string(&mut b, spec);
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&(vars.len() as u32).to_le_bytes());
        for (name, shape, dtype, data) in vars {
            string(&mut b, name);
            b.push(shape.len() as u8);
            shape.iter().for_each(|d| b.extend_from_slice(&d.to_le_bytes()));
            b.push(*dtype);
            b.extend_from_slice(&(data.len() as u32).to_le_bytes());
            b.extend_from_slice(data);
        }
        b.extend_from_slice(&(aliases.len() as u32).to_le_bytes());
        for (alias, target) in aliases {
            string(&mut b, alias);
            string(&mut b, target);
        }
        b
    }

    fn parse(bytes: Vec<u8>) -> Result<Ct2Model, Ct2Error> {
        parse_model(bytes, Path::new("model.bin"))
    }

    #[test]
    fn parses_variables_scalars_and_aliases() {
        let vars = [
            ("a/weight", vec![2, 3], 4, vec![0u8; 12]),
            ("a/num_heads", vec![], 2, 6i16.to_le_bytes().to_vec()),
        ];
        let m = parse(encode("WhisperSpec", &vars, &[("b/weight", "a/weight")])).unwrap();
        assert_eq!((m.version, m.spec.as_str(), m.spec_revision), (6, "WhisperSpec", 3));
        let v = m.get("b/weight").unwrap();
        assert_eq!(
            (v.name.as_str(), &v.shape[..], v.dtype),
            ("a/weight", &[2, 3][..], Ct2DType::F16)
        );
        assert_eq!(m.data(v).len(), 12);
        assert_eq!(m.scalar("a/num_heads"), Some(6));
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = encode("WhisperSpec", &[("w", vec![4], 0, vec![1u8; 16])], &[("x", "w")]);
        for len in 0..bytes.len() {
            let e = parse(bytes[..len].to_vec()).unwrap_err();
            assert!(
                matches!(e, Ct2Error::Truncated { .. } | Ct2Error::NotCt2 { .. }),
                "{len}: {e}"
            );
        }
    }

    #[test]
    fn rejects_wrong_models_clearly() {
        let e = parse(encode("TransformerSpec", &[], &[])).unwrap_err();
        assert!(matches!(e, Ct2Error::UnsupportedSpec(ref s) if s == "TransformerSpec"), "{e}");
        let e = parse(encode("WhisperSpec", &[("w", vec![4], 9, vec![0; 4])], &[])).unwrap_err();
        assert!(e.to_string().contains("unknown dtype id 9"), "{e}");
        let e = parse(encode("WhisperSpec", &[("w", vec![4], 0, vec![0; 8])], &[])).unwrap_err();
        assert!(e.to_string().contains("claims 8 bytes"), "{e}");
        let e = parse(encode("WhisperSpec", &[], &[("x", "nothing")])).unwrap_err();
        assert!(e.to_string().contains("unknown variable nothing"), "{e}");
        let e = parse(b"PK\x03\x04 zip file".to_vec()).unwrap_err();
        assert!(matches!(e, Ct2Error::NotCt2 { .. }), "{e}");
    }
}

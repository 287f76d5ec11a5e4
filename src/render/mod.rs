//! PLACEHOLDER until the rendition pipeline lands: the API it will have.
#![allow(missing_docs, clippy::missing_errors_doc, clippy::iter_without_into_iter, dead_code)]

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preset {
    pub name: String,
    pub width: u32,
    pub height: u32,
}
impl Preset {
    #[must_use]
    pub fn extension(&self) -> &'static str {
        "jpg"
    }
    #[must_use]
    pub fn content_type(&self) -> &'static str {
        "image/jpeg"
    }
}
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Presets(pub Vec<Preset>);
impl Presets {
    pub fn parse(_spec: &str) -> Result<Self, RenderError> {
        Ok(Self::default())
    }
    #[must_use]
    pub fn as_slice(&self) -> &[Preset] {
        &self.0
    }
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> std::slice::Iter<'_, Preset> {
        self.0.iter()
    }
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    pub max_bytes: u64,
    pub max_pixels: u64,
}
#[derive(Debug, Clone)]
pub struct Rendered {
    pub name: String,
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub content_type: &'static str,
}
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("not a supported image")]
    Unsupported,
}
pub fn render(_bytes: &[u8], _presets: &[Preset], _limits: &ImageLimits) -> Result<Vec<Rendered>, RenderError> {
    Err(RenderError::Unsupported)
}

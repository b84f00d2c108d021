//! A page form as either encoding: `multipart/form-data` (a form with a
//! file input) or `application/x-www-form-urlencoded` (the same form
//! without files, as scripts and older clients post it).

use super::PageError;
use super::forms::Fields;
use axum::extract::{FromRequest, Multipart, Request};

/// The form's text fields, and its files (field name, file name, bytes);
/// empty file inputs are left out.
pub struct AnyForm {
    pub fields: Fields,
    pub files: Vec<(String, String, Vec<u8>)>,
}

impl AnyForm {
    /// The files of one input.
    pub fn files(&self, input: &str) -> Vec<(String, Vec<u8>)> {
        self.files
            .iter()
            .filter(|(f, _, _)| f == input)
            .map(|(_, n, b)| (n.clone(), b.clone()))
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for AnyForm {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let multipart = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            let body = String::from_request(req, state)
                .await
                .map_err(|e| PageError::bad_request(format!("表单无法读取：{e}")))?;
            return Ok(AnyForm {
                fields: Fields::parse(&body),
                files: Vec::new(),
            });
        }
        let mut form = Multipart::from_request(req, state)
            .await
            .map_err(|e| PageError::bad_request(format!("上传的表单无法读取：{e}")))?;
        let mut fields = Fields(Vec::new());
        let mut files = Vec::new();
        loop {
            match form.next_field().await {
                Ok(Some(field)) => {
                    let name = field.name().unwrap_or_default().to_string();
                    let file_name = field.file_name().map(str::to_string);
                    let bytes = field
                        .bytes()
                        .await
                        .map_err(|e| PageError::bad_request(format!("上传中断：{e}")))?;
                    match file_name {
                        Some(n) => {
                            if !bytes.is_empty() {
                                files.push((name, n, bytes.to_vec()))
                            }
                        }
                        None => fields
                            .0
                            .push((name, String::from_utf8_lossy(&bytes).into_owned())),
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(PageError::bad_request(format!("上传的表单无法读取：{e}")));
                }
            }
        }
        Ok(AnyForm { fields, files })
    }
}

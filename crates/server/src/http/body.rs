//! Request input in our error shape: a JSON body, the query string and
//! path parameters. What cannot be read is a 400 (413 too large, 415 not
//! JSON) whose Chinese message names the field and what it should be —
//! never serde's or axum's English.

use crate::api::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                let m = m.trim().to_ascii_lowercase();
                m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
            });
        // Read first (within the body limit) even when refusing: a client
        // still sending would otherwise meet a closed connection.
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large()
                } else {
                    ApiError::bad_request("无法读取请求体")
                }
            })?;
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "请求体应为 JSON（Content-Type: application/json）",
            ));
        }
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let v: T = serde_path_to_error::deserialize(&mut de)
            .map_err(|e| ApiError::bad_request(json_message(&e.path().to_string(), e.inner())))?;
        de.end()
            .map_err(|e| ApiError::bad_request(json_message("", &e)))?;
        Ok(Body(v))
    }
}

pub fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "请求体过大：超过服务器允许的大小（pingan serve --max-upload-mb）",
    )
}

/// The query string, read with the same messages.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| {
                let field = e.path().to_string();
                let what = data_message(&e.inner().to_string());
                ApiError::bad_request(if field == "." || field.is_empty() {
                    format!("查询参数无效：{what}")
                } else {
                    format!("查询参数 {field} 无效：{what}")
                })
            })
    }
}

/// Path parameters (ids), read with a Chinese message.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|_| ApiError::bad_request("路径中的参数无效：编号应为整数，年份应为四位数字"))
    }
}

/// A JSON problem in Chinese, at its field.
fn json_message(at: &str, e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof => format!(
            "请求体不是有效的 JSON（第 {} 行第 {} 列）",
            e.line(),
            e.column()
        ),
        Category::Io => "无法读取请求体".into(),
        Category::Data => {
            let m = e.to_string();
            let what = data_message(m.split(" at line ").next().unwrap_or(&m));
            if at == "." || at.is_empty() {
                format!("请求体无效：{what}")
            } else {
                format!("请求体无效：字段 {at}：{what}")
            }
        }
    }
}

/// serde's data errors, said in Chinese.
fn data_message(m: &str) -> String {
    let ticked = |s: &str| s.split('`').nth(1).unwrap_or_default().to_string();
    if m.starts_with("unknown field") {
        return format!("未知字段“{}”", ticked(m));
    }
    if m.starts_with("missing field") {
        return format!("缺少字段“{}”", ticked(m));
    }
    if m.starts_with("unknown variant") {
        return format!("取值“{}”无效", ticked(m));
    }
    if m.starts_with("duplicate field") {
        return format!("字段“{}”重复", ticked(m));
    }
    if m.starts_with("invalid length") {
        return "数组长度不对".into();
    }
    if let Some(expected) = m.split("expected ").nth(1) {
        return format!("应为{}", expected_type(expected));
    }
    if m.contains("invalid digit") || m.contains("cannot parse integer") {
        return "应为整数".into();
    }
    if m.contains("float") {
        return "应为数字".into();
    }
    if m.contains("true") && m.contains("false") {
        return "应为 true 或 false".into();
    }
    "内容无效".into()
}

fn expected_type(e: &str) -> &'static str {
    let e = e.trim();
    if ["u8", "u16", "u32", "u64", "usize"]
        .iter()
        .any(|t| e.starts_with(t))
    {
        "非负整数"
    } else if ["i8", "i16", "i32", "i64", "isize", "an integer"]
        .iter()
        .any(|t| e.starts_with(t))
    {
        "整数"
    } else if e.starts_with("f32") || e.starts_with("f64") || e.contains("number") {
        "数字"
    } else if e.contains("bool") {
        "true 或 false"
    } else if e.contains("string") || e.contains("char") {
        "文本"
    } else if e.contains("sequence") || e.contains("array") {
        "数组"
    } else if e.contains("map") || e.contains("struct") {
        "对象"
    } else {
        "正确的类型"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_errors_are_said_in_chinese() {
        assert_eq!(
            data_message("unknown field `x`, expected one of `a`"),
            "未知字段“x”"
        );
        assert_eq!(data_message("missing field `period`"), "缺少字段“period”");
        assert_eq!(
            data_message("invalid type: string \"a\", expected usize"),
            "应为非负整数"
        );
        assert_eq!(data_message("invalid digit found in string"), "应为整数");
        assert_eq!(
            data_message("invalid value: integer `-1`, expected u64"),
            "应为非负整数"
        );
        for m in ["invalid type: map, expected a string", "something else"] {
            assert!(!data_message(m).is_ascii(), "{m}");
        }
    }
}

//! What the generated OpenAPI document needs besides the handlers' own
//! annotations, applied to every operation in one place so none is
//! forgotten: a description on every response, the errors any call can
//! answer (all in the `ApiError` shape), the two ways to sign (session
//! cookie, department token), unique operation ids, and the paging limits.

use std::collections::BTreeMap;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Schema};

/// Operations anyone may call without signing in.
const PUBLIC: &[(&str, &str)] = &[
    ("post", "/api/v1/session"),
    ("delete", "/api/v1/session"),
    ("get", "/api/v1/openapi.json"),
];

/// The largest `page_size` a list accepts (`http::paging`).
pub const MAX_PAGE_SIZE: usize = 1000;

fn meaning(status: &str) -> &'static str {
    match status {
        "200" => "成功 / OK",
        "201" => "已创建 / created",
        "204" => "成功，无内容 / no content",
        "400" => "请求无法识别（参数、路径或 JSON 有误） / malformed request",
        "401" => "未登录或登录已过期 / not signed in",
        "403" => "无权访问（角色或数据范围） / out of role or scope",
        "404" => "不存在 / unknown",
        "409" => "状态冲突（已审核锁定等） / conflict",
        "413" => "请求体过大 / body too large",
        "415" => "请求体应为 JSON / not JSON",
        "422" => "取值无效 / invalid value",
        "423" => "账户已锁定 / account locked",
        "429" => "请求过于频繁（见 Retry-After） / rate limited",
        "503" => "服务器正忙（见 Retry-After） / busy, retry later",
        _ => "见说明 / see the description",
    }
}

fn error_response(status: &str) -> Response {
    ResponseBuilder::new()
        .description(meaning(status))
        .content(
            "application/json",
            Content::new(Some(RefOr::<Schema>::Ref(Ref::from_schema_name(
                "ApiError",
            )))),
        )
        .build()
}

fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    let mut out = Vec::new();
    for (m, op) in [
        ("get", &mut item.get),
        ("post", &mut item.post),
        ("put", &mut item.put),
        ("delete", &mut item.delete),
        ("patch", &mut item.patch),
    ] {
        if let Some(op) = op.as_mut() {
            out.push((m, op));
        }
    }
    out
}

/// Apply the rules above to `doc`.
pub(super) fn finish(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            "pingan_session",
            "登录后（POST /api/v1/session）的会话 Cookie",
        ))),
    );
    components.add_security_scheme(
        "token",
        SecurityScheme::Http({
            let mut h = Http::new(HttpAuthScheme::Bearer);
            h.description = Some("部门系统的接口令牌（安全管理员创建）".into());
            h
        }),
    );
    let signed = vec![
        SecurityRequirement::new("session", Vec::<String>::new()),
        SecurityRequirement::new("token", Vec::<String>::new()),
    ];
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in operations(item) {
            let public = PUBLIC.contains(&(method, path.as_str()));
            op.security = Some(if public {
                vec![SecurityRequirement::default()]
            } else {
                signed.clone()
            });
            // Two handlers named alike (`draw`, `record`) in two modules.
            if let Some(id) = &op.operation_id {
                let n = seen.entry(id.clone()).or_default();
                *n += 1;
                if *n > 1 {
                    op.operation_id = Some(unique_id(method, path));
                }
            }
            if let Some(RefOr::T(body)) = op.request_body.as_mut() {
                binary_images(&mut body.content);
            }
            let has_body = op.request_body.is_some();
            let mut common = vec!["400", "503"];
            if !public {
                // Any filter or body may name a region, element or record
                // that does not exist.
                common.extend(["401", "403", "404"]);
            }
            if has_body {
                common.extend(["413", "415", "422"]);
            }
            if op.parameters.as_ref().is_some_and(|p| !p.is_empty()) || path.contains('{') {
                common.push("422");
            }
            for s in common {
                op.responses
                    .responses
                    .entry(s.to_string())
                    .or_insert_with(|| RefOr::T(error_response(s)));
            }
            for (status, r) in op.responses.responses.iter_mut() {
                if let RefOr::T(r) = r
                    && r.description.is_empty()
                {
                    r.description = meaning(status).to_string();
                }
            }
            for p in op.parameters.iter_mut().flatten() {
                if let RefOr::T(p) = p {
                    limit(&p.name, p.schema.as_mut());
                }
            }
        }
    }
}

/// An image upload is bytes, not the integer array `Vec<u8>` would say;
/// JPEG, PNG and WebP are all accepted.
fn binary_images(content: &mut BTreeMap<String, RefOr<Content>>) {
    if !content.keys().any(|k| k.starts_with("image/")) {
        return;
    }
    content.clear();
    for mime in ["image/jpeg", "image/png", "image/webp"] {
        let schema = ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .build();
        content.insert(
            mime.into(),
            RefOr::T(Content::new(Some(Schema::Object(schema)))),
        );
    }
}

/// `get_api_v1_verifications_draw` from the method and path.
fn unique_id(method: &str, path: &str) -> String {
    let mut id = method.to_string();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        id.push('_');
        id.extend(
            part.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_'),
        );
    }
    id
}

fn limit(name: &str, schema: Option<&mut RefOr<Schema>>) {
    let Some(RefOr::T(Schema::Object(o))) = schema else {
        return;
    };
    match name {
        "page" => o.minimum = Some(utoipa::Number::UInt(1)),
        "page_size" => {
            o.minimum = Some(utoipa::Number::UInt(1));
            o.maximum = Some(utoipa::Number::UInt(MAX_PAGE_SIZE));
        }
        _ => {}
    }
}

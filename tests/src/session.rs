//! Signing in on a page service the way a browser does: `POST /login` with the token (the
//! only way; no token in a URL), keeping the session cookie it sets, and reading the CSRF
//! token from a signed-in page's forms ([`PageSession`]); and the same in headless Chromium
//! ([`browser_sign_in`]).

use std::time::Duration;

use crate::chromium::Browser;

/// A signed-in page visitor: the `Cookie` header to send and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct PageSession {
    /// `name=value` of the session cookie.
    pub cookie: String,
    /// The raw `Set-Cookie` header the sign-in answered with.
    pub set_cookie: String,
    /// The CSRF token of the session (the hidden `csrf` field of its forms).
    pub csrf: String,
}

/// `fields` as a form body.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(fields).unwrap()
}

/// A client that does not follow redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `scheme://host:port` of `url`.
pub fn origin(url: &str) -> String {
    let parsed = reqwest::Url::parse(url).unwrap();
    parsed.origin().ascii_serialization()
}

/// The value of the hidden `csrf` field in `html`, if any.
pub fn csrf_of(html: &str) -> Option<String> {
    let start = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// The sign-in form of the page service at `base`: the `name=value` of its sign-in cookie
/// and the matching `csrf` field of the form.
pub async fn sign_in_form(base: &str) -> (String, String) {
    let response = client().get(format!("{}/login", origin(base))).send().await.unwrap();
    let cookie = response
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().trim().to_owned())
        .unwrap_or_default();
    let html = response.text().await.unwrap();
    let csrf = csrf_of(&html).unwrap_or_default();
    (cookie, csrf)
}

/// Signs in on the page service at `base` (its origin) with `token`; panics when refused.
pub async fn sign_in(base: &str, token: &str) -> PageSession {
    let base = origin(base);
    let (login_cookie, login_csrf) = sign_in_form(&base).await;
    let response = client()
        .post(format!("{base}/login"))
        .header("cookie", &login_cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string([("token", token), ("csrf", login_csrf.as_str())]).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "sign-in refused for {base}");
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().trim().to_owned();
    let page = client()
        .get(format!("{base}/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page).unwrap_or_else(|| panic!("no CSRF field on the signed-in home page: {page}"));
    PageSession {
        cookie,
        set_cookie,
        csrf,
    }
}

/// Signs `browser` in on the page service at `base` through its sign-in form.
pub async fn browser_sign_in(browser: &mut Browser, base: &str, token: &str) {
    let base = origin(base);
    browser.navigate(&format!("{base}/login")).await;
    browser
        .wait_for("document.querySelector('input[name=token]')", Duration::from_secs(30))
        .await;
    let token_js = serde_json::to_string(token).unwrap();
    browser
        .eval(&format!(
            "document.querySelector('input[name=token]').value = {token_js}"
        ))
        .await;
    browser.click("form[action=\"/login\"] button").await;
    browser
        .wait_for(
            "document.body.innerText.includes('signed in as')",
            Duration::from_secs(30),
        )
        .await;
}

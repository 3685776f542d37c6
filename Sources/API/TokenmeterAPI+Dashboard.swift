import HTTP

/// Serving the dashboards: `/` for browsers and `/ui/<file>` for the rest of the files.
extension TokenmeterAPI {
    /// What a page may do: its own scripts, styles, images and API calls, nothing inline, nothing else.
    static let contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    /// `/` answers the dashboard to a browser and the JSON route list to a client that asks for JSON
    /// (or to everyone when no dashboards are loaded).
    func rootWantsJSON(_ request: HTTPRequest) -> Bool {
        guard deps.dashboards?.index != nil else { return true }
        let accept = (request.headers["Accept"] ?? "").lowercased()
        if accept.contains("text/html") { return false }
        return accept.contains("application/json")
    }

    func dashboardResponse(_ request: HTTPRequest, name: String) -> HTTPResponse {
        guard let asset = deps.dashboards?[name] else {
            return APIError.notFound("no dashboard file \"\(name.prefix(100))\"").response
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: asset.contentType)
        // Names are not content-hashed, so every file is revalidated; the ETag makes that a bodyless 304.
        headers.add(name: "Cache-Control", value: "no-cache")
        headers.add(name: "ETag", value: asset.etag)
        headers.add(name: "Content-Security-Policy", value: TokenmeterAPI.contentSecurityPolicy)
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        headers.add(name: "Referrer-Policy", value: "no-referrer")
        headers.add(name: "X-Frame-Options", value: "DENY")
        if let tags = request.headers["If-None-Match"],
           tags.split(separator: ",").contains(where: { $0.trimmingSpaces() == asset.etag || $0.trimmingSpaces() == "*" }) {
            return HTTPResponse(status: 304, headers: headers, body: [])
        }
        return HTTPResponse(status: 200, headers: headers, body: asset.body)
    }
}

private extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        if s.hasPrefix("W/") { s.removeFirst(2) }
        return s
    }
}

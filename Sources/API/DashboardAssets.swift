import TokenmeterCore

/// The dashboard's static files, read once at start-up. Only names in this table are ever served, so
/// no request path reaches the file system (no traversal, no symlink surprises, no files added later).
public struct DashboardAssets: Sendable {
    public struct Asset: Sendable {
        public let body: [UInt8]
        public let contentType: String
        /// A strong validator from the content, so a browser revalidates with `If-None-Match` for a 304.
        public let etag: String
    }

    /// The page served at `/`.
    public static let indexName = "index.html"

    let files: [String: Asset]

    /// `files` maps a path relative to the dashboards directory (`app.js`, `views/cost.js`) to its bytes;
    /// names whose extension has no known content type are left out.
    public init(files: [String: [UInt8]]) {
        var assets: [String: Asset] = [:]
        for (name, body) in files {
            guard let type = DashboardAssets.contentType(for: name) else { continue }
            assets[name] = Asset(body: body, contentType: type, etag: "\"" + SHA256.hex(body).prefix(32) + "\"")
        }
        self.files = assets
    }

    public var names: [String] { files.keys.sorted() }
    public var totalBytes: Int { files.values.reduce(0) { $0 + $1.body.count } }
    public var index: Asset? { files[DashboardAssets.indexName] }

    public subscript(name: String) -> Asset? { files[name] }

    public static func contentType(for name: String) -> String? {
        guard let dot = name.lastIndex(of: "."), !name[name.index(after: dot)...].contains("/") else { return nil }
        switch name[name.index(after: dot)...].lowercased() {
        case "html": return "text/html; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "ico": return "image/x-icon"
        case "json": return "application/json"
        case "txt": return "text/plain; charset=utf-8"
        default: return nil
        }
    }
}

@testable import API
import Testing

struct DashboardAssetsTests {
    @Test func contentTypesByExtension() {
        #expect(DashboardAssets.contentType(for: "index.html") == "text/html; charset=utf-8")
        #expect(DashboardAssets.contentType(for: "views/cost.js") == "text/javascript; charset=utf-8")
        #expect(DashboardAssets.contentType(for: "style.CSS") == "text/css; charset=utf-8")
        #expect(DashboardAssets.contentType(for: "favicon.svg") == "image/svg+xml")
        for name in ["Makefile", "notes.md", "run.sh", "a.js/b", ".env", "x.py"] {
            #expect(DashboardAssets.contentType(for: name) == nil, "\(name)")
        }
    }

    @Test func onlyKnownTypesAreKeptAndTagsFollowTheContent() {
        let assets = DashboardAssets(files: ["app.js": Array("a".utf8), "b.js": Array("a".utf8), "c.js": Array("c".utf8), "secret.env": Array("k".utf8)])
        #expect(assets.names == ["app.js", "b.js", "c.js"])
        #expect(assets["app.js"]?.etag == assets["b.js"]?.etag)
        #expect(assets["app.js"]?.etag != assets["c.js"]?.etag)
        #expect(assets["secret.env"] == nil)
        #expect(assets.index == nil)
        #expect(assets.totalBytes == 3)
    }
}

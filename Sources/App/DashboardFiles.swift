import API
import Foundation

/// Finds the dashboards directory and reads its files into memory once, at start-up.
enum DashboardFiles {
    struct LoadError: Error, CustomStringConvertible { let description: String }

    /// Largest set read, so a wrong `--dashboards-dir` (a home directory) fails clearly instead of filling memory.
    static let maxTotalBytes = 8 << 20

    /// The explicit directory (which must exist), else `./dashboards`, else a `dashboards` directory
    /// beside or above the binary (a build under `.build/` finds the repository's); nil when none exists.
    static func locate(explicit: String?, executablePath: String?) throws -> URL? {
        if let explicit {
            guard isDirectory(explicit) else { throw LoadError(description: "TOKENMETER_DASHBOARDS_DIR / --dashboards-dir: \(explicit) is not a directory") }
            return URL(fileURLWithPath: explicit)
        }
        var candidates = [FileManager.default.currentDirectoryPath + "/dashboards"]
        if let executablePath {
            var dir = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0..<6 {
                candidates.append(dir.appendingPathComponent("dashboards").path)
                dir = dir.deletingLastPathComponent()
            }
        }
        return candidates.first { isDirectory($0) && FileManager.default.fileExists(atPath: $0 + "/" + DashboardAssets.indexName) }
            .map { URL(fileURLWithPath: $0) }
    }

    /// Every regular file under `directory` with a known content type, keyed by its relative path.
    /// Hidden files and directories are skipped.
    static func load(_ directory: URL) throws -> DashboardAssets {
        var files: [String: [UInt8]] = [:]
        var total = 0
        func walk(_ url: URL, prefix: String) throws {
            for name in try FileManager.default.contentsOfDirectory(atPath: url.path).sorted() where !name.hasPrefix(".") {
                let child = url.appendingPathComponent(name)
                let relative = prefix + name
                if isDirectory(child.path) {
                    try walk(child, prefix: relative + "/")
                } else if DashboardAssets.contentType(for: relative) != nil {
                    let bytes = try [UInt8](Data(contentsOf: child))
                    total += bytes.count
                    guard total <= maxTotalBytes else { throw LoadError(description: "\(directory.path) holds more than \(maxTotalBytes >> 20) MiB of dashboard files") }
                    files[relative] = bytes
                }
            }
        }
        try walk(directory, prefix: "")
        return DashboardAssets(files: files)
    }

    private static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }
}
